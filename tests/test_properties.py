"""Safety as properties over generated valid cases (hypothesis).

- any red flag or condition means no self-care and no techniques;
- adding a warning finding never lowers the urgency;
- the order of list items never matters; the same case always gives the same result.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.kb import default_rules_dir, load_knowledge_base
from triage.session import TriageSession
from triage.vocabulary import Disposition
from helpers import FIELDS, parse

SETTINGS = settings(max_examples=150, deadline=None)


def _values(name: str, *, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(FIELDS[name].values), min_size=min_size, unique=True)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


raw_cases = st.fixed_dictionaries(
    {
        "pain_sites": _values("pain_sites", min_size=1),
        "red_flags": _values("red_flags"),
        "conditions": _values("conditions"),
    },
    optional={
        "age": st.integers(0, 120),
        "pain_side": st.sampled_from(FIELDS["pain_side"].values),
        "pain_feels": _values("pain_feels"),
        "severity": st.integers(0, 10),
        "duration_days": st.integers(0, 400),
        "course": st.sampled_from(FIELDS["course"].values),
        "triggers": _values("triggers"),
        "worse_when": _values("worse_when"),
        "lower_back_curve": st.sampled_from(FIELDS["lower_back_curve"].values),
        "can_touch_toes": st.booleans(),
        "first_episode": st.booleans(),
    },
)

#: How nerve pain feels (policy v2), and the sites that count as the leg.
NERVE_FEELS = ("shooting", "numbness", "tingling", "burning")
LEG_SITES = ("back_of_thigh", "front_of_thigh", "knee", "below_knee", "foot")

#: Findings that are warnings: adding one may only keep or raise the urgency.
warnings = st.one_of(
    st.sampled_from(FIELDS["red_flags"].values).map(lambda v: ("red_flags", v)),
    st.sampled_from(FIELDS["conditions"].values).map(lambda v: ("conditions", v)),
    st.sampled_from(("below_knee", "foot")).map(lambda v: ("pain_sites", v)),
    st.just(("worse_when", "coughing_or_sneezing")),
    st.sampled_from(NERVE_FEELS).map(lambda v: ("pain_feels", v)),
    st.just(("pain_sites", "upper_back")),
    st.just(("first_episode", True)),
    st.just(("course", "worsening")),
    st.integers(0, 10).map(lambda v: ("severity", v)),
    st.integers(0, 400).map(lambda v: ("duration_days", v)),
)


def _triage(session: TriageSession, raw: dict[str, Any]) -> dict[str, Any]:
    return session.triage(parse(raw, "generated#1")).to_dict()


def _urgency(result: dict[str, Any]) -> int:
    return Disposition(result["disposition"]).urgency


def _with_warning(raw: dict[str, Any], warning: tuple[str, Any]) -> dict[str, Any] | None:
    """``raw`` with the warning added, or ``None`` if it would not be a worsening."""
    field, value = warning
    new = dict(raw)
    if FIELDS[field].is_list:
        new[field] = sorted(set(raw.get(field, [])) | {value})
    elif field in ("severity", "duration_days"):
        if raw.get(field) is not None and value < raw[field]:
            return None
        new[field] = value
    else:
        new[field] = value
    return new


@SETTINGS
@given(raw=raw_cases)
def test_any_red_flag_or_condition_means_no_self_care(raw: dict[str, Any], session: TriageSession) -> None:
    result = _triage(session, raw)
    if raw["red_flags"] or raw["conditions"]:
        assert result["disposition"] != "self_care"
        assert result["recommendations"] == []
        assert result["referral"]["reasons"]


@SETTINGS
@given(raw=raw_cases, warning=warnings)
def test_adding_a_warning_never_lowers_urgency(raw: dict[str, Any], warning: tuple[str, Any],
                                               session: TriageSession) -> None:
    worse = _with_warning(raw, warning)
    if worse is None:
        return
    before, after = _triage(session, raw), _triage(session, worse)
    assert _urgency(after) >= _urgency(before)
    # Every reason found before is still found after.
    if before["referral"]:
        rules_before = {r["rule"] for r in before["referral"]["reasons"]}
        rules_after = {r["rule"] for r in after["referral"]["reasons"]}
        assert rules_before - {"refer.see_doctor.no_likely_muscle"} <= rules_after


@SETTINGS
@given(raw=raw_cases, data=st.data())
def test_order_of_list_items_never_matters(raw: dict[str, Any], data: st.DataObject,
                                           session: TriageSession) -> None:
    shuffled = {key: data.draw(st.permutations(value)) if isinstance(value, list) else value
                for key, value in raw.items()}
    assert _triage(session, shuffled) == _triage(session, raw)


@SETTINGS
@given(raw=raw_cases)
def test_same_case_same_result(raw: dict[str, Any], session: TriageSession) -> None:
    first = _triage(session, raw)
    assert _triage(session, raw) == first
    assert _triage(TriageSession(session.kb), raw) == first


@SETTINGS
@given(raw=raw_cases)
def test_disposition_is_the_most_urgent_reason(raw: dict[str, Any], session: TriageSession) -> None:
    result = _triage(session, raw)
    if result["disposition"] == "self_care":
        assert result["referral"] is None
        assert result["likely_muscles"], "self-care needs a recognised muscle pattern"
        assert result["recommendations"]
    else:
        urgencies = [Disposition(r["urgency"]).urgency for r in result["referral"]["reasons"]]
        assert max(urgencies) == _urgency(result)
        assert result["referral"]["urgency"] == result["disposition"]


@SETTINGS
@given(raw=raw_cases, feel=st.sampled_from(NERVE_FEELS), site=st.sampled_from(LEG_SITES))
def test_nerve_symptoms_in_a_leg_never_get_self_care(raw: dict[str, Any], feel: str, site: str,
                                                      session: TriageSession) -> None:
    raw = {**raw, "pain_feels": sorted({*raw.get("pain_feels", []), feel}),
           "pain_sites": sorted({*raw["pain_sites"], site})}
    result = _triage(session, raw)
    assert result["disposition"] != "self_care"
    assert result["recommendations"] == []
    if raw.get("pain_side") == "both":
        assert _urgency(result) >= Disposition.URGENT.urgency


@SETTINGS
@given(raw=raw_cases, flag=st.sampled_from(FIELDS["red_flags"].values))
def test_a_red_flag_case_without_pain_sites_is_triaged_never_self_care(
        raw: dict[str, Any], flag: str, session: TriageSession) -> None:
    """An emergency stop saves no pain sites; such a case must still be triaged, and referred."""
    raw = {k: v for k, v in raw.items() if k != "pain_sites"}
    raw["red_flags"] = sorted({*raw["red_flags"], flag})
    result = _triage(session, raw)
    assert result["disposition"] != "self_care"
    assert result["recommendations"] == []


@pytest.fixture(scope="module")
def reversed_muscles_session(tmp_path_factory: pytest.TempPathFactory) -> TriageSession:
    """The bundled knowledge base with its muscle list, and its muscle rules, in reverse order."""
    folder = tmp_path_factory.mktemp("reversed")
    for path in default_rules_dir().glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        if path.name == "vocabulary.yaml":
            muscles = list(data["vocabulary"]["muscles"].items())
            start = text.index("  muscles:\n")
            end = text.index("\n\n", start)
            text = text[:start] + "  muscles:\n" + "".join(
                f"    {name}: {meaning}\n" for name, meaning in reversed(muscles)) + text[end + 1:]
        elif path.name == "muscles.yaml":
            text = "rules:\n" + yaml.safe_dump(list(reversed(data["rules"])), sort_keys=False)
        (folder / path.name).write_text(text, encoding="utf-8")
    session = TriageSession(rules_dir=folder)
    assert session.kb.muscles == tuple(reversed(load_knowledge_base().muscles))
    return session


@SETTINGS
@given(raw=raw_cases)
def test_muscle_ranking_does_not_depend_on_the_order_of_the_muscle_list(
        raw: dict[str, Any], session: TriageSession, reversed_muscles_session: TriageSession) -> None:
    ours, theirs = _triage(session, raw), _triage(reversed_muscles_session, raw)
    assert theirs["disposition"] == ours["disposition"]
    assert [(m["muscle"], m["confidence"]) for m in theirs["likely_muscles"]] == \
        [(m["muscle"], m["confidence"]) for m in ours["likely_muscles"]]
    assert [r["technique"] for r in theirs["recommendations"]] == \
        [r["technique"] for r in ours["recommendations"]]

