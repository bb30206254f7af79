"""Knowledge-base tools: a rule's own examples, rule listings, and coverage over a corpus.

- :func:`run_examples` runs every rule's must-fire and must-not-fire examples
  through a session; a rule *fires* for a case when its id is in the result's
  ``fired_rules``.
- :func:`rule_summary` / :func:`find_rule` describe rules for ``rules list``
  and ``rules show``.
- :func:`coverage` counts, over many cases, how often each rule fired.

Results are plain data with ``to_dict``; the ``format_*`` functions return
text. Nothing here prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .audit import rule_location
from .case import Case
from .errors import Location, TriageError
from .kb import KnowledgeBase, KnowledgeRule
from .kb.rules import EXAMPLE_BASE
from .results import ErrorRecord
from .session import TriageSession
from .vocabulary import not_allowed


# -- rules test --------------------------------------------------------------------

@dataclass(frozen=True)
class ExampleFailure:
    """A rule example whose outcome was not the one the rule promises."""

    rule: str
    where: str
    example: str
    must_fire: bool
    case: dict[str, Any]
    fired: tuple[str, ...]

    @property
    def message(self) -> str:
        expected = "must fire" if self.must_fire else "must not fire"
        happened = "it did not" if self.must_fire else "it did"
        return f"{self.rule} ({self.where}): {expected} on example {self.example} but {happened}"

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "where": self.where, "example": self.example,
                "must_fire": self.must_fire, "case": self.case, "fired": list(self.fired),
                "message": self.message}


@dataclass(frozen=True)
class ExampleReport:
    """The outcome of running every rule's examples."""

    rules: int
    examples: int
    failures: tuple[ExampleFailure, ...]

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"rules": self.rules, "examples": self.examples, "ok": self.ok,
                "failures": [f.to_dict() for f in self.failures]}


def run_examples(session: TriageSession) -> ExampleReport:
    """Run every rule's own examples on ``session``; report each one that fails, by rule id."""
    failures = []
    count = 0
    for rule in session.kb.rules:
        for must_fire, cases in ((True, rule.examples_fire), (False, rule.examples_not_fire)):
            for case in cases:
                count += 1
                fired = tuple(f.rule for f in session.triage(case).fired_rules)
                if (rule.id in fired) is not must_fire:
                    failures.append(ExampleFailure(
                        rule.id, rule_location(rule), case.id.removeprefix(f"{rule.id} "),
                        must_fire, example_answers(case), fired))
    return ExampleReport(len(session.kb.rules), count, tuple(failures))


def example_answers(case: Case) -> dict[str, Any]:
    """The example as written: its answers without the base laid under every example."""
    shown = case.to_dict()
    shown.pop("id", None)
    return {k: v for k, v in shown.items() if EXAMPLE_BASE.get(k) != v}


def format_example_report(report: ExampleReport) -> str:
    """``rules test`` for people: one line per failure, then a summary."""
    lines = []
    for failure in report.failures:
        lines.append(f"FAIL {failure.message}")
        lines.append(f"     example: {json.dumps(failure.case, ensure_ascii=False)}")
        lines.append(f"     fired: {', '.join(failure.fired) or '(nothing)'}")
    verdict = "ok" if report.ok else f"{len(report.failures)} failed"
    lines.append(f"{report.examples} examples of {report.rules} rules: {verdict}")
    return "\n".join(lines) + "\n"


# -- rules list / show -------------------------------------------------------------

def rule_summary(rule: KnowledgeRule) -> dict[str, Any]:
    """A rule as plain data: id, description, sources, what it concludes, and more."""
    conclusion = rule.conclusion
    out: dict[str, Any] = {
        "id": rule.id,
        "description": rule.description,
        "sources": list(rule.sources),
        "concludes": conclusion.describe(),
        "salience": rule.salience,
        "where": rule_location(rule),
        "when": [c.describe() for c in rule.conditions],
        "examples": {"fires": len(rule.examples_fire), "does_not_fire": len(rule.examples_not_fire)},
    }
    out.update(conclusion.details())
    return out


def find_rule(kb: KnowledgeBase, rule_id: str) -> KnowledgeRule:
    """The rule ``rule_id``, or a :class:`TriageError` that suggests a near id."""
    try:
        return kb.rule(rule_id)
    except KeyError:
        ids = [r.id for r in kb.rules]
        raise TriageError(not_allowed("no rule", rule_id, ids, rest=" in the knowledge base", listed=False),
                          Location(f"{kb.directory.name}/")) from None


