"""The knowledge base's questions as an SDC (STU4) Questionnaire, generated, never written by hand.

One item per question of ``rules/questions.yaml``, in order, with the
question id as its ``linkId``; ``answerOption`` codings come from the
question's choices in the field's own code system
(:func:`~triage.fhir.common.field_system`); the screening questions are
``required`` and offer "None of these" (an exclusive option), because an
answered screen that found nothing is not the same as one never answered.

A question's ``when``/``when_any`` become ``enableWhen`` where FHIR's flat
list can say them (all tests joined by one ``enableBehavior``), and an SDC
``enableWhenExpression`` (FHIRPath) otherwise (a ``when`` together with a
``when_any``, a ``has_none``, an ``is_none_of``). What no Questionnaire can
say is the questionnaire's adaptive skipping (a question left out because
no answer to it could still change the result): a static form asks it; the
``$next-question`` operation (:mod:`triage.fhir.operations`) skips it as
``triage ask`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..kb.conditions import Condition
from ..kb.model import KnowledgeBase, Question
from ..vocabulary import SCREENING_FIELDS, FieldKind
from .common import (CANONICAL, ENABLE_WHEN_EXPRESSION, ITEM_CONTROL, ITEM_CONTROL_SYSTEM, MAX_VALUE, MIN_VALUE,
                     NONE_OF_THESE, NONE_OF_THESE_DISPLAY, OPTION_EXCLUSIVE, QUESTIONNAIRE_ID, QUESTIONNAIRE_URL,
                     SCREEN_SYSTEM, SDC_QUESTIONNAIRE_PROFILE, coding, field_system)

#: The code system naming the case field an item fills (``item.code``).
CASE_FIELD_SYSTEM = f"{CANONICAL}/CodeSystem/case-field"
#: Suffix of the linkId of a question's help text (a display item inside it).
HELP_SUFFIX = ".help"

_ITEM_TYPES = {"many": "choice", "one": "choice", "number": "integer", "yes_no": "boolean"}
_CONTROLS = {"many": "check-box", "one": "radio-button"}
#: enableWhen (and FHIRPath) operators of the numeric tests.
_COMPARISONS = {"at_least": ">=", "above": ">", "below": "<", "at_most": "<="}


def is_screen(question: Question) -> bool:
    """Whether ``question`` asks a screen: a required list that may be empty (``[]`` = none found)."""
    spec = question.spec
    return question.field in SCREENING_FIELDS or (spec.required and spec.is_list and not spec.non_empty)


def answer_coding(question: Question, value: str) -> dict[str, Any]:
    """The Coding of the choice ``value`` of ``question`` (as the Questionnaire offers it)."""
    label = next(c.label for c in question.choices if c.value == value)
    return coding(field_system(question.field), value, label)


def none_of_these() -> dict[str, Any]:
    """The Coding of a screen's "None of these"."""
    return coding(SCREEN_SYSTEM, NONE_OF_THESE, NONE_OF_THESE_DISPLAY)


def build_questionnaire(kb: KnowledgeBase) -> dict[str, Any]:
    """The SDC Questionnaire of ``kb``: ``version`` is the knowledge-base version."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "meta": {"profile": [SDC_QUESTIONNAIRE_PROFILE]},
        "url": QUESTIONNAIRE_URL,
        "version": kb.version,
        "name": "LowerBackPainTriage",
        "title": "Lower back pain triage",
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "triage",
        "description": (
            "Generated from the triage knowledge base (rules/questions.yaml and the vocabulary). "
            "Skip logic that depends on answers is in enableWhen or enableWhenExpression; the "
            "questionnaire's adaptive skipping (leaving out a question no answer to which could "
            "change the result) cannot be expressed here: use $next-question for it. "
            "Not a diagnosis: when in doubt, see a doctor."),
        "item": [question_item(q, kb.questions[:index]) for index, q in enumerate(kb.questions)],
    }


def question_item(question: Question, earlier: tuple[Question, ...] = (), skip_logic: bool = True) -> dict[str, Any]:
    """The Questionnaire item of ``question``; ``earlier`` are the questions before it.

    Without ``skip_logic`` the item carries no enableWhen (the adaptive
    questionnaire appends only items that are to be asked).
    """
    item: dict[str, Any] = {
        "linkId": question.id,
        "code": [coding(CASE_FIELD_SYSTEM, question.field, question.spec.description)],
        "text": question.text,
        "type": _ITEM_TYPES[question.answer],
    }
    extensions = []
    if question.answer in _CONTROLS:
        extensions.append(_control(_CONTROLS[question.answer]))
    if question.answer == "number":
        if question.spec.minimum is not None:
            extensions.append({"url": MIN_VALUE, "valueInteger": question.spec.minimum})
        if question.spec.maximum is not None:
            extensions.append({"url": MAX_VALUE, "valueInteger": question.spec.maximum})
    if skip_logic:
        item.update(_enable(question, earlier, extensions))
    if extensions:
        item["extension"] = extensions
    if is_screen(question):
        item["required"] = True
    if question.answer == "many":
        item["repeats"] = True
    if question.answer in _CONTROLS:
        options: list[dict[str, Any]] = [{"valueCoding": answer_coding(question, str(c.value))}
                                         for c in question.choices]
        if is_screen(question):
            options.append({"valueCoding": none_of_these(),
                            "extension": [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}]})
        item["answerOption"] = options
    item["item"] = [{"linkId": question.id + HELP_SUFFIX, "text": question.help, "type": "display",
                     "extension": [_control("help")]}]
    return item


def _control(code: str) -> dict[str, Any]:
    return {"url": ITEM_CONTROL, "valueCodeableConcept": {
        "coding": [coding(ITEM_CONTROL_SYSTEM, code, code.replace("-", " ").capitalize())]}}


# -- skip logic ---------------------------------------------------------------------------

def _enable(question: Question, earlier: tuple[Question, ...], extensions: list[dict[str, Any]]) -> dict[str, Any]:
    """``enableWhen``/``enableBehavior`` for ``question``, or its enableWhenExpression in ``extensions``."""
    if not question.when and not question.when_any:
        return {}
    flat = _flat(question, earlier)
    if flat is not None:
        atoms, behavior = flat
        out: dict[str, Any] = {"enableWhen": atoms}
        if len(atoms) > 1:
            out["enableBehavior"] = behavior
        return out
    tests = [_fhirpath_all(question.when, earlier)] if question.when else []
    if question.when_any:
        tests.append("(" + " or ".join(f"({_fhirpath_all(g, earlier)})" for g in question.when_any) + ")")
    extensions.append({"url": ENABLE_WHEN_EXPRESSION, "valueExpression": {
        "language": "text/fhirpath", "expression": " and ".join(tests)}})
    return {}


def _flat(question: Question, earlier: tuple[Question, ...]) -> tuple[list[dict[str, Any]], str] | None:
    """The tests as one flat enableWhen list with its behavior, if FHIR's enableWhen can say them."""
    clauses = [_clause(c, earlier) for c in question.when]
    if question.when_any:
        if question.when or not all(len(g) == 1 for g in question.when_any):
            return None
        clauses = [_clause(g[0], earlier) for g in question.when_any]
        if any(c is None or (len(c[0]) > 1 and c[1] != "any") for c in clauses):
            return None
        return [a for c in clauses if c for a in c[0]], "any"
    if any(c is None for c in clauses):
        return None
    behaviors = {c[1] for c in clauses if c and len(c[0]) > 1}
    if len(behaviors) > 1 or (behaviors == {"any"} and len(clauses) > 1):
        return None
    return [a for c in clauses if c for a in c[0]], behaviors.pop() if behaviors else "all"


