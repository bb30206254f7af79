"""The derived_facts section: the facts rules may derive, each declared once with its meaning."""

from __future__ import annotations

from triage.errors import Problem
from triage.kb import KnowledgeBase
from triage.kb.derived import parse_derived_facts
from triage.yamlio import load_yaml


def test_derived_facts_are_read_with_their_description(kb: KnowledgeBase) -> None:
    assert "prolonged_sitting" in kb.derived_facts
    problems: list[Problem] = []
    text = ("derived_facts:\n  - {id: leg_pain, description: '  The pain reaches a leg.  '}\n"
            "  - {id: leg-pain, description: Dashes are not allowed.}\n  - {id: numb}\n")
    entries = [(item, "d.yaml") for item in load_yaml(text, "d.yaml")["derived_facts"]]
    assert parse_derived_facts(entries, problems) == {"leg_pain": "The pain reaches a leg.", "numb": ""}
    assert [str(p) for p in problems] == [
        "d.yaml:3: [error] derived_facts entry needs an id matching ^[a-z0-9_]+$, got 'leg-pain' (load)",
        "d.yaml:4: [error] description must be a non-empty text (load)",
    ]