def format_rule_table(rules: Iterable[KnowledgeRule], width: int | None = None) -> str:
    """``rules list`` as a table: id, what it concludes, sources, description.

    With ``width`` (a terminal's), every line fits: the widest columns are
    narrowed and cut with "…".
    """
    rows = [(r.id, r.conclusion.describe(), ",".join(r.sources), r.description) for r in rules]
    return _table(("ID", "CONCLUDES", "SOURCES", "DESCRIPTION"), rows, width)


def format_rule(rule: KnowledgeRule, kb: KnowledgeBase) -> str:
    """``rules show`` for people: everything about one rule."""
    summary = rule_summary(rule)
    lines = [rule.id, f"  {rule.description}",
             f"  where:     {summary['where']}",
             f"  salience:  {rule.salience}",
             f"  concludes: {summary['concludes']}"]
    for key, text in rule.conclusion.details().items():
        lines.append(f"  {key + ':':<10} {text}")
    lines.append("  when:")
    lines += [f"    - {text}" for text in summary["when"]]
    lines.append("  sources:")
    for source_id in rule.sources:
        source = kb.sources.get(source_id)
        lines.append(f"    - {source_id}: {source.title}" if source else f"    - {source_id}")
    lines.append(f"  examples:  {len(rule.examples_fire)} must fire, "
                 f"{len(rule.examples_not_fire)} must not fire")
    return "\n".join(lines) + "\n"


# -- rules coverage ----------------------------------------------------------------

@dataclass
class Coverage:
    """How often each rule fired over a corpus of cases."""

    counts: dict[str, int]
    cases: int = 0
    invalid: int = 0
    invalid_records: list[ErrorRecord] = field(default_factory=list)

    @property
    def never_fired(self) -> list[str]:
        return [rule for rule, n in self.counts.items() if n == 0]

    def to_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "invalid": self.invalid,
                "rules": [{"rule": rule, "fired": n,
                           "share": round(n / self.cases, 3) if self.cases else 0.0}
                          for rule, n in self.counts.items()],
                "never_fired": self.never_fired}


def coverage(session: TriageSession, records: Iterable[Case | ErrorRecord]) -> Coverage:
    """Triage every valid case of ``records``; count the cases each rule fired for.

    Rules are listed in knowledge-base order; invalid cases are counted and
    kept, not triaged.
    """
    result = Coverage({rule.id: 0 for rule in session.kb.rules})
    for record in records:
        if isinstance(record, ErrorRecord):
            result.invalid += 1
            result.invalid_records.append(record)
            continue
        result.cases += 1
        for rule_id in {f.rule for f in session.triage(record).fired_rules}:
            result.counts[rule_id] = result.counts.get(rule_id, 0) + 1
    return result


def format_coverage_table(report: Coverage) -> str:
    """``rules coverage`` as a table: cases each rule fired for, then the rules that never fired."""
    def share(n: int) -> str:
        return f"{100 * n / report.cases:.1f}%" if report.cases else "-"

    rows = [(rule, str(n), share(n)) for rule, n in report.counts.items()]
    text = _table(("RULE", "CASES", "SHARE"), rows)
    never = report.never_fired
    text += (f"\n{report.cases} cases ({report.invalid} invalid skipped); "
             f"{len(report.counts) - len(never)} of {len(report.counts)} rules fired\n")
    if never:
        text += "never fired:\n" + "".join(f"  {rule}\n" for rule in never)
    return text


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], width: int | None = None) -> str:
    """Left-aligned columns; the last column is not padded. ``width`` bounds every line."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    last = max(len(row[-1]) for row in [header, *rows])
    gaps = 2 * (len(header) - 1)
    if width is not None and sum(widths) + gaps + last > width:
        last = min(last, max(20, width // 3))
        while sum(widths) + gaps + last > width and max(widths) > 6:
            widths[widths.index(max(widths))] -= 1
        last = max(1, width - sum(widths) - gaps)

    def cut(text: str, room: int) -> str:
        return text if len(text) <= room else text[: room - 1] + "…"

    def line(row: tuple[str, ...]) -> str:
        cells = [cut(cell, w).ljust(w) for cell, w in zip(row, widths, strict=False)]
        return "  ".join([*cells, cut(row[-1], last) if width is not None else row[-1]]).rstrip()

    return "\n".join(line(row) for row in [header, *rows]) + "\n"


__all__ = [
    "Coverage", "ExampleFailure", "ExampleReport", "coverage", "example_answers", "find_rule",
    "format_coverage_table", "format_example_report", "format_rule", "format_rule_table", "rule_summary",
    "run_examples",
]
