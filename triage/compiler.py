"""Compiling the knowledge base into a real experta ``KnowledgeEngine``.

Each :class:`~triage.knowledge.KnowledgeRule` becomes an experta ``Rule`` whose
patterns come from its conditions and whose action asserts its conclusion as
a fact and records the firing (rule id, matched facts, what it asserted).
experta's RETE network and agenda decide what fires and in which order.

Facts are shaped for speed: all answers of a case are one ``CaseFacts`` fact
(tests on it are alpha tests, with no joins), and only conclusions the
engine chains on (derived facts, muscle signs, referrals, self-care) are
separate facts.

Firing order is salience first (from the data), then the rule's position in
the knowledge base (file name, then place in the file). That tie-break is
folded into experta's salience so that the order never depends on hashing or
on which process runs the case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._experta import AS, EXISTS, NOT, Fact, KnowledgeEngine, P, Rule
from .case import Case
from .conditions import Condition
from .knowledge import Conclusion, KnowledgeBase, KnowledgeRule
from .vocabulary import CASE_FIELDS, MUSCLES


class CaseFacts(Fact):
    """All answers of the case under triage (lists as frozensets, unknown = None)."""


class Derived(Fact):
    """A derived fact, e.g. ``prolonged_sitting``."""


class Sign(Fact):
    """One sign for one muscle, with its strength and the rule that found it."""


class Referral(Fact):
    """A reason to refer, with its urgency and the rule that found it."""


class SelfCare(Fact):
    """The conclusion that self-care is reasonable."""


class Recommendation(Fact):
    """A technique recommended for self-care."""


@dataclass(frozen=True)
class Firing:
    """One rule firing: its place in the order, the facts it matched, what it asserted."""

    order: int
    rule: str
    facts: dict[str, Any]
    asserted: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"order": self.order, "rule": self.rule, "facts": self.facts,
                "asserted": list(self.asserted)}


class TriageEngine(KnowledgeEngine):
    """A knowledge engine compiled from a knowledge base; reused case after case."""

    def __init__(self) -> None:
        super().__init__()
        self.firings: list[Firing] = []
        # experta looks its deffacts up by introspection on every reset();
        # they never change, so look them up once.
        self._deffacts = super().get_deffacts()

    def get_deffacts(self) -> list[Any]:
        return self._deffacts

    def run_case(self, case: Case) -> list[Fact]:
        """Triage one case; return the facts the engine holds at the end."""
        self.reset()
        self.firings = []
        self.declare(CaseFacts(**case_fact_fields(case)))
        self.run()
        return list(self.facts.values())

    def conclusions(self, subject: str) -> list[str]:
        """The current conclusions about an engine subject, e.g. the derived facts."""
        if subject == "derived":
            return sorted(f["name"] for f in self.facts.values() if isinstance(f, Derived))
        if subject == "likely_muscles":
            found = {f["muscle"] for f in self.facts.values()
                     if isinstance(f, Sign) and f["strength"] == "strong"}
            return [m for m in MUSCLES if m in found]
        if subject == "referred":
            return sorted({f["urgency"] for f in self.facts.values() if isinstance(f, Referral)})
        return ["self_care"] if any(isinstance(f, SelfCare) for f in self.facts.values()) else []


def case_fact_fields(case: Case) -> dict[str, Any]:
    """The answers of ``case`` as fields of one fact: every field present."""
    return {name: case.value(name) for name in CASE_FIELDS if name != "id"}


def build_engine(kb: KnowledgeBase) -> TriageEngine:
    """Compile ``kb`` into a fresh engine (a new class each time).

    experta keeps rules as class attributes bound to the last instance that
    looked them up, so every engine gets a class of its own.
    """
    count = len(kb.rules)
    namespace: dict[str, Any] = {"__doc__": f"Engine compiled from {kb.directory} ({kb.version})"}
    for index, rule in enumerate(kb.rules):
        action = _action(rule)
        # The position tie-break keeps firing order stable (see module docstring).
        experta_rule = Rule(*_patterns(rule), salience=(rule.salience, count - index))(action)
        namespace[f"rule_{index:03d}"] = experta_rule
    engine_class = type("CompiledTriageEngine", (TriageEngine,), namespace)
    return engine_class()


def _patterns(rule: KnowledgeRule) -> list[Any]:
    by_subject: dict[str, list[Condition]] = {}
    for condition in rule.conditions:
        if condition.on_case:
            by_subject.setdefault(condition.subject, []).append(condition)
    case_tests = {subject: P(_all_hold(tests)) for subject, tests in by_subject.items()}
    patterns: list[Any] = [AS.case << CaseFacts(**case_tests)]
    for condition in rule.conditions:
        if not condition.on_case:
            patterns.extend(_engine_patterns(condition))
    return patterns


def _all_hold(tests: list[Condition]) -> Callable[[Any], bool]:
    if len(tests) == 1:
        return tests[0].holds
    return lambda value: all(test.holds(value) for test in tests)


def _engine_patterns(condition: Condition) -> list[Any]:
    """Patterns over the engine's own conclusions."""
    subject, op, operand = condition.subject, condition.operator, condition.operand
    if subject == "referred":
        return [Referral() if operand else NOT(Referral())]
    if subject == "self_care":
        return [SelfCare() if operand else NOT(SelfCare())]
    if subject == "derived":
        facts = [Derived(name=value) for value in condition.values()]
    elif op == "empty":
        return [NOT(Sign(strength="strong"))] if operand else [_exists(Sign(strength="strong"))]
    else:
        facts = [_exists(Sign(muscle=m, strength="strong")) for m in condition.values()]
    if op == "has_none":
        return [NOT(fact) for fact in facts]
    return facts


