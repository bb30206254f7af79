"""Every example marked as tested in README.md and docs/*.md runs, and its output is what the page shows.

A fenced block right after the line ``<!-- test: console -->`` is a shell
session: each ``$ command`` line runs in bash (from a scratch folder with copies
of the repository's ``examples/`` and ``rules/``, with ``triage`` on the PATH) and
the lines under it, up to the next ``$``, are its output, standard error
included. A line that is only ``...`` stands for any number of lines, and
``...`` inside a line for any text (as doctest's ELLIPSIS). A fenced block
after ``<!-- test: python -->`` is a doctest (``>>>`` lines); the blocks of one
page share their names, as the cells of a notebook do.

When the knowledge base changes, ``TRIAGE_UPDATE_DOCS=1 python -m pytest
tests/test_docs.py`` writes the new output into the console blocks that use no
``...`` (cog-style) and still fails the others, which need a hand; it also
rewrites ``docs/cli.md``, the CLI reference generated from ``--help`` by
``docs/gen_cli.py``.
"""

from __future__ import annotations

import difflib
import doctest
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import load_script

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!-- test: (console|python) -->\n```[\w-]*\n(.*?)^```$", re.M | re.S)
UPDATE = os.environ.get("TRIAGE_UPDATE_DOCS") == "1"


@dataclass(frozen=True)
class Example:
    """One tested block: its page, kind, text and where the text starts in the page."""

    page: Path
    kind: str
    text: str
    start: int

    @property
    def line(self) -> int:
        return self.page.read_text(encoding="utf-8").count("\n", 0, self.start) + 1

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples(kind: str) -> list[Example]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        found += [Example(page, m[1], m[2], m.start(2)) for m in MARKER.finditer(text) if m[1] == kind]
    return found


def commands(block: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for each ``$`` line of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"output before the first $ command: {line!r}")
    return steps


def matches(expected: list[str], actual: str) -> bool:
    """Whether ``actual`` is ``expected``, each ``...`` line any lines, ``...`` in a line any text."""
    pattern = "".join(r"(?:[^\n]*\n)*?" if line.strip() == "..." else
                      r"[^\n]*?".join(map(re.escape, line.split("..."))) + r"[ \t]*\n" for line in expected)
    return re.fullmatch(pattern, actual) is not None


@dataclass(frozen=True)
class Shell:
    """Where the examples run: a scratch folder and the environment."""

    cwd: Path
    env: dict[str, str]

    def run(self, command: str) -> str:
        """What ``command`` prints, standard error included."""
        done = subprocess.run(["bash", "-c", "{ " + command + "\n} 2>&1"], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=120, check=False)
        return done.stdout


@pytest.fixture(scope="module")
def shell(tmp_path_factory: pytest.TempPathFactory) -> Shell:
    """A scratch folder with copies of the repository's examples and rules, with `triage` on the PATH.

    Copies, not links: pages copy ``rules/`` and edit the copy (``cp -r rules/
    clinic-rules``), and through a link that would copy the link and edit the
    repository's own knowledge base. ``tests/`` (fixtures, golden cases) is only read.
    """
    folder = tmp_path_factory.mktemp("docs")
    for name in ("examples", "rules"):
        shutil.copytree(ROOT / name, folder / name)
    (folder / "tests").symlink_to(ROOT / "tests")
    bin_dir = tmp_path_factory.mktemp("bin")
    (bin_dir / "triage").write_text(f'#!/bin/sh\nexec {sys.executable} -m triage "$@"\n')
    (bin_dir / "triage").chmod(0o755)
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return Shell(folder, {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                          "NO_COLOR": "1", "COLUMNS": "100", "PYTHONPATH": python_path})


@pytest.mark.parametrize("example", examples("console"), ids=str)
def test_console_example(example: Example, shell: Shell) -> None:
    wrong = []
    new_block = []
    for command, expected in commands(example.text):
        actual = shell.run(command)
        new_block += [f"$ {command}", *actual.splitlines()]
        if not matches(expected, actual):
            wrong.append(f"$ {command}\n--- the page says:\n" + "\n".join(expected) + "\n--- it prints:\n" + actual)
    if wrong and UPDATE and "..." not in example.text:
        page = example.page.read_text(encoding="utf-8")
        # Found again by its text: rewriting an earlier block of the same page moves this one.
        start = page.find(example.text)
        assert start >= 0, f"{example}: the page changed during the run; run again"
        end = start + len(example.text)
        example.page.write_text(page[:start] + "\n".join(new_block) + "\n" + page[end:], encoding="utf-8")
        pytest.skip(f"{example}: rewritten with today's output (TRIAGE_UPDATE_DOCS=1)")
    assert not wrong, f"{example}: the example is stale\n" + "\n".join(wrong)


