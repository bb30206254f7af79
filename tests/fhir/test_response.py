"""QuestionnaireResponse <-> case: the round trip is the identity, and errors name the linkId."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from triage.api import TriageKB
from triage.errors import CaseError
from triage.fhir.common import NONE_OF_THESE, field_system
from triage.fhir.questionnaire import answer_coding, is_screen, none_of_these
from triage.fhir.response import case_from_response, missing_screens, response_answers, response_from_case


def _round_trip(api: TriageKB, raw: dict[str, Any]) -> None:
    case = api.parse(raw)
    response = response_from_case(case, api.kb.questions, api.version)
    assert case_from_response(response, api.kb.vocabulary, api.kb.questions, "other") == case


def test_golden_cases_survive_the_round_trip(api: TriageKB, golden_cases: list[dict[str, Any]]) -> None:
    for raw in golden_cases:
        _round_trip(api, raw)


def test_generated_cases_survive_the_round_trip(api: TriageKB, generated_cases: list[dict[str, Any]]) -> None:
    assert len(generated_cases) == 2000
    for raw in generated_cases:
        _round_trip(api, raw)


def test_every_response_parses_as_r4b(api: TriageKB, golden_cases: list[dict[str, Any]]) -> None:
    for raw in golden_cases:
        QuestionnaireResponse.model_validate(response_from_case(api.parse(raw), api.kb.questions, api.version))


def _screens(api: TriageKB) -> list[Any]:
    return [q for q in api.kb.questions if is_screen(q)]


def _response(api: TriageKB, **case: Any) -> dict[str, Any]:
    return response_from_case({"id": "r1", **case}, api.kb.questions, api.version)


def test_a_screen_that_found_nothing_is_none_of_these_and_reads_back_as_an_empty_list(api: TriageKB) -> None:
    screened = {q.field: [] for q in _screens(api)}
    response = _response(api, pain_sites=["lower_back"], **screened)
    for question in _screens(api):
        item = next(i for i in response["item"] if i["linkId"] == question.id)
        assert item["answer"] == [{"valueCoding": none_of_these()}]
    case = case_from_response(response, api.kb.vocabulary, api.kb.questions, "x")
    assert all(case.value(field) == frozenset() for field in screened)
    assert missing_screens(response_answers(response, api.kb.questions, "x"), api.kb.questions) == []


def test_a_screen_not_answered_is_left_out_of_the_case(api: TriageKB) -> None:
    """Not screened: with an emergency sign found the case is still triaged; without one it is invalid."""
    first = _screens(api)[0]
    sign = str(first.choices[0].value)
    response = _response(api, **{first.field: [sign]})
    answers = response_answers(response, api.kb.questions, "x")
    unanswered = [q.id for q in _screens(api) if q.field != first.field]
    assert unanswered and missing_screens(answers, api.kb.questions) == unanswered
    assert api.session.triage(case_from_response(response, api.kb.vocabulary, api.kb.questions, "x"))

    silent = _response(api, pain_sites=["lower_back"])
    with pytest.raises(CaseError) as info:
        case_from_response(silent, api.kb.vocabulary, api.kb.questions, "x")
    # The screens a case must carry (other_symptoms, new in v3, is read as not screened instead).
    first_of_each_screen = {next(q.id for q in api.kb.questions if q.field == s.field) for s in _screens(api)
                            if s.spec.required}
    assert {e.location.field for e in info.value.all} >= first_of_each_screen


def test_a_list_field_split_over_questions_is_merged(api: TriageKB) -> None:
    split = next(field for field in dict.fromkeys(q.field for q in api.kb.questions)
                 if len([q for q in api.kb.questions if q.field == field]) > 1
                 and api.kb.vocabulary.fields[field].is_list)
    questions = [q for q in api.kb.questions if q.field == split]
    values = [str(q.choices[0].value) for q in questions]
    screened = {q.field: [] for q in _screens(api)}
    case = case_from_response(_response(api, **{**screened, "pain_sites": ["lower_back"], split: values}),
                              api.kb.vocabulary, api.kb.questions, "x")
    assert case.value(split) == frozenset(values)


def _bad(api: TriageKB, item: dict[str, Any]) -> CaseError:
    response = _response(api, pain_sites=["lower_back"], **{q.field: [] for q in _screens(api)})
    response["item"].append(item)
    with pytest.raises(CaseError) as info:
        case_from_response(response, api.kb.vocabulary, api.kb.questions, "x")
    return info.value


def test_errors_name_the_link_id(api: TriageKB) -> None:
    number = next(q for q in api.kb.questions if q.answer == "number")
    one = next(q for q in api.kb.questions if q.answer == "one")
    error = _bad(api, {"linkId": "no_such_question", "answer": [{"valueInteger": 1}]})
    assert (error.location.field, error.value) == ("no_such_question", "no_such_question")
    assert "unknown linkId" in error.message

    error = _bad(api, {"linkId": number.id, "answer": [{"valueString": "forty"}]})
    assert error.location.field == number.id and "valueInteger" in error.message

    error = _bad(api, {"linkId": number.id, "answer": [{"valueInteger": number.spec.maximum + 1}]})
    assert error.location.field == number.id and "out of range" in error.message

    error = _bad(api, {"linkId": one.id, "answer": [{"valueCoding": {"system": field_system(one.field),
                                                                     "code": "no_such_value"}}]})
    assert (error.location.field, error.value) == (one.id, "no_such_value")
    assert str(one.choices[0].value) in str(error.allowed)


def test_none_of_these_cannot_go_with_a_finding(api: TriageKB) -> None:
    screen = _screens(api)[0]
    response = _response(api, pain_sites=["lower_back"], **{q.field: [] for q in _screens(api)})
    item = next(i for i in response["item"] if i["linkId"] == screen.id)
    item["answer"].append({"valueCoding": answer_coding(screen, str(screen.choices[0].value))})
    with pytest.raises(CaseError) as info:
        case_from_response(response, api.kb.vocabulary, api.kb.questions, "x")
    assert info.value.location.field == screen.id and NONE_OF_THESE in str(info.value.value)


def test_an_item_answered_twice_and_a_wrong_questionnaire_are_refused(api: TriageKB) -> None:
    response = _response(api, pain_sites=["lower_back"], **{q.field: [] for q in _screens(api)})
    twice = copy.deepcopy(response)
    twice["item"].append(copy.deepcopy(twice["item"][0]))
    with pytest.raises(CaseError, match="answered twice"):
        case_from_response(twice, api.kb.vocabulary, api.kb.questions, "x")
    other = dict(response, questionnaire="http://example.org/Questionnaire/phq-9")
    with pytest.raises(CaseError) as info:
        case_from_response(other, api.kb.vocabulary, api.kb.questions, "x")
    assert info.value.location.field == "questionnaire"


def test_the_case_id_is_the_identifier_then_the_id(api: TriageKB) -> None:
    response = _response(api, pain_sites=["lower_back"], **{q.field: [] for q in _screens(api)})
    response["id"] = "fhir-id"
    assert case_from_response(response, api.kb.vocabulary, api.kb.questions, "x").id == "r1"
    del response["identifier"]
    assert case_from_response(response, api.kb.vocabulary, api.kb.questions, "x").id == "fhir-id"
    del response["id"]
    assert case_from_response(response, api.kb.vocabulary, api.kb.questions, "x").id == "x"
