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

Speed (issue 6): ``TriageEngine`` keeps experta's RETE network, agenda and
depth strategy, and overrides a few of experta's internals with versions that
skip work which cannot change what fires or in which order: token copies and
log formatting nobody reads, walks over idle nodes, signature inspection on
every reset. Each override says why it is equivalent;
``tests/test_performance_semantics.py`` checks the results against experta's
unmodified machinery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._experta import (AS, EXISTS, NOT, Agenda, ChildNode, DepthStrategy, Fact, FactList,
                       FeatureCheck, FeatureTesterNode, KnowledgeEngine, NoMemory, P, ReteMatcher,
                       Rule, Token, TypeCheck, watchers)
from .case import Case
from .conditions import Condition
from .knowledge import Conclusion, KnowledgeBase, KnowledgeRule


class CaseFacts(Fact):
    """All answers of the case under triage (lists as frozensets, unknown = None)."""

    @classmethod
    def of(cls, case: Case) -> CaseFacts:
        """The fact for ``case``.

        experta's ``Fact`` passes each value through ``freeze()``, which
        rebuilds every frozenset item by item; a case's values are already
        frozensets and scalars, which ``freeze()`` would return unchanged.
        """
        fact = cls()
        dict.update(fact, case.answers)
        return fact


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


class _Matcher(ReteMatcher):
    """experta's RETE matcher, minus work that cannot change its answers.

    - ``changes`` asks only the conflict-set nodes that hold pending
      activations; asking an empty one returns two empty sets.
    - ``reset`` wipes each node's memory once, from a flat list, instead of
      walking every path of the network (shared nodes were wiped repeatedly).
    - New facts enter the network as :class:`_Token` s, whose copies skip
      re-validation; alpha nodes copy a token only when their test adds
      bindings to it (see :class:`_AlphaNode`).
    """

    def __init__(self, engine: KnowledgeEngine) -> None:
        super().__init__(engine)
        nodes = _all_nodes(self.root_node)
        _AlphaNode.adopt(nodes)
        self._conflict_sets = self._get_conflict_set_nodes()
        self._memories = [node for node in nodes if type(node)._reset is not NoMemory._reset]

    def changes(self, adding: list[Fact] | None = None,
                deleting: list[Fact] | None = None) -> tuple[list[Any], list[Any]]:
        children = self.root_node.children
        # What experta's BusNode.remove and BusNode.add do, with cheaper tokens.
        for fact in deleting or ():
            token = _Token.invalid(fact)
            for child in children:
                child.callback(token)
        for fact in adding or ():
            token = _Token.valid(fact)
            for child in children:
                child.callback(token)
        added: list[Any] = []
        removed: list[Any] = []
        for node in self._conflict_sets:
            if node.added or node.removed:
                node_added, node_removed = node.get_activations()
                added.extend(node_added)
                removed.extend(node_removed)
        return added, removed

    def reset(self) -> None:
        for node in self._memories:
            node._reset()


def _all_nodes(root: Any) -> list[Any]:
    """Every node of the network from ``root`` down, each once."""
    seen: dict[int, Any] = {}
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            pending.extend(child.node for child in node.children)
    return list(seen.values())


class _Token(Token):
    """experta's token, copied without re-validating what a valid token already holds."""

    def copy(self) -> _Token:
        return tuple.__new__(type(self), (self.tag, self.data.copy(), self.context.copy()))


class _AlphaNode(FeatureTesterNode):
    """experta's alpha (feature tester) node without its defensive token copies.

    experta copies the token on entry to every node, because a test may add
    bindings to the token's context. Most tests only say yes or no, and every
    node that keeps or changes a token (joins, conflict sets) copies it on
    entry anyway, so this node copies only when its test returns bindings.
    Type tests and tests of one named field are called directly (the same
    lookup and check experta's ``TypeCheck`` and ``FeatureCheck`` make).
    The tests, the binding rules and the order children are told are
    experta's; only the MATCH and MATCHER watchers' debug lines are not written.
    """

    test: Callable[[Any], Any]

    def activate(self, token: Any) -> None:
        if len(token.data) != 1:
            raise ValueError("an alpha node tests one fact")
        (fact,) = token.data
        match = self.test(fact)
        if not match:
            return
        if isinstance(match, Mapping):
            token = token.copy()
            context = token.context
            for key, value in match.items():
                if isinstance(key, tuple):  # a negated binding
                    if key[1] in context and context[key[1]] == value:
                        return
                else:
                    if context.get(key, value) != value:
                        return
                    if (False, key) in context and context[(False, key)] == value:
                        return
            context.update(match)
        for child in self.children:
            child.callback(token)

    @classmethod
    def adopt(cls, nodes: list[Any]) -> None:
        """Turn experta's feature tester nodes among ``nodes`` into this class, in place."""
        for node in nodes:
            if type(node) is FeatureTesterNode:
                node.__class__ = cls
                node.test = _direct_test(node.matcher)
        # Parents hold bound ``activate`` methods; rebind them to the new class.
        for node in nodes:
            node.children = [ChildNode(child.node, child.node.activate)
                             if isinstance(child.node, cls) else child
                             for child in node.children]


