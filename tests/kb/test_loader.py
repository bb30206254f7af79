"""Loading the knowledge base: the folder's files, every problem with file and line in one run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from kb.support import add_red_flag, problems_of, replace_in, write_file

from triage.case import parse_case
from triage.cli import main
from triage.kb import default_rules_dir, load_knowledge_base
from triage.session import TriageSession
from triage.vocabulary import Disposition


def test_version_is_a_sha256(kb) -> None:
    assert kb.version.startswith("sha256:") and len(kb.version) == len("sha256:") + 64


def test_every_problem_is_reported_with_file_and_line_in_one_run(rules_copy: Path) -> None:
    bad = write_file(rules_copy, "zz-bad.yaml", """\
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
    problems = problems_of(rules_copy)
    text = "\n".join(problems)
    assert f"{bad}:2" in text and "duplicate id 'muscle.piriformis.tennis_serve'" in text
    assert f"{bad}:11" in text and "did you mean 'tennis_serve'" in text
    assert f"{bad}:9" in text and "unknown source 'article-999'" in text
    assert f"{bad}:17" in text and "unknown condition subject 'trigger'" in text
    assert "unknown technique 'no_such_technique'" in text
    assert "must require self_care: true" in text
    assert len(problems) >= 6


def test_duplicate_yaml_keys_are_refused(rules_copy: Path) -> None:
    bad = write_file(rules_copy, "zz-dup.yaml", "rules:\n  - id: a.b\n    id: a.c\n")
    assert any(f"{bad}:3" in p and "duplicate key 'id'" in p for p in problems_of(rules_copy))


def test_yaml_syntax_error_names_the_line(rules_copy: Path) -> None:
    bad = write_file(rules_copy, "zz-syntax.yaml", "rules:\n  - id: a.b\n    when: {triggers: [\n")
    assert any(p.startswith(f"{bad}:") and "invalid YAML" in p for p in problems_of(rules_copy))


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    assert "does not exist" in problems_of(tmp_path / "nowhere")[0]


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
    problems = problems_of(rules_copy)
    assert any(p.startswith(str(red_flags)) for p in problems), problems
    assert any("safety floor" in p and "'saddle_numbness'" in p for p in problems)


def test_a_clinician_adds_a_red_flag_with_yaml_alone(rules_copy: Path) -> None:
    """The "Adding a red flag" steps (docs/knowledge-base.md): value, question choice, rule; no Python."""
    add_red_flag(rules_copy)
    kb = load_knowledge_base(rules_copy)
    assert "chest_pain" in kb.vocabulary.fields["red_flags"].values
    session = TriageSession(kb)
    case = parse_case({"pain_sites": ["lower_back"], "red_flags": ["chest_pain"], "other_symptoms": [],
                       "conditions": [], "age": 40, "severity": 3, "duration_days": 2}, "new#1", kb.vocabulary)
    result = session.triage(case)
    assert result.disposition is Disposition.EMERGENCY
    assert [r.rule for r in result.referral.reasons] == ["refer.emergency.chest_pain"]
    cases = rules_copy.parent / "cases.yaml"
    cases.write_text("pain_sites: [lower_back]\nred_flags: [chest_pain]\nother_symptoms: []\nconditions: []\n",
                     encoding="utf-8")
    ran = CliRunner().invoke(main, ["run", str(cases), "--rules", str(rules_copy), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)[0]["disposition"] == "emergency"
    bundled = CliRunner().invoke(main, ["run", str(cases), "--format", "json"])
    assert bundled.exit_code == 1 and "'chest_pain' is not allowed" in bundled.output


@pytest.mark.parametrize("breakage", ["syntax-error", "empty-file", "required-field-renamed",
                                      "type-is-a-list", "type-is-a-map"])
def test_a_broken_vocabulary_is_reported_alone_without_a_traceback(rules_copy: Path, breakage: str) -> None:
    vocabulary = rules_copy / "vocabulary.yaml"
    if breakage == "syntax-error":
        vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + "  oops: [\n", encoding="utf-8")
    elif breakage == "empty-file":
        vocabulary.write_text("", encoding="utf-8")
    elif breakage == "type-is-a-list":
        replace_in(vocabulary, "      type: integer\n", "      type: [integer]\n")
    elif breakage == "type-is-a-map":
        replace_in(vocabulary, "      type: integer\n", "      type: {integer: 1}\n")
    else:
        replace_in(vocabulary, "    red_flags:\n", "    red_flagz:\n")
    result = CliRunner().invoke(main, ["rules", "check", "--rules", str(rules_copy)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "[error]" in line]
    # Only the vocabulary's own problem: nothing judged against a vocabulary that did not load.
    assert 1 <= len(lines) <= 2 and "Traceback" not in result.output
    assert all("vocabulary" in line for line in lines), lines
    example = default_rules_dir().parent / "examples" / "clinic-a.yaml"
    run = CliRunner().invoke(main, ["run", "--rules", str(rules_copy), str(example)])
    assert run.exit_code == 2 and "vocabulary" in run.stderr and "Traceback" not in run.output
