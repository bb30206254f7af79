"""`triage rules report|hazards|diff|mutate` through click's CliRunner, on the bundled rules and edited copies."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.kb import default_rules_dir, load_knowledge_base
from safety.support import delete_source, remove_must_not_fire_examples, weaken_an_urgent_rule


def _rules(*args: str):
    return CliRunner().invoke(main, ["rules", *args])


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def test_report_on_the_bundled_rules_has_no_gap_in_every_format() -> None:
    markdown = _rules("report", "--generated", "100")
    assert markdown.exit_code == 0, markdown.output
    assert "- rules: " in markdown.stdout and " 0 with gaps (listed first)" in markdown.stdout
    data = json.loads(_rules("report", "-f", "json", "--generated", "100").stdout)
    assert data["gaps"] == 0 and data["generated"] == {"cases": 100, "invalid": 0, "seed": 6}
    rows = list(csv.DictReader(io.StringIO(_rules("report", "-f", "csv", "--generated", "0").stdout)))
    assert [r["rule"] for r in rows] == [r.id for r in load_knowledge_base().rules]
    assert {r["kb version"] for r in rows} == {load_knowledge_base().version}
    page = _rules("report", "-f", "html", "--generated", "0").stdout
    assert page.startswith("<!DOCTYPE html>") and 'class="gap"' not in page


def test_report_on_a_copy_with_a_removed_example_lists_the_gap_first_and_exits_1(rules_copy: Path) -> None:
    stripped = remove_must_not_fire_examples(rules_copy, load_knowledge_base())
    result = _rules("report", "--rules", str(rules_copy), "-f", "csv", "--generated", "0")
    assert result.exit_code == 1
    first = next(csv.DictReader(io.StringIO(result.stdout)))
    assert (first["rule"], first["gaps"]) == (stripped, "no must-not-fire example")


def test_report_on_a_copy_with_a_deleted_source_names_the_rules_that_cite_it(rules_copy: Path) -> None:
    source = delete_source(rules_copy)
    result = _rules("report", "--rules", str(rules_copy))
    assert result.exit_code == 2
    assert f"unknown source '{source}'" in result.stderr and result.stdout == ""


def test_report_on_a_copy_with_a_weakened_rule_names_the_failing_golden_case(rules_copy: Path) -> None:
    weaken_an_urgent_rule(rules_copy)
    result = _rules("report", "--rules", str(rules_copy), "--generated", "0")
    assert result.exit_code == 1
    assert "fails: disposition: expected 'urgent', got 'see_doctor'" in result.stderr


def test_hazards_markdown_and_csv() -> None:
    text = _rules("hazards").stdout
    assert text.startswith("# Hazard log (skeleton)\n")
    assert "| HAZ-ESC-red_flags.saddle_numbness | Failure to escalate: red_flags: saddle_numbness" in text
    rows = list(csv.DictReader(io.StringIO(_rules("hazards", "-f", "csv").stdout)))
    assert rows[-1]["id"] == "HAZ-GEN-wrong-language" and rows[-1]["residual risk"] == ""


def test_diff_exits_1_when_a_case_becomes_less_urgent_unless_allowed(rules_copy: Path) -> None:
    weakened = weaken_an_urgent_rule(rules_copy)
    args = ("diff", str(default_rules_dir()), str(rules_copy), "--generated", "800")
    result = _rules(*args)
    assert result.exit_code == 1, result.output
    assert "cases become less urgent (listed first); --allow-less-urgent if that is deliberate" in result.stderr
    assert f"| {weakened} | conclusion: referral: urgent -> referral: see_doctor |" in result.stdout
    allowed = _rules(*args, "--allow-less-urgent", "-f", "json")
    assert allowed.exit_code == 0
    data = json.loads(allowed.stdout)
    assert data["cases"]["less_urgent"] > 0 and data["cases"]["transitions"]["urgent -> see_doctor"] > 0


def test_diff_of_the_same_rules_over_given_cases_only(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- {id: a, pain_sites: [lower_back], red_flags: [fever], conditions: []}\n")
    result = _rules("diff", str(default_rules_dir()), str(default_rules_dir()), "--cases", str(cases), "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cases"] == {"cases": 1, "changed": 0, "less_urgent": 0, "transitions": {},
                                                  "muscle_transitions": {}, "changes": []}


def test_mutate_one_rule_of_a_weakened_copy(rules_copy: Path) -> None:
    weakened = weaken_an_urgent_rule(rules_copy)
    result = _rules("mutate", "--rules", str(rules_copy), "--rule", weakened, "-v")
    assert result.exit_code == 1
    # The golden cases that fail already cannot judge a mutant: the rule's deletion now goes unnoticed.
    assert "BASELINE golden case " in result.stdout and f"SURVIVED {weakened}: delete\n" in result.stdout
    unknown = _rules("mutate", "--rule", "refer.urgent.fevr")
    assert unknown.exit_code == 2 and "did you mean 'refer.urgent.fever'" in unknown.stderr
