"""Golden cases (tests/golden/cases.yaml): every policy row and muscle pattern."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from triage.session import TriageSession
from helpers import parse

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden" / "cases.yaml").read_text())


@pytest.mark.parametrize("golden", GOLDEN, ids=[g["name"] for g in GOLDEN])
def test_golden_case(golden: dict[str, Any], session: TriageSession) -> None:
    result = session.triage(parse(golden["case"], golden["name"]))
    expect = golden["expect"]
    fired = [f.rule for f in result.fired_rules]

    assert result.disposition.value == expect["disposition"]
    if "likely_muscles" in expect:
        assert [m.muscle for m in result.likely_muscles] == expect["likely_muscles"]
    if "referral_rules" in expect:
        reasons = result.referral.reasons if result.referral else ()
        assert [r.rule for r in reasons] == expect["referral_rules"]
    if "recommendations" in expect:
        assert [r.technique for r in result.recommendations] == expect["recommendations"]
    for rule_id in expect.get("fired_includes", []):
        assert rule_id in fired


def test_golden_cases_cover_every_referral_rule(session: TriageSession) -> None:
    """Each referral rule of the bundled knowledge base is reached by some golden case."""
    expected = {rule for g in GOLDEN for rule in g["expect"].get("referral_rules", [])}
    referral_rules = {r.id for r in session.kb.rules if r.conclusion.kind == "refer"}
    assert referral_rules - expected == set()