def _asking(field: str, earlier: Iterable[Question]) -> list[Question]:
    return [q for q in earlier if q.field == field]


def _clause(condition: Condition, earlier: tuple[Question, ...]) -> tuple[list[dict[str, Any]], str] | None:
    """One condition as enableWhen atoms and how they combine; None if enableWhen cannot say it."""
    askers = _asking(condition.subject, earlier)
    if not askers:
        return None
    spec = askers[0].spec
    op = condition.operator
    if op == "unknown":
        atoms = [{"question": q.id, "operator": "exists", "answerBoolean": not condition.operand} for q in askers]
        return atoms, "all" if condition.operand else "any"
    if spec.kind in (FieldKind.MULTI, FieldKind.CHOICE):
        if op not in ("has", "has_any", "has_all", "is", "is_any"):
            return None
        atoms = []
        for value in condition.values():
            offering = next((q for q in askers if any(c.value == value for c in q.choices)), None)
            if offering is None:
                return None
            atoms.append({"question": offering.id, "operator": "=",
                          "answerCoding": answer_coding(offering, value)})
        return atoms, "all" if op == "has_all" else "any"
    if spec.kind is FieldKind.BOOLEAN and op == "is":
        return [{"question": q.id, "operator": "=", "answerBoolean": condition.operand} for q in askers], "any"
    if spec.kind is FieldKind.INTEGER and op in _COMPARISONS:
        return [{"question": q.id, "operator": _COMPARISONS[op], "answerInteger": condition.operand}
                for q in askers], "any"
    return None


def _fhirpath_all(conditions: Iterable[Condition], earlier: tuple[Question, ...]) -> str:
    return " and ".join(_fhirpath(c, earlier) for c in conditions)


def _fhirpath(condition: Condition, earlier: tuple[Question, ...]) -> str:
    """One condition as a FHIRPath test over the QuestionnaireResponse being filled in."""
    ids = [q.id for q in _asking(condition.subject, earlier)]
    where = " or ".join(f"linkId = '{i}'" for i in ids) or "false"
    answers = f"%resource.repeat(item).where({where}).answer.value"
    op, values = condition.operator, condition.values()
    if op == "unknown":
        return f"{answers}.{'empty' if condition.operand else 'exists'}()"
    if op in _COMPARISONS:
        return f"{answers}.where($this {_COMPARISONS[op]} {condition.operand}).exists()"
    if isinstance(condition.operand, bool):
        return f"{answers}.where($this = {str(condition.operand).lower()}).exists()"

    def any_of(codes: Iterable[str]) -> str:
        return f"{answers}.where(" + " or ".join(f"code = '{v}'" for v in codes) + ")"

    if op in ("has", "is", "has_any", "is_any"):
        return any_of(values) + ".exists()"
    if op in ("has_none", "is_none_of"):
        return any_of(values) + ".empty()"
    if op == "has_all":
        return "(" + " and ".join(any_of([v]) + ".exists()" for v in values) + ")"
    raise ValueError(f"a question cannot test {condition.describe()}")  # the loader allows no other test


__all__ = ["CASE_FIELD_SYSTEM", "HELP_SUFFIX", "answer_coding", "build_questionnaire", "is_screen", "none_of_these",
           "question_item"]
