"""What changes between two knowledge bases, for the rules and for patients (``triage rules diff``).

:func:`diff_knowledge` compares the knowledge bases themselves: rules added,
removed and changed (conditions, conclusion or urgency, salience, sources,
description), techniques added, removed and changed, and wording changed
(referral reasons, the advice per disposition, questions).

:func:`diff_cases` runs the same cases through both and keeps every case
whose disposition or top likely muscle changes, counted by transition
(``self_care -> see_doctor``). A case that becomes *less urgent* is listed
first: it is the change a clinical safety reviewer must see and sign.
Each side reads each case with its own vocabulary, so a case that one side
refuses shows as ``invalid`` on that side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..case import Case, parse_case
from ..conclusions import Refer
from ..corpus import generate_cases
from ..errors import CaseError
from ..kb import KnowledgeBase, KnowledgeRule, Technique
from ..results import ErrorRecord, TriageResult
from ..session import TriageSession
from ..vocabulary import Disposition
from .tables import Document, Table

#: What a side shows for a case it refuses.
INVALID = "invalid"
#: What a side shows for a case with no likely muscle.
NO_MUSCLE = "none"
#: Less-urgent cases shown in the Markdown form, and other changed cases per transition.
SHOWN_OTHERS = 10


@dataclass(frozen=True)
class RuleChange:
    """One rule present in both knowledge bases whose definition changed."""

    rule: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class KnowledgeDiff:
    """How two knowledge bases differ as data."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[RuleChange, ...]
    techniques_added: tuple[str, ...]
    techniques_removed: tuple[str, ...]
    techniques_changed: tuple[RuleChange, ...]
    wording: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rules": {"added": list(self.added), "removed": list(self.removed),
                          "changed": [{"rule": c.rule, "changes": list(c.changes)} for c in self.changed]},
                "techniques": {"added": list(self.techniques_added), "removed": list(self.techniques_removed),
                               "changed": [{"technique": c.rule, "changes": list(c.changes)}
                                           for c in self.techniques_changed]},
                "wording": list(self.wording)}


@dataclass(frozen=True)
class CaseChange:
    """A case whose disposition or top likely muscle differs between the two knowledge bases."""

    id: str
    old: str
    new: str
    old_muscle: str
    new_muscle: str
    old_reasons: tuple[str, ...]
    new_reasons: tuple[str, ...]
    less_urgent: bool

    @property
    def transition(self) -> str:
        return f"{self.old} -> {self.new}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "disposition": {"old": self.old, "new": self.new},
                "likely_muscle": {"old": self.old_muscle, "new": self.new_muscle},
                "reasons": {"old": list(self.old_reasons), "new": list(self.new_reasons)},
                "less_urgent": self.less_urgent}


@dataclass
class CaseDiff:
    """Every changed case, less urgent ones first, and the counts by transition."""

    cases: int = 0
    changes: list[CaseChange] = field(default_factory=list)

    @property
    def less_urgent(self) -> list[CaseChange]:
        return [c for c in self.changes if c.less_urgent]

    def transitions(self) -> Counter[str]:
        """Changed cases by disposition transition (unchanged dispositions left out)."""
        return Counter(c.transition for c in self.changes if c.old != c.new)

    def muscle_transitions(self) -> Counter[str]:
        """Changed cases by top likely muscle transition (unchanged muscles left out)."""
        return Counter(f"{c.old_muscle} -> {c.new_muscle}" for c in self.changes if c.old_muscle != c.new_muscle)

    def to_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "changed": len(self.changes), "less_urgent": len(self.less_urgent),
                "transitions": dict(self.transitions().most_common()),
                "muscle_transitions": dict(self.muscle_transitions().most_common()),
                "changes": [c.to_dict() for c in self.changes]}