def _direct_test(check: Any) -> Callable[[Any], Any]:
    """``check`` as a plain function of the fact, for the checks our rules compile to."""
    if isinstance(check, TypeCheck):
        fact_type = check.fact_type
        return lambda fact: type(fact) == fact_type  # noqa: E721 (experta's exact test)
    what = getattr(check, "what", None)
    if (isinstance(check, FeatureCheck) and isinstance(what, str) and "__" not in what
            and not what.isnumeric()):
        compare, expected = check.check, check.expected

        def field_test(fact: Any) -> Any:
            try:
                value = fact[what]
            except (IndexError, KeyError, TypeError):
                return False
            return compare(value, expected)

        return field_test
    return check


class _Strategy(DepthStrategy):
    """experta's depth strategy without the ``lru_cache`` on ``get_key``.

    The key is a pure function of the activation: hashing an activation for
    the cache costs more than computing the key, and the cache kept the last
    128 activations (and their facts) alive from one case to the next.
    """

    def get_key(self, activation: Any) -> tuple[Any, list[int]]:
        facts = sorted((f["__factid__"] for f in activation.facts), reverse=True)
        return (activation.rule.salience, facts)


class TriageEngine(KnowledgeEngine):
    """A knowledge engine compiled from a knowledge base; reused case after case."""

    __matcher__ = _Matcher
    __strategy__ = _Strategy

    def __init__(self) -> None:
        super().__init__()
        self.firings: list[Firing] = []
        # experta looks its deffacts up by introspection on every reset();
        # they never change, so look them up once.
        self._deffacts = super().get_deffacts()

    def get_deffacts(self) -> list[Any]:
        return self._deffacts

    def reset(self) -> None:  # type: ignore[override]
        """experta's ``reset()`` for deffacts that take no arguments (ours never do).

        experta inspects every deffact's signature on each reset to filter
        keyword arguments; with none to pass, calling each deffact is the same.
        """
        self.agenda = Agenda()
        self.facts = FactList()
        self.matcher.reset()
        facts = [fact for deffact in self._deffacts for fact in deffact()]
        self._KnowledgeEngine__declare(*facts)  # type: ignore[attr-defined]
        self.running = False

    def run(self, steps: float = float("inf")) -> None:
        """experta's ``run()``, formatting its log lines only when its watchers listen.

        experta builds the ``FIRE n rule: facts`` text on every firing even
        with logging off; the loop itself (the agenda picks what fires) is
        unchanged.
        """
        self.running = True
        execution = 0
        log_fires = watchers.RULES.isEnabledFor(logging.INFO)
        log_agenda = watchers.worth("AGENDA", "DEBUG")
        while steps > 0 and self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
            if log_agenda:
                for index, pending in enumerate(self.agenda.activations):
                    watchers.AGENDA.debug("%d: %r %r", index, pending.rule.__name__,
                                          ", ".join(str(f) for f in pending.facts))
            activation = self.agenda.get_next()
            if activation is None:
                break
            steps -= 1
            execution += 1
            if log_fires:
                watchers.RULES.info("FIRE %s %s: %s", execution, activation.rule.__name__,
                                    ", ".join(str(f) for f in activation.facts))
            activation.rule(self, **{k: v for k, v in activation.context.items()
                                     if not k.startswith("__")})
        self.running = False

    def run_case(self, case: Case) -> list[Fact]:
        """Triage one case; return the facts the engine holds at the end."""
        self.reset()
        self.firings = []
        self.declare(CaseFacts.of(case))
        self.run()
        return list(self.facts.values())

    def conclusions(self, subject: str) -> list[str]:
        """The current conclusions about an engine subject, e.g. the derived facts."""
        if subject == "derived":
            return sorted(f["name"] for f in self.facts.values() if isinstance(f, Derived))
        if subject == "likely_muscles":
            found = {f["muscle"] for f in self.facts.values()
                     if isinstance(f, Sign) and f["strength"] == "strong"}
            return sorted(found)
        if subject == "referred":
            return sorted({f["urgency"] for f in self.facts.values() if isinstance(f, Referral)})
        return ["self_care"] if any(isinstance(f, SelfCare) for f in self.facts.values()) else []


def build_engine(kb: KnowledgeBase, base: type[TriageEngine] = TriageEngine) -> TriageEngine:
    """Compile ``kb`` into a fresh engine (a new class each time, derived from ``base``).

    experta keeps rules as class attributes bound to the last instance that
    looked them up, so every engine gets a class of its own. ``base`` lets
    tests compile the same rules onto experta's unmodified machinery.
    """
    count = len(kb.rules)
    namespace: dict[str, Any] = {"__doc__": f"Engine compiled from {kb.directory} ({kb.version})"}
    for index, rule in enumerate(kb.rules):
        action = _action(rule)
        # The position tie-break keeps firing order stable (see module docstring).
        experta_rule = Rule(*_patterns(rule), salience=(rule.salience, count - index))(action)
        namespace[f"rule_{index:03d}"] = experta_rule
    engine_class = type("CompiledTriageEngine", (base,), namespace)
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
            if condition.subject in ("derived", "likely_muscles"):
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
