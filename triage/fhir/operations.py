"""The FHIR operations: ``$triage`` on a QuestionnaireResponse, SDC's ``$next-question``, and
the OperationDefinition and CapabilityStatement that describe them.

Both take parsed JSON and return ``(status, resource)``: the web routes
(:mod:`triage.web.fhir_routes`) only read the body and write the answer.
Errors are OperationOutcomes whose issues name the item's ``linkId``.

``$next-question`` is driven by the questionnaire's own state machine (the
Python API's :meth:`~triage.api.TriageKB.questionnaire`, as ``triage ask``
and ``/api/v1/next``): the response's answers are given to it in order, and
the next question it would ask is appended to the contained Questionnaire.
An item shown but left unanswered means "none of these" for a list
question and "don't know" otherwise, except for a screen, which must be
answered (its "None of these" is explicit). When the state machine has
finished (or stopped for an emergency), the answer is the result Bundle,
holding the completed response.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, cast

from .. import __version__
from ..api import TriageKB
from ..errors import CaseError, Location
from ..results import ErrorRecord
from .bundle import error_outcome, now, result_bundle
from .common import CANONICAL, QUESTIONNAIRE_URL
from .questionnaire import is_screen, question_item
from .response import case_from_response, missing_screens, response_answers, response_case_id

#: The canonical URL of ``$triage``'s OperationDefinition (its id is the last part).
TRIAGE_OPERATION_ID = "QuestionnaireResponse-triage"
TRIAGE_OPERATION_URL = f"{CANONICAL}/OperationDefinition/{TRIAGE_OPERATION_ID}"
#: The id of the adaptive Questionnaire contained in a ``$next-question`` response.
ADAPTIVE_ID = "adaptive"
SDC_ADAPTIVE_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-adapt"
#: The case id of a response that carries none.
DEFAULT_ID = "response#1"


def triage_operation_definition(kb_version: str) -> dict[str, Any]:
    """The OperationDefinition of ``POST /fhir/QuestionnaireResponse/$triage``."""
    return {
        "resourceType": "OperationDefinition",
        "id": TRIAGE_OPERATION_ID,
        "url": TRIAGE_OPERATION_URL,
        "version": kb_version,
        "name": "Triage",
        "title": "Triage a QuestionnaireResponse of the lower back pain questionnaire",
        "status": "active",
        "kind": "operation",
        "description": (
            "Maps the answers to a triage case through the knowledge base's vocabulary and triages it. "
            "The answer is a Bundle with a GuidanceResponse (status success, or data-required when a "
            "screen was not answered), a RiskAssessment per referring finding, a ServiceRequest for a "
            "referral or a CarePlan for self-care, and a Provenance. An invalid response is answered "
            "with an OperationOutcome (422) whose issues name the item's linkId."),
        "affectsState": False,
        "code": "triage",
        "resource": ["QuestionnaireResponse"],
        "system": False,
        "type": True,
        "instance": False,
        "inputProfile": QUESTIONNAIRE_URL,
        "parameter": [
            {"name": "response", "use": "in", "min": 1, "max": "1", "type": "QuestionnaireResponse",
             "documentation": f"Answers to {QUESTIONNAIRE_URL} (the request body itself, or this parameter "
                              "of a Parameters body)."},
            {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Bundle",
             "documentation": "The result Bundle (type collection)."},
        ],
    }


def capability_statement(kb_version: str) -> dict[str, Any]:
    """What ``triage serve`` offers at ``/fhir/`` (``GET /fhir/metadata``), for FHIR clients that ask first."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now()[:10],  # when this statement was made: what it says holds while the server runs
        "kind": "instance",
        "software": {"name": "triage", "version": __version__},
        "implementation": {"description": f"triage, knowledge base {kb_version}"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "resource": [
                {"type": "Questionnaire", "interaction": [{"code": "read"}],
                 "operation": [{"name": "next-question",
                                "definition": "http://hl7.org/fhir/uv/sdc/OperationDefinition/Questionnaire-next-question"}]},
                {"type": "OperationDefinition", "interaction": [{"code": "read"}]},
                {"type": "QuestionnaireResponse",
                 "operation": [{"name": "triage", "definition": TRIAGE_OPERATION_URL}]},
            ],
        }],
    }


