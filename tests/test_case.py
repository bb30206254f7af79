"""Case validation: every bad answer is a CaseError naming case, field, value and what is allowed."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from helpers import BASE_CASE, FIELDS, make_case, parse

from triage.case import Case
from triage.errors import CaseError


def error_of(raw: Any, from_text: bool = False) -> CaseError:
    with pytest.raises(CaseError) as info:
        parse(raw, "f.yaml#1", file="f.yaml", line=7, from_text=from_text)
    return info.value


def test_a_valid_case() -> None:
    case = make_case("c1", age=40, triggers=["tennis_serve"], can_touch_toes=False)
    assert case.value("age") == 40 and case.value("triggers") == frozenset({"tennis_serve"})
    assert case.to_dict()["red_flags"] == []


@pytest.mark.parametrize(("answers", "field", "fragment", "suggestion"), [
    ({"age": "forty"}, "age", "got the text 'forty'", None),
    ({"age": "40"}, "age", "write 40 without quotes", None),
    ({"age": 40.5}, "age", "expected a whole number", None),
    ({"age": True}, "age", "yes/no value true", None),
    ({"age": 121}, "age", "121 is out of range", None),
    ({"severity": -1}, "severity", "-1 is out of range", None),
    ({"duration_days": 10 ** 400}, "duration_days", "the number is out of range", None),
    ({"age": 1e300}, "age", "the number is out of range", None),
    ({"pain_side": ""}, "pain_side", "empty value", None),
    ({"pain_side": "lft"}, "pain_side", "'lft' is not allowed", "left"),
    ({"pain_side": ["left"]}, "pain_side", "expected one value, got a list", None),
    ({"pain_sites": ""}, "pain_sites", "expected a list", None),
    ({"pain_sites": []}, "pain_sites", "needs at least one value", None),
    ({"pain_sites": [""]}, "pain_sites", "empty value in list", None),
    ({"pain_sites": ["lower_back", 3]}, "pain_sites", "list items must be names", None),
    ({"red_flags": False}, "red_flags", "yes/no answer false", None),
    ({"red_flags": "no"}, "red_flags", "e.g. [] for none", None),
    ({"triggers": "driving"}, "triggers", "write [driving]", None),
    ({"triggers": ["tenis_serve"]}, "triggers", "'tenis_serve' is not allowed", "tennis_serve"),
    ({"conditions": {"dvt": True}}, "conditions", "expected a list, got a mapping", None),
    ({"can_touch_toes": "yes"}, "can_touch_toes", "not true or false", None),
    ({"piriformus": 1}, "piriformus", "unknown field 'piriformus'", None),
    ({"pain_site": ["hip"]}, "pain_site", "unknown field", "pain_sites"),
    ({"id": ["x"]}, "id", "'id' must be a string", None),
])
def test_bad_answers(answers: dict[str, Any], field: str, fragment: str, suggestion: str | None) -> None:
    error = error_of({**BASE_CASE, **answers})
    assert fragment in error.message
    assert error.location.file == "f.yaml"
    assert error.location.case == "f.yaml#1"
    assert error.location.field == field
    assert error.suggestion == suggestion
    if suggestion:
        assert f"did you mean {suggestion!r}" in error.message
    if field in FIELDS and field != "id":
        assert error.allowed == FIELDS[field].allowed()
        assert f"Allowed: {error.allowed}" in error.message
    json.dumps(error.value, allow_nan=False)  # error records stay valid JSON


@pytest.mark.parametrize(("cells", "field", "fragment"), [
    ({"age": "forty"}, "age", "'forty' is not a whole number"),
    ({"age": "40.5"}, "age", "not a whole number"),
    ({"red_flags": "yes"}, "red_flags", "or write none"),
    ({"red_flags": "no"}, "red_flags", "or write none"),
    ({"pain_sites": "lower_back;buttok"}, "pain_sites", "did you mean 'buttock'"),
    ({"can_touch_toes": "maybe"}, "can_touch_toes", "not true or false"),
    ({"severity": "1" + "0" * 5000}, "severity", "is not a whole number"),
])
def test_bad_csv_cells(cells: dict[str, str], field: str, fragment: str) -> None:
    text_case = {"pain_sites": "lower_back", "red_flags": "none", "conditions": "[]", **cells}
    error = error_of(text_case, from_text=True)
    assert fragment in error.message and error.location.field == field


def test_numbers_and_booleans_as_text_in_csv() -> None:
    case = parse({"pain_sites": "lower_back", "red_flags": "none", "conditions": "[]",
                       "age": " 40 ", "severity": "7.0", "can_touch_toes": "Yes"}, "x#1", from_text=True)
    assert (case.value("age"), case.value("severity"), case.value("can_touch_toes")) == (40, 7, True)


@pytest.mark.parametrize("raw", [None, "text", 3, ["a"], [BASE_CASE]])
def test_a_case_that_is_not_a_mapping(raw: Any) -> None:
    error = error_of(raw)
    assert "a case must be a mapping" in error.message
    assert error.location.case == "f.yaml#1"


def test_the_line_of_the_bad_field_is_reported() -> None:
    from triage.yamlio import load_yaml

    raw = load_yaml("pain_sites: [lower_back]\nred_flags: []\nconditions: []\nage: old\n", "f.yaml")
    assert error_of(raw).location.line == 4


def test_not_a_number_is_shown_as_text() -> None:
    error = error_of({**BASE_CASE, "age": math.nan})
    assert error.value == "nan"


JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)
FIELD_VALUES = st.fixed_dictionaries({}, optional={
    name: JSON_LIKE | st.sampled_from(spec.values or ("",)) | st.lists(st.sampled_from(spec.values or ("",)))
    for name, spec in FIELDS.items()})


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSON_LIKE, FIELD_VALUES), st.booleans())
def test_any_json_like_value_is_a_case_or_a_clean_error(raw: Any, from_text: bool) -> None:
    try:
        case = parse(raw, "fuzz#1", file="fuzz", from_text=from_text)
    except CaseError as error:
        assert error.location.case and error.message
        json.dumps(error.value, allow_nan=False)
    else:
        assert isinstance(case, Case)


@settings(max_examples=100, deadline=None)
@given(FIELD_VALUES)
def test_any_valid_case_triages(session: Any, raw: dict[str, Any]) -> None:
    try:
        case = parse(raw, "fuzz#1")
    except CaseError:
        return
    assert session.triage(case).id == "fuzz#1"


@pytest.mark.parametrize("answer", [None, "unknown", "not sure", "Not_Sure", "don't know"])
@pytest.mark.parametrize("screen", ["red_flags", "other_symptoms", "conditions"])
def test_a_screen_answered_not_sure_is_not_screened(screen: str, answer: object) -> None:
    """Policy v3, principle 7: null and the words for "not sure" are not "none found"."""
    case = parse({**BASE_CASE, screen: answer}, "unsure#1")
    assert case.value(screen) is None
    assert case.to_dict()[screen] == "unknown"  # how it is written back (triage ask --save)
    assert parse(case.to_dict(), "again#1").value(screen) is None


def test_a_screen_left_out_is_not_screened_and_still_reported() -> None:
    """A required screen left out: the error says how to fix it, but the case is still triaged."""
    raw = {k: v for k, v in BASE_CASE.items() if k != "red_flags"}
    with pytest.raises(CaseError) as caught:
        parse(raw, "left-out#1")
    error = caught.value
    assert error.location.field == "red_flags" and "missing required field 'red_flags'" in error.message
    assert not error.blocking and error.partial.value("red_flags") is None


def test_an_invalid_case_keeps_what_parsed() -> None:
    """Policy v3, principle 9: the red flag beside a typo is kept for triage."""
    with pytest.raises(CaseError) as caught:
        parse({**BASE_CASE, "red_flags": ["saddle_numbness", "feverr"], "pain_sites": ["buttok"], "age": 300},
              "typo#1")
    error = caught.value
    assert error.blocking
    assert {e.location.field for e in error.all} == {"red_flags", "pain_sites", "age"}
    assert error.partial.value("red_flags") == frozenset({"saddle_numbness"})
    assert error.partial.value("age") is None
