"""Compiling the knowledge base into a real experta ``KnowledgeEngine``.

Each :class:`~triage.kb.model.KnowledgeRule` becomes an experta ``Rule`` whose
patterns come from its conditions and whose action asserts its conclusion as
a fact (:mod:`triage.engine.facts`) and records the firing (rule id, matched
facts, what it asserted). experta's RETE network and agenda decide what fires
and in which order.

Firing order is salience first (from the data), then the rule's position in
the knowledge base (file name, then place in the file). That tie-break is
folded into experta's salience so that the order never depends on hashing or
on which process runs the case.

The rules are compiled onto the engine class :func:`triage.engine.engine_class`
chooses: the fast path of :mod:`triage.engine.fast_rete` on the experta it was
proven against, else experta's plain machinery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._experta import AS, EXISTS, NOT, Fact, P, Rule
from .conclusions import FLAG_SUBJECTS, Conclusion
from .engine import TriageEngine, engine_class
from .engine import facts as fact_classes
from .engine.facts import CaseFacts, Derived, Referral, SelfCare, Sign, conclusion_fact
from .kb import Condition, KnowledgeBase, KnowledgeRule
from .results import Firing


def build_engine(kb: KnowledgeBase, base: type[TriageEngine] | None = None) -> TriageEngine:
    """Compile ``kb`` into a fresh engine (a new class each time, derived from ``base``).

    experta keeps rules as class attributes bound to the last instance that
    looked them up, so every engine gets a class of its own. ``base`` defaults
    to the engine this process uses (:func:`triage.engine.engine_class`);
    pass :class:`triage.engine.TriageEngine` for experta's unmodified machinery.
    """
    if base is None:
        base = engine_class()
    count = len(kb.rules)
    namespace: dict[str, Any] = {"__doc__": f"Engine compiled from {kb.directory} ({kb.version})"}
    shared_tests: dict[Any, Any] = {}
    for index, rule in enumerate(kb.rules):
        action = _action(rule)
        # The position tie-break keeps firing order stable (see module docstring).
        experta_rule = Rule(*_patterns(rule, shared_tests), salience=(rule.salience, count - index))(action)
        namespace[f"rule_{index:03d}"] = experta_rule
    compiled = type("CompiledTriageEngine", (base,), namespace)
    return compiled()


def _patterns(rule: KnowledgeRule, shared_tests: dict[Any, Any]) -> list[Any]:
    """experta patterns for ``rule``: one on the case's answers, then one per engine condition.

    Rules that test a subject the same way get the same ``P`` test, so that
    experta's RETE network shares its node: the test runs once per case, not
    once per rule.
    """
    by_subject: dict[str, list[Condition]] = {}
    for condition in rule.conditions:
        if condition.on_case:
            by_subject.setdefault(condition.subject, []).append(condition)
    case_tests = {}
    for subject, tests in by_subject.items():
        key = tuple((t.subject, t.operator, _hashable(t.operand)) for t in tests)
        if key not in shared_tests:
            shared_tests[key] = P(_all_hold(tests))
        case_tests[subject] = shared_tests[key]
    patterns: list[Any] = [AS.case << CaseFacts(**case_tests)]
    for condition in rule.conditions:
        if not condition.on_case:
            patterns.extend(_engine_patterns(condition))
    return patterns


def _hashable(operand: Any) -> Any:
    """The operand as a key: lists as tuples, and typed (``is: 1`` is not ``is: true``)."""
    return type(operand), (tuple(operand) if isinstance(operand, list) else operand)


def _all_hold(tests: list[Condition]) -> Callable[[Any], bool]:
    if len(tests) == 1:
        return tests[0].predicate()
    predicates = [test.predicate() for test in tests]
    return lambda value: all(predicate(value) for predicate in predicates)


def _engine_patterns(condition: Condition) -> list[Any]:
    """Patterns over the engine's own conclusions."""
    subject, op, operand = condition.subject, condition.operator, condition.operand
    if subject == "referred":
        # Each referral is its own fact (its rule, its urgency): match once, however many.
        return [_exists(Referral()) if operand else NOT(Referral())]
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


def repeated_matches(kb: KnowledgeBase) -> list[tuple[KnowledgeRule, Condition]]:
    """The engine tests that compile to a pattern several different facts can each match.

    A rule whose pattern matches each of several facts (two referrals, two
    signs of a muscle from different rules) fires once per fact, so it
    records and asserts its conclusion again; every such positive test must
    be wrapped in EXISTS. Found here from the compiled patterns themselves
    and the facts the rules can assert, so a new kind of test cannot slip
    through: ``triage rules check`` reports each (check ``fires-per-fact``).
    """
    assertions = [a for rule in kb.rules for a in rule.conclusion.asserts(rule.id)]
    found = []
    for rule in kb.rules:
        for condition in rule.conditions:
            if condition.on_case:
                continue
            for pattern in _engine_patterns(condition):
                if not type(pattern).__module__ == fact_classes.__name__:
                    continue  # EXISTS or NOT: at most one match
                wanted = {k: v for k, v in dict(pattern).items() if isinstance(k, str)}
                matching = {a.fields for a in assertions if a.fact == type(pattern).__name__
                            and all(dict(a.fields).get(k) == v for k, v in wanted.items())}
                if len(matching) > 1:
                    found.append((rule, condition))
    return found


def _action(rule: KnowledgeRule) -> Callable[..., None]:
    case_conditions = [c for c in rule.conditions if c.on_case]
    engine_conditions = [c for c in rule.conditions if not c.on_case]
    make_facts = _fact_factory(rule.id, rule.conclusion)

    def fire(engine: TriageEngine, case: Any, **_: Any) -> None:
        facts: dict[str, Any] = {}

        def record(condition: Condition, value: Any) -> None:
            seen = _plain(condition.relevant(value))
            if isinstance(seen, list) and condition.subject in facts:
                # Several tests on one list: show every value they looked at.
                seen = sorted(set(facts[condition.subject]) | set(seen))
            facts[condition.subject] = seen

        for condition in case_conditions:
            record(condition, case[condition.subject])
        for condition in engine_conditions:
            if condition.subject not in FLAG_SUBJECTS:
                # Only the conclusions the test looked at, as for answers.
                record(condition, engine.conclusions(condition.subject))
            else:
                facts[condition.subject] = engine.conclusions(condition.subject)
        asserted = tuple(text for fact, text in make_facts() if engine.declare(fact) is not None)
        engine.firings.append(Firing(len(engine.firings) + 1, rule.id, facts, asserted))

    fire.__name__ = rule.id
    fire.__qualname__ = rule.id
    fire.__doc__ = rule.description
    return fire


def _fact_factory(rule_id: str, conclusion: Conclusion) -> Callable[[], list[tuple[Fact, str]]]:
    """Build the facts a firing asserts, each with its description for the trace."""
    # Looked up once here, not on every firing.
    made = [(getattr(fact_classes, a.fact), dict(a.fields), a.text) for a in conclusion.asserts(rule_id)]
    if all(isinstance(value, str) for _, fields, _ in made for value in fields.values()):
        return lambda: [(conclusion_fact(fact, fields), text) for fact, fields, text in made]
    return lambda: [(fact(**fields), text) for fact, fields, text in made]


def _plain(value: Any) -> Any:
    """Frozen experta values back to JSON-friendly ones."""
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value
