"""experta imports and runs on this Python through triage._experta alone."""

from __future__ import annotations

import collections
import subprocess
import sys

from triage._experta import Fact, KnowledgeEngine, Rule


def test_experta_engine_imports_and_fires() -> None:
    fired: list[str] = []

    class Probe(KnowledgeEngine):
        @Rule(Fact(answer=42))
        def found(self) -> None:
            fired.append("found")

    engine = Probe()
    engine.reset()
    engine.declare(Fact(answer=42))
    engine.run()
    assert fired == ["found"]


def test_the_loan_of_collections_mapping_is_returned() -> None:
    assert not hasattr(collections, "Mapping")


def test_plain_import_in_a_fresh_interpreter() -> None:
    """A new process (nothing imported yet) can import the package and triage a case."""
    code = (
        "from triage.session import TriageSession\n"
        "from triage.case import parse_case\n"
        "session = TriageSession()\n"
        "case = parse_case({'pain_sites': ['buttock', 'back_of_thigh'], 'triggers': ['tennis_serve'],"
        " 'red_flags': [], 'other_symptoms': [], 'conditions': [], 'age': 40, 'severity': 3,"
        " 'duration_days': 7}, 'x', session.kb.vocabulary)\n"
        "print(session.triage(case).disposition.value)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "self_care"
