"""The traceability matrix: one row per rule, gaps first; a copy with a removed example shows its gap."""

from __future__ import annotations

from pathlib import Path

from triage.batch import read_all
from triage.golden import GoldenCase
from triage.kb import KnowledgeBase, load_knowledge_base
from triage.safety.evidence import gather
from triage.safety.report import traceability
from triage.session import TriageSession
from helpers import ROOT
from safety.support import remove_must_not_fire_examples

EXAMPLES = sorted(str(p) for p in (ROOT / "examples").iterdir())
#: A clinic's own rule that no golden case fires (no golden case is 120 years old).
CLINIC_RULE = """rules:
  - id: muscle.psoas.walking
    description: A clinic's own sign.
    sources: [article-002]
    when:
      worse_when: {has: walking}
      age: {at_least: 120}
    then: {sign: psoas, strength: supporting}
    examples:
      fires: [{worse_when: [walking], age: 120}]
      does_not_fire: [{worse_when: [walking], age: 119}]
"""


def _report(session: TriageSession, golden: list[GoldenCase], generated: int = 200):
    evidence = gather(session, golden, read_all(EXAMPLES, session.kb.vocabulary), generated)
    return traceability(session.kb, evidence)


def test_the_bundled_knowledge_base_has_one_row_per_rule_and_no_gap(session: TriageSession,
                                                                    golden: list[GoldenCase]) -> None:
    report = _report(session, golden)
    assert [row.rule.id for row in report.rows] == [r.id for r in session.kb.rules]
    assert [(row.rule.id, row.gaps) for row in report.gaps] == []
    assert report.evidence.golden_failures == {}
    data = report.to_dict()
    assert data["kb_version"] == session.kb.version and data["generated"]["cases"] == 200
    first = data["matrix"][0]
    assert first["sources"][0]["title"] == session.kb.sources[first["sources"][0]["id"]].title
    assert first["golden_cases"] and first["examples"]["fires"]


def test_firing_counts_over_the_bundled_and_generated_corpora(session: TriageSession,
                                                              golden: list[GoldenCase]) -> None:
    report = _report(session, golden, generated=300)
    by_id = {row.rule.id: row for row in report.rows}
    assert report.evidence.bundled.cases == len(list(read_all(EXAMPLES, session.kb.vocabulary)))
    # Every case of every corpus reaches some conclusion, so some rule fires for each.
    assert sum(row.fired_generated for row in report.rows) >= 300
    assert all(0 <= row.fired_bundled <= report.evidence.bundled.cases for row in by_id.values())


def test_a_removed_example_and_a_rule_no_golden_case_fires_are_gaps_listed_first(
        rules_copy: Path, kb: KnowledgeBase, golden: list[GoldenCase]) -> None:
    stripped = remove_must_not_fire_examples(rules_copy, kb)
    (rules_copy / "zz-clinic.yaml").write_text(CLINIC_RULE)
    report = _report(TriageSession(load_knowledge_base(rules_copy)), golden)
    gaps = {row.rule.id: row.gaps for row in report.gaps}
    assert gaps == {stripped: ("no must-not-fire example",), "muscle.psoas.walking": ("no golden case fires it",)}
    assert {row.rule.id for row in report.rows[:2]} == set(gaps)
