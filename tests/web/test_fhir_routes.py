"""The FHIR routes of triage serve: the Questionnaire, $triage and $next-question over HTTP."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from triage.fhir.common import FHIR_JSON
from triage.fhir.questionnaire import build_questionnaire
from triage.fhir.response import response_from_case
from triage.kb import KnowledgeBase

HEADERS = {"content-type": FHIR_JSON}
TENNIS = {"id": "tennis", "age": 40, "pain_sites": ["buttock", "back_of_thigh"], "pain_side": "left",
          "severity": 4, "duration_days": 5, "triggers": ["tennis_serve"], "worse_when": ["sitting"],
          "red_flags": [], "other_symptoms": [], "conditions": []}


def _kinds(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["resourceType"] for e in bundle["entry"]]


def test_the_questionnaire_is_served_as_fhir_json(client: TestClient, kb: KnowledgeBase) -> None:
    response = client.get("/fhir/Questionnaire/lbp-triage")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(FHIR_JSON)
    assert response.json() == build_questionnaire(kb)


def test_the_capability_statement_names_what_is_served(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    assert statement["resourceType"] == "CapabilityStatement"
    operations = {o["name"] for r in statement["rest"][0]["resource"] for o in r.get("operation", [])}
    assert operations == {"triage", "next-question"}


def test_the_operation_definition_is_served(client: TestClient, kb: KnowledgeBase) -> None:
    definition = client.get("/fhir/OperationDefinition/QuestionnaireResponse-triage").json()
    assert (definition["resourceType"], definition["code"], definition["version"]) == (
        "OperationDefinition", "triage", kb.version)


def test_triage_a_response_gives_the_bundle_of_triage_run(client: TestClient, kb: KnowledgeBase) -> None:
    qr = response_from_case(TENNIS, kb.questions, kb.version)
    response = client.post("/fhir/QuestionnaireResponse/$triage", json=qr, headers=HEADERS)
    assert response.status_code == 200 and response.headers["content-type"].startswith(FHIR_JSON)
    bundle = response.json()
    expected = client.post("/api/v1/triage", json=TENNIS).json()
    assert expected["disposition"] == "self_care"
    assert "CarePlan" in _kinds(bundle) and "ServiceRequest" not in _kinds(bundle)
    wrapped = {"resourceType": "Parameters", "parameter": [{"name": "response", "resource": qr}]}
    again = client.post("/fhir/QuestionnaireResponse/$triage", json=wrapped, headers=HEADERS).json()
    assert _kinds(again) == _kinds(bundle)


def test_errors_are_operation_outcomes(client: TestClient) -> None:
    cases = [
        (b"{", FHIR_JSON, 400),
        (b"{}", "text/plain", 415),
        (b'{"resourceType": "QuestionnaireResponse", "status": "completed",'
         b' "item": [{"linkId": "nope", "answer": [{"valueInteger": 1}]}]}', FHIR_JSON, 422),
    ]
    for body, media_type, status in cases:
        response = client.post("/fhir/QuestionnaireResponse/$triage", content=body,
                               headers={"content-type": media_type})
        assert response.status_code == status
        assert response.json()["resourceType"] == "OperationOutcome"
    unknown = client.get("/fhir/Patient/1")
    assert unknown.status_code == 404 and unknown.json()["issue"][0]["code"] == "not-found"


def test_next_question_appends_the_first_question(client: TestClient, kb: KnowledgeBase) -> None:
    start = {"resourceType": "QuestionnaireResponse", "status": "in-progress"}
    response = client.post("/fhir/Questionnaire/$next-question", json=start, headers=HEADERS)
    assert response.status_code == 200
    step = response.json()
    assert step["status"] == "in-progress" and step["questionnaire"] == "#adaptive"
    assert [i["linkId"] for i in step["contained"][0]["item"]] == [kb.questions[0].id]
