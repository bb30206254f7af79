"""The rules section: the bundled rules cover the policy, cite their sources, and carry valid examples."""

from __future__ import annotations

from pathlib import Path

from helpers import VOCABULARY
from kb.support import problems_of, write_file

from triage.conclusions import Derive, Names, Refer
from triage.errors import Problem
from triage.kb.model import KnowledgeRule
from triage.kb.rules import parse_rules
from triage.vocabulary import Disposition
from triage.yamlio import load_yaml


def test_bundled_knowledge_base_covers_the_policy(kb) -> None:
    kinds = {r.conclusion.kind for r in kb.rules}
    assert kinds == {"derive", "refer", "sign", "conclude", "recommend"}
    assert {r.conclusion.urgency for r in kb.rules if isinstance(r.conclusion, Refer)} == {
        d for d in Disposition if d.is_referral}
    strong = {m for r in kb.rules for m in VOCABULARY.muscles
              if r.conclusion.draws("likely_muscles", m)}
    assert strong == set(VOCABULARY.muscles)
    derived_from = {c.operand for r in kb.rules if r.conclusion == Derive("prolonged_sitting")
                    for c in r.conditions}
    assert {"driving", "desk_work", "flying"} <= derived_from


def test_every_rule_and_technique_names_known_sources(kb) -> None:
    for item in [*kb.rules, *kb.techniques.values()]:
        assert item.sources and set(item.sources) <= set(kb.sources)
    for rule in kb.rules:
        assert rule.description and rule.location.line


def test_examples_must_be_valid_cases(rules_copy: Path) -> None:
    bad = write_file(rules_copy, "zz-example.yaml", """\
rules:
  - id: test.example
    description: An example with a bad age.
    sources: [article-004]
    when: {age: {below: 16}}
    then: {refer: see_doctor, reason: Young.}
    examples:
      fires: [{age: 300}]
""")
    assert any(f"{bad}:8" in p and "invalid example" in p and "age" in p for p in problems_of(rules_copy))


RULES = """\
rules:
  - id: test.young
    description: Young.
    sources: [article-004]
    when: {age: {below: 16}}
    then: {refer: see_doctor, reason: Young.}
    examples:
      fires: [{age: 12}]
      does_not_fire: [{age: 40}]
  - id: test.no_conclusion
    description: Concludes two things at once.
    sources: [article-004]
    when: {age: {below: 16}}
    then: {refer: see_doctor, sign: psoas}
  - id: test.odd_salience
    description: A salience that is not a number.
    sources: [article-999]
    salience: high
    when: {age: {below: 16}}
    then: {refer: urgent, reason: Young.}
"""


def _parse(text: str) -> tuple[list[KnowledgeRule], list[Problem]]:
    problems: list[Problem] = []
    entries = [(item, "r.yaml") for item in load_yaml(text, "r.yaml")["rules"]]
    names = Names({}, VOCABULARY.muscles, {})
    rules = parse_rules(entries, VOCABULARY, names, {"article-004"}, {"refer": 40}, problems)
    return rules, problems


def test_parse_rules_collects_every_problem_and_keeps_the_rules_it_can_read() -> None:
    rules, problems = _parse(RULES)
    assert [r.id for r in rules] == ["test.young", "test.odd_salience"]
    young, odd = rules
    assert young.salience == 40  # the default of its kind of conclusion
    assert [c.value("age") for c in young.examples_fire] == [12]
    assert [c.value("age") for c in young.examples_not_fire] == [40]
    assert odd.salience == 0
    assert [(p.location.file, p.location.line, p.message) for p in problems] == [
        ("r.yaml", 14, "then must conclude exactly one of derive, refer, sign, conclude, recommend"),
        ("r.yaml", 17, "unknown source 'article-999'. Allowed: article-004."),
        ("r.yaml", 18, "salience must be a whole number, got 'high'"),
    ]
