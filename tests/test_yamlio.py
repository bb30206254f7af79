"""Safe YAML: line numbers kept; aliases, deep nesting, duplicate keys and Python tags refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from triage.errors import InputFileError
from triage.yamlio import MAX_DEPTH, YamlList, YamlMap, iter_yaml_documents, line_of, load_yaml

BAD_INPUTS = Path(__file__).parent / "bad_inputs"


def test_lines_of_mappings_keys_and_items_are_kept() -> None:
    data = load_yaml("- id: a\n  age: 4\n- id: b\n", "x.yaml")
    assert isinstance(data, YamlList) and isinstance(data[0], YamlMap)
    assert data.line_of(1) == 3
    assert data[0].line_of("age") == 2
    assert line_of(data[0]) == 1
    assert line_of({"plain": "dict"}, "plain") is None


def test_documents_are_yielded_one_at_a_time_with_their_first_line() -> None:
    documents = list(iter_yaml_documents("a: 1\n---\nb: 2\n", "x.yaml"))
    assert [(dict(d), line) for d, line in documents] == [({"a": 1}, 1), ({"b": 2}, 3)]


def test_load_yaml_wants_one_document() -> None:
    assert load_yaml("", "x.yaml") is None
    with pytest.raises(InputFileError, match="expected one YAML document, found 2") as info:
        load_yaml("a: 1\n---\nb: 2\n", "x.yaml")
    assert info.value.location.line == 3


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first at line 1)"),
    ("a: &x [1]\nb: *x\n", 2, "aliases"),
    ("a: &x [1]\nb:\n  <<: *x\n", 3, "aliases"),
    ("a: [1\nb: 2\n", 2, "invalid YAML"),
    ("a: !!python/object/apply:os.getcwd []\n", 1, "could not determine a constructor"),
    ("a: !custom 1\n", 1, "could not determine a constructor"),
    ("a: 2021-02-30\n", 1, "cannot read the value '2021-02-30'"),
    ("a: 1" + "0" * 5000 + "\n", 1, "cannot read the value"),
    ("? [a]\n: 1\n", 1, "a mapping key must be a plain value"),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), 1, f"nested deeper than {MAX_DEPTH}"),
])
def test_refused_with_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(InputFileError) as info:
        list(iter_yaml_documents(text, "x.yaml"))
    assert message in info.value.message
    assert info.value.location.file == "x.yaml"
    assert info.value.location.line == line


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, "x.yaml") is not None


def test_python_tags_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"a: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{marker}']]\n"
    with pytest.raises(InputFileError):
        load_yaml(text, "x.yaml")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["alias-bomb.yaml", "deep-nesting.yaml", "deep-mapping.yaml"])
def test_hostile_files_use_little_memory(name: str) -> None:
    text = (BAD_INPUTS / name).read_text()
    tracemalloc.start()
    try:
        with pytest.raises(InputFileError):
            list(iter_yaml_documents(text, name))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The files are at most 40 KB; expanding them would need gigabytes.
    assert peak < 20 * 1024 * 1024


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is only dependable on Linux")
@pytest.mark.parametrize("name", ["alias-bomb.yaml", "deep-nesting.yaml", "deep-nesting.json"])
def test_hostile_files_are_refused_under_a_memory_limit(name: str) -> None:
    # A real process with its address space capped: a file that blew up in
    # memory would die with MemoryError (or worse) instead of being refused.
    script = textwrap.dedent(f"""
        import resource
        limit = 1024 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from triage.casefiles import read_cases
        from triage.kb import load_knowledge_base
        from triage.errors import InputFileError
        try:
            list(read_cases({str(BAD_INPUTS / name)!r}, load_knowledge_base().vocabulary))
        except InputFileError as exc:
            print("refused:", exc.message)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused:")
