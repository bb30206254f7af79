"""The fast path: experta 1.9.4's RETE internals, minus work that cannot change what fires.

Speed (issues 6 and 10): :class:`FastTriageEngine` keeps experta's RETE
network, agenda and depth strategy, and overrides a few of experta's
internals with versions that skip work which cannot change what fires or in
which order: copies of tokens no node changes, re-validation of tokens built
from checked facts, type tests a fact's class cannot pass, log formatting
nobody reads, walks over idle nodes, signature inspection on every reset.
Each override says why it is equivalent; ``tests/test_performance_semantics.py``
checks the results against :class:`~triage.engine.plain.TriageEngine`,
experta's unmodified machinery.

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
from contextlib import suppress
from operator import attrgetter
from typing import Any

from .._experta import DepthStrategy, Fact, KnowledgeEngine, P, ReteMatcher, watchers
from .plain import TriageEngine

# Only after triage._experta, which makes experta importable on this Python.
from experta.activation import Activation  # noqa: E402
from experta.agenda import Agenda  # noqa: E402
from experta.factlist import FactList  # noqa: E402
from experta.matchers.rete.check import FeatureCheck, TypeCheck  # noqa: E402
from experta.matchers.rete.mixins import ChildNode, NoMemory  # noqa: E402
from experta.matchers.rete.nodes import ConflictSetNode, FeatureTesterNode, NotNode, OrdinaryMatchNode  # noqa: E402
from experta.matchers.rete.token import Token, TokenInfo  # noqa: E402


class _Matcher(ReteMatcher):
    """experta's RETE matcher, minus work that cannot change its answers.

    - A new fact goes straight to the nodes below the root's type test that
      its type passes (the root's children are one type test per fact class;
      the others would all say no), in the order experta tells them.
    - ``changes`` asks only the conflict-set nodes that received tokens since
      it last asked, in experta's order; asking an untouched one returns two
      empty sets.
    - ``reset`` wipes the memory of each node that received a token since the
      last reset, once, instead of walking every path of the network (shared
      nodes were wiped repeatedly, and idle ones hold nothing to wipe).
    - Tokens are not copied on entry to nodes that never change them, and
      the tokens nodes make skip re-validation (see :class:`_AlphaNode`,
      :class:`_ConflictSetNode`, :class:`_OrdinaryMatchNode`, :class:`_NotNode`).
    """

    def __init__(self, engine: KnowledgeEngine) -> None:
        super().__init__(engine)
        nodes = _all_nodes(self.root_node)
        _adopt(nodes)
        self._touched: list[_ConflictSetNode] = []
        for order, node in enumerate(self._get_conflict_set_nodes()):
            node.order, node.touched, node.queued = order, self._touched, False
        # Nodes that may hold memory since the last reset; the others' memories are still empty.
        self._in_use: set[Any] = set()
        memories = [node for node in nodes if type(node)._reset is not NoMemory._reset]
        for node in memories:
            if isinstance(node, _MARKS_USE):
                node.in_use = self._in_use
        # Any other node keeping memory does not say when it is in use: wipe it every time.
        self._always_wiped = [node for node in memories if not isinstance(node, _MARKS_USE)]
        self._routes: dict[type, list[Callable[[Any], Any]]] = {}

    def _route(self, fact_type: type) -> list[Callable[[Any], Any]]:
        """Who a new fact of ``fact_type`` is passed to: what the root's children would do."""
        route = self._routes.get(fact_type)
        if route is None:
            route = []
            for child in self.root_node.children:
                node = child.node
                if getattr(node, "fact_type", None) is None:
                    route.append(child.callback)
                elif fact_type == node.fact_type:
                    route.extend(grandchild.callback for grandchild in node.children)
            self._routes[fact_type] = route
        return route

    def changes(self, adding: list[Fact] | None = None,
                deleting: list[Fact] | None = None) -> tuple[list[Any], list[Any]]:
        # What experta's BusNode.remove and BusNode.add do, routed by type.
        for fact in deleting or ():
            token = _token(_INVALID, fact)
            for callback in self._route(type(fact)):
                callback(token)
        for fact in adding or ():
            token = _token(_VALID, fact)
            for callback in self._route(type(fact)):
                callback(token)
        added: list[Any] = []
        removed: list[Any] = []
        touched = self._touched
        if touched:
            touched.sort(key=_by_order)
            for node in touched:
                node.queued = False
                node_added, node_removed = node.get_activations()
                added.extend(node_added)
                removed.extend(node_removed)
            touched.clear()
        return added, removed

    def reset(self) -> None:
        for node in self._in_use:
            node._reset()
        self._in_use.clear()
        for node in self._always_wiped:
            node._reset()


