"""The pages for people: the questionnaire at ``/``, its result, downloads, the audit page.

Plain HTML forms, no script, Post/Redirect/Get: each answer is posted to
``question?step=N`` and answered with a redirect to the page of the next
step, so the browser's Back and Forward move between plain GET pages and
never offer to send a form again. The answers so far travel in one cookie
kept by the person's browser (HttpOnly, SameSite=Strict, gone when the
browser closes); the server keeps nothing between requests, and the URL
holds only the step's number, never an answer. Which question comes next,
what is skipped and when an emergency stops the questions is decided by the
library's questionnaire (:meth:`triage.api.TriageKB.next_question`), never here.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..api import TriageKB, answers_file
from ..audit import CaseAudit, audit_record, render_dot
from ..audit_html import audit_sections, dot_to_svg
from ..casefiles import json_depth_ok, unwritable_text
from ..errors import CaseError, TriageError
from ..fileformats import INPUT_FORMATS
from ..kb import Question
from ..questionnaire import NONE_OF_THESE, NOT_SURE
from ..results import ErrorRecord, split_advice
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
#: How sure the top muscle is, in words for the person (the percentage is for clinicians):
#: at least this confidence -> this word.
CONFIDENCE_WORDS = ((0.7, "likely"), (0.4, "possible"), (0.0, "less likely"))
#: At most this many cases on the audit page (about 15 s of work at 45 ms a case); more are
#: refused with a message (audit them in parts, or use triage audit).
MAX_AUDIT_CASES = 300
#: The inference graph is drawn for at most this many cases, and Graphviz may take at most
#: this many seconds: a 300-case graph took longer than 30 s to draw.
MAX_GRAPH_CASES = 50
GRAPH_TIMEOUT = 10.0
#: The cookie with the answers so far, and the one carrying a refused answer to the page
#: that says what is wrong with it (read once, then cleared).
ANSWERS_COOKIE = "triage_answers"
REFUSED_COOKIE = "triage_refused"
#: Browsers keep at least 4,096 bytes a cookie (name and attributes included): a value
#: longer than this is refused when written and read as damaged when sent.
MAX_COOKIE = 3500
_FORM = "application/x-www-form-urlencoded"
_UPLOAD = "multipart/form-data"
#: The knowledge base's texts also serve the terminal, where Enter skips a question; a page
#: has no Enter key on a phone, and its own hints say what to do instead.
_KEYBOARD_WORDS = re.compile(r"[,;]\s*(?:or\s+)?press Enter\b[^.?!]*|\s*\((?:press\s+)?Enter\b[^)]*\)")



def routes() -> list[Route]:
    """The pages' routes."""
    return [
        Route("/", start, methods=["GET"]),
        Route("/question", question_page, methods=["GET"]),
        Route("/question", take_answer, methods=["POST"]),
        Route("/result", result_page, methods=["GET"]),
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


# -- the answers' cookie ----------------------------------------------------------------
def encode_cookie(value: dict[str, Any]) -> str:
    """``value`` as a cookie value: compact JSON in base64url (no padding, nothing to quote)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


def decode_cookie(raw: str | None) -> dict[str, Any] | None:
    """A cookie written by :func:`encode_cookie`; None when it is missing, too long or damaged.

    Damaged includes what no page of ours writes: nesting deeper than a case
    file may have, and half a character (a lone surrogate), which no page can show.
    """
    if not raw or len(raw) > MAX_COOKIE:
        return None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    value = None
    if json_depth_ok(text):
        try:
            value = json.loads(text)
        except ValueError:
            pass
    if not isinstance(value, dict) or unwritable_text(value, "answers") is not None:
        return None
    return value


def _cookie_path(request: Request) -> str:
    """The application's own path: the cookie goes to no other application on the host."""
    return request.scope.get("root_path", "").rstrip("/") + "/"


def _keep(request: Request, response: Response, name: str, value: dict[str, Any]) -> None:
    """Set cookie ``name`` to ``value`` for this browser session (no Max-Age: gone when it closes)."""
    encoded = encode_cookie(value)
    if len(encoded) > MAX_COOKIE:
        raise HTTPException(400, "Your answers are too long to keep in this browser; please start again.",
                            headers=_forget_header(request))
    response.set_cookie(name, encoded, path=_cookie_path(request), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def _forget(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path=_cookie_path(request), httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")


def _forget_header(request: Request) -> dict[str, str]:
    """The header that clears the answers, for an error page (so a reload does not fail again)."""
    return {"set-cookie": f"{ANSWERS_COOKIE}=; Max-Age=0; Path={_cookie_path(request)}; HttpOnly; SameSite=Strict"}


def _answers(request: Request) -> dict[str, Any]:
    """The answers so far, from the cookie (``{}`` without one); a damaged one is a 400."""
    raw = request.cookies.get(ANSWERS_COOKIE)
    if raw is None:
        return {}
    answers = decode_cookie(raw)
    if answers is None:
        raise HTTPException(400, "The answers kept by your browser are damaged; please start again.",
                            headers=_forget_header(request))
    return answers


async def _next(request: Request, answers: dict[str, Any]) -> dict[str, Any]:
    try:
        return await engine_of(request).step(kb_of(request).next_question, answers)
    except CaseError as exc:
        raise HTTPException(400, f"The answers kept by your browser are not valid ({exc.message}); "
                                 "please start again.", headers=_forget_header(request)) from None


def _step_url(step: int) -> str:
    # Relative, like every link of the pages: it lands right under any proxy's path prefix.
    return f"question?step={step}"


def _redirect(url: str) -> Response:
    """303: the browser fetches ``url`` with GET, so Back never sends the form again."""
    return RedirectResponse(url, status_code=303)


def _where_now(step: dict[str, Any]) -> str:
    """The page of the step the answers have reached: the next question, or the result."""
    return _step_url(len(step["asked"]) + 1) if "question" in step else "result"


def _step_number(request: Request) -> int | None:
    raw = request.query_params.get("step", "")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 4 and int(raw) > 0 else None


# -- the questionnaire ----------------------------------------------------------------
async def start(request: Request) -> Response:
    """Start again: forget any answers kept, then the first question (warning signs first)."""
    response = _redirect(_step_url(1))
    _forget(request, response, ANSWERS_COOKIE)
    _forget(request, response, REFUSED_COOKIE)
    return response


async def question_page(request: Request) -> Response:
    """Question ``step`` as it was asked, the earlier answer to it ticked.

    Any step not reached yet (or no number) goes to the step the answers have reached.
    """
    answers = _answers(request)
    reached = await _next(request, answers)
    asked, number = reached["asked"], _step_number(request)
    if number is None or number > len(asked) + (1 if "question" in reached else 0):
        return _redirect(_where_now(reached))
    earlier = {key: answers[key] for key in asked[:number - 1]}
    step = reached if number == len(asked) + 1 else await _next(request, earlier)
    ident = step["question"]["id"]
    shown = {ident: answers[ident]} if ident in answers else {}
    refused = decode_cookie(request.cookies.get(REFUSED_COOKIE))
    error = None
    if refused is not None and refused.get("id") == ident and isinstance(refused.get("error"), str):
        error = refused["error"]
        shown = {ident: refused["raw"]} if refused.get("raw") else {}
    response = _render_step(request, number, step, shown, error=error, status=422 if error else 200)
    if REFUSED_COOKIE in request.cookies:
        _forget(request, response, REFUSED_COOKIE)  # said once: a reload shows the question plainly
    return response


async def take_answer(request: Request) -> Response:
    """Take the answer to question ``step``; redirect to the next step, or back to say what is wrong."""
    kb = kb_of(request)
    form = await _form(request, _FORM)
    answers = _answers(request)
    question = _question(kb, str(form.get("current", "")))
    reached = await _next(request, answers)
    asked = reached["asked"]
    # The answers before this question: a question asked again is answered anew.
    before = asked[:asked.index(question.id)] if question.id in asked else asked
    if question.id not in asked and reached.get("question", {}).get("id") != question.id:
        raise HTTPException(400, "That question is not the one your answers have reached; please start again.")
    number = len(before) + 1
    error = None
    try:
        value = form_answer(question, form)
    except ValueError as exc:
        error, value = str(exc), None
    if error is None:
        given = {**answers, question.id: value}
        try:
            after = await engine_of(request).step(kb.next_question, given)
        except CaseError as exc:
            if exc.location.field != question.id:
                raise HTTPException(400, "The answers kept by your browser are not valid; "
                                         "please start again.", headers=_forget_header(request)) from None
            error = exc.message
        else:
            # Only the answers on the path kept: one left from a branch no longer taken counts for nothing.
            kept = {key: given[key] for key in after["asked"]}
            onward = _step_url(number + 1) if number < len(after["asked"]) or "question" in after else "result"
            response = _redirect(onward)
            _keep(request, response, ANSWERS_COOKIE, kept)
            return response
    raw = _raw_answer(question, form)
    # A screen sent empty shows nothing ticked, not "None of these".
    refused = {"id": question.id, "error": error, "raw": raw if raw or not question.is_screen else None}
    if len(encode_cookie(refused)) > MAX_COOKIE:
        refused = {"id": question.id, "error": "That answer is too long; please choose from the answers shown.",
                   "raw": None}
    response = _redirect(_step_url(number))
    _keep(request, response, REFUSED_COOKIE, refused)
    return response


async def result_page(request: Request) -> Response:
    """The result of the answers kept (or the question they have reached, if not finished)."""
    reached = await _next(request, _answers(request))
    if "result" not in reached:
        return _redirect(_where_now(reached))
    return _render_step(request, len(reached["asked"]), reached, {})


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
        # The page's one "don't know": the question's own choice for it, else ours.
        dont_know = next((c.label for c in question.choices if c.value == "unknown"), "I don't know")
        raise ValueError("Please choose one of the answers"
                         + (f" (or {dont_know})." if not question.required else "."))
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


def _render_step(request: Request, number: int, step: dict[str, Any], shown: dict[str, Any],
                 error: str | None = None, status: int = 200) -> Response:
    """The page of ``step``: question ``number`` (``shown`` ticked), or the result or emergency page."""
    kb = kb_of(request)
    context: dict[str, Any] = {"asked": step["asked"], "skipped": step["skipped"], "number": number}
    if "question" in step:
        question = {**step["question"], "text": on_a_page(step["question"]["text"]),
                    "help": on_a_page(step["question"]["help"])}
        uses = [line[2:] for line in question["why"] if line.startswith("- ")]
        context.update(question=question, error=error, uses=uses, screen_choices=(NONE_OF_THESE, NOT_SURE),
                       back=_step_url(number - 1) if number > 1 else None,
                       # One "don't know" a question: a choice of its own that means it, or ours.
                       own_unknown=any(c["value"] == "unknown" for c in question["choices"]),
                       # Nothing is ticked in advance: only an answer this person gave.
                       chosen=_chosen(question, shown[question["id"]]) if question["id"] in shown else set())
        return templates.TemplateResponse(request, "question.html", context, status_code=status)
    result = step["result"]
    context.update(result=result, title=TITLES[result["disposition"]], emergency=step["emergency"],
                   evidence=_evidence(kb, result), how=_how(kb, result), back=_step_url(number),
                   sureness=confidence_words)
    context["now"], context["get_help_lines"] = split_advice(result["advice"])
    page = "emergency.html" if result["disposition"] == "emergency" else "result.html"
    return templates.TemplateResponse(request, page, context, status_code=status)


def on_a_page(text: str) -> str:
    """A question's text or help without the terminal's keyboard words ("press Enter for no")."""
    return _KEYBOARD_WORDS.sub("", text)


def confidence_words(confidence: float) -> str:
    """How sure a likely muscle is, in a word for the person: "likely", "possible", "less likely"."""
    return next(word for floor, word in CONFIDENCE_WORDS if confidence >= floor)


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
    """The answers kept so far as a YAML case file, the same as ``triage ask --save`` writes."""
    kb = kb_of(request)
    try:
        state = await engine_of(request).step(kb.questionnaire, _answers(request))
    except CaseError:
        raise HTTPException(400, "The answers kept by your browser are not valid; please start again.",
                            headers=_forget_header(request)) from None
    return Response(answers_file(state), media_type="application/yaml",
                    headers={"content-disposition": 'attachment; filename="triage-answers.yaml"'})


async def download_result(request: Request) -> Response:
    """The result of the answers kept, in the contract's JSON shape."""
    step_now = await _next(request, _answers(request))
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
