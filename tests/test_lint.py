"""The lint pass of `triage rules check`, on small knowledge bases broken on purpose."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from triage.errors import Problem
from triage.kb import KnowledgeBase, default_rules_dir, load_knowledge_base
from triage.lint import check_knowledge_base, count, lint
from helpers import FIELDS


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge base."""
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def _add_rules(directory: Path, text: str, name: str = "zz-lint.yaml") -> Path:
    path = directory / name
    path.write_text("rules:\n" + text)
    return path


def _findings(directory: Path, check: str) -> list[Problem]:
    return [p for p in check_knowledge_base(directory) if p.check == check]


def _rule(rule_id: str, when: str, then: str = "{sign: psoas, strength: supporting}",
          examples: bool = True) -> str:
    text = (f"  - id: {rule_id}\n    description: A rule written for a lint test.\n"
            f"    sources: [article-002]\n    when:\n{when}    then: {then}\n")
    if examples:
        text += "    examples:\n      fires: []\n      does_not_fire: [{}]\n"
    return text


def test_the_bundled_knowledge_base_has_no_lint_errors(kb: KnowledgeBase) -> None:
    errors, _ = count(lint(kb))
    assert errors == 0


def test_contradictory_set_tests_never_fire(rules_copy: Path) -> None:
    path = _add_rules(rules_copy, _rule("muscle.psoas.groin_and_not_groin",
                                        "      pain_sites: {has_all: [groin, hip], has_none: [groin]}\n"))
    (problem,) = _findings(rules_copy, "never-fires")
    assert problem.severity == "error"
    assert problem.location.file == str(path) and problem.location.line == 6
    assert "muscle.psoas.groin_and_not_groin can never fire" in problem.message
    assert "pain_sites must include all of [groin, hip] and pain_sites must include none of [groin]" \
        in problem.message


@pytest.mark.parametrize("when", [
    "      age: {at_least: 60, at_most: 50}\n",
    "      age: {above: 50, below: 51}\n",
    "      age: {unknown: true, at_least: 18}\n",
    "      severity: {above: 10}\n",
    "      pain_side: {is: left, is_any: [right, both]}\n",
    "      can_touch_toes: {is: true, unknown: true}\n",
    "      pain_sites: {has_none: [lower_back, upper_back, buttock, hip, groin, flank, back_of_thigh,"
    " front_of_thigh, knee, below_knee, foot]}\n",
    "      triggers: {has_any: [driving, flying], has_none: [driving, flying, stress]}\n",
    "      derived: {has: prolonged_sitting, has_none: [prolonged_sitting]}\n",
])
def test_impossible_conditions_never_fire(rules_copy: Path, when: str) -> None:
    _add_rules(rules_copy, _rule("muscle.psoas.impossible", when))
    assert [p.message.split(":")[0] for p in _findings(rules_copy, "never-fires")] == [
        "muscle.psoas.impossible can never fire"]


def test_satisfiable_conditions_are_not_flagged(rules_copy: Path) -> None:
    _add_rules(rules_copy, _rule("muscle.psoas.possible",
                                 "      age: {above: 50, below: 52}\n"
                                 "      pain_sites: {has: groin, has_none: [foot]}\n"
                                 "      pain_side: {is_any: [left, right], unknown: false}\n"))
    assert _findings(rules_copy, "never-fires") == []
    assert _findings(rules_copy, "unreachable") == []


def test_self_care_and_referral_together_never_fire(rules_copy: Path) -> None:
    _add_rules(rules_copy, _rule("recommend.referred_self_care",
                                 "      self_care: true\n      referred: true\n",
                                 then="{recommend: [warm_up]}"))
    assert len(_findings(rules_copy, "never-fires")) == 1


def test_a_derived_fact_nobody_derives_makes_its_rules_unreachable(rules_copy: Path) -> None:
    (rules_copy / "zz-derived.yaml").write_text(
        "derived_facts:\n  - id: ghost\n    description: Declared, never derived.\n")
    _add_rules(rules_copy, _rule("muscle.psoas.ghost", "      derived: {has: ghost}\n"))
    (problem,) = _findings(rules_copy, "unreachable")
    assert problem.severity == "error" and problem.location.line == 6
    assert problem.message == ("muscle.psoas.ghost can never fire: it needs derived fact 'ghost', "
                               "but no rule draws it")


