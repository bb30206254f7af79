"""Knowledge-base mutation testing: would a weakened referral rule be caught?

For every referral rule, :func:`mutants` makes knowledge bases that differ
from the loaded one in that rule alone:

- ``delete``: the rule is gone;
- ``lower urgency``: it refers one level less urgently (emergency -> urgent,
  urgent -> see_doctor; a see_doctor rule has no lower referral, and its
  ``delete`` mutant is that change);
- ``drop condition N``: one test of its ``when:`` is gone, each in turn.

A mutant is *killed* when a check that passes on the knowledge base itself
fails on the mutant: one of the rule's own examples (it must fire, or must
not, by rule id) or one golden case's expectations. The rule's own examples
cannot judge its ``delete`` mutant (a deleted rule fires for nothing, which
says nothing about patients), so that mutant must be killed by a golden case.
A mutant that no check kills *survives*, and the rule needs a better example
or golden case. The property tests are not used here, so they are never the
only thing that catches a mutant.

Mutant knowledge bases are built in memory (the rule tuple replaced), never
through files, and compiled once each; checks run in order (the rule's own
examples first, as they are few) and stop at the first that kills.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from ..case import Case
from ..conclusions import Refer
from ..golden import GoldenCase, unmet
from ..kb import KnowledgeBase, KnowledgeRule
from ..session import TriageSession
from ..vocabulary import Disposition

#: One level less urgent, for each referral urgency that has one.
_LOWER = {Disposition.EMERGENCY: Disposition.URGENT, Disposition.URGENT: Disposition.SEE_DOCTOR}


@dataclass(frozen=True)
class Mutant:
    """A knowledge base that differs from the loaded one in one rule."""

    rule: str
    mutation: str
    #: The mutated rule (``None`` for ``delete``).
    mutated: KnowledgeRule | None
    kb: KnowledgeBase


@dataclass(frozen=True)
class Outcome:
    """What became of one mutant: the check that killed it, or ``None`` if it survived."""

    rule: str
    mutation: str
    killed_by: str | None

    @property
    def survived(self) -> bool:
        return self.killed_by is None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "mutation": self.mutation, "killed_by": self.killed_by,
                "survived": self.survived}


@dataclass(frozen=True)
class MutationReport:
    """Every mutant's outcome, and the checks that already fail on the knowledge base itself."""

    outcomes: tuple[Outcome, ...]
    #: Checks failing before any mutation (a failing example or golden case), in words.
    baseline_failures: tuple[str, ...]

    @property
    def survivors(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.survived)

    @property
    def ok(self) -> bool:
        return not self.survivors and not self.baseline_failures

    def to_dict(self) -> dict[str, Any]:
        return {"mutants": len(self.outcomes), "killed": len(self.outcomes) - len(self.survivors),
                "survived": len(self.survivors), "ok": self.ok,
                "baseline_failures": list(self.baseline_failures),
                "outcomes": [o.to_dict() for o in self.outcomes]}


def referral_rules(kb: KnowledgeBase) -> list[KnowledgeRule]:
    """The rules that refer (the ones mutated)."""
    return [rule for rule in kb.rules if isinstance(rule.conclusion, Refer)]


def mutants(kb: KnowledgeBase) -> Iterator[Mutant]:
    """Every mutant of every referral rule of ``kb``, rule by rule in knowledge-base order."""
    for index, rule in enumerate(kb.rules):
        conclusion = rule.conclusion
        if not isinstance(conclusion, Refer):
            continue

        def with_rule(replacement: KnowledgeRule | None, i: int = index) -> KnowledgeBase:
            rules = kb.rules[:i] + ((replacement,) if replacement is not None else ()) + kb.rules[i + 1:]
            # A fresh id index: the copied one would still name the original rule.
            return dataclasses.replace(kb, rules=rules, _by_id={})

        yield Mutant(rule.id, "delete", None, with_rule(None))
        lower = _LOWER.get(conclusion.urgency)
        if lower is not None:
            weaker = dataclasses.replace(rule, conclusion=dataclasses.replace(conclusion, urgency=lower))
            yield Mutant(rule.id, f"lower urgency: {conclusion.urgency.value} -> {lower.value}", weaker,
                         with_rule(weaker))
        for n, condition in enumerate(rule.conditions):
            looser = dataclasses.replace(rule, conditions=rule.conditions[:n] + rule.conditions[n + 1:])
            yield Mutant(rule.id, f"drop condition {n + 1}: {condition.describe()}", looser, with_rule(looser))


