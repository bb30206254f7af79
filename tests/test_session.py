"""Reading the engine's conclusions back into a result."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import make_case

from triage.kb import default_rules_dir, load_knowledge_base
from triage.session import NO_CONCLUSION_RULE, TriageSession
from triage.vocabulary import Disposition


def test_confidence_combines_signs_as_certainty_factors(session: TriageSession) -> None:
    result = session.triage(make_case(pain_sites=["buttock", "back_of_thigh"],
                                      triggers=["tennis_serve"], worse_when=["sitting"]))
    (piriformis,) = result.likely_muscles
    # two strong signs (0.6) and one supporting (0.2): 1 - 0.4 * 0.4 * 0.8
    assert piriformis.confidence == pytest.approx(0.872)
    assert piriformis.evidence == ("muscle.piriformis.buttock_to_knee", "muscle.piriformis.tennis_serve",
                                   "muscle.piriformis.worse_sitting")


def test_referral_keeps_the_muscle_for_the_doctor_and_withholds_techniques(session: TriageSession) -> None:
    result = session.triage(make_case(lower_back_curve="exaggerated", conditions=["dvt"]))
    assert result.disposition is Disposition.SEE_DOCTOR
    assert result.top_muscle == "psoas"
    assert result.recommendations == ()
    assert result.to_dict()["recommendations"] == []


def test_advice_fits_the_disposition_and_always_carries_the_safety_note(session, kb) -> None:
    emergency = session.triage(make_case(red_flags=["leg_weakness"]))
    assert emergency.headline == kb.dispositions[Disposition.EMERGENCY].headline
    assert emergency.advice[-1] == "This is not a diagnosis. When in doubt, see a doctor."
    self_care = session.triage(make_case(can_touch_toes=False))
    assert self_care.advice[0].startswith("Get emergency help at once")
    assert self_care.advice[-1] == emergency.advice[-1]


def test_result_records_the_knowledge_base_version(session, kb) -> None:
    assert session.triage(make_case()).to_dict()["kb_version"] == kb.version


def test_no_conclusion_means_see_a_doctor_never_self_care(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "conclusions.yaml").unlink()
    result = TriageSession(load_knowledge_base(rules)).triage(make_case(can_touch_toes=False))
    assert result.disposition is Disposition.SEE_DOCTOR
    assert [r.rule for r in result.referral.reasons] == [NO_CONCLUSION_RULE]
    assert result.recommendations == ()
