"""Golden cases (tests/golden/*.yaml): every policy row and muscle pattern.

``cases.yaml`` holds the version-1 rows (updated where version 2 changed them),
``policy-v2.yaml`` the rows, examples and thresholds new in version 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from triage.conclusions import Refer
from triage.golden import EXPECT_KEYS, unmet
from triage.results import TriageResult
from triage.session import TriageSession
from helpers import parse

GOLDEN_DIR = Path(__file__).parent / "golden"
GOLDEN_FILES = ("cases.yaml", "policy-v2.yaml", "policy-v3.yaml")
GOLDEN: list[dict[str, Any]] = [
    golden for name in GOLDEN_FILES for golden in yaml.safe_load((GOLDEN_DIR / name).read_text())
]

#: What every self-care result must tell the person (policy v2, "Advice and wording").
SAFETY_NET_PHRASES = ("numbness between your legs", "passing urine or stools",
                      "weakness in a leg", "new exercise programme")

def _triage(golden: dict[str, Any], session: TriageSession) -> TriageResult:
    return session.triage(parse(golden["case"], golden["name"]))


def test_golden_names_are_unique() -> None:
    names = [g["name"] for g in GOLDEN]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []


def test_golden_cases_are_screened_and_use_known_expect_keys() -> None:
    """A misspelt key would be silently unchecked; an unscreened case is not a valid case."""
    assert {g["name"]: sorted(set(g["expect"]) - set(EXPECT_KEYS)) for g in GOLDEN
            if set(g["expect"]) - set(EXPECT_KEYS)} == {}
    assert [g["name"] for g in GOLDEN
            if "red_flags" not in g["case"] or "conditions" not in g["case"]] == []


@pytest.mark.parametrize("golden", GOLDEN, ids=[g["name"] for g in GOLDEN])
def test_golden_case(golden: dict[str, Any], session: TriageSession) -> None:
    assert unmet(golden["expect"], _triage(golden, session), session.kb) == []


def test_every_golden_case_checks_the_disposition() -> None:
    """A golden case that checks neither key could never catch a self-care result."""
    unchecked = [g["name"] for g in GOLDEN
                 if "disposition" not in g["expect"] and not g["expect"].get("no_self_care")]
    assert unchecked == []


def test_golden_cases_cover_every_referral_rule(session: TriageSession) -> None:
    """Each referral rule of the bundled knowledge base is reached by some golden case."""
    expected = {rule for g in GOLDEN
                for key in ("referral_rules", "referral_includes")
                for rule in g["expect"].get(key, [])}
    referral_rules = {r.id for r in session.kb.rules if isinstance(r.conclusion, Refer)}
    assert referral_rules - expected == set()


def test_golden_cases_name_only_known_rules(session: TriageSession) -> None:
    """A misspelt rule id in a golden file would make its expectation meaningless.

    ``referral_excludes`` is left out: excluding a retired rule (``under_16``) is deliberate.
    """
    named = {rule for g in GOLDEN
             for key in ("referral_rules", "referral_includes", "fired_includes")
             for rule in g["expect"].get(key, [])}
    known = {r.id for r in session.kb.rules}
    assert named - known == set()


def test_every_self_care_result_names_the_emergency_signs(session: TriageSession) -> None:
    """Policy v2: self-care advice says which new symptoms mean "get help now"."""
    self_care = {g["name"]: result for g in GOLDEN
                 if (result := _triage(g, session)).disposition.value == "self_care"}
    assert self_care, "the golden set has no self-care result to check"
    missing = {name: [p for p in SAFETY_NET_PHRASES if p not in " ".join(result.advice).lower()]
               for name, result in self_care.items()}
    assert {name: phrases for name, phrases in missing.items() if phrases} == {}


def test_warm_up_caution_warns_about_numb_skin(session: TriageSession) -> None:
    """Policy v2: never put heat on skin that feels numb."""
    assert "numb" in " ".join(session.kb.techniques["warm_up"].cautions).lower()


def test_golden_files_are_read_with_their_line_and_a_misspelt_key_refused(tmp_path: Path,
                                                                           session: TriageSession) -> None:
    from triage.errors import InputFileError
    from triage.golden import read_golden

    path = tmp_path / "mine.yaml"
    path.write_text("- name: ok\n  case: {pain_sites: [lower_back], red_flags: [fever], conditions: []}\n"
                    "  expect: {disposition: urgent}\n"
                    "- name: typo\n  case: {pain_sites: [lower_back], red_flags: [], conditions: []}\n"
                    "  expect: {dispositon: urgent}\n")
    with pytest.raises(InputFileError) as caught:
        read_golden([path], session.kb.vocabulary)
    assert str(caught.value).startswith(f"{path}:4: unknown expect key 'dispositon' in golden case 'typo'")
    path.write_text("\n".join(path.read_text().splitlines()[:3]) + "\n")
    (entry,) = read_golden([path], session.kb.vocabulary)
    assert unmet(entry.expect, session.triage(entry.case), session.kb) == []
    assert unmet({"disposition": "self_care", "fired_includes": ["no.such.rule"]}, session.triage(entry.case),
                 session.kb)[0] == "disposition: expected 'self_care', got 'urgent'"
