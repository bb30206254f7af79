"""The JSON API through Starlette's test client: every path, every error status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from helpers import BASE_CASE
from starlette.testclient import TestClient

from triage.casefiles import read_cases
from triage.kb import load_knowledge_base
from triage.schema import schemas
from triage.vocabulary import RECORD_FIELDS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").iterdir())
SELF_CARE = {**BASE_CASE, "id": "p1", "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"]}


def raw_cases(path: Path) -> list[Any]:
    """The example's cases as JSON objects (CSV cells parsed the way triage run parses them)."""
    if path.suffix == ".yaml":
        return yaml.safe_load(path.read_text())
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [record.to_dict() for record in read_cases(str(path), load_knowledge_base().vocabulary)]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_triage_gives_exactly_what_triage_run_gives(client: TestClient, path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "triage", "run", str(path), "--format", "json", "-j", "1"],
                         capture_output=True, text=True, check=False)
    assert run.returncode in (0, 1), run.stderr
    response = client.post("/api/v1/triage", json=raw_cases(path))
    assert response.status_code == 200
    assert response.json() == json.loads(run.stdout)


def test_one_case_gives_one_result(client: TestClient) -> None:
    response = client.post("/api/v1/triage", json=SELF_CARE)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "p1" and body["disposition"] == "self_care" and body["recommendations"]


def test_a_list_keeps_error_records_in_place(client: TestClient) -> None:
    body = client.post("/api/v1/triage", json=[SELF_CARE, {**BASE_CASE, "age": "old"}, BASE_CASE]).json()
    assert [r["id"] for r in body] == ["p1", "case#2", "case#3"]
    assert body[1]["error"]["field"] == "age" and "disposition" not in body[1]
    assert body[2]["disposition"] in ("self_care", "see_doctor")