def _adopt(nodes: list[Any]) -> None:
    """Turn experta's nodes among ``nodes`` into this module's classes, in place.

    Parents hold their children's bound ``activate`` methods; those are
    rebound to the new classes, each to the same input (left or right).
    """
    classes = {FeatureTesterNode: _AlphaNode, ConflictSetNode: _ConflictSetNode,
               OrdinaryMatchNode: _OrdinaryMatchNode, NotNode: _NotNode}
    for node in nodes:
        adopted = classes.get(type(node))
        if adopted is not None:
            node.__class__ = adopted
            if adopted is _AlphaNode:
                _AlphaNode.prepare(node)
    for node in nodes:
        node.children = [ChildNode(child.node, getattr(child.node, child.callback.__name__))
                         if type(child.node) in _ADOPTED else child
                         for child in node.children]


_by_order = attrgetter("order")
_VALID, _INVALID = Token.TagType.VALID, Token.TagType.INVALID


def _token(tag: Token.TagType, fact: Fact) -> _Token:
    """``Token(tag, fact)`` for a declared fact (which ``FactList.declare`` checked is a Fact)."""
    return tuple.__new__(_Token, (tag, {fact}, {}))


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

    def prepare(self) -> None:
        """Called once this node became an :class:`_AlphaNode`: its test as a plain function."""
        check = self.matcher
        self.fact_type = check.fact_type if isinstance(check, TypeCheck) else None
        self.test = _direct_test(check)


class _ConflictSetNode(ConflictSetNode):
    """experta's conflict-set node, without copying the token it only reads.

    It also puts itself on its matcher's list of touched nodes, so that
    ``changes`` asks only those for their activations.
    """

    order: int
    touched: list[_ConflictSetNode]
    queued: bool

    def activate(self, token: Any) -> None:
        # experta's ConflictSetNode._activate, on the token itself.
        self.in_use.add(self)
        info = _info(token)
        activation = Activation(self.rule, info.data,
                                {k: v for k, v in info.context if isinstance(k, str)})
        if token.tag is _VALID:
            if info not in self.memory:
                self.memory.add(info)
                if activation in self.removed:
                    self.removed.remove(activation)
                else:
                    self.added.add(activation)
        else:
            try:
                self.memory.remove(info)
            except ValueError:
                pass
            else:
                if activation in self.added:
                    self.added.remove(activation)
                else:
                    self.removed.add(activation)
        if not self.queued:
            self.queued = True
            self.touched.append(self)


class _OrdinaryMatchNode(OrdinaryMatchNode):
    """experta's join node: the same memories, matches and joined tokens, built cheaper.

    Tokens it only reads are not copied on entry, the tokens it makes are
    built without re-validating facts experta already checked, and the
    MATCH and MATCHER watchers' debug lines are not written.
    """

    def activate_left(self, token: Any) -> None:
        self._join(token, self.left_memory, self.right_memory, is_left=True)

    def activate_right(self, token: Any) -> None:
        self._join(token, self.right_memory, self.left_memory, is_left=False)

    def _join(self, token: Any, memory: list[Any], other_memory: list[Any], is_left: bool) -> None:
        """experta's ``OrdinaryMatchNode.__activation``."""
        self.in_use.add(self)
        if token.tag is _VALID:
            memory.append(_info(token))
        else:
            with suppress(ValueError):
                memory.remove(_info(token))
        context = token.context
        for other_data, other_items in other_memory:
            other_context = dict(other_items)
            if is_left:
                match = self.matcher(context, other_context)
            else:
                match = self.matcher(other_context, context)
            if match:
                joined = {k: v for k, v in context.items() if isinstance(k, str)}
                for k, v in other_context.items():
                    if not isinstance(k, tuple):  # negated values are not needed any further
                        joined[k] = v
                new_token = tuple.__new__(Token, (token.tag, token.data | other_data, joined))
                for child in self.children:
                    child.callback(new_token)