def _examples(rule: KnowledgeRule) -> list[tuple[Case, bool, str]]:
    return ([(c, True, f"example {rule.id}: must fire {c.id.removeprefix(rule.id + ' ')}")
             for c in rule.examples_fire]
            + [(c, False, f"example {rule.id}: must not fire {c.id.removeprefix(rule.id + ' ')}")
               for c in rule.examples_not_fire])


def _fires(session: TriageSession, case: Case, rule_id: str) -> bool:
    return any(f.rule == rule_id for f in session.triage(case).fired_rules)


def mutation_test(session: TriageSession, golden: list[GoldenCase],
                  only: Collection[str] | None = None) -> MutationReport:
    """Run every mutant of ``session.kb`` against the referral rules' examples and ``golden``.

    Checks that fail on the knowledge base itself are reported as baseline
    failures and are not used to judge mutants. ``only`` limits the mutants
    to those rule ids (the baseline is still checked whole).
    """
    kb = session.kb
    baseline: list[str] = []
    passing_examples: dict[str, list[tuple[Case, bool, str]]] = {}
    for rule in referral_rules(kb):
        passing_examples[rule.id] = []
        for case, must_fire, label in _examples(rule):
            if _fires(session, case, rule.id) is must_fire:
                passing_examples[rule.id].append((case, must_fire, label))
            else:
                baseline.append(f"{label} fails on the knowledge base itself")
    passing_golden = []
    for entry in golden:
        missed = unmet(entry.expect, session.triage(entry.case), kb)
        if missed:
            baseline.append(f"golden case {entry.name} fails on the knowledge base itself: {'; '.join(missed)}")
        else:
            passing_golden.append(entry)
    outcomes = [Outcome(m.rule, m.mutation, _killer(m, passing_examples[m.rule], passing_golden))
                for m in mutants(kb) if only is None or m.rule in only]
    return MutationReport(tuple(outcomes), tuple(baseline))


def _killer(mutant: Mutant, examples: list[tuple[Case, bool, str]], golden: list[GoldenCase]) -> str | None:
    """The first check that fails on ``mutant``, in words, or ``None``."""
    session = TriageSession(mutant.kb)
    if mutant.mutated is not None:
        for case, must_fire, label in examples:
            if _fires(session, case, mutant.rule) is not must_fire:
                return label
    for entry in golden:
        missed = unmet(entry.expect, session.triage(entry.case), mutant.kb)
        if missed:
            return f"golden case {entry.name}: {missed[0]}"
    return None


def format_mutation_report(report: MutationReport, verbose: bool = False) -> str:
    """``rules mutate`` for people: baseline failures, each survivor (every mutant with ``verbose``), a summary."""
    lines = [f"BASELINE {failure}" for failure in report.baseline_failures]
    for outcome in report.outcomes:
        if outcome.survived:
            lines.append(f"SURVIVED {outcome.rule}: {outcome.mutation}")
        elif verbose:
            lines.append(f"killed   {outcome.rule}: {outcome.mutation}  <- {outcome.killed_by}")
    rules = len({o.rule for o in report.outcomes})
    lines.append(f"{len(report.outcomes)} mutants of {rules} referral rules: "
                 f"{len(report.outcomes) - len(report.survivors)} killed, {len(report.survivors)} survived"
                 + (f"; {len(report.baseline_failures)} checks fail without any mutation"
                    if report.baseline_failures else ""))
    return "\n".join(lines) + "\n"


__all__ = ["Mutant", "MutationReport", "Outcome", "format_mutation_report", "mutants", "mutation_test",
           "referral_rules"]
