"""The checks across rules: each rule's safety, salience order and the safety floor (every knowledge base)."""

from __future__ import annotations

from pathlib import Path

from kb.support import add_red_flag, problems_of, replace_in, write_file

from triage.kb.checks import EMERGENCY_FLOOR


def test_a_negative_test_must_fire_after_its_producers(rules_copy: Path) -> None:
    write_file(rules_copy, "zz-order.yaml", """\
rules:
  - id: test.too_early
    description: Tests for no referral before the referral rules have fired.
    sources: [article-004]
    salience: 35
    when: {referred: false}
    then: {sign: psoas, strength: supporting}
""")
    assert any("test.too_early (salience 35)" in p and "lower salience" in p for p in problems_of(rules_copy))


def test_self_care_conclusion_must_require_no_referral(rules_copy: Path) -> None:
    write_file(rules_copy, "zz-unsafe.yaml", """\
rules:
  - id: conclude.reckless
    description: Self-care whatever the red flags.
    sources: [article-004]
    salience: 5
    when: {likely_muscles: {empty: false}}
    then: {conclude: self_care}
""")
    assert any("must require referred: false" in p for p in problems_of(rules_copy))


# -- the safety floor (every knowledge base, bundled or --rules) ------------------------

EMERGENCY_SIGNS = ("saddle_numbness", "bladder_or_bowel_change", "sexual_dysfunction",
                   "leg_weakness", "major_trauma")


def _floor_problems(directory: Path) -> list[str]:
    return [p for p in problems_of(directory) if "safety floor" in p]


#: Policy v3: pain that may not come from the back, sent to emergency care.
OTHER_EMERGENCIES = ("tearing_pain_to_belly_or_chest", "chest_pain_or_breathless", "fainted_or_collapsed",
                     "confused_or_very_unwell", "headache_stiff_neck_or_rash",
                     "pregnant_bleeding_or_contractions")


def test_the_floor_keeps_the_emergency_signs() -> None:
    assert EMERGENCY_FLOOR == {"red_flags": EMERGENCY_SIGNS, "other_symptoms": OTHER_EMERGENCIES}


def test_a_deleted_other_symptoms_file_is_refused_naming_every_value(rules_copy: Path) -> None:
    (rules_copy / "other-symptoms.yaml").unlink()
    problems = _floor_problems(rules_copy)
    for value in (*OTHER_EMERGENCIES, "pain_in_waves_with_vomiting", "urine_pain_or_blood"):
        assert any(f"other_symptoms '{value}'" in p for p in problems), value


def test_silence_must_refer_every_screen_and_every_answer_self_care_needs(rules_copy: Path) -> None:
    """Policy v3, principles 7 and 8: deleting the rules for unanswered questions is refused."""
    (rules_copy / "unanswered.yaml").unlink()
    problems = _floor_problems(rules_copy)
    for name in ("red_flags", "other_symptoms", "conditions", "age", "severity", "duration_days"):
        [problem] = [p for p in problems if f"no referral rule fires when {name} is not answered" in p]
        assert f"{name}: {{unknown: true}}" in problem
    [unfinished] = [p for p in problems if "answers saved unfinished" in p]
    assert "complete: {is: false}" in unfinished


def test_a_version_2_knowledge_base_without_other_symptoms_is_refused(rules_copy: Path) -> None:
    """A clinic's copy of the version-2 rules (no other-symptoms screen) cannot be used."""
    replace_in(rules_copy / "vocabulary.yaml", "    other_symptoms:\n", "    old_other_symptoms:\n")
    assert any("vocabulary.fields must define 'other_symptoms'" in p for p in problems_of(rules_copy))


def test_a_deleted_red_flag_file_is_refused_naming_every_sign_it_referred(rules_copy: Path) -> None:
    (rules_copy / "red-flags.yaml").unlink()
    problems = _floor_problems(rules_copy)
    for sign in (*EMERGENCY_SIGNS, "fever", "unexplained_weight_loss"):
        [problem] = [p for p in problems if f"'{sign}'" in p]
        assert problem.startswith(f"{rules_copy / 'vocabulary.yaml'}:")
        assert "no referral rule fires for red_flags" in problem


def test_a_red_flag_referred_only_with_another_finding_is_refused(rules_copy: Path) -> None:
    # Fever now refers only at 60 or older: a feverish 30-year-old could reach self-care.
    replace_in(rules_copy / "red-flags.yaml", "      red_flags: {has: fever}\n",
               "      red_flags: {has: fever}\n      age: {at_least: 60}\n")
    [problem] = _floor_problems(rules_copy)
    assert "red_flags 'fever' reported alone" in problem


def test_an_emergency_sign_downgraded_to_urgent_is_refused(rules_copy: Path) -> None:
    path = rules_copy / "red-flags.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: refer.emergency.leg_weakness")
    section = text[start:text.index("  - id:", start + 10)]
    replace_in(path, section, section.replace("refer: emergency", "refer: urgent"))
    [problem] = _floor_problems(rules_copy)
    assert "red_flags 'leg_weakness' must be referred as an emergency" in problem


def test_an_emergency_sign_cannot_be_removed_from_the_vocabulary(rules_copy: Path) -> None:
    vocabulary = rules_copy / "vocabulary.yaml"
    lines = vocabulary.read_text(encoding="utf-8").splitlines(keepends=True)
    replace_in(vocabulary, next(x for x in lines if x.strip().startswith("saddle_numbness:")), "")
    problems = problems_of(rules_copy)
    assert any("must keep the emergency sign 'saddle_numbness'" in p for p in problems)


def test_a_new_red_flag_without_its_rule_is_refused_saying_where_to_add_it(rules_copy: Path) -> None:
    add_red_flag(rules_copy, with_rule=False)
    [problem] = _floor_problems(rules_copy)
    assert "red_flags 'chest_pain' reported alone" in problem
    assert "add a rule that refers it" in problem and "rules/red-flags.yaml" in problem
