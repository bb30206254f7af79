"""`triage rules check|test|list|show|coverage` through click's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.kb import default_rules_dir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _rules(*args: str):
    return CliRunner().invoke(main, ["rules", *args])


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def _add_rule(directory: Path, extra: str = "") -> None:
    (directory / "zz-clinic.yaml").write_text(
        "rules:\n  - id: muscle.psoas.bending\n    description: A clinic's own sign.\n"
        "    sources: [article-002]\n    when:\n      worse_when: {has: bending_forward}\n" + extra
        + "    then: {sign: psoas, strength: supporting}\n")


def test_check_passes_on_the_bundled_rules() -> None:
    result = _rules("check")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("0 errors, 0 warnings\n")


def test_check_warnings_fail_only_with_strict(rules_copy: Path) -> None:
    _add_rule(rules_copy)  # no examples: a warning
    relaxed = _rules("check", "--rules", str(rules_copy))
    assert relaxed.exit_code == 0
    assert (f"{rules_copy / 'zz-clinic.yaml'}:2: [warning] muscle.psoas.bending has no examples"
            in relaxed.stdout)
    # bending_forward is marked informational in the bundled vocabulary: the clinic's rule makes the mark stale.
    assert "the value 'bending_forward' of worse_when is marked informational" in relaxed.stdout
    assert relaxed.stdout.endswith("0 errors, 2 warnings\n")
    assert _rules("check", "--rules", str(rules_copy), "--strict").exit_code == 1


def test_check_errors_fail(rules_copy: Path) -> None:
    _add_rule(rules_copy, "      age: {at_least: 60, below: 40}\n")
    result = _rules("check", "--rules", str(rules_copy), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 1
    error = next(f for f in report["findings"] if f["severity"] == "error")
    assert error["check"] == "never-fires" and error["line"] == 7  # the age test


def test_check_reports_load_errors_as_findings(rules_copy: Path) -> None:
    (rules_copy / "zz-broken.yaml").write_text("rules:\n  - id: Not An Id\n")
    result = _rules("check", "--rules", str(rules_copy))
    assert result.exit_code == 1
    assert f"{rules_copy / 'zz-broken.yaml'}:2: [error]" in result.stdout
    assert "(load)" in result.stdout


def test_test_command(rules_copy: Path) -> None:
    ok = _rules("test")
    assert ok.exit_code == 0 and ok.stdout.endswith("rules: ok\n")
    _add_rule(rules_copy, "    examples:\n      fires: [{worse_when: [sitting]}]\n")
    failing = _rules("test", "--rules", str(rules_copy))
    assert failing.exit_code == 1
    assert "FAIL muscle.psoas.bending (zz-clinic.yaml:2): must fire on example fires #1" in failing.stdout
    as_json = json.loads(_rules("test", "--rules", str(rules_copy), "-f", "json").stdout)
    assert [f["rule"] for f in as_json["failures"]] == ["muscle.psoas.bending"]


def test_list_and_show() -> None:
    listed = _rules("list")
    assert listed.exit_code == 0 and listed.stdout.startswith("ID ")
    assert "refer.urgent.fever" in listed.stdout
    as_json = json.loads(_rules("list", "--format", "json").stdout)
    fever = next(r for r in as_json if r["id"] == "refer.urgent.fever")
    assert fever["concludes"] == "referral: urgent" and fever["sources"]
    shown = _rules("show", "refer.urgent.fever")
    assert shown.exit_code == 0 and shown.stdout.startswith("refer.urgent.fever\n")
    assert json.loads(_rules("show", "refer.urgent.fever", "-f", "json").stdout)["id"] == \
        "refer.urgent.fever"


def test_show_an_unknown_rule_exits_2() -> None:
    result = _rules("show", "refer.urgent.fevr")
    assert result.exit_code == 2 and "did you mean 'refer.urgent.fever'" in result.stderr


def test_list_on_a_custom_knowledge_base(rules_copy: Path) -> None:
    _add_rule(rules_copy)
    result = _rules("list", "--rules", str(rules_copy))
    assert result.stdout.splitlines()[-1].startswith("muscle.psoas.bending")


def test_coverage(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        '{"id": "a", "pain_sites": ["lower_back"], "triggers": ["driving"], "red_flags": [], "conditions": []}\n'
        '{"id": "b", "pain_sites": ["lower_back"], "triggers": ["driving"], "red_flags": ["fever"], "conditions": []}\n'
        '{"id": "c", "pain_sites": ["lower_back"], "triggers": ["drivng"], "red_flags": [], "conditions": []}\n')
    result = _rules("coverage", str(corpus), "--format", "json")
    assert result.exit_code == 1  # one invalid case
    assert "did you mean 'driving'" in result.stderr
    report = json.loads(result.stdout)
    assert (report["cases"], report["invalid"]) == (2, 1)
    fired = {r["rule"]: r["fired"] for r in report["rules"]}
    assert fired["derive.prolonged_sitting.driving"] == 2
    assert fired["refer.urgent.fever"] == 1
    assert "refer.emergency.saddle_numbness" in report["never_fired"]
    table = _rules("coverage", *sorted(str(p) for p in EXAMPLES.iterdir()))
    assert table.exit_code == 0
    assert table.stdout.startswith("RULE ") and "never fired:\n" in table.stdout
    assert "19 cases (0 invalid skipped)" in table.stdout


def test_every_rules_command_takes_rules_and_has_help() -> None:
    for command in ("check", "test", "list", "show", "coverage"):
        result = _rules(command, "--help")
        assert result.exit_code == 0 and "--rules DIR" in result.stdout
    assert "--rules DIR" in CliRunner().invoke(main, ["audit", "--help"]).stdout


@pytest.mark.parametrize(("command", "exit_code"), [
    (["run", "CASES"], 2), (["ask"], 2), (["audit", "CASES"], 2), (["rules", "check"], 1),
    (["rules", "list"], 2), (["serve", "--port", "0"], 2),
])
def test_every_command_refuses_a_knowledge_base_that_lost_its_red_flags(
        tmp_path: Path, command: list[str], exit_code: int) -> None:
    rules = tmp_path / "kb"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "red-flags.yaml").unlink()
    cases = tmp_path / "cases.yaml"
    cases.write_text("pain_sites: [lower_back]\nred_flags: [saddle_numbness, leg_weakness]\n"
                     "conditions: []\ntriggers: [tennis_serve]\n", encoding="utf-8")
    args = [str(cases) if a == "CASES" else a for a in command]
    result = CliRunner().invoke(main, [*args, "--rules", str(rules)], input="\n")
    assert result.exit_code == exit_code, result.output
    assert "safety floor" in result.output and "'saddle_numbness'" in result.output
    assert "self_care" not in result.stdout


def test_messages_name_files_from_the_knowledge_base_folder_not_the_install_path() -> None:
    result = _rules("show", "refer.urgent.fevr")
    assert result.exit_code == 2
    assert result.stderr == ("triage: rules/: no rule 'refer.urgent.fevr' in the knowledge base; "
                             "did you mean 'refer.urgent.fever'?\n")
    assert str(default_rules_dir()) not in result.stderr


def test_a_problem_in_the_bundled_rules_is_shown_relative_to_the_folder(tmp_path: Path) -> None:
    from triage.cli.common import shown_problem
    from triage.errors import Location, Problem

    inside = Problem(Location(str(default_rules_dir() / "questions.yaml"), 12), "broken")
    assert str(shown_problem(inside)) == "rules/questions.yaml:12: [error] broken (load)"
    elsewhere = Problem(Location(str(tmp_path / "clinic" / "questions.yaml"), 3), "broken")
    assert shown_problem(elsewhere) == elsewhere
