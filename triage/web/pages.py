"""The pages for people: the questionnaire at ``/``, its result, downloads, the audit page.

Plain HTML forms, no script: the answers so far travel in the page as one
hidden JSON field and come back with every submit, so the server keeps
nothing between requests. Which question comes next, what is skipped and
when an emergency stops the questions is decided by the library's
questionnaire (:meth:`triage.api.TriageKB.next_question`), never here.
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..api import TriageKB, answers_file
from ..audit import CaseAudit, audit_record, render_dot
from ..audit_html import audit_sections, dot_to_svg
from ..casefiles import json_depth_ok, unwritable_text
from ..errors import CaseError, TriageError
from ..fileformats import INPUT_FORMATS
from ..kb import Question
from ..questionnaire import NONE_OF_THESE, NOT_SURE
from ..results import ErrorRecord
from .audits import audits_of
from .engine import engine_of, kb_of
from .templating import templates

#: What each disposition's banner says first.
TITLES = {
    "emergency": "Get emergency help now",
    "urgent": "See a doctor today",
    "see_doctor": "See a doctor before treating it yourself",
    "self_care": "Self-care should help",
}
#: At most this many cases on the audit page (about 15 s of work at 45 ms a case); more are
#: refused with a message (audit them in parts, or use triage audit).
MAX_AUDIT_CASES = 300
#: The inference graph is drawn for at most this many cases, and Graphviz may take at most
#: this many seconds: a 300-case graph took longer than 30 s to draw.
MAX_GRAPH_CASES = 50
GRAPH_TIMEOUT = 10.0
_FORM = "application/x-www-form-urlencoded"
_UPLOAD = "multipart/form-data"


def routes() -> list[Route]:
    """The pages' routes."""
    return [
        Route("/", start, methods=["GET"]),
        Route("/question", step, methods=["POST"]),
        Route("/download/answers", download_answers, methods=["POST"]),
        Route("/download/result", download_result, methods=["POST"]),
        Route("/audit", audit_form, methods=["GET"]),
        Route("/audit", audit_post, methods=["POST"]),
    ]




