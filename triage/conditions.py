"""Conditions: the tests a rule's ``when`` makes, as plain data with their meaning.

A condition tests one *subject*: a case field (``triggers``, ``age``...) or a
conclusion the engine has drawn so far (``derived``, ``likely_muscles``,
``referred``, ``self_care``). The same object is compiled into an experta
pattern, evaluated for "why not" explanations and printed for people, so the
three can never disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from .conclusions import ENGINE_SUBJECTS, FLAG_SUBJECTS
from .vocabulary import FieldKind, Vocabulary

SET_OPERATORS = ("has", "has_any", "has_all", "has_none")
#: Operators whose operand is a list of values.
LIST_OPERATORS = ("has_any", "has_all", "has_none", "is_any", "is_none_of")

#: The operators each kind of subject accepts.
OPERATORS: dict[str, tuple[str, ...]] = {
    FieldKind.MULTI.value: SET_OPERATORS,
    FieldKind.CHOICE.value: ("is", "is_any", "is_none_of", "unknown"),
    FieldKind.BOOLEAN.value: ("is", "unknown"),
    FieldKind.INTEGER.value: ("at_least", "above", "below", "at_most", "unknown"),
    **{subject: kind.operators for subject, kind in ENGINE_SUBJECTS.items()},
}

_WORDS = {
    "has": "include {v}",
    "has_any": "include any of {v}",
    "has_all": "include all of {v}",
    "has_none": "include none of {v}",
    "is": "be {v}",
    "is_any": "be one of {v}",
    "is_none_of": "be none of {v} (or not given)",
    "at_least": "be at least {v}",
    "above": "be above {v}",
    "below": "be below {v}",
    "at_most": "be at most {v}",
}


def subject_kind(subject: str, vocabulary: Vocabulary) -> str | None:
    """The operator table key for ``subject``, or ``None`` if it is unknown."""
    if subject in ENGINE_SUBJECTS:
        return subject
    field = vocabulary.fields.get(subject)
    if field is None or field.kind is FieldKind.TEXT:
        return None
    return field.kind.value


@dataclass(frozen=True)
class Condition:
    """One test of one subject, e.g. ``triggers has_any [driving, flying]``."""

    subject: str
    operator: str
    operand: Any
    line: int | None = None

    @property
    def on_case(self) -> bool:
        """True when the subject is a case field (an answer), not a conclusion."""
        return self.subject not in ENGINE_SUBJECTS

    @property
    def is_negative(self) -> bool:
        """True when the test holds while a conclusion is absent.

        Such a test is only sound once every rule that could draw that
        conclusion has fired, which the loader checks through salience.
        """
        if self.operator == "has_none":
            return True
        if self.operator == "empty":
            return bool(self.operand)
        if self.subject in FLAG_SUBJECTS:
            return self.operand is False
        return False

    def values(self) -> tuple[Any, ...]:
        """The operand as a tuple of values (one for scalar operators)."""
        if isinstance(self.operand, (list, tuple)):
            return tuple(self.operand)
        return (self.operand,)

    def holds(self, value: Any) -> bool:
        """Evaluate the test against the subject's current value.

        Set subjects are given as a collection; scalars as the value or
        ``None`` when unknown.
        """
        op, operand = self.operator, self.operand
        if op == "unknown":
            return (value is None) == bool(operand)
        if op == "empty":
            return (len(value) == 0) == bool(operand)
        if op in SET_OPERATORS:
            return _set_test(op, operand, value)
        if op == "is_none_of":
            # Holds for an unknown answer too: "one side, or side not given".
            return value not in operand
        if value is None:
            return False
        if op == "is":
            return value == operand and type(value) is type(operand)
        if op == "is_any":
            return value in operand
        if op == "at_least":
            return value >= operand
        if op == "above":
            return value > operand
        if op == "below":
            return value < operand
        if op == "at_most":
            return value <= operand
        raise ValueError(f"unknown operator {op!r}")

    def relevant(self, value: Any) -> Any:
        """The part of ``value`` this test looked at (for the audit trail)."""
        if self.operator in SET_OPERATORS:
            wanted = set(self.values())
            return sorted(v for v in value if v in wanted)
        if self.operator == "empty":
            return sorted(value)
        return value

    def describe(self) -> str:
        """The test in plain words, e.g. "triggers must include tennis_serve"."""
        if self.operator == "unknown":
            return f"{self.subject} must {'not be given' if self.operand else 'be given'}"
        if self.operator == "empty":
            return f"{self.subject} must {'be empty' if self.operand else 'not be empty'}"
        if self.subject in FLAG_SUBJECTS:
            noun = ENGINE_SUBJECTS[self.subject].noun
            return f"there must be {'a' if self.operand else 'no'} {noun}"
        shown = ", ".join(str(_plain(v)) for v in self.values())
        if self.operator in LIST_OPERATORS:
            shown = f"[{shown}]"
        return f"{self.subject} must {_WORDS[self.operator].format(v=shown)}"


def _plain(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def _set_test(op: str, operand: Any, value: Collection[Any]) -> bool:
    if op == "has":
        return operand in value
    if op == "has_any":
        return any(v in value for v in operand)
    if op == "has_all":
        return all(v in value for v in operand)
    return not any(v in value for v in operand)
