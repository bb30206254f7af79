"""The package's layers: what reads and writes results does not load experta, and no import cycle.

Both checks run in a fresh interpreter, so that what the test process has
imported already cannot hide an import.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import triage

PACKAGE = Path(triage.__file__).resolve().parent


def _fresh(code: str) -> str:
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return run.stdout


@pytest.mark.parametrize("module", ["triage.results", "triage.casefiles", "triage.formats"])
def test_results_case_files_and_formats_import_no_experta(module: str) -> None:
    loaded = json.loads(_fresh(f"import json, sys, {module}\nprint(json.dumps(sorted(sys.modules)))"))
    assert module in loaded
    assert not [name for name in loaded if name == "experta" or name.startswith("experta.")]


def _module_names() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _tree(module: str) -> ast.Module:
    """The parsed source of ``module`` (a package's ``__init__``)."""
    path = PACKAGE.parent.joinpath(*module.split("."))
    source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text()
    return ast.parse(source)


def _imported(module: str) -> set[str]:
    """Every module name ``module`` imports anywhere in its source (functions included), made absolute."""
    is_package = PACKAGE.parent.joinpath(*module.split(".")).is_dir()
    here = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(_tree(module)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            # ``from . import api``: the names may be modules themselves.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _imports_of(module: str, modules: set[str]) -> set[str]:
    """The triage modules ``module`` imports anywhere in its source (functions included)."""
    return {name for name in _imported(module) if name in modules and name != module}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return None


def test_every_module_imports_in_a_fresh_interpreter() -> None:
    names = _module_names()
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "print('ok')\n")
    assert _fresh(code).strip() == "ok"


def test_the_module_import_graph_has_no_cycle() -> None:
    """Imports inside functions count: they are cycles put off, not removed.

    A package's own ``__init__`` importing its submodules is not counted as a
    cycle with them: Python runs the package first, by design.
    """
    modules = set(_module_names())
    graph = {name: _imports_of(name, modules) for name in modules}
    for name, targets in graph.items():
        targets -= {parent for parent in modules if name.startswith(parent + ".")}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_only_the_command_line_imports_the_command_line() -> None:
    """The library returns data and the commands put it into words, never the other way round."""
    modules = set(_module_names())
    for name in sorted(modules - {"triage.__main__"}):
        if name == "triage.cli" or name.startswith("triage.cli."):
            continue
        assert not [m for m in _imports_of(name, modules) if m.split(".")[:2] == ["triage", "cli"]], name


def test_the_questionnaire_has_no_terminal_words_and_never_prints() -> None:
    """Questions and replies are put into words by triage/cli/ask_words.py, not by the library."""
    assert not _imported("triage.questionnaire") & {"click", "textwrap", "shutil", "sys"}
    calls = [node.func.id for node in ast.walk(_tree("triage.questionnaire"))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    assert "print" not in calls and "input" not in calls


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