async def _form(request: Request, *kinds: str) -> FormData:
    """The submitted form, if it was sent as one of ``kinds`` (else 415)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in kinds:
        raise HTTPException(415, f"this page takes a form ({' or '.join(kinds)}), not {kind or 'nothing'}")
    return await request.form(max_files=1, max_fields=200)


def _json_field(form: FormData, name: str) -> dict[str, Any]:
    """A hidden JSON field of the page (the answers); a damaged one is a 400.

    Damaged includes what no page of ours writes: nesting deeper than a case
    file may have, and half a character (a lone surrogate), which no page can show.
    """
    raw = str(form.get(name) or "{}")
    value = None
    if json_depth_ok(raw):
        try:
            value = json.loads(raw)
        except ValueError:
            pass
    if not isinstance(value, dict) or unwritable_text(value, name) is not None:
        raise HTTPException(400, "The answers carried by the page are damaged; please start again.")
    return value


async def _next(request: Request, answers: dict[str, Any]) -> dict[str, Any]:
    try:
        return await engine_of(request).step(kb_of(request).next_question, answers)
    except CaseError as exc:
        raise HTTPException(400, f"The answers carried by the page are not valid ({exc.message}); "
                                 "please start again.") from None


# -- the questionnaire ----------------------------------------------------------------
async def start(request: Request) -> Response:
    """The first question (warning signs first)."""
    return await _render_step(request, {}, {}, await _next(request, {}))


async def step(request: Request) -> Response:
    """Take one answer (or Back) and show the next question, the result or the emergency page."""
    kb = kb_of(request)
    form = await _form(request, _FORM)
    answers = _json_field(form, "answers")
    remembered = _json_field(form, "remembered")
    if form.get("action") == "back":
        asked = (await _next(request, answers))["asked"]
        if asked:
            last = asked[-1]
            remembered[last] = answers[last]
            answers = {key: answers[key] for key in asked[:-1]}
        return await _render_step(request, answers, remembered, await _next(request, answers))

    question = _question(kb, str(form.get("current", "")))
    error = None
    try:
        value = form_answer(question, form)
    except ValueError as exc:
        error, value = str(exc), None
    if error is None:
        try:
            step_after = await engine_of(request).step(kb.next_question, {**answers, question.id: value})
        except CaseError as exc:
            if exc.location.field != question.id:
                raise HTTPException(400, "The answers carried by the page are not valid; "
                                         "please start again.") from None
            error = exc.message
        else:
            remembered.pop(question.id, None)
            return await _render_step(request, {**answers, question.id: value}, remembered, step_after)
    raw = _raw_answer(question, form)
    shown = {key: value for key, value in remembered.items() if key != question.id}
    if raw or not question.is_screen:  # a screen sent empty shows nothing ticked, not "None of these"
        shown[question.id] = raw
    return await _render_step(request, answers, shown, await _next(request, answers), error=error,
                              status=422)


def _question(kb: TriageKB, ident: str) -> Question:
    for question in kb.kb.questions:
        if question.id == ident:
            return question
    raise HTTPException(400, "The page does not say which question it answers; please start again.")


def form_answer(question: Question, form: FormData) -> Any:
    """The submitted answer to ``question`` as the JSON value the API takes.

    Raises ValueError with a plain message when nothing usable was given.
    """
    if question.is_screen:
        return _screen_answer(form)
    if question.answer == "many":
        return [str(v) for v in form.getlist("answer")]
    raw = str(form.get("answer", "")).strip()
    if question.answer == "number":
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a whole number; {question.spec.allowed()} is needed.") from None
    if "answer" not in form:
        raise ValueError("Please choose one of the answers"
                         + (" (or I don't know)." if not question.required else "."))
    if raw == "unknown":
        return None
    if question.answer == "yes_no":
        if raw not in ("true", "false"):
            raise ValueError("Please choose yes or no.")
        return raw == "true"
    return raw


def _screen_answer(form: FormData) -> list[str] | None:
    """A screen's answer: the signs ticked, ``[]`` for "None of these", ``None`` for "not sure".

    Nothing ticked is asked again, never read as none (policy v3, principle 7).
    """
    ticked = [str(v) for v in form.getlist("answer")]
    alone = [v for v in ticked if v in (NONE_OF_THESE.value, NOT_SURE.value)]
    if not ticked:
        raise ValueError(f"Choose the ones that apply, or \u201c{NONE_OF_THESE.label}\u201d, "
                         f"or \u201c{NOT_SURE.label}\u201d.")
    if alone and len(ticked) > 1:
        raise ValueError(f"\u201c{NONE_OF_THESE.label}\u201d and \u201c{NOT_SURE.label}\u201d each go alone: "
                         "untick them, or the others.")
    if alone:
        return [] if alone[0] == NONE_OF_THESE.value else None
    return ticked


def _raw_answer(question: Question, form: FormData) -> Any:
    """What was submitted, to show again beside an error message."""
    if question.answer == "many":
        return [str(v) for v in form.getlist("answer")]
    return str(form.get("answer", ""))


async def _render_step(request: Request, answers: dict[str, Any], remembered: dict[str, Any],
                       step: dict[str, Any], error: str | None = None, status: int = 200) -> Response:
    kb = kb_of(request)
    context: dict[str, Any] = {
        "answers_json": json.dumps(answers, ensure_ascii=False),
        "remembered_json": json.dumps(remembered, ensure_ascii=False),
        "asked": step["asked"],
        "skipped": step["skipped"],
    }
    if "question" in step:
        question = step["question"]
        uses = [line[2:] for line in question["why"] if line.startswith("- ")]
        context.update(question=question, error=error, uses=uses, screen_choices=(NONE_OF_THESE, NOT_SURE),
                       # Nothing is ticked in advance: only an answer this person gave.
                       chosen=_chosen(question, remembered[question["id"]]) if question["id"] in remembered
                       else set())
        return templates.TemplateResponse(request, "question.html", context, status_code=status)
    result = step["result"]
    context.update(result=result, title=TITLES[result["disposition"]], emergency=step["emergency"],
                   evidence=_evidence(kb, result), how=_how(kb, result))
    page = "emergency.html" if result["disposition"] == "emergency" else "result.html"
    return templates.TemplateResponse(request, page, context, status_code=status)


def _chosen(question: dict[str, Any], value: Any) -> set[str]:
    """The choices to show as selected (form values, as strings)."""
    if question.get("screen") and value in (None, []):
        return {NOT_SURE.value if value is None else NONE_OF_THESE.value}
    if value is None:
        return {"unknown"} if question["unknown_allowed"] and question["kind"] != "number" else set()
    if isinstance(value, list):
        return {str(v) for v in value}
    if isinstance(value, bool):
        return {"true" if value else "false"}
    return {str(value)}


def _evidence(kb: TriageKB, result: dict[str, Any]) -> list[str]:
    """Why the top muscle: the description of each rule that gave a sign of it."""
    if not result["likely_muscles"]:
        return []
    return [kb.kb.rule(rule_id).description for rule_id in result["likely_muscles"][0]["evidence"]]


def _how(kb: TriageKB, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each rule that fired, in words: what it matched and what it concluded."""
    return [{"order": f["order"], "rule": f["rule"], "description": kb.kb.rule(f["rule"]).description,
             "facts": f["facts"], "asserted": f["asserted"]} for f in result["fired_rules"]]


