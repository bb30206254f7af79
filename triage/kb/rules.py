"""The ``rules:`` section: each rule's tests, its conclusion, its salience and its examples.

A rule's ``when:`` is read by :func:`~triage.kb.conditions.parse_when` and its
``then:`` by the class of its kind of conclusion (:mod:`triage.conclusions`);
what is left here is the rule entry itself and its examples, the cases it
must and must not fire for, which are read as cases against the vocabulary.
Each rule's safety (:func:`~triage.kb.checks.check_safety`) is checked as it
is read; the checks across rules run once all are read.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from ..case import Case, parse_case
from ..conclusions import Conclusion, Names, kind_of
from ..errors import CaseError, Location, Problem
from ..vocabulary import Vocabulary
from ..yamlio import YamlList, YamlMap
from .checks import check_safety
from .conditions import parse_when
from .entries import Entries, check_keys, entries_with_ids, required_text
from .model import KnowledgeRule
from .sources import cited_sources

#: A rule id: dotted lower-case words (``refer.emergency.saddle_numbness``).
RULE_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
#: Laid under every rule example, so that examples only say what matters.
EXAMPLE_BASE: dict[str, Any] = {
    "pain_sites": ["lower_back"], "red_flags": [], "other_symptoms": [], "conditions": [],
    # Known, unremarkable answers (policy v3, principle 8: self-care needs them);
    # an example about an unknown one writes it as null.
    "age": 40, "severity": 3, "duration_days": 7,
}
_KEYS = ("id", "description", "sources", "salience", "when", "then", "examples")


def parse_rules(entries: Entries, vocabulary: Vocabulary, names: Names, sources: Collection[str],
                salience: Mapping[str, int], problems: list[Problem]) -> list[KnowledgeRule]:
    """The rules of ``entries`` in order, appending a problem for each mistake.

    ``names`` are the derived facts, muscles and techniques a rule may name,
    ``sources`` the ids it may cite and ``salience`` the default salience of
    each kind of conclusion. A rule whose conclusion cannot be read is left out.
    """
    reader = _RuleReader(vocabulary, names, sources, salience, problems)
    rules = []
    for item, file, ident in entries_with_ids("rules", entries, RULE_ID, problems):
        rule = reader.rule(item, file, ident)
        if rule is not None:
            rules.append(rule)
    return rules


class _RuleReader:
    """Reads one rule entry at a time against what the sections before the rules declared."""

    def __init__(self, vocabulary: Vocabulary, names: Names, sources: Collection[str],
                 salience: Mapping[str, int], problems: list[Problem]) -> None:
        self.vocabulary = vocabulary
        self.names = names
        self.sources = sources
        self.salience = salience
        self.problems = problems

    def rule(self, item: YamlMap, file: str, ident: str) -> KnowledgeRule | None:
        """The rule ``item`` (with id ``ident``), or ``None`` if its conclusion cannot be read."""
        check_keys(file, item, _KEYS, "rule field", self.problems)
        where = Location(file, item.line, field=None)
        description = required_text(item, "description", file, self.problems)
        rule_sources = cited_sources(item, file, self.sources, self.problems)
        conditions = parse_when(item, file, self.problems, self.vocabulary, self.names.derived)
        conclusion = self._conclusion(item, file)
        if conclusion is None:
            return None
        check_safety(ident, conditions, conclusion, where, self.problems)
        level = item.get("salience", self.salience.get(conclusion.kind, 0))
        if isinstance(level, bool) or not isinstance(level, int):
            self.problems.append(Problem(Location(file, item.line_of("salience")),
                                         f"salience must be a whole number, got {level!r}"))
            level = 0
        fire, not_fire = self._examples(item, file, ident)
        return KnowledgeRule(ident, description, rule_sources, level, tuple(conditions), conclusion,
                             fire, not_fire, where)

    def _conclusion(self, item: YamlMap, file: str) -> Conclusion | None:
        """The conclusion ``then:`` draws, read by the class of its kind."""
        then = item.get("then")
        where = Location(file, item.line_of("then"))
        kind = kind_of(then, where, self.problems)
        if kind is None:
            return None
        check_keys(file, then, kind.keys, f"key for a {kind.kind} conclusion", self.problems)
        return kind.parse(then, where, self.names, self.problems)

    def _examples(self, item: YamlMap, file: str, ident: str) -> tuple[tuple[Case, ...], tuple[Case, ...]]:
        """The cases the rule must fire for and must not, each laid over :data:`EXAMPLE_BASE`."""
        examples = item.get("examples")
        if examples is None:
            return (), ()
        out: dict[str, list[Case]] = {"fires": [], "does_not_fire": []}
        if not isinstance(examples, YamlMap):
            self.problems.append(Problem(Location(file, item.line_of("examples")),
                                         "examples must be a mapping with fires and does_not_fire"))
            return (), ()
        check_keys(file, examples, tuple(out), "examples key", self.problems)
        for key, cases in out.items():
            listed = examples.get(key, [])
            if not isinstance(listed, list):
                self.problems.append(Problem(Location(file, examples.line_of(key)),
                                             f"examples.{key} must be a list of cases"))
                continue
            for n, raw in enumerate(listed, start=1):
                line = listed.line_of(n - 1) if isinstance(listed, YamlList) else examples.line_of(key)
                merged = {**EXAMPLE_BASE, **raw} if isinstance(raw, dict) else raw
                try:
                    cases.append(parse_case(merged, f"{ident} {key} #{n}", self.vocabulary, file=file, line=line))
                except CaseError as exc:
                    self.problems.append(Problem(exc.location, f"invalid example: {exc.message}"))
        return tuple(out["fires"]), tuple(out["does_not_fire"])
