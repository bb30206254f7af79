"""The traceability matrix: per rule, what it rests on and what tests it (``triage rules report``).

One row per rule: its id, description and conclusion, its sources (with
their titles and links), its must-fire and must-not-fire examples, the
golden cases that fire it and how often it fired over the bundled case files
and the generated corpus. A rule with no source, no example of either kind
or no golden case that fires it is a *gap*; gaps are listed first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..kb import KnowledgeBase, KnowledgeRule
from ..ruletools import example_answers
from .evidence import Evidence
from .tables import Document, Table

COLUMNS = ("rule", "description", "concludes", "sources", "must fire", "must not fire",
           "golden cases", "fired (bundled)", "fired (generated)", "gaps", "kb version")


@dataclass(frozen=True)
class RuleTrace:
    """One row of the matrix."""

    rule: KnowledgeRule
    sources: tuple[tuple[str, str, str], ...]
    golden: tuple[str, ...]
    fired_bundled: int
    fired_generated: int
    gaps: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule.id, "description": self.rule.description,
            "concludes": self.rule.conclusion.describe(),
            "sources": [{"id": i, "title": t, "url": u} for i, t, u in self.sources],
            "examples": {"fires": [example_answers(c) for c in self.rule.examples_fire],
                         "does_not_fire": [example_answers(c) for c in self.rule.examples_not_fire]},
            "golden_cases": list(self.golden),
            "fired": {"bundled": self.fired_bundled, "generated": self.fired_generated},
            "gaps": list(self.gaps),
        }


@dataclass(frozen=True)
class TraceabilityReport:
    """The matrix, gaps first, with what it was computed over."""

    kb: KnowledgeBase
    evidence: Evidence
    rows: tuple[RuleTrace, ...]

    @property
    def gaps(self) -> tuple[RuleTrace, ...]:
        return tuple(row for row in self.rows if row.gaps)

    def to_dict(self) -> dict[str, Any]:
        e = self.evidence
        return {
            "kb_version": self.kb.version, "rules": len(self.rows), "gaps": len(self.gaps),
            "golden_cases": len(e.golden), "golden_failures": e.golden_failures,
            "bundled": {"cases": e.bundled.cases, "invalid": e.bundled.invalid},
            "generated": {"cases": e.generated.cases, "invalid": e.generated.invalid, "seed": e.seed},
            "matrix": [{**row.to_dict(), "kb_version": self.kb.version} for row in self.rows],
        }

    def document(self) -> Document:
        """The report as a titled table (for Markdown, CSV and HTML)."""
        e = self.evidence
        meta = (("knowledge base", f"{self.kb.directory} ({self.kb.version})"),
                ("rules", f"{len(self.rows)}, {len(self.gaps)} with gaps (listed first)"),
                ("golden cases", f"{len(e.golden)}, {len(e.golden_failures)} failing"),
                ("bundled cases", f"{e.bundled.cases} ({e.bundled.invalid} invalid skipped)"),
                ("generated cases", f"{e.generated.cases} (seed {e.seed})"))
        rows = [(row.rule.id, row.rule.description, row.rule.conclusion.describe(),
                 [(f"{i}: {t}", u) for i, t, u in row.sources],
                 [_shown(c) for c in row.rule.examples_fire], [_shown(c) for c in row.rule.examples_not_fire],
                 list(row.golden), str(row.fired_bundled), str(row.fired_generated), list(row.gaps),
                 self.kb.version)
                for row in self.rows]
        return Document("Traceability matrix", meta, (Table("Rules", COLUMNS, rows),))


def _shown(case: Any) -> str:
    return json.dumps(example_answers(case), ensure_ascii=False, separators=(", ", ": "))


def traceability(kb: KnowledgeBase, evidence: Evidence) -> TraceabilityReport:
    """The matrix of every rule of ``kb`` over ``evidence``, rules with gaps first (else in kb order)."""
    rows = []
    for rule in kb.rules:
        sources = tuple((s, kb.sources[s].title if s in kb.sources else "", kb.sources[s].url
                         if s in kb.sources else "") for s in rule.sources)
        golden = tuple(evidence.golden_fired.get(rule.id, ()))
        gaps = [text for missing, text in ((not rule.sources, "no source"),
                                           (not rule.examples_fire, "no must-fire example"),
                                           (not rule.examples_not_fire, "no must-not-fire example"),
                                           (not golden, "no golden case fires it")) if missing]
        rows.append(RuleTrace(rule, sources, golden, evidence.bundled.fired.get(rule.id, 0),
                              evidence.generated.fired.get(rule.id, 0), tuple(gaps)))
    rows.sort(key=lambda row: not row.gaps)
    return TraceabilityReport(kb, evidence, tuple(rows))


__all__ = ["COLUMNS", "RuleTrace", "TraceabilityReport", "traceability"]
