"""``triage fhir questionnaire``, ``triage fhir operation``, QuestionnaireResponses into triage run,
and ``--format fhir``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from helpers import write_generated_cases

from triage.cli import main
from triage.fhir.operations import triage_operation_definition
from triage.fhir.questionnaire import build_questionnaire
from triage.fhir.response import response_from_case
from triage.kb import KnowledgeBase


def test_questionnaire_prints_the_generated_questionnaire(kb: KnowledgeBase) -> None:
    run = CliRunner().invoke(main, ["fhir", "questionnaire"])
    assert run.exit_code == 0
    assert json.loads(run.output) == build_questionnaire(kb)


def test_operation_prints_the_operation_definition(kb: KnowledgeBase) -> None:
    run = CliRunner().invoke(main, ["fhir", "operation"])
    assert run.exit_code == 0 and json.loads(run.output) == triage_operation_definition(kb.version)


def test_responses_give_the_results_of_the_cases(tmp_path: Path, kb: KnowledgeBase) -> None:
    """The same generated cases as a case file, as FHIR NDJSON and as one Bundle: the same results.

    (A JSON file that is not a list is read whole, up to 1,000,000 characters: a Bundle
    of about 150 responses; FHIR NDJSON has no such limit.)
    """
    cases_file = write_generated_cases(tmp_path / "cases.jsonl", 100)
    cases = [json.loads(line) for line in cases_file.read_text().splitlines()]
    responses = [response_from_case(case, kb.questions, kb.version) for case in cases]
    (tmp_path / "responses.ndjson").write_text("".join(json.dumps(r) + "\n" for r in responses))
    (tmp_path / "bundle.json").write_text(json.dumps(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in responses]}))
    outputs = []
    for name in ("cases.jsonl", "responses.ndjson", "bundle.json"):
        run = CliRunner().invoke(main, ["run", str(tmp_path / name), "--format", "jsonl", "-j", "1", "-q"])
        assert run.exit_code == 0, run.output
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1] == outputs[2]


def test_an_invalid_response_is_an_error_record_naming_the_link_id(tmp_path: Path, kb: KnowledgeBase) -> None:
    bad = {"resourceType": "QuestionnaireResponse", "id": "bad", "status": "completed",
           "item": [{"linkId": "no_such_question", "answer": [{"valueInteger": 1}]}]}
    good = response_from_case({"id": "good", "pain_sites": ["lower_back"], "red_flags": [], "conditions": []},
                              kb.questions, kb.version)
    path = tmp_path / "two.ndjson"
    path.write_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n")
    run = CliRunner().invoke(main, ["run", str(path), "--format", "jsonl", "-q"])
    assert run.exit_code == 1
    first, second = (json.loads(line) for line in run.stdout.splitlines())
    assert (first["id"], first["error"]["field"]) == ("bad", "no_such_question")
    assert second["id"] == "good" and "disposition" in second


def test_format_fhir_writes_a_bundle_or_an_operation_outcome_a_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text("- {id: ok, pain_sites: [lower_back], red_flags: [], conditions: []}\n"
                    "- {id: bad, pain_sites: [buttok], red_flags: [], conditions: []}\n")
    run = CliRunner().invoke(main, ["run", str(path), "--format", "fhir", "-q"])
    assert run.exit_code == 1
    bundle, outcome = (json.loads(line) for line in run.stdout.splitlines())
    assert bundle["resourceType"] == "Bundle" and bundle["identifier"]["value"] == "ok"
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["pain_sites"]
