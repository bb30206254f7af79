"""The lint pass of ``triage rules check``: findings about a knowledge base that loads.

Loading (:mod:`triage.kb`) refuses what is plainly wrong: unknown
fields, values, sources and techniques, duplicate ids, rules without sources,
unsafe salience. Lint looks for what is legal but suspect, across rules:

========================  ========  =================================================
check                     severity  finding
========================  ========  =================================================
``never-fires``           error     a rule's conditions contradict each other
``unreachable``           error     a rule needs a conclusion no rule that can fire draws
``shadowed``              warning   whenever a rule fires, another rule that makes it
                                    redundant fires too
``unused-technique``      warning   no rule recommends the technique
``unused-value``          warning   no rule tests a vocabulary value, and the value is
                                    not marked ``informational`` with the reason
``stale-informational``   warning   a value marked ``informational`` is tested by a rule
``unrecommended-muscle``  warning   no recommend rule gives techniques for a muscle
``not-for-muscle``        warning   a rule recommends a technique for a muscle its
                                    ``for:`` does not list
``no-examples``           warning   a rule lacks must-fire or must-not-fire examples
``fires-per-fact``        error     a rule's engine test compiles to a pattern that
                                    each of several facts matches, so it would fire
                                    once per fact (see ``compiler.repeated_matches``)
========================  ========  =================================================

A value a question offers but no rule tests is still unused: offering it lets
a person answer truthfully, but only a rule makes it change a result, so the
vocabulary must say why none needs to (``informational: reason``).

Every finding is a :class:`~triage.errors.Problem` with its file and line;
load errors come back the same way (check ``load``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conclusions import ENGINE_SUBJECTS, FLAG_SUBJECTS, Names, Recommend
from .errors import KnowledgeBaseError, Location, Problem
from .kb import Condition, KnowledgeBase, KnowledgeRule, load_knowledge_base
from .vocabulary import FieldKind

ERROR, WARNING = "error", "warning"


def check_knowledge_base(directory: Path | str | None = None) -> list[Problem]:
    """Load the knowledge base in ``directory`` and lint it: every finding, load errors first."""
    try:
        kb = load_knowledge_base(directory)
    except KnowledgeBaseError as exc:
        return exc.problems
    return lint(kb)


def lint(kb: KnowledgeBase) -> list[Problem]:
    """Every lint finding about ``kb``, errors before warnings, each in file order."""
    spaces = {rule.id: _spaces(rule, kb) for rule in kb.rules}
    contradictory = {rule.id: problem for rule in kb.rules
                     if (problem := _contradiction(rule, spaces[rule.id], kb)) is not None}
    findings = list(contradictory.values())
    findings += _unreachable(kb, set(contradictory))
    findings += _shadowed(kb, spaces, set(contradictory))
    findings += _unused_techniques(kb)
    findings += _unused_values(kb)
    findings += _unrecommended_muscles(kb)
    findings += _techniques_not_for_muscle(kb)
    findings += _missing_examples(kb)
    findings += _fires_per_fact(kb)
    return sorted(findings, key=lambda p: (p.severity != ERROR, p.location.file or "",
                                           p.location.line or 0))


def count(problems: Iterable[Problem]) -> tuple[int, int]:
    """(errors, warnings) among ``problems``."""
    listed = list(problems)
    errors = sum(1 for p in listed if p.severity == ERROR)
    return errors, len(listed) - errors


# -- what a rule's conditions allow ------------------------------------------------

@dataclass
class _Space:
    """The values one subject may take while a rule's conditions on it all hold.

    Set subjects keep what must be in (``include``), what must be out
    (``exclude``) and lists of which at least one must be in (``any_of``).
    Finite scalars keep the allowed values outright; numbers an interval,
    with whether "unknown" and whether a known number are still allowed.
    """

    subject: str
    conditions: list[Condition] = field(default_factory=list)
    include: set[Any] = field(default_factory=set)
    exclude: set[Any] = field(default_factory=set)
    any_of: list[frozenset[Any]] = field(default_factory=list)
    allowed: set[Any] | None = None
    low: float = -math.inf
    high: float = math.inf
    may_be_unknown: bool = True
    may_be_known: bool = True


class _Shape(enum.Enum):
    """How the values a subject may take are reasoned about."""

    SET = "set"  # a set of names: what must be in, what must be out
    FINITE = "finite"  # a few scalar values, kept outright
    NUMBER = "number"  # an interval, and whether unknown is allowed


def _shape(subject: str, kb: KnowledgeBase) -> _Shape:
    if subject in FLAG_SUBJECTS:
        return _Shape.FINITE
    if subject in ENGINE_SUBJECTS:
        return _Shape.SET
    spec = kb.vocabulary.fields[subject]
    if spec.kind is FieldKind.MULTI:
        return _Shape.SET
    return _Shape.NUMBER if spec.kind is FieldKind.INTEGER else _Shape.FINITE


def _domain(subject: str, kb: KnowledgeBase) -> tuple[Any, ...]:
    if subject in ENGINE_SUBJECTS:
        return ENGINE_SUBJECTS[subject].domain(Names(kb.derived_facts, kb.muscles, tuple(kb.techniques)))
    spec = kb.vocabulary.fields[subject]
    if spec.kind is FieldKind.BOOLEAN:
        return (True, False, None)
    return spec.values + ((None,) if spec.kind is FieldKind.CHOICE else ())


def _spaces(rule: KnowledgeRule, kb: KnowledgeBase) -> dict[str, _Space]:
    spaces: dict[str, _Space] = {}
    for condition in rule.conditions:
        subject = condition.subject
        space = spaces.setdefault(subject, _Space(subject))
        space.conditions.append(condition)
        shape, op = _shape(subject, kb), condition.operator
        if shape is _Shape.FINITE:
            start = space.allowed if space.allowed is not None else set(_domain(subject, kb))
            space.allowed = {v for v in start if condition.holds(v)}
        elif shape is _Shape.SET:
            domain = frozenset(_domain(subject, kb))
            if op in ("has", "has_all"):
                space.include |= set(condition.values())
            elif op == "has_none":
                space.exclude |= set(condition.values())
            elif op == "has_any":
                space.any_of.append(frozenset(condition.values()))
            elif condition.operand:  # empty: true
                space.exclude |= domain
            else:
                space.any_of.append(domain)
        else:
            _narrow(space, condition)
    for subject, space in spaces.items():
        spec = kb.vocabulary.fields.get(subject)
        if spec is not None and spec.kind is FieldKind.INTEGER:
            space.low = max(space.low, spec.minimum if spec.minimum is not None else -math.inf)
            space.high = min(space.high, spec.maximum if spec.maximum is not None else math.inf)
    return spaces


def _narrow(space: _Space, condition: Condition) -> None:
    op, operand = condition.operator, condition.operand
    if op == "unknown":
        if operand:
            space.may_be_known = False
        else:
            space.may_be_unknown = False
        return
    space.may_be_unknown = False  # a bound never holds for an unknown number
    if op == "at_least":
        space.low = max(space.low, operand)
    elif op == "above":
        space.low = max(space.low, operand + 1)
    elif op == "below":
        space.high = min(space.high, operand - 1)
    else:
        space.high = min(space.high, operand)


def _is_empty(space: _Space, kb: KnowledgeBase) -> bool:
    shape = _shape(space.subject, kb)
    if shape is _Shape.FINITE:
        return not space.allowed
    if shape is _Shape.NUMBER:
        return not space.may_be_unknown and not (space.may_be_known and space.low <= space.high)
    if space.include & space.exclude or any(group <= space.exclude for group in space.any_of):
        return True
    spec = kb.vocabulary.fields.get(space.subject)
    return bool(spec and spec.non_empty and set(spec.values) <= space.exclude)


def _implies(space: _Space | None, condition: Condition, kb: KnowledgeBase) -> bool:
    """True when every value ``space`` allows passes ``condition`` (a safe under-estimate)."""
    subject, op = condition.subject, condition.operator
    shape = _shape(subject, kb)
    if shape is _Shape.FINITE:
        allowed = space.allowed if space is not None and space.allowed is not None \
            else set(_domain(subject, kb))
        return all(condition.holds(v) for v in allowed)
    if shape is _Shape.NUMBER:
        space = space or _Space(subject)
        if space.may_be_unknown and not condition.holds(None):
            return False
        if not space.may_be_known or space.low > space.high:
            return True
        ends = [space.low if space.low > -math.inf else -10**9,
                space.high if space.high < math.inf else 10**9]
        return all(condition.holds(v) for v in ends)
    space = space or _Space(subject)
    values = set(condition.values())
    if op == "has":
        return condition.operand in space.include
    if op == "has_all":
        return values <= space.include
    if op == "has_none":
        return values <= space.exclude
    if op == "has_any":
        return bool(values & space.include) or any(group <= values for group in space.any_of)
    if condition.operand:  # empty: true
        return set(_domain(subject, kb)) <= space.exclude
    return bool(space.include) or bool(space.any_of)


# -- checks ----------------------------------------------------------------------

def _where(rule: KnowledgeRule, condition: Condition | None = None) -> Location:
    line = condition.line if condition is not None and condition.line else rule.location.line
    return Location(rule.location.file, line)


def _contradiction(rule: KnowledgeRule, spaces: dict[str, _Space], kb: KnowledgeBase) -> Problem | None:
    for space in spaces.values():
        if _is_empty(space, kb):
            tests = " and ".join(c.describe() for c in space.conditions)
            return Problem(_where(rule, space.conditions[0]),
                           f"{rule.id} can never fire: its conditions on {space.subject} "
                           f"contradict each other ({tests})", ERROR, "never-fires")
    referred, self_care = spaces.get("referred"), spaces.get("self_care")
    if referred and self_care and referred.allowed == {True} and self_care.allowed == {True}:
        # The loader makes self-care require "no referral" and every referral come first.
        return Problem(_where(rule, referred.conditions[0]),
                       f"{rule.id} can never fire: self-care is only concluded without a "
                       "referral, so referred: true and self_care: true never hold together",
                       ERROR, "never-fires")
    return None


def _needs(condition: Condition) -> list[tuple[str, str, Any]]:
    """The conclusions a positive engine test needs: (subject, words, name or None for any)."""
    subject, op = condition.subject, condition.operator
    if condition.on_case or condition.is_negative:
        return []
    producer = ENGINE_SUBJECTS[subject]
    names = [None] if subject in FLAG_SUBJECTS or op == "empty" else condition.values()
    return [(subject, producer.needed(name), name) for name in names]


def _draws(rule: KnowledgeRule, need: tuple[str, str, Any]) -> bool:
    subject, _, name = need
    return rule.conclusion.draws(subject, name)


def _unreachable(kb: KnowledgeBase, contradictory: set[str]) -> list[Problem]:
    """Rules whose needed conclusions no rule that can fire ever draws (a least fixpoint)."""
    candidates = [r for r in kb.rules if r.id not in contradictory]
    can_fire: list[KnowledgeRule] = []
    changed = True
    while changed:
        changed = False
        for rule in candidates:
            if rule in can_fire:
                continue
            needs = [n for c in rule.conditions for n in _needs(c)]
            if all(any(_draws(r, n) for r in can_fire) for n in needs):
                can_fire.append(rule)
                changed = True
    problems = []
    for rule in candidates:
        if rule in can_fire:
            continue
        condition, need = next((c, n) for c in rule.conditions for n in _needs(c)
                               if not any(_draws(r, n) for r in can_fire))
        producers = [r.id for r in kb.rules if _draws(r, need)]
        why = (f"only {', '.join(producers)} could draw it, and none of them can fire" if producers
               else "no rule draws it")
        problems.append(Problem(_where(rule, condition),
                                f"{rule.id} can never fire: it needs {need[1]}, but {why}",
                                ERROR, "unreachable"))
    return problems


def _shadowed(kb: KnowledgeBase, spaces: dict[str, dict[str, _Space]],
              contradictory: set[str]) -> list[Problem]:
    """Rules that, whenever they fire, fire with another rule that makes them redundant."""
    rules = [r for r in kb.rules if r.id not in contradictory]
    problems = []
    for index, rule in enumerate(rules):
        for other in rules:
            if other is rule:
                continue
            why = rule.conclusion.redundant_with(other.conclusion)
            if why is None or not all(_implies(spaces[rule.id].get(c.subject), c, kb)
                                      for c in other.conditions):
                continue
            same = all(_implies(spaces[other.id].get(c.subject), c, kb) for c in rule.conditions)
            # Two identical rules: report only the later one.
            if same and rules.index(other) > index and other.conclusion.redundant_with(rule.conclusion):
                continue
            problems.append(Problem(rule.location,
                                    f"{rule.id} is shadowed by {other.id} ({other.location}): "
                                    f"whenever it fires, {other.id} fires too, and {why}",
                                    WARNING, "shadowed"))
            break
    return problems


def _unused_techniques(kb: KnowledgeBase) -> list[Problem]:
    recommended = {t for r in kb.rules if isinstance(r.conclusion, Recommend)
                   for t in r.conclusion.techniques}
    return [Problem(t.location, f"no rule recommends technique {t.id!r}", WARNING, "unused-technique")
            for t in kb.techniques.values() if t.id not in recommended]


def _unused_values(kb: KnowledgeBase) -> list[Problem]:
    """Values no rule tests and not marked informational; informational values a rule tests."""
    testers: dict[tuple[str, Any], KnowledgeRule] = {}
    for rule in kb.rules:
        for condition in rule.conditions:
            if condition.on_case:
                for value in condition.values():
                    testers.setdefault((condition.subject, value), rule)
    problems = []
    for name, spec in kb.vocabulary.fields.items():
        for value in spec.values:
            where, rule = kb.vocabulary.location(name, value), testers.get((name, value))
            if rule is None and value not in spec.informational:
                problems.append(Problem(where, f"no rule tests the value {value!r} of {name}; write "
                                        "the rule, or mark the value informational: with the reason "
                                        "no rule needs it", WARNING, "unused-value"))
            elif rule is not None and value in spec.informational:
                problems.append(Problem(where, f"the value {value!r} of {name} is marked informational, "
                                        f"but {rule.id} ({rule.location}) tests it; remove the mark",
                                        WARNING, "stale-informational"))
    return problems


def _required_muscles(rule: KnowledgeRule) -> set[str]:
    """The muscles ``rule`` needs among the likely ones (what it recommends for)."""
    return {m for c in rule.conditions if c.subject == "likely_muscles" and c.operator in ("has", "has_all")
            for m in c.values()}


def _unrecommended_muscles(kb: KnowledgeBase) -> list[Problem]:
    """Muscles no recommend rule needs: self-care would never give their techniques."""
    covered = {m for r in kb.rules if isinstance(r.conclusion, Recommend) for m in _required_muscles(r)}
    return [Problem(kb.vocabulary.location("muscles", m),
                    f"no recommend rule gives techniques for the muscle {m!r} "
                    f"(none tests likely_muscles: {{has: {m}}})", WARNING, "unrecommended-muscle")
            for m in kb.muscles if m not in covered]


def _techniques_not_for_muscle(kb: KnowledgeBase) -> list[Problem]:
    """Techniques a rule recommends for a muscle (or for any) that their ``for:`` leaves out.

    A rule that needs several muscles is satisfied by a technique for one of
    them; a rule that needs none recommends whatever the muscle, so only a
    technique ``for: [any]`` fits it.
    """
    problems = []
    for rule in kb.rules:
        if not isinstance(rule.conclusion, Recommend):
            continue
        muscles = _required_muscles(rule)
        for technique_id in rule.conclusion.techniques:
            technique = kb.techniques[technique_id]
            listed = set(technique.for_muscles)
            if "any" in listed or listed & muscles:
                continue
            given = (f"for {', '.join(sorted(muscles))}" if muscles
                     else "whatever the muscle (it tests none)")
            problems.append(Problem(rule.location,
                                    f"{rule.id} recommends technique {technique_id!r} {given}, but "
                                    f"the technique's for: ({technique.location}) lists only "
                                    f"{', '.join(technique.for_muscles)}", WARNING, "not-for-muscle"))
    return problems


def _missing_examples(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    for rule in kb.rules:
        missing = [kind for kind, cases in (("must fire", rule.examples_fire),
                                            ("must not fire", rule.examples_not_fire)) if not cases]
        if missing:
            problems.append(Problem(rule.location, f"{rule.id} has no examples that "
                                    + " and none that ".join(missing), WARNING, "no-examples"))
    return problems


def _fires_per_fact(kb: KnowledgeBase) -> list[Problem]:
    from .compiler import repeated_matches  # imports experta: not when this module is imported

    return [Problem(_where(rule, condition), f"{rule.id}: {condition.describe()} is compiled to a pattern that "
                    "each of several facts matches, so the rule would fire once per fact "
                    "(the compiler must match it once, with EXISTS)", ERROR, "fires-per-fact")
            for rule, condition in repeated_matches(kb)]


__all__ = ["ERROR", "WARNING", "check_knowledge_base", "count", "lint"]
