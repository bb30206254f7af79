"""The triage engine on experta's own machinery: stock matcher, strategy, reset and run.

This is the reference the fast path (:mod:`triage.engine.fast_rete`) is
proven against, and the engine used when the installed experta is not the
version the fast path was proven on (see :mod:`triage.engine.choice`).
"""

from __future__ import annotations

from .._experta import Fact, KnowledgeEngine
from ..case import Case
from ..results import Firing
from .facts import CaseFacts, Derived, Referral, SelfCare, Sign


class TriageEngine(KnowledgeEngine):
    """A knowledge engine compiled from a knowledge base; reused case after case.

    Only the case loop and the reading of conclusions are ours: what fires
    and in which order is experta's RETE network, agenda and depth strategy.
    """

    def __init__(self) -> None:
        super().__init__()
        self.firings: list[Firing] = []

    def run_case(self, case: Case) -> list[Fact]:
        """Triage one case; return the facts the engine holds at the end."""
        self.reset()
        self.firings = []
        self.declare(CaseFacts.of(case))
        self.run()
        return list(self.facts.values())

    def conclusions(self, subject: str) -> list[str]:
        """The current conclusions about an engine subject, e.g. the derived facts."""
        if subject == "derived":
            return sorted(f["name"] for f in self.facts.values() if isinstance(f, Derived))
        if subject == "likely_muscles":
            found = {f["muscle"] for f in self.facts.values()
                     if isinstance(f, Sign) and f["strength"] == "strong"}
            return sorted(found)
        if subject == "referred":
            return sorted({f["urgency"] for f in self.facts.values() if isinstance(f, Referral)})
        return ["self_care"] if any(isinstance(f, SelfCare) for f in self.facts.values()) else []