def _exists(fact: Fact) -> Any:
    """Match once however many facts fit (several strong signs, one firing)."""
    return EXISTS(fact)


def _action(rule: KnowledgeRule) -> Callable[..., None]:
    case_conditions = [c for c in rule.conditions if c.on_case]
    engine_subjects = list(dict.fromkeys(c.subject for c in rule.conditions if not c.on_case))
    make_facts = _fact_factory(rule.id, rule.conclusion)

    def fire(engine: TriageEngine, case: Any, **_: Any) -> None:
        facts: dict[str, Any] = {}
        for condition in case_conditions:
            facts[condition.subject] = _plain(condition.relevant(case[condition.subject]))
        for subject in engine_subjects:
            facts[subject] = engine.conclusions(subject)
        asserted = tuple(text for fact, text in make_facts() if engine.declare(fact) is not None)
        engine.firings.append(Firing(len(engine.firings) + 1, rule.id, facts, asserted))

    fire.__name__ = rule.id
    fire.__qualname__ = rule.id
    fire.__doc__ = rule.description
    return fire


def _fact_factory(rule_id: str, conclusion: Conclusion) -> Callable[[], list[tuple[Fact, str]]]:
    """Build the facts a firing asserts, each with its description for the trace."""
    kind = conclusion.kind
    text = conclusion.describe()
    if kind == "derive":
        return lambda: [(Derived(name=conclusion.derived), text)]
    if kind == "sign":
        return lambda: [(Sign(muscle=conclusion.muscle, strength=conclusion.strength,
                              rule=rule_id), text)]
    if kind == "refer":
        urgency = conclusion.urgency.value if conclusion.urgency else None
        return lambda: [(Referral(urgency=urgency, rule=rule_id, reason=conclusion.reason), text)]
    if kind == "conclude":
        return lambda: [(SelfCare(), text)]
    return lambda: [(Recommendation(technique=t), f"recommend: {t}") for t in conclusion.techniques]


def _plain(value: Any) -> Any:
    """Frozen experta values back to JSON-friendly ones."""
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value
