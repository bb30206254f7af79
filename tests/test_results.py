"""Results as a person reads them: the advice split into what to do now and when to get help."""

from __future__ import annotations

import pytest

from triage.kb import KnowledgeBase
from triage.results import split_advice
from triage.vocabulary import Disposition


@pytest.mark.parametrize("disposition", list(Disposition))
def test_advice_is_split_into_what_to_do_and_when_to_get_help_losing_nothing(
        kb: KnowledgeBase, disposition: Disposition) -> None:
    advice = kb.dispositions[disposition].advice + kb.always_advice
    now, later = split_advice(advice)
    assert sorted(now + later) == sorted(advice)
    assert [a for a in advice if a in now] == now and [a for a in advice if a in later] == later


def test_the_lines_that_say_when_to_get_help_are_the_conditional_ones(kb: KnowledgeBase) -> None:
    now, later = split_advice(kb.dispositions[Disposition.URGENT].advice)
    assert [line[:25] for line in now] == ["Contact your GP surgery t", "Do not try stretches or m"]
    assert [line[:25] for line in later] == ["Call 999 at once if you g"]
    now, later = split_advice(kb.dispositions[Disposition.SEE_DOCTOR].advice)
    assert [line[:10] for line in later] == ["If new war"]
    now, later = split_advice(kb.dispositions[Disposition.SELF_CARE].advice)
    assert [line[:10] for line in later] == ["Get emerge", "Call 999 f", "See a doct", "If you are"]
    now, later = split_advice(kb.always_advice)
    assert later == list(kb.always_advice)  # "When in doubt, see a doctor" is safety-netting too
