"""Knowledge-base mutation testing: every weakened referral rule is caught by its examples or a golden case.

The rules mutated are whatever the loaded knowledge base holds, so a new
referral rule is held to the same test. The property tests
(tests/test_properties.py) are not among the killers: each mutant must be
caught by a rule's own example or a golden case.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from triage.conclusions import Refer
from triage.golden import GoldenCase
from triage.kb import KnowledgeBase
from triage.safety.mutation import MutationReport, format_mutation_report, mutants, mutation_test
from triage.session import TriageSession
from triage.vocabulary import Disposition
from safety.support import weaken_an_urgent_rule


@pytest.fixture(scope="module")
def report(session: TriageSession, golden: list[GoldenCase]) -> MutationReport:
    return mutation_test(session, golden)


def test_no_mutant_of_a_referral_rule_survives(report: MutationReport) -> None:
    assert report.baseline_failures == ()
    assert [f"{o.rule}: {o.mutation}" for o in report.survivors] == []


def test_every_referral_rule_is_deleted_lowered_and_stripped_of_each_condition(kb: KnowledgeBase,
                                                                                report: MutationReport) -> None:
    expected = []
    for rule in kb.rules:
        if not isinstance(rule.conclusion, Refer):
            continue
        expected.append((rule.id, "delete"))
        if rule.conclusion.urgency is not Disposition.SEE_DOCTOR:
            expected.append((rule.id, "lower urgency"))
        expected += [(rule.id, f"drop condition {n}") for n in range(1, len(rule.conditions) + 1)]
    assert [(o.rule, o.mutation.split(":")[0]) for o in report.outcomes] == expected


def test_a_deleted_rule_is_caught_by_behaviour_not_by_its_own_examples(report: MutationReport) -> None:
    """A deleted rule's own examples would fail by its id alone, which says nothing about patients."""
    deleted = [o for o in report.outcomes if o.mutation == "delete"]
    assert deleted and all((o.killed_by or "").startswith("golden case ") for o in deleted)


def test_an_emergency_rule_lowered_to_urgent_is_caught(kb: KnowledgeBase) -> None:
    mutant = next(m for m in mutants(kb) if m.mutation == "lower urgency: emergency -> urgent")
    lowered = mutant.kb.rule(mutant.rule).conclusion
    assert isinstance(lowered, Refer) and lowered.urgency is Disposition.URGENT
    assert kb.rule(mutant.rule).conclusion.urgency is Disposition.EMERGENCY  # the original is untouched


def test_a_removed_example_lets_a_mutant_survive_and_names_it(session: TriageSession,
                                                              report: MutationReport) -> None:
    """A mutant that a must-not-fire example kills survives once that rule's examples are gone."""
    found = next(o for o in report.outcomes if "must not fire" in (o.killed_by or ""))
    kb = session.kb
    rules = tuple(dataclasses.replace(r, examples_not_fire=()) if r.id == found.rule else r for r in kb.rules)
    weaker = TriageSession(dataclasses.replace(kb, rules=rules, _by_id={}))
    without = mutation_test(weaker, [], only={found.rule})
    assert (found.rule, found.mutation) in [(o.rule, o.mutation) for o in without.survivors]
    assert f"SURVIVED {found.rule}: {found.mutation}\n" in format_mutation_report(without)
    assert not without.ok


def test_a_weakened_rule_fails_before_any_mutation(rules_copy: Path, golden: list[GoldenCase]) -> None:
    weakened = weaken_an_urgent_rule(rules_copy)
    report = mutation_test(TriageSession(rules_dir=rules_copy), golden, only={weakened})
    assert report.baseline_failures and not report.ok
    assert all("fails on the knowledge base itself" in f for f in report.baseline_failures)
    assert any("disposition: expected 'urgent', got 'see_doctor'" in f for f in report.baseline_failures), weakened
