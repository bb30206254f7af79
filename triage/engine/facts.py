"""The facts the engine holds: the case's answers, and the conclusions rules chain on.

Facts are shaped for speed: all answers of a case are one :class:`CaseFacts`
fact (tests on it are alpha tests, with no joins), and only conclusions the
engine chains on (derived facts, muscle signs, referrals, self-care) are
separate facts.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._experta import Fact
from ..case import Case


class CaseFacts(Fact):
    """All answers of the case under triage (lists as frozensets, unknown = None)."""

    @classmethod
    def of(cls, case: Case) -> CaseFacts:
        """The fact for ``case``.

        experta's ``Fact`` passes each value through ``freeze()``, which
        rebuilds every frozenset item by item; a case's values are already
        frozensets and scalars, which ``freeze()`` would return unchanged.
        """
        fact = cls()
        dict.update(fact, case.answers)
        return fact


def conclusion_fact(fact_class: type[Fact], fields: Mapping[str, str]) -> Fact:
    """``fact_class(**fields)`` for a conclusion, whose field values are all strings.

    experta's ``Fact`` passes each value through ``freeze()``, which returns a
    string unchanged; filling the dict directly skips that per-value dispatch.
    """
    fact = fact_class()
    dict.update(fact, fields)
    return fact


class Derived(Fact):
    """A derived fact, e.g. ``prolonged_sitting``."""


class Sign(Fact):
    """One sign for one muscle, with its strength and the rule that found it."""


class Referral(Fact):
    """A reason to refer, with its urgency and the rule that found it."""


class SelfCare(Fact):
    """The conclusion that self-care is reasonable."""


class Recommendation(Fact):
    """A technique recommended for self-care."""