def operation_input(body: object, name: str) -> object:
    """The resource a body carries: itself, or the parameter ``name`` of a Parameters."""
    if isinstance(body, Mapping) and body.get("resourceType") == "Parameters":
        for parameter in body.get("parameter") or []:
            if isinstance(parameter, Mapping) and parameter.get("name") == name:
                return parameter.get("resource")
        return None
    return body


def triage_response(kb: TriageKB, resource: object) -> tuple[int, dict[str, Any]]:
    """``$triage``: (200, the result Bundle) or (422, an OperationOutcome naming the linkIds)."""
    questions = kb.kb.questions
    try:
        answers = response_answers(resource, questions, DEFAULT_ID)
        case = case_from_response(resource, kb.kb.vocabulary, questions, DEFAULT_ID)
    except CaseError as exc:
        return 422, outcome_of(exc)
    result = kb.session.triage(case).to_dict()
    # response_answers refused anything but a QuestionnaireResponse.
    return 200, result_bundle(result, recorded=now(), response=cast(Mapping[str, Any], resource),
                              missing_screens=missing_screens(answers, questions))


def next_question(kb: TriageKB, resource: object) -> tuple[int, dict[str, Any]]:
    """``$next-question``: the response with the next item appended, or the result Bundle when done."""
    questions = kb.kb.questions
    try:
        answers = response_answers(resource, questions, DEFAULT_ID)
    except CaseError as exc:
        return 422, outcome_of(exc)
    checked = cast(Mapping[str, Any], resource)  # response_answers refused anything else
    case_id = response_case_id(checked, DEFAULT_ID)
    response = copy.deepcopy(dict(checked))
    contained = _adaptive_questionnaire(response, kb.version)
    shown = {item.get("linkId") for item in contained["item"] if isinstance(item, Mapping)}
    try:
        state = kb.questionnaire(answers, case_id)
        # An item shown and left empty is answered "none"/"don't know"; a screen must be answered.
        while state.current is not None and state.current.id in shown and state.current.id not in answers:
            question = state.current
            if is_screen(question):
                raise CaseError(f"the screen {question.id!r} must be answered: choose 'None of these' "
                                "if nothing applies", Location(case=case_id, field=question.id))
            answers[question.id] = [] if question.answer == "many" else None
            state = kb.questionnaire(answers, case_id)
    except CaseError as exc:
        return 422, outcome_of(exc)
    if state.current is not None:
        contained["item"].append(question_item(state.current, skip_logic=False))
        response["status"] = "in-progress"
        return 200, response
    response["status"] = "completed"
    result = state.result().to_dict()
    return 200, result_bundle(result, recorded=now(), response=response,
                              missing_screens=missing_screens(answers, questions))


def _adaptive_questionnaire(response: dict[str, Any], kb_version: str) -> dict[str, Any]:
    """The response's contained adaptive Questionnaire, added if it has none."""
    contained = response.setdefault("contained", [])
    for resource in contained:
        if isinstance(resource, dict) and resource.get("resourceType") == "Questionnaire":
            resource.setdefault("item", [])
            return resource
    questionnaire = {"resourceType": "Questionnaire", "id": ADAPTIVE_ID,
                     "meta": {"profile": [SDC_ADAPTIVE_PROFILE]},
                     "derivedFrom": [f"{QUESTIONNAIRE_URL}|{kb_version}"],
                     "status": "active", "subjectType": ["Patient"], "item": []}
    contained.append(questionnaire)
    response["questionnaire"] = f"#{ADAPTIVE_ID}"
    return questionnaire


def outcome_of(exc: CaseError) -> dict[str, Any]:
    """A case error on a response as an OperationOutcome (each issue names the item's linkId)."""
    return error_outcome(ErrorRecord(exc.location.case or DEFAULT_ID, exc).to_dict(), location="response")


__all__ = ["TRIAGE_OPERATION_ID", "TRIAGE_OPERATION_URL", "capability_statement", "next_question", "operation_input",
           "outcome_of", "triage_operation_definition", "triage_response"]
