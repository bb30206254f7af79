"""Loading and validating the knowledge base: every problem, with file and line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.case import parse_case
from triage.cli import main
from triage.conclusions import Derive, Refer
from triage.errors import KnowledgeBaseError
from triage.kb import default_rules_dir, load_knowledge_base
from triage.session import TriageSession
from triage.vocabulary import Disposition
from helpers import VOCABULARY


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge base."""
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def _problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(directory)
    return [str(p) for p in caught.value.problems]


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


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


def test_version_is_a_sha256(kb) -> None:
    assert kb.version.startswith("sha256:") and len(kb.version) == len("sha256:") + 64


def test_every_problem_is_reported_with_file_and_line_in_one_run(rules_copy: Path) -> None:
    bad = _write(rules_copy, "zz-bad.yaml", """\
rules:
  - id: muscle.piriformis.tennis_serve
    description: Duplicate id.
    sources: [article-001]
    when: {triggers: {has: tennis_serve}}
    then: {sign: piriformis, strength: strong}
  - id: bad.unknown_value
    description: A misspelt trigger and a made-up source.
    sources: [article-999]
    when:
      triggers: {has: tenis_serve}
    then: {sign: piriformis, strength: strong}
  - id: bad.unknown_field
    description: A field no case has.
    sources: [article-001]
    when:
      trigger: {has: tennis_serve}
    then: {recommend: [no_such_technique]}
""")
    problems = _problems(rules_copy)
    text = "\n".join(problems)
    assert f"{bad}:2" in text and "duplicate id 'muscle.piriformis.tennis_serve'" in text
    assert f"{bad}:11" in text and "did you mean 'tennis_serve'" in text
    assert f"{bad}:9" in text and "unknown source 'article-999'" in text
    assert f"{bad}:17" in text and "unknown condition subject 'trigger'" in text
    assert "unknown technique 'no_such_technique'" in text
    assert "must require self_care: true" in text
    assert len(problems) >= 6


def test_duplicate_yaml_keys_are_refused(rules_copy: Path) -> None:
    bad = _write(rules_copy, "zz-dup.yaml", "rules:\n  - id: a.b\n    id: a.c\n")
    assert any(f"{bad}:3" in p and "duplicate key 'id'" in p for p in _problems(rules_copy))


def test_yaml_syntax_error_names_the_line(rules_copy: Path) -> None:
    bad = _write(rules_copy, "zz-syntax.yaml", "rules:\n  - id: a.b\n    when: {triggers: [\n")
    assert any(p.startswith(f"{bad}:") and "invalid YAML" in p for p in _problems(rules_copy))


def test_examples_must_be_valid_cases(rules_copy: Path) -> None:
    bad = _write(rules_copy, "zz-example.yaml", """\
rules:
  - id: test.example
    description: An example with a bad age.
    sources: [article-004]
    when: {age: {below: 16}}
    then: {refer: see_doctor, reason: Young.}
    examples:
      fires: [{age: 300}]
""")
    assert any(f"{bad}:8" in p and "invalid example" in p and "age" in p for p in _problems(rules_copy))


def test_a_negative_test_must_fire_after_its_producers(rules_copy: Path) -> None:
    _write(rules_copy, "zz-order.yaml", """\
rules:
  - id: test.too_early
    description: Tests for no referral before the referral rules have fired.
    sources: [article-004]
    salience: 35
    when: {referred: false}
    then: {sign: psoas, strength: supporting}
""")
    assert any("test.too_early (salience 35)" in p and "lower salience" in p for p in _problems(rules_copy))


def test_self_care_conclusion_must_require_no_referral(rules_copy: Path) -> None:
    _write(rules_copy, "zz-unsafe.yaml", """\
rules:
  - id: conclude.reckless
    description: Self-care whatever the red flags.
    sources: [article-004]
    salience: 5
    when: {likely_muscles: {empty: false}}
    then: {conclude: self_care}
""")
    assert any("must require referred: false" in p for p in _problems(rules_copy))


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    assert "does not exist" in _problems(tmp_path / "nowhere")[0]


