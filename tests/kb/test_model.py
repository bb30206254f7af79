"""The model: a loaded knowledge base's values, and looking a rule up by id."""

from __future__ import annotations

from dataclasses import replace

import pytest

from triage.kb import Condition, KnowledgeBase


def test_a_rule_is_found_by_its_id(kb: KnowledgeBase) -> None:
    first = kb.rules[0]
    assert kb.rule(first.id) is first
    assert all(kb.rule(r.id) is r for r in kb.rules)
    with pytest.raises(KeyError):
        kb.rule("no.such.rule")


def test_a_question_applies_when_its_when_and_one_when_any_group_hold(kb: KnowledgeBase) -> None:
    """The age question asked again (age still unknown), here also needing a fall, night pain
    or a first episode (``when_any``, as policy v2 asked it; v3 asks it whenever age is unknown)."""
    [again] = [q for q in kb.questions if q.field == "age" and q.again]
    again = replace(again, when_any=((Condition("triggers", "has", "fall_on_buttocks"),),
                                     (Condition("red_flags", "has", "night_pain"),),
                                     (Condition("first_episode", "is", True),)))
    answers = {"age": None, "triggers": set(), "red_flags": set(), "first_episode": None}
    assert not again.applies(answers.__getitem__)
    assert again.applies({**answers, "red_flags": {"night_pain"}}.__getitem__)
    assert again.applies({**answers, "first_episode": True}.__getitem__)
    assert not again.applies({**answers, "age": 40, "first_episode": True}.__getitem__)
