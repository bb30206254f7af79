"""The engine session: triage cases one after another on one compiled engine.

The engine's facts are the conclusions; this module only reads them back into
a :class:`~triage.results.TriageResult` (ranking muscles by confidence and
choosing the most urgent referral).
"""

from __future__ import annotations

from dataclasses import replace
from math import prod
from pathlib import Path

from .case import Case
from .compiler import build_engine
from .engine.facts import Recommendation as RecommendationFact
from .engine.facts import Referral as ReferralFact
from .engine.facts import SelfCare, Sign
from .kb import KnowledgeBase, load_knowledge_base
from .results import ErrorRecord, LikelyMuscle, Outcome, Recommendation, Referral, ReferralReason, TriageResult
from .vocabulary import Disposition

#: Reported if the knowledge base reaches no conclusion at all: refer, never self-care.
NO_CONCLUSION_RULE = "triage.no_conclusion"


class TriageSession:
    """Triage cases with one knowledge base; build once, reuse for every case."""

    def __init__(self, kb: KnowledgeBase | None = None, rules_dir: Path | str | None = None) -> None:
        self.kb = kb if kb is not None else load_knowledge_base(rules_dir)
        self.engine = build_engine(self.kb)

    def outcome(self, record: Case | ErrorRecord) -> Outcome:
        """The outcome of one record of a batch: a case's result, or for an invalid
        case its result with errors or its error record (see :meth:`triage_invalid`)."""
        if isinstance(record, Case):
            return self.triage(record)
        return self.triage_invalid(record)

    def triage_invalid(self, record: ErrorRecord) -> Outcome:
        """An invalid case triaged on what parsed, when that is safe to report.

        Policy v3, principle 9: an emergency or urgent finding is never lost to
        a typo in another field, so such a case gets its result *and* its
        errors. So does a case whose only problem is a screen left out: it is
        read as not screened, which refers by itself (principle 7). Any other
        invalid case stays an error record: a lower disposition drawn from a
        case with a field missing could be wrong in the unsafe direction.
        """
        partial = record.error.partial
        if partial is None:
            return record
        result = self.triage(partial)
        if record.error.blocking and result.disposition.urgency < Disposition.URGENT.urgency:
            return record
        return replace(result, errors=record.error.all)

    def triage(self, case: Case) -> TriageResult:
        """Run ``case`` through the engine and return its result."""
        facts = self.engine.run_case(case)
        signs = [f for f in facts if isinstance(f, Sign)]
        referrals = [f for f in facts if isinstance(f, ReferralFact)]
        self_care = any(isinstance(f, SelfCare) for f in facts)

        reasons = sorted(
            (ReferralReason(f["rule"], f["reason"], Disposition(f["urgency"])) for f in referrals),
            key=lambda r: -r.urgency.urgency)
        if reasons:
            disposition = reasons[0].urgency
        elif self_care:
            disposition = Disposition.SELF_CARE
        else:
            disposition = Disposition.SEE_DOCTOR
            reasons = [ReferralReason(NO_CONCLUSION_RULE, "The knowledge base reached no "
                                      "conclusion for this case; see a doctor.", disposition)]
        referral = Referral(disposition, tuple(reasons)) if disposition.is_referral else None

        likely_muscles = self._likely_muscles(signs)
        recommendations: tuple[Recommendation, ...] = ()
        if disposition is Disposition.SELF_CARE:
            recommendations = self._in_rank_order(
                [self._recommendation(f["technique"]) for f in facts
                 if isinstance(f, RecommendationFact)], likely_muscles)
        advice = self.kb.dispositions[disposition]
        return TriageResult(
            id=case.id,
            disposition=disposition,
            headline=advice.headline,
            likely_muscles=likely_muscles,
            referral=referral,
            recommendations=recommendations,
            advice=advice.advice + self.kb.always_advice,
            fired_rules=tuple(self.engine.firings),
            kb_version=self.kb.version,
        )

    def _likely_muscles(self, signs: list[Sign]) -> tuple[LikelyMuscle, ...]:
        """Muscles with a strong sign, most likely first.

        Confidence combines every sign's weight as certainty factors do,
        1 - prod(1 - w), so it never depends on the order signs were found.
        Muscles rank by confidence, then by their number of strong signs;
        muscles still tied are listed by name, so no list order of the
        knowledge base decides a tie.
        """
        weights = self.kb.evidence_weights
        muscles = []
        for muscle in sorted({s["muscle"] for s in signs}):
            found = [s for s in signs if s["muscle"] == muscle]
            strong = sum(1 for s in found if s["strength"] == "strong")
            if not strong:
                continue
            confidence = round(1 - prod(1 - weights[s["strength"]] for s in found), 3)
            evidence = tuple(sorted(s["rule"] for s in found))
            muscles.append(((-confidence, -strong, muscle), LikelyMuscle(muscle, confidence, evidence)))
        return tuple(entry for _, entry in sorted(muscles, key=lambda e: e[0]))

    @staticmethod
    def _in_rank_order(recommendations: list[Recommendation],
                       likely_muscles: tuple[LikelyMuscle, ...]) -> tuple[Recommendation, ...]:
        """Techniques for the most likely muscle first; general ones keep their place.

        Techniques for ``any`` muscle (warming, general massage) keep the
        knowledge base's order around the muscle-specific ones: warming
        stays first, whole-back techniques last.
        """
        rank = {m.muscle: n for n, m in enumerate(likely_muscles)}
        specific = [min((rank[m] for m in r.for_muscles if m in rank), default=None)
                    for r in recommendations]
        first_specific = next((n for n, r in enumerate(specific) if r is not None), len(specific))

        def key(item: tuple[int, Recommendation]) -> tuple[int, int, int]:
            position, _ = item
            muscle_rank = specific[position]
            if muscle_rank is not None:
                return (1, muscle_rank, position)
            return (0 if position < first_specific else 2, 0, position)

        return tuple(r for _, r in sorted(enumerate(recommendations), key=key))

    def _recommendation(self, technique_id: str) -> Recommendation:
        t = self.kb.techniques[technique_id]
        return Recommendation(t.id, t.name, t.for_muscles, t.steps, t.hold, t.cautions, t.sources)
