"""The questions as data: the bundled set is complete, and mistakes are refused with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import KnowledgeBaseError, Problem
from triage.kb import KnowledgeBase, default_rules_dir, load_knowledge_base
from triage.kb.questions import parse_questions
from triage.vocabulary import RECORD_FIELDS, SCREENING_FIELDS
from triage.yamlio import load_yaml
from helpers import FIELDS, VOCABULARY

QUESTIONS_FILE = default_rules_dir() / "questions.yaml"


def problems_for(text: str) -> list[Problem]:
    problems: list[Problem] = []
    parse_questions(load_yaml(text, "q.yaml")["questions"], "q.yaml", problems, VOCABULARY)
    return problems


def edited(old: str, new: str) -> str:
    text = QUESTIONS_FILE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_every_case_field_and_value_is_asked(kb: KnowledgeBase) -> None:
    asked = {q.field for q in kb.questions}
    assert asked == set(FIELDS) - set(RECORD_FIELDS)
    for name, spec in FIELDS.items():
        if not spec.values:
            continue
        offered = [c.value for q in kb.questions if q.field == name for c in q.choices]
        assert sorted(offered) == sorted(spec.values), name


def test_warning_signs_come_first_and_are_never_conditional(kb: KnowledgeBase) -> None:
    screening = [q.field in SCREENING_FIELDS for q in kb.questions]
    assert screening == sorted(screening, reverse=True)
    assert all(not q.when and q.required for q in kb.questions if q.field in SCREENING_FIELDS)


def test_the_bundled_questions_have_no_problems() -> None:
    assert problems_for(QUESTIONS_FILE.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("old", "new", "message"), [
    ("  - field: severity\n", "  - field: severety\n", "did you mean 'severity'"),
    ("  - field: conditions\n    answer: many", "  - field: conditions\n    answer: one",
     "conditions is list, so its answer must be 'many'"),
    ("  - field: conditions\n    answer: many", "  - field: conditions\n    answer: manny",
     "unknown answer type 'manny'; did you mean 'many'? Allowed: many, one, number, yes_no."),
    # A list or a map where a name belongs is reported, not a crash.
    ("  - field: conditions\n    answer: many", "  - field: conditions\n    answer: [many]",
     "unknown answer type ['many']. Allowed: many, one, number, yes_no."),
    ("  - field: conditions\n    answer: many", "  - field: conditions\n    answer: {many: 1}",
     "unknown answer type {'many': 1}. Allowed: many, one, number, yes_no."),
    ("      tennis_serve: A tennis", "      tenis_serve: A tennis", "did you mean 'tennis_serve'"),
    ("      age: {unknown: true}\n", "      ages: {unknown: true}\n", "unknown condition subject 'ages'"),
    ("      age: {unknown: true}\n", "      likely_muscles: {empty: true}\n      age: {unknown: true}\n",
     "when can only test answers"),
    ("      age: {unknown: true}\n", "      worse_when: {has: sitting}\n      age: {unknown: true}\n",
     "which no earlier question asks"),
    ("    again: true\n", "    again: false\n", "only one question may ask it"),
    ("      age: {unknown: true}\n", "      severity: {unknown: true}\n", "its when must include age: {unknown: true}"),
    ("      age: {unknown: true}\n", "      age: {unknown: true}\n    when_any:\n      - {first_episode: {at_least: 3}}\n",
     "does not apply to 'first_episode'"),
    ("  - field: age\n", "  - field: age\n    colour: blue\n", "unknown question key 'colour'"),
    ("    ask: Which side hurts?\n", "    ask: Which side hurts?\n    when: {age: {at_least: 18}}\n", None),
])
def test_mistakes_are_reported_with_their_line(old: str, new: str, message: str | None) -> None:
    text = edited(old, new)
    problems = problems_for(text)
    if message is None:  # a valid follow-up condition on an earlier answer
        assert problems == []
        return
    assert any(message in p.message for p in problems), [str(p) for p in problems]
    first_new_line = line_of(text, new.strip().splitlines()[0].strip())
    assert any(p.location.file == "q.yaml" and p.location.line is not None
               and abs(p.location.line - first_new_line) <= 2 for p in problems)


def test_a_value_nobody_offers_and_a_field_nobody_asks_are_reported() -> None:
    text = edited("      stress: Stress\n", "")
    start = text.index("  - field: can_touch_toes")
    problems = problems_for(text[:start])
    messages = [p.message for p in problems]
    assert any("no question offers stress for triggers" in m for m in messages)
    assert any("no question asks for the case field 'can_touch_toes'" in m for m in messages)


def test_screening_questions_must_come_first() -> None:
    text = QUESTIONS_FILE.read_text(encoding="utf-8")
    block_start = text.index("  - field: conditions")
    block_end = text.index("  - field: pain_sites")
    block = text[block_start:block_end]
    moved = text[:block_start] + text[block_end:] + block
    assert any("must come before every other question" in p.message for p in problems_for(moved))


def test_a_broken_questions_file_stops_the_knowledge_base(tmp_path: Path) -> None:
    for path in default_rules_dir().glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    text = edited("  - field: can_touch_toes\n    answer: yes_no\n", "  - field: can_touch_toes\n    answer: number\n")
    (tmp_path / "questions.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(tmp_path)
    [problem] = [p for p in caught.value.problems if "its answer must be 'yes_no'" in p.message]
    assert problem.location.file == str(tmp_path / "questions.yaml")
    toes = text.index("  - field: can_touch_toes")
    assert problem.location.line == text[:toes].count("\n") + 2