# -- downloads ------------------------------------------------------------------------------
async def download_answers(request: Request) -> Response:
    """The answers as a YAML case file, the same as ``triage ask --save`` writes."""
    kb = kb_of(request)
    answers = _json_field(await _form(request, _FORM), "answers")
    try:
        state = await engine_of(request).step(kb.questionnaire, answers)
    except CaseError:
        raise HTTPException(400, "The answers carried by the page are not valid.") from None
    return Response(answers_file(state), media_type="application/yaml",
                    headers={"content-disposition": 'attachment; filename="triage-answers.yaml"'})


async def download_result(request: Request) -> Response:
    """The result in the contract's JSON shape."""
    answers = _json_field(await _form(request, _FORM), "answers")
    step_now = await _next(request, answers)
    if "result" not in step_now:
        raise HTTPException(400, "There is no result yet: some questions are still unanswered.")
    body = json.dumps(step_now["result"], ensure_ascii=False, indent=2) + "\n"
    return Response(body, media_type="application/json",
                    headers={"content-disposition": 'attachment; filename="triage-result.json"'})


# -- the audit page -------------------------------------------------------------------------
async def audit_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "audit.html", {"report": None, "text": "", "error": None,
                                                              "format": "auto"})


async def audit_post(request: Request) -> Response:
    """Audit a pasted or uploaded case file: each case's trace, HOW, and the inference graph."""
    form = await _form(request, _FORM, _UPLOAD)
    fmt = str(form.get("format", "auto"))
    if fmt not in ("auto", *INPUT_FORMATS):
        fmt = "auto"
    upload = form.get("file")
    text = str(form.get("cases", ""))
    error = None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        try:
            text = (await upload.read()).decode("utf-8-sig")
        except UnicodeDecodeError:
            error = "The uploaded file is not UTF-8 text; save it as UTF-8 and try again."
    context: dict[str, Any] = {"report": None, "text": text, "error": error, "format": fmt}
    if error is None and not text.strip():
        context["error"] = "Paste a case file or choose one to upload."
    if context["error"] is None:
        try:
            context["report"] = await audits_of(request).run(_audit_report, text, fmt, GRAPH_TIMEOUT)
        except TriageError as exc:
            context["error"] = str(exc).replace("<stdin>", "the cases")
    status = 422 if context["error"] else 200
    return templates.TemplateResponse(request, "audit.html", context, status_code=status)


def _audit_report(kb: TriageKB, text: str, fmt: str, graph_timeout: float) -> dict[str, Any]:
    """The audit page's report of the cases in ``text`` (run in the audit process)."""
    from ..casefiles import read_cases

    audits: list[CaseAudit] = []
    errors: list[ErrorRecord] = []
    for n, record in enumerate(read_cases("-", kb.kb.vocabulary, fmt, stdin=io.StringIO(text)), start=1):
        if n > MAX_AUDIT_CASES:
            raise TriageError(f"more than {MAX_AUDIT_CASES:,} cases; this page audits at most "
                              f"{MAX_AUDIT_CASES:,} at a time: audit them in parts, or use triage audit")
        audit = audit_record(kb.session, record)
        if isinstance(audit, ErrorRecord):
            errors.append(audit)
        else:
            audits.append(audit)
    svg, why_not = None, ""
    if len(audits) > MAX_GRAPH_CASES:
        why_not = (f"The inference graph is drawn for at most {MAX_GRAPH_CASES} cases, and there are "
                   f"{len(audits):,}: audit fewer at a time, or run triage audit --format dot.")
    elif audits:
        svg, why_not = dot_to_svg(render_dot(audits), graph_timeout)
    # As an image, an SVG can run no script whatever its labels say.
    graph = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode() if svg else None
    return {"sections": audit_sections(audits, errors), "graph": graph, "graph_missing": why_not,
            "count": len(audits), "invalid": len(errors)}