def diff_knowledge(old: KnowledgeBase, new: KnowledgeBase) -> KnowledgeDiff:
    """What differs between ``old`` and ``new`` as data (rules, techniques, wording)."""
    old_rules, new_rules = {r.id: r for r in old.rules}, {r.id: r for r in new.rules}
    changed = [RuleChange(rule_id, changes) for rule_id in old_rules if rule_id in new_rules
               if (changes := _rule_changes(old_rules[rule_id], new_rules[rule_id]))]
    techniques = [RuleChange(t, changes) for t in old.techniques if t in new.techniques
                  if (changes := _technique_changes(old.techniques[t], new.techniques[t]))]
    return KnowledgeDiff(
        tuple(r for r in new_rules if r not in old_rules), tuple(r for r in old_rules if r not in new_rules),
        tuple(changed), tuple(t for t in new.techniques if t not in old.techniques),
        tuple(t for t in old.techniques if t not in new.techniques), tuple(techniques), tuple(_wording(old, new)))


def _rule_changes(old: KnowledgeRule, new: KnowledgeRule) -> tuple[str, ...]:
    changes = []
    before, after = [c.describe() for c in old.conditions], [c.describe() for c in new.conditions]
    changes += [f"condition removed: {c}" for c in before if c not in after]
    changes += [f"condition added: {c}" for c in after if c not in before]
    if old.conclusion.describe() != new.conclusion.describe():
        changes.append(f"conclusion: {old.conclusion.describe()} -> {new.conclusion.describe()}")
    if isinstance(old.conclusion, Refer) and isinstance(new.conclusion, Refer) and (
            old.conclusion.reason != new.conclusion.reason):
        changes.append(f"reason: {old.conclusion.reason!r} -> {new.conclusion.reason!r}")
    if old.salience != new.salience:
        changes.append(f"salience: {old.salience} -> {new.salience}")
    if old.sources != new.sources:
        changes.append(f"sources: {', '.join(old.sources)} -> {', '.join(new.sources)}")
    if old.description != new.description:
        changes.append(f"description: {old.description!r} -> {new.description!r}")
    return tuple(changes)


def _technique_changes(old: Technique, new: Technique) -> tuple[str, ...]:
    return tuple(f"{name}: {getattr(old, name)!r} -> {getattr(new, name)!r}"
                 for name in ("name", "kind", "for_muscles", "steps", "hold", "cautions", "sources")
                 if getattr(old, name) != getattr(new, name))


def _wording(old: KnowledgeBase, new: KnowledgeBase) -> list[str]:
    """Changed words a person reads: advice per disposition, the advice always given, questions."""
    found = []
    for disposition, advice in old.dispositions.items():
        other = new.dispositions.get(disposition)
        if other is not None and other != advice:
            found.append(f"advice for {disposition.value}: {advice.headline!r} -> {other.headline!r}"
                         if other.headline != advice.headline else f"advice for {disposition.value} changed")
    if old.always_advice != new.always_advice:
        found.append("the advice always given changed")
    old_questions, new_questions = {q.id: q for q in old.questions}, {q.id: q for q in new.questions}
    found += [f"question added: {q}" for q in new_questions if q not in old_questions]
    found += [f"question removed: {q}" for q in old_questions if q not in new_questions]
    for qid, question in old_questions.items():
        other_q = new_questions.get(qid)
        if other_q is None:
            continue
        if other_q.text != question.text:
            found.append(f"question {qid}: {question.text!r} -> {other_q.text!r}")
        if other_q.help != question.help:
            found.append(f"question {qid}: help changed")
        if [(c.value, c.label) for c in other_q.choices] != [(c.value, c.label) for c in question.choices]:
            found.append(f"question {qid}: choices changed")
    return found


def _side(result: TriageResult | None) -> tuple[str, str, tuple[str, ...]]:
    if result is None:
        return INVALID, NO_MUSCLE, ()
    muscle = result.likely_muscles[0].muscle if result.likely_muscles else NO_MUSCLE
    reasons = tuple(r.rule for r in result.referral.reasons) if result.referral else ()
    return result.disposition.value, muscle, reasons


