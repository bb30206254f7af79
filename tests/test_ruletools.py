"""Rule examples run by id, rule listings, coverage over a corpus, and kb_version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import make_case

from triage.errors import TriageError
from triage.kb import KnowledgeBase, default_rules_dir, load_knowledge_base
from triage.results import ErrorRecord
from triage.ruletools import (coverage, find_rule, format_coverage_table, format_example_report,
                              format_rule, format_rule_table, rule_summary, run_examples)
from triage.session import TriageSession


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_every_bundled_example_passes(session: TriageSession) -> None:
    report = run_examples(session)
    assert report.ok and report.rules == len(session.kb.rules)
    assert report.examples == sum(len(r.examples_fire) + len(r.examples_not_fire)
                                  for r in session.kb.rules)
    assert format_example_report(report).endswith(f"{report.examples} examples of {report.rules} rules: ok\n")


def test_failing_examples_are_reported_by_rule_id(rules_copy: Path) -> None:
    derived = rules_copy / "derived.yaml"
    _replace(derived, "fires: [{triggers: [driving]}]", "fires: [{triggers: [stress]}]")
    _replace(derived, "does_not_fire: [{triggers: [flying]}]", "does_not_fire: [{triggers: [driving]}]")
    report = run_examples(TriageSession(rules_dir=rules_copy))
    assert not report.ok
    assert [(f.rule, f.must_fire, f.example) for f in report.failures] == [
        ("derive.prolonged_sitting.driving", True, "fires #1"),
        ("derive.prolonged_sitting.driving", False, "does_not_fire #1")]
    must_fire = report.failures[0]
    assert must_fire.case == {"triggers": ["stress"]}
    assert must_fire.where.startswith("derived.yaml:")
    text = format_example_report(report)
    assert (f"FAIL derive.prolonged_sitting.driving ({must_fire.where}): must fire on example "
            "fires #1 but it did not") in text
    assert "must not fire on example does_not_fire #1 but it did" in text
    assert text.endswith("2 failed\n")
    assert report.to_dict()["failures"][1]["fired"][0] == "derive.prolonged_sitting.driving"


def test_rule_summary_and_show(kb: KnowledgeBase) -> None:
    rule = find_rule(kb, "refer.urgent.fall_age_70_plus")
    summary = rule_summary(rule)
    assert summary["concludes"] == "referral: urgent"
    assert summary["sources"] == ["nice-ng59", "nice-cks-back-pain"]
    assert summary["when"] == ["triggers must include fall_on_buttocks", "age must be at least 70"]
    assert summary["examples"] == {"fires": 1, "does_not_fire": 2}
    text = format_rule(rule, kb)
    assert text.startswith("refer.urgent.fall_age_70_plus\n  A fall onto the buttocks")
    assert "    - age must be at least 70\n" in text and "reason:    At 70 or older" in text


def test_an_unknown_rule_id_gets_a_suggestion(kb: KnowledgeBase) -> None:
    with pytest.raises(TriageError, match="did you mean 'refer.urgent.fever'"):
        find_rule(kb, "refer.urgent.fevr")


def test_rule_table_lists_every_rule_in_order(kb: KnowledgeBase) -> None:
    lines = format_rule_table(kb.rules).splitlines()
    assert lines[0].split() == ["ID", "CONCLUDES", "SOURCES", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == [r.id for r in kb.rules]


def test_coverage_counts_cases_per_rule(session: TriageSession) -> None:
    corpus = [
        make_case("a", triggers=["driving"], pain_sites=["buttock", "back_of_thigh"]),
        make_case("b", triggers=["driving", "desk_work"], can_touch_toes=False),
        make_case("c", red_flags=["fever"]),
        ErrorRecord("bad", TriageError("broken")),  # type: ignore[arg-type]
    ]
    report = coverage(session, corpus)
    assert (report.cases, report.invalid) == (3, 1)
    counts = report.counts
    assert list(counts) == [r.id for r in session.kb.rules]
    assert counts["derive.prolonged_sitting.driving"] == 2
    assert counts["derive.prolonged_sitting.desk_work"] == 1
    assert counts["conclude.self_care"] == 2
    assert counts["refer.urgent.fever"] == 1
    # v2: "cause unknown" is not reported beside the fever's referral.
    assert counts["refer.see_doctor.no_likely_muscle"] == 0
    assert "derive.prolonged_sitting.flying" in report.never_fired
    assert "derive.prolonged_sitting.driving" not in report.never_fired
    data = report.to_dict()
    driving = next(r for r in data["rules"] if r["rule"] == "derive.prolonged_sitting.driving")
    assert driving == {"rule": "derive.prolonged_sitting.driving", "fired": 2, "share": 0.667}
    table = format_coverage_table(report)
    assert "derive.prolonged_sitting.driving" in table and "66.7%" in table
    assert "\n  derive.prolonged_sitting.reported\n" in table.split("\nnever fired:\n")[1]
    assert "3 cases (1 invalid skipped)" in table


# -- kb_version (issue item 8) ---------------------------------------------------

def test_kb_version_is_the_same_for_identical_files_anywhere(tmp_path: Path) -> None:
    first, second = tmp_path / "one" / "rules", tmp_path / "two" / "clinic-rules"
    shutil.copytree(default_rules_dir(), first)
    shutil.copytree(default_rules_dir(), second)
    assert load_knowledge_base(first).version == load_knowledge_base(second).version \
        == load_knowledge_base().version


def test_kb_version_ignores_line_endings(rules_copy: Path) -> None:
    before = load_knowledge_base(rules_copy).version
    for path in rules_copy.glob("*.yaml"):
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    assert load_knowledge_base(rules_copy).version == before


@pytest.mark.parametrize("change", ["edit", "comment", "new_file", "rename"])
def test_kb_version_changes_when_any_file_changes(rules_copy: Path, change: str) -> None:
    before = load_knowledge_base(rules_copy).version
    techniques = rules_copy / "techniques.yaml"
    if change == "edit":
        _replace(techniques, "30 seconds each side", "45 seconds each side")
    elif change == "comment":
        techniques.write_text(techniques.read_text() + "# a comment changes the version too\n")
    elif change == "new_file":
        (rules_copy / "zz-extra.yaml").write_text("rules: []\n")
    else:
        techniques.rename(rules_copy / "techniques-b.yaml")
    assert load_knowledge_base(rules_copy).version != before
