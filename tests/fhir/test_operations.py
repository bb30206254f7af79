"""``$triage`` and SDC ``$next-question`` as library calls (the web routes are in tests/web/)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from triage.api import TriageKB
from triage.fhir.common import NONE_OF_THESE
from triage.fhir.operations import next_question, triage_operation_definition, triage_response
from triage.fhir.response import response_from_case


def _answer(item: dict[str, Any], case: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """How a person with ``case`` answers the appended ``item`` (filling ``field``)."""
    value = case.get(field)
    if item["type"] == "choice":
        options = [o["valueCoding"] for o in item["answerOption"]]
        chosen = [o for o in options if o["code"] in (value if isinstance(value, list) else [value])]
        if not chosen and item.get("required"):
            chosen = [o for o in options if o["code"] == NONE_OF_THESE]
        return [{"valueCoding": o} for o in chosen]
    if value is None:
        return []
    return [{"valueBoolean": value}] if item["type"] == "boolean" else [{"valueInteger": value}]


def walk(api: TriageKB, case: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Answer ``$next-question`` as ``case`` would until it finishes: (its last answer, linkIds asked)."""
    fields = {q.id: q.field for q in api.kb.questions}
    response: dict[str, Any] = {"resourceType": "QuestionnaireResponse", "status": "in-progress"}
    for _ in range(len(api.kb.questions) + 1):
        status, response = next_question(api, response)
        assert status == 200, response
        if response["resourceType"] == "Bundle":
            break
        item = response["contained"][0]["item"][-1]
        answers = _answer(item, case, fields[item["linkId"]])
        if answers:
            response.setdefault("item", []).append({"linkId": item["linkId"], "answer": answers})
    (qr,) = [e["resource"] for e in response["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    return response, [i["linkId"] for i in qr["contained"][0]["item"]]


def _parameters(bundle: dict[str, Any]) -> dict[str, Any]:
    (parameters,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Parameters"]
    return {"disposition": next(p["valueCoding"]["code"] for p in parameters["parameter"] if p["name"] == "disposition"),
            "fired": [next(x["valueString"] for x in p["part"] if x["name"] == "rule")
                      for p in parameters["parameter"] if p["name"] == "firedRule"]}


def _by_question(api: TriageKB, case: dict[str, Any]) -> dict[str, Any]:
    """``case`` as the Python API's answers by question id (what triage ask would be told)."""
    answers: dict[str, Any] = {}
    for question in api.kb.questions:
        value = case.get(question.field)
        if question.answer == "many":
            answers[question.id] = [c.value for c in question.choices if c.value in (value or [])]
        elif not question.again:
            answers[question.id] = value
    return answers


def _one_per_disposition(api: TriageKB, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first golden case of each disposition (each step replays the questionnaire: keep it short)."""
    chosen: dict[str, dict[str, Any]] = {}
    for case in cases:
        chosen.setdefault(api.triage(case)["disposition"], case)
    return list(chosen.values())


def test_next_question_asks_and_skips_as_the_state_machine_does(api: TriageKB, golden_cases: list[dict[str, Any]]) -> None:
    cases = _one_per_disposition(api, golden_cases)
    assert len(cases) == 4
    for case in cases:
        bundle, asked = walk(api, case)
        expected = api.next_question(_by_question(api, case))
        assert "result" in expected
        assert asked == expected["asked"], case["id"]
        found = _parameters(bundle)
        assert found == {"disposition": expected["result"]["disposition"],
                         "fired": [f["rule"] for f in expected["result"]["fired_rules"]]}, case["id"]


def test_an_emergency_sign_stops_the_questions(api: TriageKB) -> None:
    first = api.kb.questions[0]
    emergency = next(str(c.value) for c in first.choices
                     if api.triage({first.field: [c.value]})["disposition"] == "emergency")
    bundle, asked = walk(api, {first.field: [emergency]})
    assert asked == [first.id]
    assert _parameters(bundle)["disposition"] == "emergency"
    (guidance,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "GuidanceResponse"]
    assert guidance["status"] == "data-required"  # the other screens were never answered


def test_a_screen_left_unanswered_is_asked_for(api: TriageKB) -> None:
    status, response = next_question(api, {"resourceType": "QuestionnaireResponse", "status": "in-progress"})
    status, outcome = next_question(api, response)
    assert status == 422 and outcome["resourceType"] == "OperationOutcome"
    assert api.kb.questions[0].id in outcome["issue"][0]["expression"][0]


def test_every_step_parses_as_r4b(api: TriageKB, golden_cases: list[dict[str, Any]]) -> None:
    status, response = next_question(api, {"resourceType": "QuestionnaireResponse", "status": "in-progress"})
    get_fhir_model_class("QuestionnaireResponse").model_validate(response)
    bundle, _ = walk(api, golden_cases[0])
    get_fhir_model_class("Bundle").model_validate(bundle)


def test_triage_operation_gives_triage_runs_result(api: TriageKB, golden_cases: list[dict[str, Any]]) -> None:
    for case in golden_cases:
        status, bundle = triage_response(api, response_from_case(api.parse(case), api.kb.questions, api.version))
        assert status == 200
        result = api.triage(case)
        assert _parameters(bundle) == {"disposition": result["disposition"],
                                       "fired": [f["rule"] for f in result["fired_rules"]]}


def test_a_response_still_in_progress_is_referred_not_guessed(api: TriageKB,
                                                             golden_cases: list[dict[str, Any]]) -> None:
    """Issue 19: an in-progress or stopped response is answers not finished (complete: false)."""
    [case] = [c for c in golden_cases if api.triage(c)["disposition"] == "self_care"][:1]
    response = response_from_case(api.parse(case), api.kb.questions, api.version)
    for status in ("in-progress", "stopped"):
        _, bundle = triage_response(api, {**response, "status": status})
        assert _parameters(bundle)["disposition"] == "see_doctor", status
        assert "refer.see_doctor.answers_not_finished" in _parameters(bundle)["fired"]
    _, bundle = triage_response(api, response)
    assert _parameters(bundle)["disposition"] == "self_care"
    assert response_from_case({**case, "complete": False}, api.kb.questions, api.version)["status"] == "in-progress"


def test_triage_operation_refuses_what_is_no_response(api: TriageKB) -> None:
    status, outcome = triage_response(api, {"resourceType": "Patient"})
    assert status == 422 and "QuestionnaireResponse" in outcome["issue"][0]["diagnostics"]


def test_the_operation_definition_parses(api: TriageKB) -> None:
    definition = triage_operation_definition(api.version)
    get_fhir_model_class("OperationDefinition").model_validate(definition)
    assert (definition["code"], definition["resource"], definition["version"]) == (
        "triage", ["QuestionnaireResponse"], api.version)