def diff_cases(old: TriageSession, new: TriageSession,
               pairs: Iterable[tuple[Case | ErrorRecord, Case | ErrorRecord]]) -> CaseDiff:
    """Triage each case on both sessions (each pair: the case as each side reads it); keep the changes."""
    diff = CaseDiff()
    for before, after in pairs:
        diff.cases += 1
        old_d, old_m, old_r = _side(old.triage(before) if isinstance(before, Case) else None)
        new_d, new_m, new_r = _side(new.triage(after) if isinstance(after, Case) else None)
        if (old_d, old_m) == (new_d, new_m):
            continue
        less = INVALID not in (old_d, new_d) and Disposition(new_d).urgency < Disposition(old_d).urgency
        diff.changes.append(CaseChange(before.id, old_d, new_d, old_m, new_m, old_r, new_r, less))
    diff.changes.sort(key=lambda c: not c.less_urgent)
    return diff


def diff_document(old: KnowledgeBase, new: KnowledgeBase, kb_diff: KnowledgeDiff, cases: CaseDiff) -> Document:
    """The diff as titled tables (Markdown): cases first, less urgent ones before any other."""
    meta = (("old", f"{old.directory} ({old.version})"), ("new", f"{new.directory} ({new.version})"),
            ("cases", f"{cases.cases}, {len(cases.changes)} changed, {len(cases.less_urgent)} less urgent"))
    tables = [Table("Cases that become less urgent", ("case", "old", "new", "old reasons", "new reasons"),
                    [(c.id, c.old, c.new, list(c.old_reasons), list(c.new_reasons)) for c in cases.less_urgent]),
              Table("Disposition transitions", ("transition", "cases"),
                    [(t, str(n)) for t, n in cases.transitions().most_common()]),
              Table("Likely muscle transitions", ("transition", "cases"),
                    [(t, str(n)) for t, n in cases.muscle_transitions().most_common()])]
    shown: Counter[str] = Counter()
    others = []
    for change in cases.changes:
        if not change.less_urgent and shown[change.transition] < SHOWN_OTHERS:
            shown[change.transition] += 1
            others.append((change.id, change.transition, f"{change.old_muscle} -> {change.new_muscle}",
                           list(change.new_reasons)))
    tables.append(Table("Other changed cases", ("case", "disposition", "likely muscle", "new reasons"), others,
                        f"At most {SHOWN_OTHERS} per disposition transition; the JSON form lists every one."))
    tables += [Table("Rules added", ("rule",), [(r,) for r in kb_diff.added]),
               Table("Rules removed", ("rule",), [(r,) for r in kb_diff.removed]),
               Table("Rules changed", ("rule", "changes"), [(c.rule, list(c.changes)) for c in kb_diff.changed]),
               Table("Techniques", ("technique", "change"),
                     [(t, "added") for t in kb_diff.techniques_added]
                     + [(t, "removed") for t in kb_diff.techniques_removed]
                     + [(c.rule, list(c.changes)) for c in kb_diff.techniques_changed]),
               Table("Wording", ("change",), [(w,) for w in kb_diff.wording])]
    return Document("Knowledge-base diff", meta, tuple(tables))


def generated_pairs(old: KnowledgeBase, new: KnowledgeBase, count: int,
                    seed: int) -> Iterable[tuple[Case | ErrorRecord, Case | ErrorRecord]]:
    """The seeded generated corpus over ``old``'s vocabulary (today's inputs), read by each side."""
    for raw in generate_cases(old.vocabulary, count, seed, prefix="generated"):
        yield _read(raw, old), _read(raw, new)


def _read(raw: dict[str, Any], kb: KnowledgeBase) -> Case | ErrorRecord:
    try:
        return parse_case(raw, raw["id"], kb.vocabulary)
    except CaseError as exc:
        return ErrorRecord(raw["id"], exc)


__all__ = ["CaseChange", "CaseDiff", "KnowledgeDiff", "RuleChange", "diff_cases", "diff_document",
           "diff_knowledge", "generated_pairs"]