def test_unreachability_follows_chains_of_rules(rules_copy: Path) -> None:
    (rules_copy / "zz-derived.yaml").write_text(
        "derived_facts:\n  - id: ghost\n    description: Derived only by a rule that cannot fire.\n")
    _add_rules(rules_copy,
               _rule("derive.ghost.impossible", "      age: {below: 10, above: 20}\n",
                     then="{derive: ghost}")
               + _rule("muscle.psoas.ghost", "      derived: {has: ghost}\n"))
    assert [p.check for p in check_knowledge_base(rules_copy) if p.severity == "error"] == [
        "never-fires", "unreachable"]
    (problem,) = _findings(rules_copy, "unreachable")
    assert "only derive.ghost.impossible could draw it, and none of them can fire" in problem.message


def test_a_rule_always_firing_with_a_more_general_one_is_shadowed(rules_copy: Path) -> None:
    _add_rules(rules_copy,
               _rule("refer.see_doctor.fever_and_worse", "      red_flags: {has: fever}\n"
                     "      course: {is: worsening}\n",
                     then="{refer: see_doctor, reason: Fever that worsens.}")
               + _rule("muscle.psoas.arch_over_30", "      lower_back_curve: {is: exaggerated}\n"
                       "      pain_sites: {has: lower_back}\n"
                       "      age: {above: 30}\n", then="{sign: psoas, strength: strong}"))
    shadowed = {p.message.split()[0]: p for p in _findings(rules_copy, "shadowed")}
    assert set(shadowed) == {"refer.see_doctor.fever_and_worse", "muscle.psoas.arch_over_30"}
    fever = shadowed["refer.see_doctor.fever_and_worse"]
    assert fever.severity == "warning"
    assert "shadowed by refer.urgent.fever" in fever.message
    assert "never decides the disposition" in fever.message
    assert "shadowed by muscle.psoas.exaggerated_curve" in shadowed["muscle.psoas.arch_over_30"].message


def test_identical_rules_are_reported_once(rules_copy: Path) -> None:
    _add_rules(rules_copy, _rule("muscle.psoas.twin_a", "      worse_when: {has: walking}\n")
               + _rule("muscle.psoas.twin_b", "      worse_when: {has: walking}\n"))
    (problem,) = _findings(rules_copy, "shadowed")
    assert problem.message.startswith("muscle.psoas.twin_b is shadowed by muscle.psoas.twin_a")


def test_a_more_urgent_specific_rule_is_not_shadowed(kb: KnowledgeBase) -> None:
    # refer.urgent.fall_with_steroids always fires with refer.see_doctor.long_term_steroids,
    # but it raises the urgency, so it matters.
    assert [p for p in lint(kb) if p.check == "shadowed"] == []


def test_techniques_no_rule_recommends(rules_copy: Path) -> None:
    path = rules_copy / "zz-technique.yaml"
    path.write_text("techniques:\n  - id: handstand\n    name: Handstand\n    kind: stretch\n"
                    "    for: [any]\n    steps: [Stand on your hands.]\n    hold: 10 seconds\n"
                    "    cautions: [Do not.]\n    sources: [article-004]\n")
    (problem,) = _findings(rules_copy, "unused-technique")
    assert str(problem) == (f"{path}:2: [warning] no rule recommends technique 'handstand' "
                            "(unused-technique)")


#: A value written with its mark, to be written back as ``value: meaning``.
_UNMARKED = re.compile(r"^( +[a-z_]+:)\n +meaning: (.*)\n +informational: .*\n", re.MULTILINE)


