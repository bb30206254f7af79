"""The knowledge base as values: what a loaded, validated ``rules/`` folder is.

Every dataclass a parser of :mod:`triage.kb` builds lives here, the
questionnaire's :class:`Question` and :class:`Choice` included, so that code
which only uses a knowledge base (the compiler, audit, lint, the
questionnaire, the web pages) reads one module of plain values and never a
parser. It also lets :class:`KnowledgeBase` name its questions' type without
the model importing the parser that builds them. The one test a rule or a
question makes, :class:`~triage.kb.conditions.Condition`, stays with the
``when:`` parser in :mod:`triage.kb.conditions`, which builds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..case import Case
from ..conclusions import Conclusion
from ..errors import Location
from ..vocabulary import CaseField, Disposition, Vocabulary
from .conditions import Condition


@dataclass(frozen=True)
class KnowledgeRule:
    """One rule of the knowledge base, validated and ready to compile."""

    id: str
    description: str
    sources: tuple[str, ...]
    salience: int
    conditions: tuple[Condition, ...]
    conclusion: Conclusion
    examples_fire: tuple[Case, ...]
    examples_not_fire: tuple[Case, ...]
    location: Location


@dataclass(frozen=True)
class Technique:
    """A self-care technique from the catalogue."""

    id: str
    name: str
    kind: str
    for_muscles: tuple[str, ...]
    steps: tuple[str, ...]
    hold: str
    cautions: tuple[str, ...]
    sources: tuple[str, ...]
    location: Location


@dataclass(frozen=True)
class Source:
    """An article or guideline the knowledge rests on."""

    id: str
    title: str
    kind: str
    note: str
    #: Where a reviewer can read it (optional; the traceability report links it).
    url: str = ""


@dataclass(frozen=True)
class DispositionAdvice:
    """What the questionnaire tells a person given one disposition: a headline and advice."""

    headline: str
    advice: tuple[str, ...]


@dataclass(frozen=True)
class Choice:
    """One answer a question offers: the case value and its plain label."""

    value: str | bool
    label: str


@dataclass(frozen=True)
class Question:
    """One question of the questionnaire, validated against the vocabulary."""

    id: str
    field: str
    answer: str
    text: str
    help: str
    choices: tuple[Choice, ...]
    when: tuple[Condition, ...]
    #: Groups of tests of which at least one must hold as a whole (empty: no such need).
    when_any: tuple[tuple[Condition, ...], ...]
    #: The case field this question fills.
    spec: CaseField
    #: Asks a one-value field once more, after an earlier question left it unanswered.
    again: bool
    #: The first question of a field that a case must carry; never skipped.
    required: bool
    #: False only for a required list that needs at least one value (pain_sites).
    may_be_empty: bool
    location: Location

    @property
    def is_screen(self) -> bool:
        """True for a screening question: it offers "None of these" and "I'm not sure"
        besides its choices, and an empty answer is asked again (policy v3, principle 7)."""
        return self.spec.is_screen

    def applies(self, value_of: Callable[[str], Any]) -> bool:
        """True when every ``when`` test, and one group of ``when_any``, hold for the answers so far.

        ``value_of(field)`` returns a field's current value: a set for lists,
        the value or ``None`` for scalars.
        """
        def holds(tests: tuple[Condition, ...]) -> bool:
            return all(c.holds(value_of(c.subject)) for c in tests)

        return holds(self.when) and (not self.when_any or any(holds(g) for g in self.when_any))


@dataclass(frozen=True)
class KnowledgeBase:
    """The whole validated knowledge base."""

    directory: Path
    version: str
    vocabulary: Vocabulary
    rules: tuple[KnowledgeRule, ...]
    techniques: dict[str, Technique]
    sources: dict[str, Source]
    derived_facts: dict[str, str]
    evidence_weights: dict[str, float]
    dispositions: dict[Disposition, DispositionAdvice]
    always_advice: tuple[str, ...]
    files: tuple[Path, ...]
    questions: tuple[Question, ...] = ()
    _by_id: dict[str, KnowledgeRule] = field(default_factory=dict, repr=False, compare=False)

    @property
    def muscles(self) -> tuple[str, ...]:
        """The muscles this knowledge base can name as likely."""
        return self.vocabulary.muscles

    def rule(self, rule_id: str) -> KnowledgeRule:
        """The rule with id ``rule_id`` (``KeyError`` if there is none)."""
        if not self._by_id:
            self._by_id.update({r.id: r for r in self.rules})
        return self._by_id[rule_id]
