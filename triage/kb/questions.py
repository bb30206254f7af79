"""The ``questions:`` section: the questions of ``triage ask``, read from ``rules/questions.yaml``.

Each question fills one case field with a plain-language text, help, an
answer type and plain labels for the field's values; ``when`` says, with the
same tests as rules use (:func:`~triage.kb.conditions.parse_when`), which
earlier answers make it worth asking. :func:`parse_questions` checks all of
it against the case vocabulary and appends every problem (with file and
line) instead of raising, as every parser of :mod:`triage.kb` does. The
:class:`~triage.kb.model.Question` values it builds live in the model.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Location, Problem
from ..vocabulary import RECORD_FIELDS, SCREENING_FIELDS, CaseField, FieldKind, Vocabulary, not_allowed
from ..yamlio import YamlList, YamlMap
from .conditions import Condition, parse_when
from .model import Choice, Question

#: Answer types and the kind of case field each one fills.
ANSWER_TYPES: dict[str, FieldKind] = {
    "many": FieldKind.MULTI,
    "one": FieldKind.CHOICE,
    "number": FieldKind.INTEGER,
    "yes_no": FieldKind.BOOLEAN,
}
_KEYS = ("id", "field", "answer", "ask", "help", "choices", "when", "when_any", "again")
_QUESTION_ID = re.compile(r"^[a-z0-9_]+$")
_YES_NO_LABELS = {True: "Yes", False: "No"}


def parse_questions(raw: Any, file: str, problems: list[Problem], vocabulary: Vocabulary) -> tuple[Question, ...]:
    """Validate the ``questions:`` section ``raw`` read from ``file``.

    Every problem found is appended to ``problems`` with its file and line;
    the questions that could be read are returned in order.
    """
    if not isinstance(raw, YamlList):
        problems.append(Problem(Location(file, getattr(raw, "line", None) or 1),
                                "questions must be a list of questions"))
        return ()
    reader = _QuestionReader(file, problems, vocabulary)
    for index, item in enumerate(raw):
        if not isinstance(item, YamlMap):
            reader.problem(raw.line_of(index), "every question must be a mapping")
            continue
        reader.read(item)
    reader.check_coverage(raw.line)
    return tuple(reader.questions)


class _QuestionReader:
    """Reads questions one by one and then checks them as a whole."""

    def __init__(self, file: str, problems: list[Problem], vocabulary: Vocabulary) -> None:
        self.file = file
        self.problems = problems
        self.vocabulary = vocabulary
        self.questions: list[Question] = []

    def problem(self, line: int | None, message: str, field: str | None = None) -> None:
        self.problems.append(Problem(Location(self.file, line, field=field), message))

    def read(self, item: YamlMap) -> None:
        for key in item:
            if key not in _KEYS:
                self.problem(item.line_of(key), not_allowed("unknown question key", key, _KEYS))
        name = item.get("field")
        askable = self.vocabulary.askable
        if name not in askable:
            self.problem(item.line_of("field"), not_allowed(
                "unknown case field", name, askable,
                note="A new field is added in the vocabulary section (rules/vocabulary.yaml)."))
            return
        spec = self.vocabulary.fields[name]
        ident = item.get("id", name)
        if not isinstance(ident, str) or not _QUESTION_ID.match(ident):
            self.problem(item.line_of("id"), f"a question id must match {_QUESTION_ID.pattern}, got {ident!r}")
            return
        if any(q.id == ident for q in self.questions):
            self.problem(item.line_of("id"), f"duplicate question id {ident!r}")
            return
        answer = item.get("answer")
        if not isinstance(answer, str) or answer not in ANSWER_TYPES:  # a list or map is no type name
            self.problem(item.line_of("answer"), not_allowed("unknown answer type", answer, ANSWER_TYPES), name)
            return
        if ANSWER_TYPES[answer] is not spec.kind:
            fitting = next(a for a, kind in ANSWER_TYPES.items() if kind is spec.kind)
            self.problem(item.line_of("answer"), f"{name} is {spec.kind.value}, so its answer must be "
                         f"{fitting!r}, not {answer!r}", name)
            return
        earlier = [q for q in self.questions if q.field == name]
        again = item.get("again", False)
        if not isinstance(again, bool) or (again and (spec.is_list or not earlier)):
            self.problem(item.line_of("again"), "again: true asks a one-value field once more, "
                         "after an earlier question that asks it", name)
            return
        if earlier and not spec.is_list and not again:
            self.problem(item.line, f"{name} holds one value, so only one question may ask it "
                         f"(already asked by {earlier[0].id!r}); a question that asks it once "
                         "more when it was left unanswered says again: true", name)
            return
        when = self._when(item, name, ident)
        when_any = self._when_any(item, name, ident)
        if again and not any(c.subject == name and c.operator == "unknown" and c.operand
                             for c in when):
            self.problem(item.line_of("when"), f"{ident!r} asks {name} again, so its when must "
                         f"include {name}: {{unknown: true}}", name)
        if spec.required and not earlier and when:
            self.problem(item.line_of("when"), f"{ident!r} is the first question of the required "
                         f"field {name}, so it must always be asked (remove when)", name)
        if name in SCREENING_FIELDS and when:
            self.problem(item.line_of("when"), f"{ident!r} screens {name}, which must always be "
                         "asked (remove when)", name)
        if name in SCREENING_FIELDS and any(q.field not in SCREENING_FIELDS for q in self.questions):
            self.problem(item.line, f"{ident!r} screens {name}, so it must come before every "
                         "other question (warning signs first)", name)
        first = spec.required and not earlier
        self.questions.append(Question(
            id=ident, field=name, answer=answer,
            text=self._text(item, "ask"), help=self._text(item, "help"),
            choices=self._choices(item, spec, answer),
            when=when, when_any=when_any, spec=spec, again=again,
            required=spec.required or spec.is_screen,
            may_be_empty=not (first and spec.non_empty),
            location=Location(self.file, item.line, field=name)))

    def _text(self, item: YamlMap, key: str) -> str:
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problem(item.line_of(key), f"{key} must be a non-empty text", item.get("field"))
            return ""
        return " ".join(value.split())

    def _choices(self, item: YamlMap, spec: CaseField, answer: str) -> tuple[Choice, ...]:
        raw = item.get("choices")
        line = item.line_of("choices")
        if answer == "number":
            if raw is not None:
                self.problem(line, "a number question takes no choices", spec.name)
            return ()
        if answer == "yes_no":
            labels = dict(_YES_NO_LABELS)
            if raw is not None:
                if not isinstance(raw, YamlMap) or set(raw) - {True, False} or not all(
                        isinstance(v, str) and v.strip() for v in raw.values()):
                    self.problem(line, "yes_no choices must map true and false to labels", spec.name)
                else:
                    labels.update(raw)
            return tuple(Choice(value, labels[value]) for value in (True, False))
        if not isinstance(raw, YamlMap) or not raw:
            self.problem(line, f"choices must map values of {spec.name} to plain labels", spec.name)
            return ()
        choices = []
        for value, label in raw.items():
            if value not in spec.values:
                self.problem(raw.line_of(value), not_allowed("unknown value", value, spec.values,
                                                             rest=f" for {spec.name}"), spec.name)
                continue
            if not isinstance(label, str) or not label.strip():
                self.problem(raw.line_of(value), f"the label of {value!r} must be a non-empty text",
                             spec.name)
                continue
            offered = next((q.id for q in self.questions if q.field == spec.name
                            and any(c.value == value for c in q.choices)), None)
            if offered:
                self.problem(raw.line_of(value), f"{value!r} is already offered by question "
                             f"{offered!r}", spec.name)
                continue
            choices.append(Choice(value, label.strip()))
        return tuple(choices)

    def _when_any(self, item: YamlMap, name: str, ident: str) -> tuple[tuple[Condition, ...], ...]:
        groups = item.get("when_any")
        if groups is None:
            return ()
        if not isinstance(groups, YamlList) or not groups or not all(
                isinstance(g, YamlMap) and g for g in groups):
            self.problem(item.line_of("when_any"), "when_any must be a list of tests like when's, "
                         "of which one must hold", name)
            return ()
        return tuple(self._when(YamlMap({"when": g}), name, ident) for g in groups)

    def _when(self, item: YamlMap, name: str, ident: str) -> tuple[Condition, ...]:
        if "when" not in item:
            return ()
        conditions = parse_when(item, self.file, self.problems, self.vocabulary)
        asked = {q.field for q in self.questions}
        for condition in conditions:
            if not condition.on_case:
                self.problem(condition.line, f"{ident!r}: when can only test answers, not "
                             f"the engine's conclusion {condition.subject!r}", name)
            elif condition.subject not in asked:
                self.problem(condition.line, f"{ident!r}: when tests {condition.subject}, which "
                             "no earlier question asks", name)
        return tuple(c for c in conditions if c.on_case and c.subject in asked)

    def check_coverage(self, line: int) -> None:
        """Every case field is asked, and every value of a field is offered."""
        for name, spec in self.vocabulary.fields.items():
            if name in RECORD_FIELDS:
                continue
            asked = [q for q in self.questions if q.field == name]
            if not asked:
                self.problem(line, f"no question asks for the case field {name!r}", name)
                continue
            if spec.kind in (FieldKind.MULTI, FieldKind.CHOICE):
                offered = {c.value for q in asked for c in q.choices}
                missing = [v for v in spec.values if v not in offered]
                if missing:
                    self.problem(asked[0].location.line, f"no question offers {', '.join(missing)} "
                                 f"for {name}", name)


__all__ = ["ANSWER_TYPES", "parse_questions"]
