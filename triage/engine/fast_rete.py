"""The fast path: experta 1.9.4's RETE internals, minus work that cannot change what fires.

Speed (issue 6): :class:`FastTriageEngine` keeps experta's RETE network,
agenda and depth strategy, and overrides a few of experta's internals with
versions that skip work which cannot change what fires or in which order:
token copies and log formatting nobody reads, walks over idle nodes,
signature inspection on every reset. Each override says why it is
equivalent; ``tests/test_performance_semantics.py`` checks the results
against :class:`~triage.engine.plain.TriageEngine`, experta's unmodified
machinery.

The overrides reach into experta's private internals (a live node's
``__class__`` swapped, parents' callbacks rebound, the name-mangled
``_KnowledgeEngine__declare`` called, ``run`` re-implemented), so they hold
only for the experta they were proven against: import this module only
through :func:`triage.engine.choice.engine_class`, which checks the version.
The internals are imported here rather than in :mod:`triage._experta` so that
another experta, where they may have moved, still runs the plain engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from .._experta import DepthStrategy, Fact, KnowledgeEngine, ReteMatcher, watchers
from .plain import TriageEngine

# Only after triage._experta, which makes experta importable on this Python.
from experta.agenda import Agenda  # noqa: E402
from experta.factlist import FactList  # noqa: E402
from experta.matchers.rete.check import FeatureCheck, TypeCheck  # noqa: E402
from experta.matchers.rete.mixins import ChildNode, NoMemory  # noqa: E402
from experta.matchers.rete.nodes import FeatureTesterNode  # noqa: E402
from experta.matchers.rete.token import Token  # noqa: E402


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


class FastTriageEngine(TriageEngine):
    """:class:`~triage.engine.plain.TriageEngine` with the overrides of this module."""

    __matcher__ = _Matcher
    __strategy__ = _Strategy

    def __init__(self) -> None:
        super().__init__()
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
