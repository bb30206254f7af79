"""Results: plain dataclasses that serialise to the contract's JSON shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import CaseError
from .vocabulary import Disposition

#: An advice line that says when to get help (safety-netting), not what to do now: it
#: starts with its condition ("If new warning signs appear, ..."), sends for help on a
#: condition ("Call 999 for chest pain", "See a doctor if ..."), names where emergency
#: help is (999, A&E, "at once"), or is the note that ends every result ("When in doubt").
_WHEN_TO_GET_HELP = re.compile(r"^(?:If|When)\b|^(?:Call|Get|See|Seek)\b[^;]*?\b(?:if|for)\b"
                               r"|\b999\b|\bA&E\b|\bat once\b|\bWhen in doubt\b")


def split_advice(advice: Sequence[str]) -> tuple[list[str], list[str]]:
    """``advice`` as (what to do now, when to get help), each in its given order.

    The knowledge base gives each disposition's advice as one list; the
    terminal and the web page show the safety-netting apart, near the top, so
    both split it here, the same way. The lines are told apart by their words
    (:data:`_WHEN_TO_GET_HELP`); a line not recognised stays in "what to do
    now", which is shown first, so no line is ever left out.
    """
    later = [line for line in advice if _WHEN_TO_GET_HELP.search(line)]
    return [line for line in advice if line not in later], later


@dataclass(frozen=True)
class Firing:
    """One rule firing: its place in the order, the facts it matched, what it asserted."""

    order: int
    rule: str
    facts: dict[str, Any]
    asserted: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"order": self.order, "rule": self.rule, "facts": self.facts,
                "asserted": list(self.asserted)}


@dataclass(frozen=True)
class LikelyMuscle:
    """A muscle with at least one strong sign, with its confidence and evidence."""

    muscle: str
    confidence: float
    evidence: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"muscle": self.muscle, "confidence": self.confidence,
                "evidence": list(self.evidence)}


@dataclass(frozen=True)
class ReferralReason:
    rule: str
    text: str
    urgency: Disposition

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "text": self.text, "urgency": self.urgency.value}


@dataclass(frozen=True)
class Referral:
    """Why and how urgently to see a doctor: every reason found, most urgent first."""

    urgency: Disposition
    reasons: tuple[ReferralReason, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"urgency": self.urgency.value, "reasons": [r.to_dict() for r in self.reasons]}


@dataclass(frozen=True)
class Recommendation:
    """One self-care technique, ready to show to a person."""

    technique: str
    name: str
    for_muscles: tuple[str, ...]
    steps: tuple[str, ...]
    hold: str
    cautions: tuple[str, ...]
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"technique": self.technique, "name": self.name, "for": list(self.for_muscles),
                "steps": list(self.steps), "hold": self.hold, "cautions": list(self.cautions),
                "sources": list(self.sources)}


@dataclass(frozen=True)
class TriageResult:
    """The outcome of triaging one case."""

    id: str
    disposition: Disposition
    headline: str
    likely_muscles: tuple[LikelyMuscle, ...]
    referral: Referral | None
    recommendations: tuple[Recommendation, ...]
    advice: tuple[str, ...]
    fired_rules: tuple[Firing, ...]
    kb_version: str
    #: The case's bad fields when it was triaged on what parsed (policy v3,
    #: principle 9: an urgent finding is never lost to a typo elsewhere).
    errors: tuple[CaseError, ...] = ()

    @property
    def top_muscle(self) -> str | None:
        return self.likely_muscles[0].muscle if self.likely_muscles else None

    @property
    def main_reason(self) -> str:
        """One line saying why: the most urgent reason, or the top muscle for self-care."""
        if self.referral is not None:
            return self.referral.reasons[0].text
        muscle = self.top_muscle or "a muscle"
        return f"likely tight {muscle}; {len(self.recommendations)} techniques"

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON shape (``docs/case-format.md``), plus ``headline``."""
        return {
            "id": self.id,
            "disposition": self.disposition.value,
            "headline": self.headline,
            "likely_muscles": [m.to_dict() for m in self.likely_muscles],
            "referral": self.referral.to_dict() if self.referral else None,
            "recommendations": [r.to_dict() for r in self.recommendations],
            "advice": list(self.advice),
            "fired_rules": [f.to_dict() for f in self.fired_rules],
            "kb_version": self.kb_version,
            **({"errors": [_error_dict(e) for e in self.errors]} if self.errors else {}),
        }


@dataclass(frozen=True)
class ErrorRecord:
    """An invalid case, kept in its place in the batch."""

    id: str
    error: CaseError

    @property
    def needs_engine(self) -> bool:
        """True when what parsed of the case is still to be triaged (principle 9)."""
        return self.error.partial is not None

    def to_dict(self) -> dict[str, Any]:
        """``error`` is the first problem (the contract's shape); ``errors`` lists every
        problem, the first included, when the case has more than one."""
        out: dict[str, Any] = {"id": self.id, "error": _error_dict(self.error)}
        if self.error.more:
            out["errors"] = [_error_dict(e) for e in self.error.all]
        return out


def _error_dict(error: CaseError) -> dict[str, Any]:
    where = error.location
    record: dict[str, Any] = {"field": where.field, "value": error.value, "message": error.message}
    if where.file is not None:
        record["file"] = where.file
    if where.line is not None:
        record["line"] = where.line
    if error.suggestion:
        record["did_you_mean"] = error.suggestion
    return record


#: What a batch yields for each case, in input order.
Outcome = TriageResult | ErrorRecord