# -- the safety floor (every knowledge base, bundled or --rules) ------------------------

EMERGENCY_SIGNS = ("saddle_numbness", "bladder_or_bowel_change", "sexual_dysfunction",
                   "leg_weakness", "major_trauma")


def _replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _floor_problems(directory: Path) -> list[str]:
    return [p for p in _problems(directory) if "safety floor" in p]


def test_a_deleted_red_flag_file_is_refused_naming_every_sign_it_referred(rules_copy: Path) -> None:
    (rules_copy / "red-flags.yaml").unlink()
    problems = _floor_problems(rules_copy)
    for sign in (*EMERGENCY_SIGNS, "fever", "unexplained_weight_loss"):
        [problem] = [p for p in problems if f"'{sign}'" in p]
        assert problem.startswith(f"{rules_copy / 'vocabulary.yaml'}:")
        assert "no referral rule fires for red_flags" in problem


@pytest.mark.parametrize("replacement", ["dangling-link", "link-loop", "fifo", "capital-extension"])
def test_a_red_flag_file_that_is_not_a_regular_yaml_file_is_an_error_not_a_skip(
        rules_copy: Path, replacement: str) -> None:
    red_flags = rules_copy / "red-flags.yaml"
    text = red_flags.read_text(encoding="utf-8")
    red_flags.unlink()
    if replacement == "dangling-link":
        red_flags.symlink_to(rules_copy / "nowhere.yaml")
    elif replacement == "link-loop":
        red_flags.symlink_to(red_flags)
    elif replacement == "fifo":
        os.mkfifo(red_flags)
    else:
        red_flags = rules_copy / "RED-FLAGS.YAML"
        red_flags.write_text(text, encoding="utf-8")
    problems = _problems(rules_copy)
    assert any(p.startswith(str(red_flags)) for p in problems), problems
    assert any("safety floor" in p and "'saddle_numbness'" in p for p in problems)


def test_a_red_flag_referred_only_with_another_finding_is_refused(rules_copy: Path) -> None:
    # Fever now refers only at 60 or older: a feverish 30-year-old could reach self-care.
    _replace_in(rules_copy / "red-flags.yaml", "      red_flags: {has: fever}\n",
                "      red_flags: {has: fever}\n      age: {at_least: 60}\n")
    [problem] = _floor_problems(rules_copy)
    assert "red_flags 'fever' reported alone" in problem


def test_an_emergency_sign_downgraded_to_urgent_is_refused(rules_copy: Path) -> None:
    path = rules_copy / "red-flags.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - id: refer.emergency.leg_weakness")
    section = text[start:text.index("  - id:", start + 10)]
    _replace_in(path, section, section.replace("refer: emergency", "refer: urgent"))
    [problem] = _floor_problems(rules_copy)
    assert "red_flags 'leg_weakness' must be referred as an emergency" in problem


def test_an_emergency_sign_cannot_be_removed_from_the_vocabulary(rules_copy: Path) -> None:
    vocabulary = rules_copy / "vocabulary.yaml"
    lines = vocabulary.read_text(encoding="utf-8").splitlines(keepends=True)
    _replace_in(vocabulary, next(x for x in lines if x.strip().startswith("saddle_numbness:")), "")
    problems = _problems(rules_copy)
    assert any("must keep the emergency sign 'saddle_numbness'" in p for p in problems)


ADDED_RED_FLAG = {
    "vocabulary.yaml": ("        inflammatory_pattern:", "        chest_pain: pain or tightness in the chest\n"
                        "        inflammatory_pattern:"),
    "questions.yaml": ("      major_trauma: The pain began", "      chest_pain: Pain or tightness in your chest\n"
                       "      major_trauma: The pain began"),
}
CHEST_PAIN_RULE = """
  - id: refer.emergency.chest_pain
    description: Back pain with chest pain can come from the heart or the aorta.
    sources: [nice-cks-back-pain]
    when:
      red_flags: {has: chest_pain}
    then:
      refer: emergency
      reason: Back pain with pain or tightness in the chest can come from the heart or a main blood vessel; call an ambulance now.
    examples:
      fires: [{red_flags: [chest_pain]}]
      does_not_fire: [{red_flags: []}]
"""


