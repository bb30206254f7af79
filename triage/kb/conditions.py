"""Conditions: the tests a ``when:`` makes, as plain data with their meaning, and their parser.

A condition tests one *subject*: a case field (``triggers``, ``age``...) or a
conclusion the engine has drawn so far (``derived``, ``likely_muscles``,
``referred``, ``self_care``). The same object is compiled into an experta
pattern, evaluated for "why not" explanations and printed for people, so the
three can never disagree.

:func:`parse_when` reads a ``when:`` mapping into conditions. It lives here,
beside what it builds, and is the one parser of ``when:``: rules and the
questionnaire's follow-up questions both call it, so they accept exactly the
same tests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..conclusions import ENGINE_SUBJECTS, FLAG_SUBJECTS, Names
from ..errors import Location, Problem
from ..vocabulary import FieldKind, Vocabulary, not_allowed
from ..yamlio import YamlMap

SET_OPERATORS = ("has", "has_any", "has_all", "has_none")
#: Operators whose operand is a list of values.
LIST_OPERATORS = ("has_any", "has_all", "has_none", "is_any", "is_none_of")

#: The operators each kind of subject accepts.
OPERATORS: dict[str, tuple[str, ...]] = {
    # `unknown` on a list: a screen not answered (None), never an empty list.
    FieldKind.MULTI.value: (*SET_OPERATORS, "unknown"),
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
        return _test_of(self.operator)(self.operand, value)

    def predicate(self) -> Callable[[Any], bool]:
        """:meth:`holds` as a function of the value alone, its operator looked up once."""
        return partial(_test_of(self.operator), self.operand)

    def relevant(self, value: Any) -> Any:
        """The part of ``value`` this test looked at (for the audit trail)."""
        if self.operator in SET_OPERATORS:
            wanted = set(self.values())
            return sorted(v for v in value or () if v in wanted)
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


# What each operator means: test(operand, value). Module functions, so that a
# predicate (a partial of one) pickles with its knowledge base.
def _unknown(operand: Any, value: Any) -> bool:
    return (value is None) == bool(operand)


def _empty(operand: Any, value: Any) -> bool:
    return (len(value) == 0) == bool(operand)


# A screen not answered (None) reports no value: the set tests read it as empty,
# and only `unknown: true` tells it from "none found".
def _has(operand: Any, value: Any) -> bool:
    return value is not None and operand in value


def _has_any(operand: Any, value: Any) -> bool:
    return value is not None and any(v in value for v in operand)


def _has_all(operand: Any, value: Any) -> bool:
    return value is not None and all(v in value for v in operand)


def _has_none(operand: Any, value: Any) -> bool:
    return value is None or not any(v in value for v in operand)


def _is_none_of(operand: Any, value: Any) -> bool:
    # Holds for an unknown answer too: "one side, or side not given".
    return value not in operand


# The scalar comparisons never hold for an unknown answer.
def _is(operand: Any, value: Any) -> bool:
    return value is not None and value == operand and type(value) is type(operand)


def _is_any(operand: Any, value: Any) -> bool:
    return value is not None and value in operand


def _at_least(operand: Any, value: Any) -> bool:
    return value is not None and value >= operand


def _above(operand: Any, value: Any) -> bool:
    return value is not None and value > operand


def _below(operand: Any, value: Any) -> bool:
    return value is not None and value < operand


def _at_most(operand: Any, value: Any) -> bool:
    return value is not None and value <= operand


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "unknown": _unknown, "empty": _empty, "has": _has, "has_any": _has_any, "has_all": _has_all,
    "has_none": _has_none, "is_none_of": _is_none_of, "is": _is, "is_any": _is_any,
    "at_least": _at_least, "above": _above, "below": _below, "at_most": _at_most,
}


def _test_of(operator: str) -> Callable[[Any, Any], bool]:
    try:
        return _TESTS[operator]
    except KeyError:
        raise ValueError(f"unknown operator {operator!r}") from None


def parse_when(item: YamlMap, file: str, problems: list[Problem], vocabulary: Vocabulary,
               derived: Collection[str] = ()) -> list[Condition]:
    """Parse the ``when:`` of ``item`` into conditions, appending a problem for each mistake.

    Rules and the questionnaire's follow-up questions both read their
    ``when:`` here, so they accept exactly the same subjects, operators and
    values. ``derived`` names the declared derived facts a ``derived`` test
    may name (a question's ``when`` tests answers only, so it passes none).
    """
    return _WhenReader(file, problems, vocabulary, derived).conditions(item)


class _WhenReader:
    """Reads one ``when:`` mapping against the vocabulary, collecting its problems."""

    def __init__(self, file: str, problems: list[Problem], vocabulary: Vocabulary,
                 derived: Collection[str]) -> None:
        self.file = file
        self.problems = problems
        self.vocabulary = vocabulary
        self.derived = derived

    def problem(self, where: Location, message: str) -> None:
        self.problems.append(Problem(where, message))

    def conditions(self, item: YamlMap) -> list[Condition]:
        """The tests of ``item``'s ``when:``, in order; the ones with a mistake are left out."""
        when = item.get("when")
        if not isinstance(when, YamlMap) or not when:
            self.problem(Location(self.file, item.line_of("when")), "when must be a mapping of subjects to tests")
            return []
        conditions = []
        for subject, test in when.items():
            where = Location(self.file, when.line_of(subject), field=str(subject))
            kind = subject_kind(str(subject), self.vocabulary)
            if kind is None:
                allowed = [*self.vocabulary.askable, "derived", "likely_muscles", "referred", "self_care"]
                self.problem(where, not_allowed(
                    "unknown condition subject", subject, allowed,
                    note="A new case field is added in the vocabulary section (rules/vocabulary.yaml)."))
                continue
            if not isinstance(test, YamlMap):
                test = {"is": test} if kind in FLAG_SUBJECTS else test
            if not isinstance(test, dict) or not test:
                self.problem(where, f"the test of {subject!r} must be a mapping such as "
                             f"{{{OPERATORS[kind][0]}: ...}}")
                continue
            for operator, operand in test.items():
                condition = self.condition(str(subject), kind, operator, operand, where)
                if condition is not None:
                    conditions.append(condition)
        return conditions

    def condition(self, subject: str, kind: str, operator: Any, operand: Any,
                  where: Location) -> Condition | None:
        """One test (``operator: operand``) of ``subject``, or ``None`` with a problem if it is wrong."""
        allowed_ops = OPERATORS[kind]
        if operator not in allowed_ops:
            self.problem(where, not_allowed("operator", operator, allowed_ops, rest=f" does not apply to {subject!r}"))
            return None
        spec = self.vocabulary.fields.get(subject)
        field_kind = spec.kind if spec is not None else None
        if operator in ("unknown", "empty") or subject in FLAG_SUBJECTS or \
                field_kind is FieldKind.BOOLEAN:
            if not isinstance(operand, bool):
                self.problem(where, f"{subject} {operator} takes true or false, got {operand!r}")
                return None
        elif field_kind is FieldKind.INTEGER:
            if isinstance(operand, bool) or not isinstance(operand, int):
                self.problem(where, f"{subject} {operator} takes a whole number, got {operand!r}")
                return None
            low, high = spec.minimum, spec.maximum
            if (low is not None and operand < low) or (high is not None and operand > high):
                self.problem(where, f"{subject} {operator} {operand} is outside {spec.allowed()}")
        else:
            many = operator in LIST_OPERATORS
            values = operand if many else [operand]
            if many and (not isinstance(operand, list) or not operand):
                self.problem(where, f"{subject} {operator} takes a non-empty list, got {operand!r}")
                return None
            domain = self.domain(subject)
            bad = [v for v in values if v not in domain]
            for value in bad:
                self.problem(where, not_allowed("unknown value", value, domain, rest=f" for {subject}",
                                                note=_where_to_add(subject)))
            if bad:
                return None
            operand = tuple(operand) if many else operand
        return Condition(subject, str(operator), operand, where.line)

    def domain(self, subject: str) -> tuple[Any, ...]:
        """Every value a test of ``subject`` may name."""
        if subject in ENGINE_SUBJECTS:
            return ENGINE_SUBJECTS[subject].domain(Names(self.derived, self.vocabulary.muscles, ()))
        spec = self.vocabulary.fields.get(subject)
        return spec.values if spec else ()


def _where_to_add(subject: str) -> str:
    """Where a value missing from ``subject``'s domain is declared, for the error message."""
    if subject == "derived":
        return "Declare derived facts under derived_facts."
    return f"A new value of {subject} is added in the vocabulary section (rules/vocabulary.yaml)."
