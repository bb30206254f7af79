"""The audit of one case: trace order, HOW chains, WHY NOT and the Graphviz graph."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from triage.audit import audit_case, render_dot, render_json, render_text
from triage.case import Case
from triage.errors import TriageError
from triage.kb import default_rules_dir
from triage.session import NO_CONCLUSION_RULE, TriageSession
from helpers import parse

GOLDEN: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "golden" / "cases.yaml").read_text())


def golden(name: str) -> Case:
    entry = next(g for g in GOLDEN if g["name"] == name)
    return parse(entry["case"], name)


def test_trace_follows_the_firing_order_with_rule_details(session: TriageSession) -> None:
    audit = audit_case(session, golden("example-office-worker-flat-back"))
    rules = [step.rule for step in audit.trace]
    assert rules == [f.rule for f in audit.result.fired_rules]
    assert [step.order for step in audit.trace] == list(range(1, len(rules) + 1))
    first = audit.trace[0]
    assert first.rule == "derive.prolonged_sitting.desk_work"
    assert first.salience == 40 and first.where.startswith("derived.yaml:")
    assert first.sources == ("article-001", "article-002")
    assert first.facts == {"triggers": ["desk_work"]}
    assert first.asserted == ("derived: prolonged_sitting",)
    assert first.conditions == ("triggers must include desk_work",)
    # Derived facts fire first, recommendations last (salience strata).
    assert rules.index("conclude.self_care") < rules.index("recommend.warm_up_first")


def test_how_chains_run_from_answers_through_derived_facts(session: TriageSession) -> None:
    audit = audit_case(session, golden("example-office-worker-flat-back"))
    muscle = next(h for h in audit.how if h.conclusion.startswith("likely muscle: hamstrings"))
    assert ("answer triggers=desk_work -> derive.prolonged_sitting.desk_work -> "
            "derived: prolonged_sitting -> muscle.hamstrings.prolonged_sitting -> "
            "sign: hamstrings (supporting)") in muscle.chains()
    assert ("answer lower_back_curve=flattened -> muscle.hamstrings.flattened_curve -> "
            "sign: hamstrings (strong)") in muscle.chains()
    disposition = audit.how[0]
    assert disposition.conclusion == "disposition: self_care"
    assert [d.rule for d in disposition.because] == ["conclude.self_care"]
    assert "no referral -> conclude.self_care -> conclusion: self_care" in disposition.chains()


def test_how_lists_every_referral_most_urgent_first(session: TriageSession) -> None:
    case = parse({"pain_sites": ["lower_back", "buttock"], "severity": 8, "conditions": [], "other_symptoms": [],
                  "age": 45, "duration_days": 2,
                  "red_flags": ["saddle_numbness", "bladder_or_bowel_change"]}, "cauda-equina-in-pain")
    audit = audit_case(session, case)
    disposition = audit.how[0]
    assert disposition.conclusion == "disposition: emergency"
    # v2: "cause unknown" is not listed beside an emergency; intense pain still is.
    assert [d.rule for d in disposition.because] == [
        "refer.emergency.saddle_numbness", "refer.emergency.bladder_or_bowel_change",
        "refer.see_doctor.intense_pain"]
    assert disposition.chains()[0] == ("answer red_flags=saddle_numbness -> "
                                       "refer.emergency.saddle_numbness -> referral: emergency")
    assert len(audit.how) == 1  # no likely muscle, no recommendations


@pytest.mark.parametrize("entry", GOLDEN, ids=[g["name"] for g in GOLDEN])
def test_every_golden_case_is_explained_back_to_the_answers(entry: dict[str, Any],
                                                            session: TriageSession) -> None:
    audit = audit_case(session, parse(entry["case"], entry["name"]))
    assert [s.rule for s in audit.trace] == [f.rule for f in audit.result.fired_rules]
    assert audit.how[0].conclusion == f"disposition: {entry['expect']['disposition']}"
    for item in audit.how:
        assert item.because or item.note
        for chain in item.chains():
            assert chain.startswith(("answer ", "no ")), chain
    assert json.loads(render_json([audit]))[0]["id"] == entry["case"].get("id", entry["name"])


def test_why_not_a_muscle_says_which_conditions_failed(session: TriageSession) -> None:
    audit = audit_case(session, golden("example-tennis-player"), why_not="hamstrings")
    why = audit.why_not
    assert why is not None and not why.concluded
    assert why.summary == "hamstrings is not a likely muscle: no rule found a sign of it"
    tightness = next(c for c in why.candidates if c.rule == "muscle.hamstrings.thigh_tightness")
    assert tightness.fired is None
    checks = {c.condition: (c.held, c.found) for c in tightness.checks}
    assert checks["pain_sites must include back_of_thigh"] == (
        True, "given: back_of_thigh, buttock, knee")
    assert checks["pain_feels must include tightness"] == (False, "none given")
    text = render_text([audit])
    assert "WHY NOT hamstrings" in text
    assert "not met: pain_feels must include tightness (none given)" in text


def test_why_not_a_muscle_with_only_supporting_signs(session: TriageSession) -> None:
    why = audit_case(session, golden("example-office-worker-flat-back"), why_not="psoas").why_not
    assert why is not None and not why.concluded
    assert "only supporting signs" in why.summary and "muscle.psoas.prolonged_sitting" in why.summary
    fired = next(c for c in why.candidates if c.rule == "muscle.psoas.prolonged_sitting")
    # 9th: after the three derived facts (long sitting, leg pain, back pain) and five signs.
    assert fired.fired == 9 and all(check.held for check in fired.checks)


def test_why_not_self_care_uses_what_the_engine_concluded(session: TriageSession) -> None:
    why = audit_case(session, golden("example-fever"), why_not="self_care").why_not
    assert why is not None and not why.concluded
    assert "refer.urgent.fever" in why.summary
    (conclude,) = why.candidates
    checks = {c.condition: (c.held, c.found) for c in conclude.checks}
    assert checks["there must be no referral"][0] is False
    assert checks["there must be no referral"][1].startswith("referral: ")
    assert checks["likely_muscles must not be empty"] == (False, "no likely muscles")


def test_why_not_a_less_urgent_disposition(session: TriageSession) -> None:
    case = parse({"pain_sites": ["lower_back"], "red_flags": ["fever"], "conditions": [],
                       "course": "worsening"}, "c")
    why = audit_case(session, case, why_not="see_doctor").why_not
    assert why is not None and not why.concluded
    assert "refer.see_doctor.worsening" in why.summary and "most urgent referral wins" in why.summary


def test_why_not_what_was_concluded(session: TriageSession) -> None:
    why = audit_case(session, golden("example-tennis-player"), why_not="piriformis").why_not
    assert why is not None and why.concluded
    assert why.summary.startswith("piriformis is a likely muscle")


def test_why_not_refuses_an_unknown_target_with_a_suggestion(session: TriageSession) -> None:
    with pytest.raises(TriageError, match="did you mean 'piriformis'"):
        audit_case(session, golden("example-tennis-player"), why_not="piriformus")


def test_a_knowledge_base_without_conclusions_is_explained_as_a_default(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "conclusions.yaml").unlink()
    audit = audit_case(TriageSession(rules_dir=rules), golden("example-tennis-player"))
    assert audit.how[0].conclusion == "disposition: see_doctor"
    assert NO_CONCLUSION_RULE in audit.how[0].note
    assert NO_CONCLUSION_RULE in render_dot([audit])


def test_text_shows_trace_how_and_marks_repeats(session: TriageSession) -> None:
    text = render_text([audit_case(session, golden("example-office-worker-flat-back"))])
    assert text.startswith("AUDIT ex-office-worker-flat-back\n")
    assert "  1. derive.prolonged_sitting.desk_work  [salience 40, derived.yaml:" in text
    assert "\nHOW\n  disposition: self_care\n    <- #10 conclude.self_care" in text
    assert "(see above)" in text


def test_dot_graph_links_answers_rules_derived_facts_and_conclusions(session: TriageSession) -> None:
    audits = [audit_case(session, golden(name)) for name in
              ("example-office-worker-flat-back", "example-cauda-equina")]
    dot = render_dot(audits)
    assert dot.startswith("digraph triage_audit {") and dot.count("subgraph cluster_") == 2
    for label in ("triggers = desk_work", "#1 derive.prolonged_sitting.desk_work",
                  "derived: prolonged_sitting", "muscle: hamstrings", "disposition: self_care",
                  "referral: emergency", "disposition: emergency"):
        assert f'label="{label}"' in dot
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("graphviz's dot is missing in CI (.ci/run installs it)")
        pytest.skip("graphviz's dot is not installed")
    svg = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True)
    assert "<svg" in svg.stdout and "derive.prolonged_sitting.desk_work" in svg.stdout


def test_dot_labels_are_escaped(session: TriageSession) -> None:
    case = parse({"id": 'say "hi"\\', "pain_sites": ["lower_back"], "red_flags": [],
                       "conditions": []}, "x")
    dot = render_dot([audit_case(session, case)])
    assert 'label="case say \\"hi\\"\\\\: see_doctor"' in dot
