"""The conclusion kinds: their YAML, words, facts and lint relations, one kind at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from triage.conclusions import (
    CONCLUSION_KINDS, ENGINE_SUBJECTS, FLAG_SUBJECTS, KINDS, Assertion, Conclude, Conclusion, Derive,
    Names, Recommend, Refer, Sign, before_any_firing, kind_of,
)
from triage.errors import Location, Problem
from triage.vocabulary import Disposition
from triage.yamlio import load_yaml

NAMES = Names(derived={"long_sitting": "Sits for long periods"}, muscles=("piriformis", "psoas"),
              techniques=("warm_pack", "piriformis_stretch"))
FILE = "rules/example.yaml"


def _parse(text: str) -> tuple[Conclusion | None, list[str]]:
    """Parse the ``then:`` of a rule written in YAML, as the loader does."""
    rule = load_yaml(text, FILE)
    where = Location(FILE, rule.line_of("then"))
    problems: list[Problem] = []
    kind = kind_of(rule["then"], where, problems)
    conclusion = kind.parse(rule["then"], where, NAMES, problems) if kind else None
    return conclusion, [str(p) for p in problems]


def test_every_kind_is_listed_once_in_message_order() -> None:
    assert CONCLUSION_KINDS == ("derive", "refer", "sign", "conclude", "recommend")
    assert all(KINDS[name].kind == name and name in KINDS[name].keys for name in KINDS)


@pytest.mark.parametrize("text, expected", [
    ("id: x\nthen:\n  derive: long_sitting\n", Derive("long_sitting")),
    ("id: x\nthen:\n  sign: psoas\n  strength: strong\n", Sign("psoas", "strong")),
    ("id: x\nthen:\n  refer: urgent\n  reason: ' Numbness. '\n", Refer(Disposition.URGENT, "Numbness.")),
    ("id: x\nthen:\n  conclude: self_care\n", Conclude()),
    ("id: x\nthen:\n  recommend: [warm_pack, piriformis_stretch]\n",
     Recommend(("warm_pack", "piriformis_stretch"))),
])
def test_valid_yaml_parses_to_its_kind(text: str, expected: Conclusion) -> None:
    assert _parse(text) == (expected, [])


@pytest.mark.parametrize("text, message", [
    ("id: x\nthen:\n  derive: standing\n",
     "derive names an undeclared derived fact 'standing'. Allowed: long_sitting. "
     "Declare it under derived_facts."),
    ("id: x\nthen:\n  sign: calf\n  strength: strong\n",
     "sign names an unknown muscle 'calf'. Allowed: piriformis, psoas. A new muscle is added "
     "in the vocabulary section (rules/vocabulary.yaml)."),
    ("id: x\nthen:\n  sign: psoas\n  strength: weak\n",
     "a sign needs strength strong or supporting, got 'weak'"),
    ("id: x\nthen:\n  refer: someday\n  reason: r\n",
     "refer names an unknown urgency 'someday'. Allowed: see_doctor, urgent, emergency."),
    ("id: x\nthen:\n  refer: urgent\n", "a referral needs a reason in plain words"),
    ("id: x\nthen:\n  conclude: emergency\n",
     "conclude can only be self_care (referrals use refer), got 'emergency'"),
    ("id: x\nthen:\n  recommend: []\n", "recommend must list technique ids"),
    ("id: x\nthen:\n  recommend: [warm_pak]\n", "unknown technique 'warm_pak'; did you mean 'warm_pack'? Allowed: warm_pack, piriformis_stretch."),
    ("id: x\nthen:\n  derive: long_sitting\n  conclude: self_care\n",
     "then must conclude exactly one of derive, refer, sign, conclude, recommend"),
    ("id: x\nthen: nothing\n",
     "then must conclude exactly one of derive, refer, sign, conclude, recommend"),
])
def test_invalid_yaml_is_reported_with_file_and_line(text: str, message: str) -> None:
    _, problems = _parse(text)
    assert problems == [f"{FILE}:2: [error] {message} (load)"]


def test_an_unusable_conclusion_is_none() -> None:
    assert _parse("id: x\nthen:\n  refer: someday\n  reason: r\n")[0] is None
    assert _parse("id: x\nthen:\n  recommend: nothing\n")[0] is None


@pytest.mark.parametrize("conclusion, described, words", [
    (Derive("long_sitting"), "derived: long_sitting", "sits for long periods"),
    (Sign("psoas", "supporting"), "sign: psoas (supporting)", "a supporting sign of a tight muscle: psoas"),
    (Refer(Disposition.URGENT, "r"), "referral: urgent", "see a doctor today"),
    (Conclude(), "conclusion: self_care", "conclusion: self_care"),
    (Recommend(("warm_pack", "piriformis_stretch")), "recommend: warm_pack, piriformis_stretch",
     "recommend: warm_pack, piriformis_stretch"),
])
def test_each_kind_describes_itself(conclusion: Conclusion, described: str, words: str) -> None:
    assert conclusion.describe() == described
    headline = {Disposition.URGENT: "See a doctor today."}.__getitem__
    assert conclusion.plain_words(NAMES.derived, headline) == words


@pytest.mark.parametrize("conclusion, asserted", [
    (Derive("long_sitting"), [("Derived", {"name": "long_sitting"}, "derived: long_sitting")]),
    (Sign("psoas", "strong"),
     [("Sign", {"muscle": "psoas", "strength": "strong", "rule": "r.1"}, "sign: psoas (strong)")]),
    (Refer(Disposition.EMERGENCY, "why"),
     [("Referral", {"urgency": "emergency", "rule": "r.1", "reason": "why"}, "referral: emergency")]),
    (Conclude(), [("SelfCare", {}, "conclusion: self_care")]),
    (Recommend(("a", "b")), [("Recommendation", {"technique": "a"}, "recommend: a"),
                             ("Recommendation", {"technique": "b"}, "recommend: b")]),
])
def test_each_kind_says_what_it_asserts(conclusion: Conclusion, asserted: list[Any]) -> None:
    facts = conclusion.asserts("r.1")
    assert all(isinstance(a, Assertion) for a in facts)
    assert [(a.fact, dict(a.fields), a.text) for a in facts] == asserted


def test_every_asserted_fact_exists_in_the_engine() -> None:
    from triage.engine import facts

    samples = [Derive("d"), Sign("m", "strong"), Refer(Disposition.URGENT, "r"), Conclude(), Recommend(("t",))]
    assert {type(s) for s in samples} == set(KINDS.values())
    for sample in samples:
        for assertion in sample.asserts("r.1"):
            assert hasattr(facts, assertion.fact)


def test_what_each_kind_draws_for_later_rules() -> None:
    assert Derive("a").draws("derived", "a") and not Derive("a").draws("derived", "b")
    assert Sign("psoas", "strong").draws("likely_muscles") and Sign("psoas", "strong").draws("likely_muscles", "psoas")
    assert not Sign("psoas", "supporting").draws("likely_muscles", "psoas")
    assert Refer(Disposition.URGENT, "r").draws("referred") and Conclude().draws("self_care")
    assert not Recommend(("t",)).draws("self_care") and not Conclude().draws("referred")


def test_engine_subjects_are_one_table() -> None:
    assert ENGINE_SUBJECTS == {"derived": Derive, "likely_muscles": Sign, "referred": Refer,
                               "self_care": Conclude}
    assert FLAG_SUBJECTS == ("referred", "self_care")
    assert before_any_firing() == {"derived": frozenset(), "likely_muscles": frozenset(),
                                   "referred": False, "self_care": False}
    assert [kind.operators for kind in ENGINE_SUBJECTS.values()] == [
        ("has", "has_all", "has_none"), ("has", "has_all", "has_none", "empty"), ("is",), ("is",)]
    assert [kind.domain(NAMES) for kind in ENGINE_SUBJECTS.values()] == [
        ("long_sitting",), ("piriformis", "psoas"), (True, False), (True, False)]


@pytest.mark.parametrize("general, specific, why", [
    (Derive("a"), Derive("a"), "it derives a, which that rule already derives"),
    (Derive("a"), Derive("b"), None),
    (Refer(Disposition.EMERGENCY, "r"), Refer(Disposition.URGENT, "r"),
     "its urgent referral never decides the disposition (that rule refers emergency)"),
    (Refer(Disposition.URGENT, "r"), Refer(Disposition.EMERGENCY, "r"), None),
    (Sign("psoas", "strong"), Sign("psoas", "supporting"),
     "its sign for psoas is always counted with that rule's"),
    (Sign("psoas", "supporting"), Sign("psoas", "strong"), None),
    (Conclude(), Conclude(), "that rule already concludes self_care"),
    (Recommend(("a", "b")), Recommend(("a",)), "that rule already recommends all of its techniques"),
    (Recommend(("a",)), Recommend(("a", "b")), None),
    (Derive("a"), Sign("psoas", "strong"), None),
])
def test_redundancy_is_judged_within_a_kind(general: Conclusion, specific: Conclusion,
                                            why: str | None) -> None:
    assert specific.redundant_with(general) == why


def test_safety_tests_and_details() -> None:
    assert Recommend(("a",)).required_test()[0] == ("self_care", "is", True)
    assert Conclude().required_test()[0] == ("referred", "is", False)
    assert Derive("a").required_test() is None
    assert Refer(Disposition.URGENT, "because").details() == {"reason": "because"}
    assert Sign("psoas", "strong").details() == {}


def test_dependency_keys_name_what_later_rules_test() -> None:
    assert Derive("a").dependency_key() == "derived:a"
    assert Sign("psoas", "strong").dependency_key() == "likely_muscles"
    assert Recommend(("a",)).dependency_key() is None


def test_the_module_does_not_import_experta() -> None:
    code = "import json, sys, triage.conclusions; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    assert "experta" not in loaded