def _add_red_flag(rules_dir: Path, with_rule: bool = True) -> None:
    for name, (anchor, added) in ADDED_RED_FLAG.items():
        _replace_in(rules_dir / name, anchor, added)
    if with_rule:
        path = rules_dir / "red-flags.yaml"
        path.write_text(path.read_text(encoding="utf-8") + CHEST_PAIN_RULE, encoding="utf-8")


def test_a_clinician_adds_a_red_flag_with_yaml_alone(rules_copy: Path) -> None:
    """The README's "Adding a red flag" steps: value, question choice, rule; no Python."""
    _add_red_flag(rules_copy)
    kb = load_knowledge_base(rules_copy)
    assert "chest_pain" in kb.vocabulary.fields["red_flags"].values
    session = TriageSession(kb)
    case = parse_case({"pain_sites": ["lower_back"], "red_flags": ["chest_pain"], "conditions": []},
                      "new#1", kb.vocabulary)
    result = session.triage(case)
    assert result.disposition is Disposition.EMERGENCY
    assert [r.rule for r in result.referral.reasons] == ["refer.emergency.chest_pain"]
    cases = rules_copy.parent / "cases.yaml"
    cases.write_text("pain_sites: [lower_back]\nred_flags: [chest_pain]\nconditions: []\n", encoding="utf-8")
    ran = CliRunner().invoke(main, ["run", str(cases), "--rules", str(rules_copy), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)[0]["disposition"] == "emergency"
    bundled = CliRunner().invoke(main, ["run", str(cases), "--format", "json"])
    assert bundled.exit_code == 1 and "'chest_pain' is not allowed" in bundled.output


def test_a_new_red_flag_without_its_rule_is_refused_saying_where_to_add_it(rules_copy: Path) -> None:
    _add_red_flag(rules_copy, with_rule=False)
    [problem] = _floor_problems(rules_copy)
    assert "red_flags 'chest_pain' reported alone" in problem
    assert "add a rule that refers it" in problem and "rules/red-flags.yaml" in problem


def test_a_rule_naming_a_value_missing_from_the_vocabulary_says_where_to_add_it(rules_copy: Path) -> None:
    path = rules_copy / "red-flags.yaml"
    path.write_text(path.read_text(encoding="utf-8") + CHEST_PAIN_RULE, encoding="utf-8")
    problems = _problems(rules_copy)
    assert any("unknown value 'chest_pain' for red_flags" in p and "rules/vocabulary.yaml" in p
               for p in problems), problems


@pytest.mark.parametrize("breakage", ["syntax-error", "empty-file", "required-field-renamed"])
def test_a_broken_vocabulary_is_reported_alone_without_a_traceback(rules_copy: Path, breakage: str) -> None:
    vocabulary = rules_copy / "vocabulary.yaml"
    if breakage == "syntax-error":
        vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + "  oops: [\n", encoding="utf-8")
    elif breakage == "empty-file":
        vocabulary.write_text("", encoding="utf-8")
    else:
        _replace_in(vocabulary, "    red_flags:\n", "    red_flagz:\n")
    result = CliRunner().invoke(main, ["rules", "check", "--rules", str(rules_copy)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "[error]" in line]
    # Only the vocabulary's own problem: nothing judged against a vocabulary that did not load.
    assert 1 <= len(lines) <= 2 and "Traceback" not in result.output
    assert all("vocabulary" in line for line in lines), lines
    example = default_rules_dir().parent / "examples" / "clinic-a.yaml"
    run = CliRunner().invoke(main, ["run", "--rules", str(rules_copy), str(example)])
    assert run.exit_code == 2 and "vocabulary" in run.stderr and "Traceback" not in run.output
