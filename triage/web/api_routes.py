"""The JSON API (``/api/v1/...`` and ``/openapi.json``): the Python API over HTTP.

Errors are JSON, ``{"error": {"status", "message", ...}}``: 400 for a body
that is not JSON, 413 for one over 1 MB or a list of more than 1,000 cases,
415 for a body that is not ``application/json``, 422 for JSON that is not a
case (the field, the value and what is allowed are named). The engine runs in
a thread pool, so a long batch never blocks the event loop.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..api import TriageKB, answer_text
from ..audit import why_not_targets
# The case-file reader's JSON rules: no repeated keys, bounded nesting.
from ..casefiles import MAX_JSON_DEPTH, json_depth_ok, no_duplicate_keys, unwritable_text
from ..errors import CaseError
from ..results import ErrorRecord
from ..vocabulary import not_allowed
from .audits import audits_of
from .engine import engine_of, kb_of
from .openapi import openapi_document

#: At most this many cases in one request.
MAX_CASES = 1000
_JSON_KINDS = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


class BadRequest(Exception):
    """A request the API refuses; becomes the JSON error with ``status``."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def routes() -> list[Route]:
    """The API's routes."""
    return [
        Route("/api/v1/triage", triage, methods=["POST"]),
        Route("/api/v1/next", next_question, methods=["POST"]),
        Route("/api/v1/questions", questions, methods=["GET"]),
        Route("/api/v1/knowledge-base", knowledge_base, methods=["GET"]),
        Route("/api/v1/audit", audit, methods=["POST"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]


async def read_json(request: Request) -> Any:
    """The request body as JSON, or :class:`BadRequest` (415 or 400) saying what is wrong."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise BadRequest(415, f"the body must be JSON sent as Content-Type: application/json, "
                              f"not {content_type or 'nothing'}")
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(400, f"the body is not UTF-8 (byte {exc.start} cannot be decoded)") from None
    if not json_depth_ok(text):
        raise BadRequest(400, f"the body is not valid JSON: nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, object_pairs_hook=no_duplicate_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BadRequest(400, f"the body is not valid JSON: {exc.msg} at line {exc.lineno} "
                              f"column {exc.colno}") from None
    except ValueError as exc:
        raise BadRequest(400, f"the body is not valid JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _cases(body: Any) -> tuple[list[Any], bool]:
    """The cases of a body (one object or a list) and whether it was a list."""
    if isinstance(body, dict):
        return [body], False
    if isinstance(body, list):
        if len(body) > MAX_CASES:
            raise BadRequest(413, f"{len(body):,} cases in one request; at most {MAX_CASES:,} "
                                  "are accepted (send several requests)")
        return body, True
    kind = _JSON_KINDS.get(type(body), "value")
    raise BadRequest(422, f"the body must be a case object or a list of case objects, not a {kind}")


def _error(exc: BadRequest) -> JSONResponse:
    return JSONResponse({"error": {"status": exc.status, "message": exc.message, **exc.details}},
                        status_code=exc.status)


def _case_error(exc: CaseError, case_id: str | None = None) -> JSONResponse:
    """422 for one invalid case or answer: the error record, plus what is allowed."""
    record = ErrorRecord(case_id or exc.location.case or "", exc).to_dict()
    record["error"]["allowed"] = exc.allowed
    return JSONResponse({"error": {"status": 422, **record["error"]}, "id": record["id"]},
                        status_code=422)


async def triage(request: Request) -> Response:
    """One case -> its result; a list -> results in order, error records in place."""
    kb = kb_of(request)
    try:
        cases, is_list = _cases(await read_json(request))
    except BadRequest as exc:
        return _error(exc)
    if not is_list:
        unwritable = unwritable_text(cases[0], "case#1")
        if unwritable is not None:
            return _case_error(unwritable.error, unwritable.id)
        try:
            result = await engine_of(request).run(kb.triage, cases[0])
        except CaseError as exc:
            return _case_error(exc)
        return JSONResponse(result)
    # A case holding half a character costs that case, as in `triage run`: its record takes its place.
    refused = {n: record.to_dict() for n, record in
               ((n, unwritable_text(case, f"case#{n + 1}")) for n, case in enumerate(cases)) if record is not None}
    if not refused:
        return JSONResponse(await engine_of(request).triage_many(cases))
    results = await engine_of(request).triage_many([{} if n in refused else case for n, case in enumerate(cases)])
    return JSONResponse([refused.get(n, result) for n, result in enumerate(results)])


async def next_question(request: Request) -> Response:
    """The answers so far -> ``{"question": ...}`` or ``{"result": ...}``."""
    kb = kb_of(request)
    try:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise BadRequest(422, "the body must be an object of answers by question id, "
                                  "e.g. {\"emergency_signs\": []} ({} to start)")
    except BadRequest as exc:
        return _error(exc)
    unwritable = unwritable_text(body, "answers")
    if unwritable is not None:
        return _case_error(unwritable.error, unwritable.id)
    try:
        # Every answer given is checked, as the OpenAPI document says, also one to a question
        # the questionnaire will not ask: a client's mistake shows the first time it is made.
        questions = {question.id: question for question in kb.kb.questions}
        for key, value in body.items():
            if key in questions:
                answer_text(questions[key], value)
        step = await engine_of(request).step(kb.next_question, body)
    except CaseError as exc:
        return _case_error(exc)
    return JSONResponse(step)


async def questions(request: Request) -> Response:
    kb = kb_of(request)
    return JSONResponse({"kb_version": kb.version, "questions": kb.questions()})


async def knowledge_base(request: Request) -> Response:
    return JSONResponse(kb_of(request).knowledge_base())


async def audit(request: Request) -> Response:
    """One case -> its audit (``triage audit --format json``); a list -> audits in order.

    ``?why_not=MUSCLE|DISPOSITION`` also explains why that was (not) concluded.
    """
    kb = kb_of(request)
    why_not = request.query_params.get("why_not")  # given empty, it names nothing: refused
    try:
        targets = why_not_targets(kb.kb)
        if why_not is not None and why_not not in targets:
            raise BadRequest(422, not_allowed("cannot explain", why_not, targets,
                                              rest=": name a muscle or a disposition"),
                             field="why_not", value=why_not[:200])
        cases, is_list = _cases(await read_json(request))
    except BadRequest as exc:
        return _error(exc)

    try:
        audits = await audits_of(request).run(_audit_all, cases, is_list, why_not)
    except CaseError as exc:
        return _case_error(exc)
    return JSONResponse(audits if is_list else audits[0])


def _audit_all(kb: TriageKB, cases: list[Any], is_list: bool, why_not: str | None) -> list[dict[str, Any]]:
    """The audit of each case, an error record in place of each bad one (run in the audit process).

    Given one case (not a list), its error is raised rather than recorded.
    """
    out = []
    for n, case in enumerate(cases, start=1):
        unwritable = unwritable_text(case, f"case#{n}")
        if unwritable is not None:
            if not is_list:
                raise unwritable.error
            out.append(unwritable.to_dict())
            continue
        try:
            out.append(kb.audit(case, why_not, default_id=f"case#{n}"))
        except CaseError as exc:
            if not is_list:
                raise
            out.append(ErrorRecord(exc.location.case or f"case#{n}", exc).to_dict())
    return out


async def openapi(request: Request) -> Response:
    kb = kb_of(request)
    return JSONResponse(openapi_document(kb.version, kb.kb.vocabulary, kb.kb.questions, why_not_targets(kb.kb)))
