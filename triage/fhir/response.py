"""A QuestionnaireResponse to a case and back, through the questions and the vocabulary.

Each answered item's ``linkId`` is a question id; its answers are the
question's choices as codings (the field's code system, the value as the
code), a whole number or ``true``/``false``. The answers of a list field
split over several questions (``red_flags`` over the emergency and warning
signs) are merged. A screen answered "None of these" is ``[]`` (screened,
none found); a screen with no item at all is left out of the case (not
screened), and every question of a screen must be answered for the screen
to count as done, unless it found something. Every error names the item's
``linkId`` as its field.

:func:`response_from_case` goes the other way, so that case -> response ->
case is the identity (``tests/fhir/test_response.py`` proves it over the
golden cases and generated ones).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from ..case import Case, marked_unfinished, parse_case
from ..errors import CaseError, Location
from ..kb.model import Question
from ..vocabulary import Vocabulary
from .common import CASE_ID_SYSTEM, NONE_OF_THESE, QUESTIONNAIRE_URL, SCREEN_SYSTEM, field_system, is_fhir_id
from .questionnaire import answer_coding, is_screen, none_of_these

#: The statuses a QuestionnaireResponse may have; only these are read.
READABLE_STATUSES = ("in-progress", "completed", "amended", "stopped")
#: The statuses of answers given before the form was finished: read as ``complete: false``.
UNFINISHED_STATUSES = ("in-progress", "stopped")
#: What the answers of each kind of question are, for error messages.
_EXPECTED = {"many": "valueCoding answers", "one": "one valueCoding answer",
             "number": "one valueInteger answer", "yes_no": "one valueBoolean answer"}


def is_response(raw: object) -> bool:
    """Whether ``raw`` (parsed JSON) is a QuestionnaireResponse."""
    return isinstance(raw, Mapping) and raw.get("resourceType") == "QuestionnaireResponse"


def responses_in(raw: object) -> list[Any] | None:
    """The resources a FHIR JSON value holds for triage: itself, or a Bundle's entries.

    ``None`` when ``raw`` is no FHIR resource (a plain case). A Bundle's
    entries are returned whatever they are: a resource that is not a
    QuestionnaireResponse becomes an error in its place.
    """
    if not isinstance(raw, Mapping) or "resourceType" not in raw:
        return None
    if raw.get("resourceType") == "Bundle":
        entries = raw.get("entry") or []
        return [e.get("resource") if isinstance(e, Mapping) else e for e in entries] if isinstance(entries, list) else [entries]
    return [raw]


def response_case_id(resource: Mapping[str, Any], default_id: str) -> str:
    """The case id of a response: its identifier in our system, else its id, else ``default_id``."""
    identifier = resource.get("identifier")
    if isinstance(identifier, Mapping) and identifier.get("system") == CASE_ID_SYSTEM:
        value = identifier.get("value")
        if isinstance(value, str) and value.strip():
            return value.strip()
    ident = resource.get("id")
    return ident if isinstance(ident, str) and ident else default_id


def case_from_response(resource: object, vocabulary: Vocabulary, questions: tuple[Question, ...],
                       default_id: str, *, file: str | None = None, line: int | None = None) -> Case:
    """The case a QuestionnaireResponse answers; :class:`CaseError` (field = the linkId) if it cannot be read."""
    raw = case_dict_from_response(resource, questions, default_id, file=file, line=line)
    try:
        return parse_case(raw, default_id, vocabulary, file=file, line=line)
    except CaseError as exc:
        raise _with_link_ids(exc, questions) from None


def case_dict_from_response(resource: object, questions: tuple[Question, ...], default_id: str, *,
                            file: str | None = None, line: int | None = None) -> dict[str, Any]:
    """The answers of a QuestionnaireResponse in the case format, not yet validated."""
    answers = response_answers(resource, questions, default_id, file=file, line=line)
    checked = cast(Mapping[str, Any], resource)  # response_answers refused anything else
    raw = case_dict_from_answers(answers, questions, response_case_id(checked, default_id))
    if checked.get("status") in UNFINISHED_STATUSES:
        # Not finished is not "the rest is no": the case refers rather than guesses.
        raw = marked_unfinished(raw)
    return raw


def case_dict_from_answers(answers: Mapping[str, Any], questions: tuple[Question, ...], case_id: str) -> dict[str, Any]:
    """Answers by question id (lists, values, ``None`` for "None of these") as a case mapping.

    A list field is the union of its questions' answers; a screen is left out
    unless every question of it was answered or it found something. A
    one-value field takes the first of its questions that was answered.
    """
    raw: dict[str, Any] = {"id": case_id}
    for field in dict.fromkeys(q.field for q in questions):
        asking = [q for q in questions if q.field == field]
        given = [q for q in asking if q.id in answers]
        if not given:
            continue
        if asking[0].spec.is_list:
            values = [v for q in given for v in (answers[q.id] or [])]
            if values or (len(given) == len(asking) and is_screen(asking[0])):
                raw[field] = values
        else:
            raw[field] = answers[given[0].id]
    return raw


def response_answers(resource: object, questions: tuple[Question, ...], default_id: str, *,
                     file: str | None = None, line: int | None = None) -> dict[str, Any]:
    """The answers of a QuestionnaireResponse by question id, checked against each question.

    A list question's answer is a list of values (``[]`` for "None of these"),
    a number's an int, a yes/no question's a bool, a one-value question's
    its value: the answers of the Python API's ``next_question``.
    """
    if not isinstance(resource, Mapping) or not is_response(resource):
        kind = resource.get("resourceType") if isinstance(resource, Mapping) else None
        raise CaseError(f"expected a QuestionnaireResponse, got {kind or 'no FHIR resource'}",
                        Location(file, line, default_id, "resourceType"), value=kind,
                        allowed="QuestionnaireResponse")
    case_id = response_case_id(resource, default_id)

    def fail(link_id: str, message: str, value: object = None, allowed: str | None = None) -> CaseError:
        return CaseError(message, Location(file, line, case_id, link_id), value=value, allowed=allowed)

    status = resource.get("status")
    if status not in READABLE_STATUSES:
        raise fail("status", f"a QuestionnaireResponse with status {status!r} cannot be triaged",
                   status, "one of: " + ", ".join(READABLE_STATUSES))
    canonical = resource.get("questionnaire")
    # "#id" names a contained Questionnaire: the adaptive one of $next-question.
    if canonical is not None and (not isinstance(canonical, str) or (
            canonical.split("|")[0] != QUESTIONNAIRE_URL and not canonical.startswith("#"))):
        raise fail("questionnaire", f"answers to {canonical!r}, not to this questionnaire",
                   canonical, QUESTIONNAIRE_URL)
    by_id = {q.id: q for q in questions}
    answers: dict[str, Any] = {}
    errors: list[CaseError] = []
    for item in _items(resource.get("item")):
        link_id = item.get("linkId") if isinstance(item, Mapping) else None
        if not isinstance(link_id, str):
            errors.append(fail("item", "every item needs a linkId (a question id)", None,
                               "one of: " + ", ".join(by_id)))
            continue
        given = item.get("answer") or []
        if link_id not in by_id:
            if given:  # a display item (a question's help) carries no answer
                errors.append(fail(link_id, f"unknown linkId {link_id!r}", link_id,
                                   "one of: " + ", ".join(by_id)))
            continue
        if link_id in answers:
            errors.append(fail(link_id, f"the item {link_id!r} is answered twice", link_id))
            continue
        if not given:
            continue
        try:
            answers[link_id] = _answer(by_id[link_id], given, fail)
        except CaseError as exc:
            errors.append(exc)
    if errors:
        first = errors[0]
        raise CaseError(first.message, first.location, value=first.value, allowed=first.allowed,
                        more=tuple(errors[1:]))
    return answers


def missing_screens(answers: Mapping[str, Any], questions: tuple[Question, ...]) -> list[str]:
    """The linkIds of the screening questions ``answers`` (by question id) leaves unanswered."""
    return [q.id for q in questions if is_screen(q) and q.id not in answers]


def _items(items: object) -> Iterator[Any]:
    """Every item, nested ones included (in groups and under answers), in document order."""
    if not isinstance(items, list):
        return
    for item in items:
        yield item
        if isinstance(item, Mapping):
            yield from _items(item.get("item"))
            for answer in item.get("answer") or []:
                if isinstance(answer, Mapping):
                    yield from _items(answer.get("item"))


def _answer(question: Question, given: object, fail: Any) -> Any:
    expected = _EXPECTED[question.answer]
    if not isinstance(given, list) or not all(isinstance(a, Mapping) for a in given):
        raise fail(question.id, f"the answer of {question.id!r} must be a list of {expected}", None, expected)
    if question.answer != "many" and len(given) > 1:
        raise fail(question.id, f"{question.id!r} takes {expected}, not {len(given)}", len(given), expected)
    if question.answer == "number":
        value = given[0].get("valueInteger")
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(question.id, f"{question.id!r} takes {expected}", _shown(given[0]), question.spec.allowed())
        return value
    if question.answer == "yes_no":
        value = given[0].get("valueBoolean")
        if not isinstance(value, bool):
            raise fail(question.id, f"{question.id!r} takes {expected}", _shown(given[0]), "true or false")
        return value
    codes = [_code(question, answer, fail) for answer in given]
    if question.answer == "one":
        if codes[0] is None:
            raise fail(question.id, f"{question.id!r} is not a screen: leave it unanswered instead of "
                       "'None of these'", NONE_OF_THESE)
        return codes[0]
    if None in codes and len(codes) > 1:
        raise fail(question.id, f"{question.id!r}: 'None of these' cannot go with other answers",
                   [c or NONE_OF_THESE for c in codes])
    return [c for c in codes if c is not None]


def _code(question: Question, answer: Mapping[str, Any], fail: Any) -> str | None:
    """The value an answer's coding names (``None`` for a screen's "None of these")."""
    values = [str(c.value) for c in question.choices]
    allowed = "codings of " + field_system(question.field) + ": " + ", ".join(values)
    found = answer.get("valueCoding")
    if not isinstance(found, Mapping):
        raise fail(question.id, f"{question.id!r} takes {_EXPECTED[question.answer]}", _shown(answer), allowed)
    system, code = found.get("system"), found.get("code")
    if system == SCREEN_SYSTEM and code == NONE_OF_THESE and is_screen(question):
        return None
    if system not in (None, field_system(question.field)) or code not in values:
        raise fail(question.id, f"{code!r} ({system or 'no system'}) is not an answer to {question.id!r}",
                   code, allowed)
    return str(code)


def _shown(answer: Mapping[str, Any]) -> Any:
    """What an answer holds, short, for an error record."""
    for key, value in answer.items():
        if key.startswith("value"):
            return value if isinstance(value, (str, int, float, bool)) else key
    return None


def _with_link_ids(exc: CaseError, questions: tuple[Question, ...]) -> CaseError:
    """A case error whose fields are case fields, told with the linkIds of the items that answer them."""
    def moved(error: CaseError) -> CaseError:
        field = error.location.field
        link_id = next((q.id for q in questions if q.field == field), field)
        where = Location(error.location.file, error.location.line, error.location.case, link_id)
        message = error.message if link_id == field else f"{error.message} (item {link_id!r}, case field {field!r})"
        return CaseError(message, where, value=error.value, allowed=error.allowed, suggestion=error.suggestion)

    first, *rest = [moved(e) for e in exc.all]
    return CaseError(first.message, first.location, value=first.value, allowed=first.allowed,
                     suggestion=first.suggestion, more=tuple(rest))


# -- case -> response --------------------------------------------------------------------------

def response_from_case(case: Case | Mapping[str, Any], questions: tuple[Question, ...], kb_version: str,
                       status: str = "completed") -> dict[str, Any]:
    """A QuestionnaireResponse that answers the questions as ``case`` (a Case or its mapping) does.

    The case id is the response's identifier (and its id where it is a valid
    FHIR id). A screen the case lacks gets no item (not screened); a case marked
    ``complete: false`` is an ``in-progress`` response.
    """
    raw = case.to_dict() if isinstance(case, Case) else dict(case)
    case_id = str(raw.get("id", ""))
    resource: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
    if case_id and is_fhir_id(case_id):
        resource["id"] = case_id
    if case_id:
        resource["identifier"] = {"system": CASE_ID_SYSTEM, "value": case_id}
    resource["questionnaire"] = f"{QUESTIONNAIRE_URL}|{kb_version}"
    resource["status"] = "in-progress" if raw.get("complete") is False else status
    resource["item"] = [item for item in (_response_item(q, raw) for q in questions) if item]
    return resource


def _response_item(question: Question, raw: Mapping[str, Any]) -> dict[str, Any] | None:
    if question.again or raw.get(question.field) is None:
        return None
    value = raw[question.field]
    answers: list[dict[str, Any]]
    if question.answer == "many":
        offered = [str(c.value) for c in question.choices if c.value in value]
        answers = [{"valueCoding": answer_coding(question, v)} for v in offered]
        if not answers and is_screen(question):
            answers = [{"valueCoding": none_of_these()}]
    elif question.answer == "one":
        answers = [{"valueCoding": answer_coding(question, value)}]
    elif question.answer == "number":
        answers = [{"valueInteger": value}]
    else:
        answers = [{"valueBoolean": value}]
    return {"linkId": question.id, "text": question.text, "answer": answers} if answers else None


__all__ = ["READABLE_STATUSES", "case_dict_from_answers", "case_dict_from_response", "case_from_response",
           "is_response", "missing_screens", "response_answers", "response_case_id", "response_from_case", "responses_in"]