def test_an_invalid_single_case_is_422_naming_field_value_and_allowed(client: TestClient) -> None:
    response = client.post("/api/v1/triage", json={**BASE_CASE, "pain_side": "lfet"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "pain_side" and error["value"] == "lfet"
    assert "left" in error["allowed"] and error["did_you_mean"] == "left"


@pytest.mark.parametrize(("body", "headers", "status", "says"), [
    (b"{not json", {"content-type": "application/json"}, 400, "not valid JSON"),
    (b'{"a": 1, "a": 2}', {"content-type": "application/json"}, 400, "duplicate key"),
    (b'{"age": NaN}', {"content-type": "application/json"}, 400, "NaN"),
    (b"\xff\xfe", {"content-type": "application/json"}, 400, "UTF-8"),
    (b"[" * 100_000, {"content-type": "application/json"}, 400, "nested deeper"),
    (b'"a case"', {"content-type": "application/json"}, 422, "not a string"),
    (b"42", {"content-type": "application/json"}, 422, "not a number"),
    (b"null", {"content-type": "application/json"}, 422, "not a null"),
    (json.dumps(BASE_CASE).encode(), {"content-type": "text/plain"}, 415, "application/json"),
    (json.dumps(BASE_CASE).encode(), {}, 415, "application/json"),
    (json.dumps([BASE_CASE] * 1001).encode(), {"content-type": "application/json"}, 413, "1,000"),
    (b" " * 1_000_001, {"content-type": "application/json"}, 413, "larger than"),
])
def test_bad_bodies_get_a_json_4xx_naming_what_is_wrong(client: TestClient, body: bytes, headers: dict[str, str],
                                                        status: int, says: str) -> None:
    for path in ("/api/v1/triage", "/api/v1/audit"):
        response = client.post(path, content=body, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/json"
        assert says in response.json()["error"]["message"]


def test_a_streamed_body_over_the_limit_is_413_too(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 100_000

    response = client.post("/api/v1/triage", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_next_walks_the_questionnaire(client: TestClient) -> None:
    first = client.post("/api/v1/next", json={}).json()
    assert first["question"]["id"] == "emergency_signs" and first["question"]["choices"]
    stop = client.post("/api/v1/next", json={"emergency_signs": ["leg_weakness"]}).json()
    assert stop["result"]["disposition"] == "emergency" and stop["emergency"] is True


def test_next_refuses_bad_answers_with_422(client: TestClient) -> None:
    response = client.post("/api/v1/next", json={"emergency_signs": ["fever"]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "emergency_signs"
    assert client.post("/api/v1/next", json=[]).status_code == 422
    assert client.post("/api/v1/next", content=b"{", headers={"content-type": "application/json"}).status_code == 400


def test_questions_lists_every_question(client: TestClient) -> None:
    body = client.get("/api/v1/questions").json()
    assert body["questions"][0]["id"] == "emergency_signs"
    assert {q["field"] for q in body["questions"]} == set(load_knowledge_base().vocabulary.fields) - set(RECORD_FIELDS)


def test_knowledge_base_lists_rules_with_sources(client: TestClient) -> None:
    body = client.get("/api/v1/knowledge-base").json()
    assert body["version"].startswith("sha256:")
    assert all(rule["id"] and rule["description"] and "sources" in rule for rule in body["rules"])


def test_audit_explains_one_case_or_a_list(client: TestClient) -> None:
    one = client.post("/api/v1/audit", json={**BASE_CASE, "red_flags": ["fever"]}).json()
    assert one["disposition"] == "urgent" and one["trace"] and one["how"]
    many = client.post("/api/v1/audit?why_not=self_care", json=[SELF_CARE, {"pain_sites": "x"}]).json()
    assert [w["target"] for w in many[0]["why_not"]] == ["self_care"] and "error" in many[1]
    assert client.post("/api/v1/audit?why_not=nose", json=SELF_CARE).status_code == 422
    typo = client.post("/api/v1/audit?why_not=self_car", json=SELF_CARE).json()["error"]
    assert typo["field"] == "why_not" and "did you mean 'self_care'? Allowed: " in typo["message"]
    assert client.post("/api/v1/audit", json={"pain_sites": []}).status_code == 422


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["kb_version"].startswith("sha256:")


def test_openapi_describes_every_path_with_the_generated_schemas(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {"/api/v1/triage", "/api/v1/next", "/api/v1/questions",
                                 "/api/v1/knowledge-base", "/api/v1/audit", "/healthz", "/openapi.json"}
    case = dict(schemas(load_knowledge_base().vocabulary)["case"])
    del case["$schema"]
    assert doc["components"]["schemas"]["Case"] == case


def test_unknown_paths_and_methods_are_json_errors_on_the_api(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
    wrong = client.get("/api/v1/triage")
    assert wrong.status_code == 405 and wrong.json()["error"]["status"] == 405


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/"), client.get("/api/v1/questions"), client.get("/nope"),
                     client.post("/api/v1/triage", content=b"{")):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_no_cors_unless_configured(client: TestClient, kb: Any) -> None:
    from triage.api import TriageKB
    from triage.web.app import create_app

    origin = {"origin": "https://elsewhere.example"}
    assert "access-control-allow-origin" not in client.post("/api/v1/triage", json=SELF_CARE,
                                                             headers=origin).headers
    with TestClient(create_app(kb=TriageKB(kb), cors_origins=["https://elsewhere.example"])) as other:
        allowed = other.post("/api/v1/triage", json=SELF_CARE, headers=origin)
        assert allowed.headers["access-control-allow-origin"] == "https://elsewhere.example"


def test_a_long_list_keeps_input_order_and_default_ids_across_chunks(client: TestClient) -> None:
    cases: list[Any] = [{**BASE_CASE, "severity": n % 11} for n in range(120)]
    cases[77] = {**BASE_CASE, "severity": 99}
    body = client.post("/api/v1/triage", json=cases).json()
    assert [r["id"] for r in body] == [f"case#{n}" for n in range(1, 121)]
    assert [n for n, r in enumerate(body) if "error" in r] == [77]


# -- policy v3, principles 7 and 9 through the API -------------------------------------------
_SCREENS = ("emergency_signs", "other_symptoms", "warning_signs", "conditions")
#: A person with a tight piriformis, as JSON answers by question id (self-care when all is answered).
SELF_CARE_ANSWERS: dict[str, Any] = {
    **dict.fromkeys(_SCREENS, []), "pain_sites": ["buttock", "back_of_thigh"], "pain_below_knee": [],
    "age": 40, "first_episode": False, "severity": 4, "duration_days": 5, "course": "improving",
    "pain_side": "left", "pain_feels": ["ache"], "triggers": ["tennis_serve"], "worse_when": ["sitting"],
    "lower_back_curve": "normal", "can_touch_toes": True,
}


def test_the_answers_below_reach_self_care_when_every_screen_is_answered(client: TestClient) -> None:
    step = client.post("/api/v1/next", json=SELF_CARE_ANSWERS).json()
    assert step["result"]["disposition"] == "self_care"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(unsure=st.lists(st.sampled_from(_SCREENS), min_size=1, unique=True),
       how=st.sampled_from(("null", "missing")))
def test_next_with_a_screen_null_or_missing_never_ends_in_self_care(client: TestClient, unsure: list[str],
                                                                     how: str) -> None:
    """``null`` ("don't know") or a screen left out of the answers: at least see a doctor."""
    answers = {**SELF_CARE_ANSWERS}
    for screen in unsure:
        if how == "null":
            answers[screen] = None
        else:
            answers.pop(screen)
    step = client.post("/api/v1/next", json=answers).json()
    while "question" in step:  # a screen left out is asked: answer it "not sure"
        answers[step["question"]["id"]] = None
        step = client.post("/api/v1/next", json=answers).json()
    assert step["result"]["disposition"] != "self_care"
    reasons = {r["rule"] for r in step["result"]["referral"]["reasons"]}
    assert any(rule.endswith("_not_screened") for rule in reasons)


@pytest.mark.parametrize(("bad", "field"), [
    ({"pain_sites": ["buttok"]}, "pain_sites"),                 # unknown value
    ({"age": 300}, "age"),                                       # out of range
    ({"colour": "red"}, "colour"),                               # unknown field
    ({"severity": "bad"}, "severity"),                           # wrong type
])
def test_an_emergency_beside_a_bad_field_is_triaged_with_its_errors(client: TestClient, bad: dict[str, Any],
                                                                    field: str) -> None:
    """Policy v3, principle 9: the emergency is never lost to a typo; the error is still reported."""
    response = client.post("/api/v1/triage", json={**BASE_CASE, "red_flags": ["saddle_numbness"], **bad})
    assert response.status_code == 200
    body = response.json()
    assert body["disposition"] == "emergency"
    assert [e["field"] for e in body["errors"]] == [field]
