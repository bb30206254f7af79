"""What the safety evidence rests on, run once: golden cases, bundled case files, a generated corpus.

:func:`gather` triages every golden case (noting which rules each fires and
which expectations it misses), the cases of the bundled case files and a
seeded generated corpus (:mod:`triage.corpus`) on one session, and counts
how often each rule fired in each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..case import Case, parse_case
from ..corpus import DEFAULT_GENERATED, DEFAULT_SEED, generate_cases
from ..errors import CaseError
from ..golden import GoldenCase, unmet
from ..results import ErrorRecord
from ..session import TriageSession
from ..vocabulary import Vocabulary


@dataclass
class Corpus:
    """How often each rule fired over a corpus of cases."""

    name: str
    cases: int = 0
    invalid: int = 0
    fired: dict[str, int] = field(default_factory=dict)


@dataclass
class Evidence:
    """Per rule: the golden cases that fire it, and its firing counts over each corpus."""

    golden: list[GoldenCase]
    #: Rule id -> names of the golden cases that fire it.
    golden_fired: dict[str, list[str]]
    #: Golden case name -> the expectations its result misses (only failing cases).
    golden_failures: dict[str, list[str]]
    bundled: Corpus
    generated: Corpus
    seed: int


def generated_cases(vocabulary: Vocabulary, count: int, seed: int = DEFAULT_SEED) -> Iterator[Case | ErrorRecord]:
    """The seeded generated corpus, as cases of ``vocabulary`` (ids ``generated-1``...)."""
    for raw in generate_cases(vocabulary, count, seed, prefix="generated"):
        try:
            yield parse_case(raw, raw["id"], vocabulary)
        except CaseError as exc:
            yield ErrorRecord(raw["id"], exc)


def gather(session: TriageSession, golden: list[GoldenCase], bundled: Iterable[Case | ErrorRecord],
           generated: int = DEFAULT_GENERATED, seed: int = DEFAULT_SEED) -> Evidence:
    """Run the golden cases, the ``bundled`` cases and ``generated`` seeded cases on ``session``."""
    golden_fired: dict[str, list[str]] = {rule.id: [] for rule in session.kb.rules}
    failures: dict[str, list[str]] = {}
    for entry in golden:
        result = session.triage(entry.case)
        for rule_id in dict.fromkeys(f.rule for f in result.fired_rules):
            golden_fired.setdefault(rule_id, []).append(entry.name)
        if missed := unmet(entry.expect, result, session.kb):
            failures[entry.name] = missed
    return Evidence(golden, golden_fired, failures,
                    _count(session, "bundled", bundled),
                    _count(session, "generated", generated_cases(session.kb.vocabulary, generated, seed)),
                    seed)


def _count(session: TriageSession, name: str, records: Iterable[Case | ErrorRecord]) -> Corpus:
    corpus = Corpus(name, fired={rule.id: 0 for rule in session.kb.rules})
    for record in records:
        if isinstance(record, ErrorRecord):
            corpus.invalid += 1
            continue
        corpus.cases += 1
        for rule_id in {f.rule for f in session.triage(record).fired_rules}:
            corpus.fired[rule_id] = corpus.fired.get(rule_id, 0) + 1
    return corpus


__all__ = ["Corpus", "Evidence", "gather", "generated_cases"]