def _vocabulary_line(directory: Path, startswith: str) -> int:
    lines = (directory / "vocabulary.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip().startswith(startswith))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def test_the_bundled_knowledge_base_is_clean_under_strict(kb: KnowledgeBase) -> None:
    assert lint(kb) == []


def test_a_value_only_a_question_offers_is_unused(rules_copy: Path) -> None:
    # The questions still offer 'stress'; without its informational mark, only a rule would do.
    vocabulary = rules_copy / "vocabulary.yaml"
    text = vocabulary.read_text()
    start = text.index("        stress:\n")
    end = text.index("\n", text.index("informational:", start)) + 1
    vocabulary.write_text(text[:start] + "        stress: stress\n" + text[end:])
    kb = load_knowledge_base(rules_copy)
    assert "stress" in {c.value for q in kb.questions if q.field == "triggers" for c in q.choices}
    (problem,) = [p for p in lint(kb) if p.check == "unused-value"]
    assert problem.severity == "warning"
    assert (problem.location.file, problem.location.line) == (
        str(vocabulary), _vocabulary_line(rules_copy, "stress:"))
    assert str(problem).startswith(f"{vocabulary}:{problem.location.line}")
    assert problem.message.startswith("no rule tests the value 'stress' of triggers")
    assert str(problem).endswith("(unused-value)")


def test_every_value_no_rule_tests_is_unused_without_a_mark(rules_copy: Path) -> None:
    vocabulary = rules_copy / "vocabulary.yaml"
    vocabulary.write_text(_UNMARKED.sub(r"\1 \2\n", vocabulary.read_text()))
    kb = load_knowledge_base(rules_copy)
    tested = {(c.subject, v) for r in kb.rules for c in r.conditions for v in c.values()}
    untested = [(n, v) for n, spec in FIELDS.items() for v in spec.values if (n, v) not in tested]
    findings = [p for p in lint(kb) if p.check == "unused-value"]
    assert [(p.location.field, p.message.split("'")[1]) for p in findings] == untested
    assert len(untested) == 7


def test_a_tested_informational_value_is_a_stale_mark(rules_copy: Path) -> None:
    path = _add_rules(rules_copy, _rule("muscle.psoas.bending", "      worse_when: {has: bending_forward}\n"))
    (problem,) = _findings(rules_copy, "stale-informational")
    assert problem.severity == "warning"
    assert (problem.location.file, problem.location.line) == (
        str(rules_copy / "vocabulary.yaml"), _vocabulary_line(rules_copy, "bending_forward:"))
    assert problem.message == ("the value 'bending_forward' of worse_when is marked informational, but "
                               f"muscle.psoas.bending ({path}:2) tests it; remove the mark")


def test_an_informational_mark_needs_its_reason(rules_copy: Path) -> None:
    vocabulary = rules_copy / "vocabulary.yaml"
    text = vocabulary.read_text()
    start = text.index("informational:", text.index("        stress:\n"))
    end = text.index("\n", start)
    vocabulary.write_text(text[:start] + "informational: ''" + text[end:])
    (problem,) = check_knowledge_base(rules_copy)
    assert problem.check == "load" and problem.severity == "error"
    assert (problem.location.file, problem.location.line) == (
        str(vocabulary), _vocabulary_line(rules_copy, "stress:") + 2)
    assert "the value 'stress' of triggers" in problem.message
    assert "informational: the reason" in problem.message


def test_a_value_mapping_without_a_mark_is_a_load_error(rules_copy: Path) -> None:
    vocabulary = rules_copy / "vocabulary.yaml"
    _edit(vocabulary, "        flying: a long flight\n",
          "        flying:\n          meaning: a long flight\n          informatonal: nobody flies\n")
    messages = [(p.location.line, p.message) for p in check_knowledge_base(rules_copy)]
    line = _vocabulary_line(rules_copy, "flying:")
    assert (line + 2, "the value 'flying': unknown key 'informatonal'; did you mean "
            "'informational'? Allowed: meaning, informational.") in messages
    assert any(at == line and "'flying' of triggers is written as a mapping, so it needs "
               "informational: the reason" in message for at, message in messages)


def test_a_muscle_no_recommend_rule_names(rules_copy: Path) -> None:
    recommendations = rules_copy / "recommendations.yaml"
    _edit(recommendations, "likely_muscles: {has: hamstrings}", "likely_muscles: {has: piriformis}")
    (problem,) = _findings(rules_copy, "unrecommended-muscle")
    vocabulary = rules_copy / "vocabulary.yaml"
    assert problem.severity == "warning"
    assert (problem.location.file, problem.location.line) == (
        str(vocabulary), _vocabulary_line(rules_copy, "hamstrings:"))
    assert str(problem).startswith(f"{vocabulary}:{problem.location.line}")
    assert "no recommend rule gives techniques for the muscle 'hamstrings'" in problem.message
    assert str(problem).endswith("(unrecommended-muscle)")


def test_a_technique_recommended_for_a_muscle_its_for_leaves_out(rules_copy: Path) -> None:
    recommendations = rules_copy / "recommendations.yaml"
    _edit(recommendations, "recommend: [psoas_release_by_therapist, flat_back_rest, gentle_lying_twist]",
          "recommend: [psoas_release_by_therapist, flat_back_rest, glute_stretch]")
    (problem,) = _findings(rules_copy, "not-for-muscle")
    kb = load_knowledge_base(rules_copy)
    rule, technique = kb.rule("recommend.psoas"), kb.techniques["glute_stretch"]
    assert problem.severity == "warning"
    assert problem.location == rule.location and problem.location.file == str(recommendations)
    assert problem.message == ("recommend.psoas recommends technique 'glute_stretch' for psoas, but "
                               f"the technique's for: ({technique.location}) lists only piriformis")
    assert str(problem) == f"{rule.location}: [warning] {problem.message} (not-for-muscle)"


def test_a_muscle_specific_technique_recommended_whatever_the_muscle(rules_copy: Path) -> None:
    _edit(rules_copy / "recommendations.yaml",
          "recommend: [partner_back_kneading, tennis_ball_self_massage, foam_roller]",
          "recommend: [partner_back_kneading, tennis_ball_self_massage, foam_roller, flat_back_rest]")
    (problem,) = _findings(rules_copy, "not-for-muscle")
    assert problem.message.startswith("recommend.general_massage recommends technique 'flat_back_rest' "
                                      "whatever the muscle (it tests none), but")
    assert problem.message.endswith("lists only psoas")


def test_a_technique_for_one_of_the_muscles_a_rule_needs_fits(rules_copy: Path) -> None:
    _edit(rules_copy / "recommendations.yaml", "likely_muscles: {has: psoas}",
          "likely_muscles: {has_all: [psoas, piriformis]}")
    assert _findings(rules_copy, "not-for-muscle") == []


def test_rules_without_examples(rules_copy: Path) -> None:
    _add_rules(rules_copy, _rule("muscle.psoas.no_examples", "      worse_when: {has: walking}\n",
                                 examples=False))
    (problem,) = _findings(rules_copy, "no-examples")
    assert problem.severity == "warning" and problem.location.line == 2
    assert problem.message == ("muscle.psoas.no_examples has no examples that must fire "
                               "and none that must not fire")


def test_load_errors_come_back_as_findings_with_file_and_line(rules_copy: Path) -> None:
    path = _add_rules(rules_copy, "  - id: muscle.psoas.unsourced\n    description: No sources.\n"
                                  "    when: {worse_when: {has: walkin}}\n"
                                  "    then: {sign: psoas, strength: strong}\n")
    problems = check_knowledge_base(rules_copy)
    assert problems and all(p.check == "load" and p.severity == "error" for p in problems)
    messages = {(p.location.file, p.location.line): p.message for p in problems}
    assert "sources must list at least one source id" in messages[(str(path), 2)]
    assert "did you mean 'walking'" in messages[(str(path), 4)]


def test_findings_are_sorted_errors_first(rules_copy: Path) -> None:
    _add_rules(rules_copy, _rule("muscle.psoas.a", "      worse_when: {has: walking}\n", examples=False)
               + _rule("muscle.psoas.b", "      age: {below: 0}\n"))
    severities = [p.severity for p in check_knowledge_base(rules_copy)]
    assert severities == sorted(severities, key=lambda s: s != "error") and "error" in severities


def _referred_rule(rules_copy: Path) -> Path:
    return _add_rules(rules_copy, _rule("muscle.psoas.when_referred", "      referred: true\n"))


def test_a_test_matching_each_of_several_facts_fires_per_fact(rules_copy: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`referred: true` compiled as a bare pattern (as it once was) fires once per referral: an error."""
    from triage import compiler

    compiled = compiler._engine_patterns

    def bare(condition):  # noqa: ANN001, ANN202 - the compiler's signature
        if condition.subject == "referred" and condition.operand:
            return [compiler.fact_classes.Referral()]
        return compiled(condition)

    path = _referred_rule(rules_copy)
    monkeypatch.setattr(compiler, "_engine_patterns", bare)
    found = _findings(rules_copy, "fires-per-fact")
    assert [(p.location.file, p.severity) for p in found] == [(str(path), "error")]
    assert "muscle.psoas.when_referred" in found[0].message and "once per fact" in found[0].message
    monkeypatch.setattr(compiler, "_engine_patterns", compiled)
    assert _findings(rules_copy, "fires-per-fact") == []
