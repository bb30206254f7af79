"""`triage audit` through click's CliRunner: formats, --id, --why-not, --rules, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.kb import default_rules_dir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLINIC_A = str(EXAMPLES / "clinic-a.yaml")


def _audit(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["audit", *args], input=input)


def test_text_audit_of_one_case() -> None:
    result = _audit(CLINIC_A, "--id", "clinic-a-office")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("AUDIT clinic-a-office\n") and out.count("AUDIT ") == 1
    assert "TRACE (firing order)\n  1. derive.prolonged_sitting.desk_work" in out
    assert "\nHOW\n" in out and "answer triggers=desk_work" in out


def test_every_case_of_the_file_is_audited_in_order() -> None:
    result = _audit(CLINIC_A, "--format", "json")
    assert result.exit_code == 0
    audits = json.loads(result.stdout)
    assert [a["id"] for a in audits] == ["clinic-a-tennis", "clinic-a-office", "clinic-a-mover",
                                         "clinic-a-cauda-equina"]
    assert audits[3]["disposition"] == "emergency"
    assert audits[3]["how"][0]["because"][0]["rule"] == "refer.emergency.saddle_numbness"
    assert audits[0]["trace"][0]["description"] and audits[0]["why_not"] == []


def test_why_not() -> None:
    result = _audit(CLINIC_A, "--id", "clinic-a-tennis", "--why-not", "hamstrings")
    assert result.exit_code == 0
    assert "WHY NOT hamstrings\n  hamstrings is not a likely muscle" in result.stdout
    assert "not met: can_touch_toes must be false (not given)" in result.stdout
    as_json = _audit(CLINIC_A, "--id", "clinic-a-tennis", "--why-not", "self_care", "-f", "json")
    assert json.loads(as_json.stdout)[0]["why_not"][0]["concluded"] is True


def test_why_not_can_be_repeated_and_every_format_honours_it() -> None:
    args = [CLINIC_A, "--id", "clinic-a-tennis", "--why-not", "hamstrings", "--why-not", "self_care"]
    text = _audit(*args).stdout
    assert text.index("WHY NOT hamstrings\n") < text.index("WHY NOT self_care\n")
    as_json = json.loads(_audit(*args, "-f", "json").stdout)[0]["why_not"]
    assert [(w["target"], w["concluded"]) for w in as_json] == [("hamstrings", False), ("self_care", True)]
    dot = _audit(*args, "-f", "dot").stdout
    # The missing links: the target, each rule that did not fire and its unmet tests, dashed red.
    assert 'label="why not hamstrings? (not concluded)"' in dot
    assert 'label="why not self_care? (concluded)"' in dot
    assert "muscle.hamstrings.cannot_touch_toes\\n(did not fire)" in dot
    assert "not met: can_touch_toes must be false\\n(not given)" in dot
    assert dot.count('style=dashed, color="#b00020"') >= 3
    _renders(dot)


def test_audit_takes_several_files_and_suggests_a_near_id(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("id: other-case\npain_sites: [lower_back]\nred_flags: []\nconditions: []\n")
    result = _audit(CLINIC_A, str(other), "-f", "json")
    assert result.exit_code == 0, result.output
    assert [a["id"] for a in json.loads(result.stdout)][-2:] == ["clinic-a-cauda-equina", "other-case"]
    missed = _audit(CLINIC_A, str(other), "--id", "clinic-a-tenis")
    assert missed.exit_code == 2
    assert missed.stderr.strip().endswith("; did you mean 'clinic-a-tennis'?")


def test_why_not_refuses_an_unknown_target() -> None:
    result = _audit(CLINIC_A, "--why-not", "piriformus")
    assert result.exit_code == 2 and "piriformus" in result.output


def test_dot_renders_with_graphviz() -> None:
    result = _audit(CLINIC_A, "--format", "dot")
    assert result.exit_code == 0 and result.stdout.startswith("digraph")
    assert _renders(result.stdout).count("cluster_") >= 4


def _renders(dot: str) -> str:
    """The graph rendered as SVG by Graphviz (which must accept it)."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("graphviz's dot is missing in CI (.ci/run installs it)")
        pytest.skip("graphviz's dot is not installed")
    return subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True,
                          check=True).stdout


def test_unknown_id_exits_2() -> None:
    result = _audit(CLINIC_A, "--id", "nobody")
    assert result.exit_code == 2
    assert "no case with id 'nobody'" in result.stderr


def test_invalid_cases_are_reported_and_exit_1() -> None:
    cases = ('{"id": "ok", "pain_sites": ["lower_back"], "red_flags": [], "conditions": []}\n'
             '{"id": "bad", "pain_sites": ["lower_back"], "triggers": ["tenis_serve"], '
             '"red_flags": [], "conditions": []}\n')
    result = _audit("-", "--input-format", "jsonl", "-f", "json", input=cases)
    assert result.exit_code == 1
    assert [a["id"] for a in json.loads(result.stdout)] == ["ok"]
    assert "did you mean 'tennis_serve'" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = _audit(str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_custom_rules_folder(tmp_path: Path) -> None:
    rules = tmp_path / "clinic-rules"
    shutil.copytree(default_rules_dir(), rules)
    derived = rules / "derived.yaml"
    derived.write_text(derived.read_text().replace(
        "Desk or computer work keeps a person seated", "Clinic wording, desk work keeps a person seated"))
    result = _audit(CLINIC_A, "--id", "clinic-a-office", "--rules", str(rules))
    assert result.exit_code == 0
    assert "Clinic wording, desk work" in result.stdout
    broken = _audit(CLINIC_A, "--rules", str(tmp_path / "nowhere"))
    assert broken.exit_code == 2 and "does not exist" in broken.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_offers_the_why_not_targets(shell: str) -> None:
    """The completion scripts of docs/completion.md: click answers when _TRIAGE_COMPLETE is set."""
    # bash and zsh give the index of the word being completed, fish the word itself.
    env = {"_TRIAGE_COMPLETE": f"{shell}_complete", "COMP_WORDS": "triage audit x.yaml --why-not ham",
           "COMP_CWORD": "ham" if shell == "fish" else "4"}
    result = CliRunner().invoke(main, [], env=env, prog_name="triage")
    assert result.exit_code == 0
    assert "hamstrings" in result.stdout and "piriformis" not in result.stdout
    source = CliRunner().invoke(main, [], env={"_TRIAGE_COMPLETE": f"{shell}_source"},
                                prog_name="triage")
    assert "_TRIAGE_COMPLETE" in source.stdout


def test_text_audit_escapes_control_characters_of_a_case(tmp_path: Path) -> None:
    cases = tmp_path / "hostile.jsonl"
    cases.write_text(json.dumps({"id": "evil\x1b]0;pwned\x07\nAUDIT fake\r\u202e", "pain_sites": ["buttock"],
                                 "red_flags": [], "conditions": []}) + "\n")
    result = _audit(str(cases))
    assert result.exit_code == 0, result.output
    for char in "\x1b\x07\r\u202e":
        assert char not in result.stdout
    assert "AUDIT evil\\x1b]0;pwned\\x07\\nAUDIT fake\\r\\u202e" in result.stdout
    assert not any(line.startswith("AUDIT fake") for line in result.stdout.splitlines())
    assert json.loads(_audit(str(cases), "-f", "json").stdout)[0]["id"].startswith("evil\x1b")