@pytest.mark.parametrize("page", sorted({e.page for e in examples("python")}), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_examples_of_a_page_run_as_a_notebook(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the pages read examples/ as a reader in a checkout would
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    names: dict[str, object] = {}
    for example in [e for e in examples("python") if e.page == page]:
        test = parser.get_doctest(example.text, names, str(example), str(page), example.line)
        runner.run(test, clear_globs=False)
        names = test.globs
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {page.name} failed (above)"


def test_there_are_tested_examples_on_every_page_that_shows_commands() -> None:
    """A page that shows `$ triage ...` sessions has them tested, so none can go stale unseen."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        shown = len(re.findall(r"^\$ triage ", text, re.M))
        tested = sum(len(re.findall(r"^\$ triage ", e.text, re.M)) for e in examples("console") if e.page == page)
        if page.parent.name == "docs":
            assert tested == shown, f"{page.name}: {shown - tested} `$ triage` examples are not marked as tested"


@dataclass(frozen=True)
class Fence:
    """One fenced block of a page: where it opens, its language and the line just above it."""

    page: Path
    line: int
    language: str
    above: str
    body: list[str]

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def is_shell(self) -> bool:
        """A block a reader would paste into a shell: by its language, or by its `$ ` prompts."""
        return self.language in SHELL_LANGUAGES or any(line.lstrip().startswith("$ ") for line in self.body)


SHELL_LANGUAGES = {"console", "sh", "bash", "shell", "zsh", "fish", "shell-session"}
NOT_TESTED = re.compile(r"^\s*<!-- not tested: \S.*-->$")


def fences(page: Path) -> list[Fence]:
    """Every fenced block of the page, indented ones (in list items) included."""
    found: list[Fence] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    opening: tuple[int, str, str] | None = None  # line number, the fence itself, its language
    body: list[str] = []
    for number, line in enumerate(lines, 1):
        fence = re.match(r"^\s*(`{3,})\s*([\w+-]*)", line)
        if opening is None and fence:
            opening, body = (number, fence[1], fence[2]), []
        elif opening is not None and fence and fence[1] == opening[1] and not fence[2]:
            start, _, language = opening
            found.append(Fence(page, start, language, lines[start - 2] if start > 1 else "", body))
            opening = None
        elif opening is not None:
            body.append(line)
    assert opening is None, f"{page.relative_to(ROOT)}:{opening[0]}: a fence that never closes"
    return found


def test_every_shell_example_is_run_or_says_why_not() -> None:
    """Each block a reader could paste into a shell is a tested console session or says why it cannot be one.

    A block must also name its language (``text`` for output, trees and
    synopses), so that a shell example cannot hide in an unnamed block.
    """
    unnamed, unmarked = [], []
    for page in PAGES:
        for fence in fences(page):
            if not fence.language:
                unnamed.append(str(fence))
            elif fence.is_shell and fence.above.strip() != "<!-- test: console -->" and not NOT_TESTED.match(fence.above):
                unmarked.append(f"{fence} ({fence.language})")
            elif fence.above.strip() == "<!-- test: console -->" and fence.language != "console":
                unmarked.append(f"{fence}: a tested session is a `console` block, not `{fence.language}`")
    assert not unnamed, "fenced blocks without a language (console, sh, text, yaml, ...): " + ", ".join(unnamed)
    assert not unmarked, ("shell blocks need `<!-- test: console -->` (run and compared) or "
                          "`<!-- not tested: REASON -->` on the line above: " + ", ".join(unmarked))


def test_every_document_the_program_and_knowledge_base_cite_is_in_the_repository() -> None:
    """Rules, `rules show` and `triage schema` cite docs/policy.md and docs/case-format.md, never a missing spec/."""
    cited = re.compile(r"\b((?:docs|spec)/[\w.-]+\.md)\b")
    for path in [*(ROOT / "triage").rglob("*.py"), *(ROOT / "rules").glob("*.yaml")]:
        for document in cited.findall(path.read_text(encoding="utf-8")):
            assert (ROOT / document).is_file(), f"{path.relative_to(ROOT)} cites {document}, which is not in the repository"


def test_the_case_format_page_names_every_field_and_value_of_the_vocabulary() -> None:
    from triage.kb import load_knowledge_base

    page = (ROOT / "docs" / "case-format.md").read_text(encoding="utf-8")
    for name, spec in load_knowledge_base().vocabulary.fields.items():
        assert f"| `{name}` |" in page, name
        missing = [value for value in spec.values if f"`{value}`" not in page]
        assert not missing, f"{name}: {missing} not in docs/case-format.md"


def test_the_cli_reference_is_what_help_prints_today() -> None:
    """docs/cli.md is every command's --help at 80 columns, so an option or help text cannot change unseen."""
    generator = load_script("docs/gen_cli.py")
    expected = generator.render()
    page = generator.PAGE
    current = page.read_text(encoding="utf-8") if page.is_file() else ""
    if current != expected and UPDATE:
        page.write_text(expected, encoding="utf-8")
        pytest.skip("docs/cli.md: rewritten from today's --help (TRIAGE_UPDATE_DOCS=1)")
    diff = "".join(list(difflib.unified_diff(current.splitlines(keepends=True), expected.splitlines(keepends=True),
                                             "docs/cli.md (checked in)", "--help today"))[:60])
    assert current == expected, ("docs/cli.md is not what --help prints today; run `python docs/gen_cli.py` "
                                 "(or TRIAGE_UPDATE_DOCS=1 python -m pytest tests/test_docs.py) and commit it\n" + diff)


def test_the_site_builds_with_strict(tmp_path: Path) -> None:
    """mkdocs build --strict: a link to a missing page or heading, or a page left out of the nav, fails."""
    pytest.importorskip("mkdocs", reason="mkdocs is not installed: pip install '.[docs]' (the test extra has it)")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
                           "--site-dir", str(tmp_path / "site")], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stderr}"


def test_the_readme_links_to_every_page_and_each_of_its_links_is_there() -> None:
    """The README is the way into docs/, which mkdocs does not check: every page is linked, every link resolves."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = {link.split("#")[0] for link in re.findall(r"\]\(([^)\s]+)\)", readme) if not re.match(r"\w+:", link)}
    missing = sorted(target for target in targets if not (ROOT / target).exists())
    assert not missing, f"README.md links to what is not in the repository: {missing}"
    unlinked = sorted(page.name for page in (ROOT / "docs").glob("*.md") if f"docs/{page.name}" not in targets)
    assert not unlinked, f"README.md does not link to these pages of docs/: {unlinked}"
