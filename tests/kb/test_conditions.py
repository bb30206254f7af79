"""Reading ``when:`` into conditions: the one parser that rules and questions share."""

from __future__ import annotations

from pathlib import Path

from helpers import VOCABULARY
from kb.support import CHEST_PAIN_RULE, problems_of

from triage.errors import Problem
from triage.kb.conditions import Condition, parse_when
from triage.yamlio import load_yaml


def _when(text: str, derived: tuple[str, ...] = ()) -> tuple[list[Condition], list[Problem]]:
    problems: list[Problem] = []
    conditions = parse_when(load_yaml(text, "w.yaml"), "w.yaml", problems, VOCABULARY, derived)
    return conditions, problems


def test_a_when_becomes_one_condition_per_test_with_its_line() -> None:
    conditions, problems = _when("""\
when:
  triggers: {has_any: [driving, flying]}
  age: {at_least: 18, below: 60}
  referred: false
""")
    assert problems == []
    assert conditions == [Condition("triggers", "has_any", ("driving", "flying"), 2),
                          Condition("age", "at_least", 18, 3), Condition("age", "below", 60, 3),
                          Condition("referred", "is", False, 4)]


def test_every_mistake_is_a_problem_at_its_line_and_the_good_tests_are_kept() -> None:
    conditions, problems = _when("""\
when:
  trigger: {has: driving}
  triggers: {has: drivng}
  age: {has: 3}
  first_episode: {is: 3}
  derived: {has: prolonged_sitting}
  severity: {at_least: 3}
""")
    assert [c.subject for c in conditions] == ["severity"]
    found = [(p.location.line, p.location.field, p.message.split(";")[0].split(".")[0]) for p in problems]
    assert found == [
        (2, "trigger", "unknown condition subject 'trigger'"),
        (3, "triggers", "unknown value 'drivng' for triggers"),
        (4, "age", "operator 'has' does not apply to 'age'"),
        (5, "first_episode", "first_episode is takes true or false, got 3"),
        (6, "derived", "unknown value 'prolonged_sitting' for derived"),
    ]


def test_derived_tests_name_the_declared_derived_facts() -> None:
    conditions, problems = _when("when:\n  derived: {has: prolonged_sitting}\n", derived=("prolonged_sitting",))
    assert problems == [] and conditions == [Condition("derived", "has", "prolonged_sitting", 2)]
    _, problems = _when("when:\n  derived: {has: prolonged_siting}\n", derived=("prolonged_sitting",))
    [problem] = problems
    assert "did you mean 'prolonged_sitting'" in problem.message
    assert "Declare derived facts under derived_facts." in problem.message


def test_a_missing_or_empty_when_is_a_problem() -> None:
    for text in ("id: x\n", "when: {}\n", "when: [age]\n"):
        conditions, problems = _when(text)
        assert conditions == []
        assert [p.message for p in problems] == ["when must be a mapping of subjects to tests"]


def test_a_rule_naming_a_value_missing_from_the_vocabulary_says_where_to_add_it(rules_copy: Path) -> None:
    path = rules_copy / "red-flags.yaml"
    path.write_text(path.read_text(encoding="utf-8") + CHEST_PAIN_RULE, encoding="utf-8")
    problems = problems_of(rules_copy)
    assert any("unknown value 'chest_pain' for red_flags" in p and "rules/vocabulary.yaml" in p
               for p in problems), problems
