"""The FHIR R4 routes (``/fhir/...``): the Questionnaire, ``$triage`` and ``$next-question``.

Bodies are FHIR JSON (``application/fhir+json`` or ``application/json``),
read with the case files' JSON rules (no repeated keys, bounded nesting);
answers are ``application/fhir+json``. Every error is an OperationOutcome:
400 for a body that is not JSON, 415 for another media type, 422 for a
resource that cannot be triaged (each issue names the item's ``linkId``).
The engine runs on the engine thread, as the JSON API's does.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..casefiles import MAX_JSON_DEPTH, json_depth_ok, no_duplicate_keys
from ..fhir.common import FHIR_JSON, QUESTIONNAIRE_ID
from ..fhir.operations import (TRIAGE_OPERATION_ID, capability_statement, next_question, operation_input,
                               triage_operation_definition, triage_response)
from ..fhir.questionnaire import build_questionnaire
from .engine import engine_of, kb_of

_MEDIA_TYPES = (FHIR_JSON, "application/json")


def routes() -> list[Route]:
    """The FHIR routes."""
    return [
        Route("/fhir/metadata", metadata, methods=["GET"]),
        Route(f"/fhir/Questionnaire/{QUESTIONNAIRE_ID}", questionnaire, methods=["GET"]),
        Route(f"/fhir/OperationDefinition/{TRIAGE_OPERATION_ID}", operation_definition, methods=["GET"]),
        Route("/fhir/QuestionnaireResponse/$triage", triage, methods=["POST"]),
        Route("/fhir/Questionnaire/$next-question", next_question_route, methods=["POST"]),
    ]


def fhir_json(resource: dict[str, Any], status: int = 200) -> JSONResponse:
    """A FHIR resource as the answer, with FHIR's media type."""
    return JSONResponse(resource, status_code=status, media_type=FHIR_JSON)


def fhir_error(status: int, message: str, code: str = "invalid") -> JSONResponse:
    """An OperationOutcome of one error."""
    return fhir_json({"resourceType": "OperationOutcome",
                      "issue": [{"severity": "error", "code": code, "diagnostics": message}]}, status)


class _Refused(Exception):
    def __init__(self, response: JSONResponse) -> None:
        self.response = response


async def _body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _MEDIA_TYPES:
        raise _Refused(fhir_error(415, f"the body must be FHIR JSON sent as Content-Type: {FHIR_JSON}, "
                                       f"not {content_type or 'nothing'}", "not-supported"))
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Refused(fhir_error(400, f"the body is not UTF-8 (byte {exc.start} cannot be decoded)",
                                  "structure")) from None
    if not json_depth_ok(text):
        raise _Refused(fhir_error(400, f"the body is nested deeper than {MAX_JSON_DEPTH} levels", "structure"))
    try:
        return json.loads(text, object_pairs_hook=no_duplicate_keys)
    except ValueError as exc:
        raise _Refused(fhir_error(400, f"the body is not valid JSON: {exc}", "structure")) from None


async def metadata(request: Request) -> Response:
    """The CapabilityStatement: what is served here."""
    return fhir_json(capability_statement(kb_of(request).version))


async def questionnaire(request: Request) -> Response:
    """The SDC Questionnaire generated from the knowledge base served."""
    return fhir_json(build_questionnaire(kb_of(request).kb))


async def operation_definition(request: Request) -> Response:
    return fhir_json(triage_operation_definition(kb_of(request).version))


async def triage(request: Request) -> Response:
    """A QuestionnaireResponse (or Parameters with ``response``) -> the result Bundle."""
    return await _operation(request, "response", triage_response)


async def next_question_route(request: Request) -> Response:
    """SDC ``$next-question``: a response (or Parameters with ``questionnaire-response``) -> its next step."""
    return await _operation(request, "questionnaire-response", next_question)


async def _operation(request: Request, parameter: str, operation: Any) -> Response:
    """Run a FHIR operation on the request's resource (or its Parameters' ``parameter``) on an engine thread."""
    try:
        resource = operation_input(await _body(request), parameter)
    except _Refused as refused:
        return refused.response
    status, answer = await engine_of(request).run(operation, kb_of(request), resource)
    return fhir_json(answer, status)
