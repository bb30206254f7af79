"""Helpers for tests: the bundled vocabulary, and valid cases with only the answers that matter."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

from triage.case import Case, parse_case
from triage.kb import load_knowledge_base

#: The bundled knowledge base's vocabulary (loaded once for every test module).
VOCABULARY = load_knowledge_base().vocabulary
FIELDS = VOCABULARY.fields

ROOT = Path(__file__).resolve().parents[1]

#: The smallest case that self-care can be given to: every screen answered with
#: nothing found, pain in the lower back, and the answers self-care needs (policy
#: v3, principle 8) known and unremarkable.
BASE_CASE: dict[str, Any] = {"pain_sites": ["lower_back"], "red_flags": [], "other_symptoms": [],
                             "conditions": [], "age": 40, "severity": 3, "duration_days": 7}


def parse(raw: object, case_id: str, **options: Any) -> Case:
    """``parse_case`` with the bundled vocabulary."""
    return parse_case(raw, case_id, VOCABULARY, **options)


def make_case(case_id: str = "test#1", **answers: Any) -> Case:
    """A valid case: ``BASE_CASE`` with ``answers`` laid over it."""
    return parse({**BASE_CASE, **answers}, case_id)


def load_script(relative: str) -> Any:
    """A script of the repository (``benchmarks/cases.py``, ``docs/gen_cli.py``), loaded by
    its path: the scripts sit beside the package, not in it."""
    spec = importlib.util.spec_from_file_location(Path(relative).stem, ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_generated_cases(path: Path, count: int, seed: int = 6) -> Path:
    """``count`` seeded valid cases (benchmarks/cases.py) as JSON Lines at ``path``."""
    with path.open("w", encoding="utf-8") as stream:
        for case in load_script("benchmarks/cases.py").generate_cases(count, seed):
            stream.write(json.dumps(case) + "\n")
    return path


def children_of(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc), e.g. a run's workers."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


def gone(pids: list[int], within: float = 10.0) -> bool:
    """True once none of ``pids`` runs any more (waiting up to ``within`` seconds)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(pid)
        if not alive:
            return True
        time.sleep(0.05)
    return False


def triage_command(*args: str) -> list[str]:
    """The ``triage`` command line, run with this Python."""
    return [sys.executable, "-m", "triage", *args]
