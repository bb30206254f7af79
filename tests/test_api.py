"""The Python API (triage.load): dict in, the contract's dict out; the questionnaire as data."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from typing import Any

import pytest
from helpers import BASE_CASE
from test_questionnaire import SELF_CARE as SELF_CARE_TYPED  # the same person, typed at a terminal

import triage
from triage.api import TriageKB, answers_file
from triage.errors import CaseError
from triage.questionnaire import Questionnaire
from triage.session import TriageSession

#: JSON answers (question id -> answer) of a person with a tight piriformis.
SELF_CARE_ANSWERS: dict[str, Any] = {
    "emergency_signs": [], "other_symptoms": [], "warning_signs": [], "conditions": [],
    "pain_sites": ["buttock", "back_of_thigh"], "pain_below_knee": [], "age": 40,
    "severity": 4, "duration_days": 5, "course": "improving", "pain_side": "left",
    "pain_feels": ["ache"], "triggers": ["tennis_serve"], "worse_when": ["sitting"],
    "lower_back_curve": "normal", "can_touch_toes": True,
}


@pytest.fixture(scope="module")
def api() -> TriageKB:
    return triage.load()


def test_import_triage_does_not_load_the_engine() -> None:
    code = "import sys, triage; print('experta' in sys.modules); triage.load; print('experta' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_triage_returns_the_sessions_result_as_a_dict(api: TriageKB, session: TriageSession) -> None:
    case = {**BASE_CASE, "id": "p1", "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"]}
    from triage.case import parse_case

    assert api.triage(case) == session.triage(parse_case(case, "x", api.kb.vocabulary)).to_dict()
    assert api.triage(case)["disposition"] == "self_care"


def test_invalid_case_raises_one_typed_error_with_field_value_and_allowed(api: TriageKB) -> None:
    with pytest.raises(CaseError) as caught:
        api.triage({**BASE_CASE, "pain_side": "lfet"})
    error = caught.value
    assert error.location.field == "pain_side"
    assert error.value == "lfet"
    assert error.allowed is not None and "left" in error.allowed
    assert error.suggestion == "left"
    assert triage.CaseError is CaseError


def test_triage_many_streams_in_order_with_error_records_in_place(api: TriageKB) -> None:
    def cases() -> Any:
        yield {**BASE_CASE, "id": "a"}
        yield {"id": "bad", "pain_sites": ["moon"], "red_flags": [], "conditions": []}
        yield {**BASE_CASE, "red_flags": ["fever"]}
        for n in itertools.count():  # endless: only a lazy reader can return
            yield {**BASE_CASE, "id": f"more{n}"}

    first = list(itertools.islice(api.triage_many(cases()), 4))
    assert [r["id"] for r in first] == ["a", "bad", "case#3", "more0"]
    assert first[1]["error"]["field"] == "pain_sites" and "disposition" not in first[1]
    assert first[2]["disposition"] == "urgent"


def test_next_question_follows_the_questionnaire_state_machine(api: TriageKB, session: TriageSession) -> None:
    typed = Questionnaire(session)
    while typed.current is not None:
        assert typed.respond(SELF_CARE_TYPED[typed.current.id]).accepted
    answers: dict[str, Any] = {}
    while "question" in (step := api.next_question(answers)):
        asked = step["question"]["id"]
        answers[asked] = SELF_CARE_ANSWERS[asked]
    assert step["asked"] == typed.asked == list(answers)
    assert step["result"] == typed.result().to_dict()
    assert step["result"]["disposition"] == "self_care" and not step["emergency"]
    assert {s["id"] for s in step["skipped"]} == {s.question.id for s in typed.skipped}


def test_next_question_starts_with_the_warning_signs_and_says_why(api: TriageKB) -> None:
    question = api.next_question({})["question"]
    assert question["id"] == api.questions()[0]["id"] == "emergency_signs"
    assert question["kind"] == "many" and question["number"] == 1
    assert {"value": "saddle_numbness", "label": question["choices"][0]["label"]} == question["choices"][0]
    assert question["help"] and any("cauda equina" in line for line in question["why"])


def test_an_emergency_sign_ends_the_questions_at_once(api: TriageKB) -> None:
    step = api.next_question({"emergency_signs": ["saddle_numbness"], "age": 40})
    assert step["emergency"] is True
    assert step["result"]["disposition"] == "emergency"
    assert step["asked"] == ["emergency_signs"]
    assert step["case"] == {"id": "ask", "red_flags": ["saddle_numbness"]}


@pytest.mark.parametrize(("answers", "field", "says"), [
    ({"emergency_signs": ["fever"]}, "emergency_signs", "saddle_numbness"),
    ({"emergency_signs": "none"}, "emergency_signs", "a list of"),
    ({"emergency_signs": [], "other_symptoms": [], "warning_signs": [], "conditions": [], "pain_sites": []},
     "pain_sites", "at least one"),
    ({**{k: SELF_CARE_ANSWERS[k] for k in ("emergency_signs", "other_symptoms", "warning_signs", "conditions",
                                           "pain_sites", "pain_below_knee")}, "age": 200},
     "age", "out of range"),
    ({**{k: SELF_CARE_ANSWERS[k] for k in ("emergency_signs", "other_symptoms", "warning_signs", "conditions",
                                           "pain_sites", "pain_below_knee")}, "age": "40"},
     "age", "whole number"),
    ({"no_such_question": 1}, "no_such_question", "unknown question"),
])
def test_invalid_answers_name_the_question_and_what_is_allowed(api: TriageKB, answers: dict[str, Any],
                                                               field: str, says: str) -> None:
    with pytest.raises(CaseError) as caught:
        api.next_question(answers)
    assert caught.value.location.field == field
    assert says in str(caught.value)


def test_unknown_is_allowed_where_the_terminal_allows_it(api: TriageKB) -> None:
    answers = {k: SELF_CARE_ANSWERS[k] for k in ("emergency_signs", "other_symptoms", "warning_signs", "conditions",
                                                  "pain_sites", "pain_below_knee")}
    question = api.next_question(answers)["question"]
    assert question["id"] == "age" and question["unknown_allowed"]
    assert api.next_question({**answers, "age": None})["asked"][-1] == "age"


def test_answers_file_is_what_triage_ask_saves(api: TriageKB) -> None:
    state = api.questionnaire({"emergency_signs": ["leg_weakness"]})
    text = answers_file(state)
    assert text.startswith("# INCOMPLETE: triage ask was stopped early for an emergency")
    assert "red_flags: [leg_weakness]" in text


def test_audit_lists_the_fired_rules_with_facts_and_sources(api: TriageKB) -> None:
    report = api.audit({**BASE_CASE, "id": "a1", "red_flags": ["fever"]})
    assert report["disposition"] == "urgent"
    step = next(s for s in report["trace"] if "fever" in str(s["facts"]))
    assert step["sources"] and step["rule"]


def test_knowledge_base_lists_every_rule_with_its_sources(api: TriageKB) -> None:
    data = api.knowledge_base()
    assert data["version"] == api.version
    assert len(data["rules"]) == len(api.kb.rules)
    cited = {s for r in data["rules"] for s in r["sources"]}
    assert cited <= set(data["sources"])


def test_each_thread_gets_its_own_engine(api: TriageKB) -> None:
    seen: list[TriageSession] = []
    thread = threading.Thread(target=lambda: seen.append(api.session))
    thread.start()
    thread.join()
    assert seen[0] is not api.session and api.session is api.session


def test_pandas_frame_in_frame_out(api: TriageKB) -> None:
    """The README's pandas example."""
    pd = pytest.importorskip("pandas")
    cases = pd.DataFrame([
        {**BASE_CASE, "id": "p1", "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"]},
        {**BASE_CASE, "id": "p2", "red_flags": ["fever"]},
    ])
    results = pd.DataFrame(api.triage_many(cases.to_dict("records")))
    assert list(results["id"]) == ["p1", "p2"]
    assert list(results["disposition"]) == ["self_care", "urgent"]