class _NotNode(NotNode):
    """experta's NOT node: the same counts and tokens, built cheaper (as :class:`_OrdinaryMatchNode`)."""

    def activate_left(self, token: Any) -> None:
        """experta's ``NotNode._activate_left``."""
        self.in_use.add(self)
        info = _info(token)
        if not self.right_memory:
            if token.tag is _VALID:
                self.left_memory[info] = 0
            else:
                del self.left_memory[info]
            for child in self.children:
                child.callback(token)
            return
        count = 0
        for _, right_items in self.right_memory:
            if self.matcher(token.context, dict(right_items)):
                count += 1
                if token.tag is not _VALID:
                    break  # a retraction only asks whether anything matches
        if count == 0:
            for child in self.children:
                child.callback(token)
        if token.tag is _VALID:
            self.left_memory[info] = count
        else:
            del self.left_memory[info]

    def activate_right(self, token: Any) -> None:
        """experta's ``NotNode._activate_right``."""
        self.in_use.add(self)
        if token.tag is _VALID:
            self.right_memory.append(_info(token))
            step = 1
        else:
            step = -1
            self.right_memory.remove(_info(token))
        for left in self.left_memory:
            if self.matcher(dict(left.context), token.context):
                self.left_memory[left] += step
                count = self.left_memory[left]
                if (count == 0 and step == -1) or (count == 1 and step == 1):
                    # The last match went: the left token holds again; the first came: it no longer does.
                    tag = _VALID if step == -1 else _INVALID
                    new_token = tuple.__new__(Token, (tag, set(left.data), dict(left.context)))
                    for child in self.children:
                        child.callback(new_token)


def _info(token: Any) -> TokenInfo:
    """``token.to_info()``: the token's facts and context, frozen (a memory entry, a set key)."""
    return tuple.__new__(TokenInfo, (frozenset(token.data), frozenset(token.context.items())))


_ADOPTED = (_AlphaNode, _ConflictSetNode, _OrdinaryMatchNode, _NotNode)
#: The adopted nodes with memory, which add themselves to their matcher's nodes in use.
_MARKS_USE = (_ConflictSetNode, _OrdinaryMatchNode, _NotNode)


def _direct_test(check: Any) -> Callable[[Any], Any]:
    """``check`` as a plain function of the fact, for the checks our rules compile to."""
    if isinstance(check, TypeCheck):
        fact_type = check.fact_type
        return lambda fact: type(fact) == fact_type  # noqa: E721 (experta's exact test)
    what = getattr(check, "what", None)
    if (isinstance(check, FeatureCheck) and isinstance(what, str) and "__" not in what
            and not what.isnumeric()):
        how = check.how
        if isinstance(how, P) and how.__bind__ is None:
            # experta's match_predicate for an unbound P: True when the predicate holds.
            predicate = how.match

            def predicate_test(fact: Any) -> bool:
                try:
                    value = fact[what]
                except (IndexError, KeyError, TypeError):
                    return False
                return True if predicate(value) else False

            return predicate_test
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


class _FactList(FactList):
    """experta's fact list, its ``declare`` without a method call per key of the fact."""

    def declare(self, fact: Fact) -> Fact | None:
        """experta's ``FactList.declare``: the same checks, id, counter and log line."""
        if not isinstance(fact, Fact):
            raise ValueError("The fact must descend the Fact class.")
        fact.validate()
        # experta's _get_fact_id: the class and every item but the special (__x__) ones.
        fact_id = frozenset([fact.__class__, *(item for item in fact.items() if not (
            isinstance(item[0], str) and item[0].startswith("__") and item[0].endswith("__")))])
        if self.duplication or fact_id not in self.reference_counter:
            index = self.last_index
            dict.__setitem__(fact, "__factid__", index)  # what Fact's __factid__ setter does
            self[index] = fact
            self.last_index += 1
            self.added.append(fact)
            self.reference_counter[fact_id] += 1
            watchers.FACTS.info(" ==> %s: %r", fact, fact)
            return fact
        return None


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
        The fact list is :class:`_FactList`, experta's with a cheaper ``declare``.
        """
        self.agenda = Agenda()
        self.facts = _FactList()
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
