"""The Python API (triage.load): dict in, the contract's dict out; the questionnaire as data."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import BASE_CASE
from test_questionnaire import SELF_CARE as SELF_CARE_TYPED  # the same person, typed at a terminal

import triage
from triage.api import TriageKB, answers_file
from triage.errors import CaseError, CaseFileWarning
from triage.questionnaire import Questionnaire
from triage.session import TriageSession

#: JSON answers (question id -> answer) of a person with a tight piriformis.
SELF_CARE_ANSWERS: dict[str, Any] = {
    "emergency_signs": [], "warning_signs": [], "conditions": [],
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
    ({"emergency_signs": [], "warning_signs": [], "conditions": [], "pain_sites": []},
     "pain_sites", "at least one"),
    ({**{k: SELF_CARE_ANSWERS[k] for k in ("emergency_signs", "warning_signs", "conditions",
                                           "pain_sites", "pain_below_knee")}, "age": 200},
     "age", "out of range"),
    ({**{k: SELF_CARE_ANSWERS[k] for k in ("emergency_signs", "warning_signs", "conditions",
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
    answers = {k: SELF_CARE_ANSWERS[k] for k in ("emergency_signs", "warning_signs", "conditions",
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


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_triage_file_gives_what_triage_run_gives_for_every_example(api: TriageKB) -> None:
    from click.testing import CliRunner

    from triage.cli import main

    for path in sorted(EXAMPLES.iterdir()):
        if path.suffix not in (".yaml", ".csv", ".jsonl", ".json") or path.name == "policy-v2.yaml":
            continue
        run = CliRunner().invoke(main, ["run", str(path), "-f", "jsonl"])
        assert [json.loads(line) for line in run.stdout.splitlines()] == list(api.triage_file(path)), path.name


@pytest.mark.parametrize("fmt", ["yaml", "json", "jsonl", "csv"])
def test_read_cases_reads_every_format_and_keeps_bad_cases_in_place(api: TriageKB, tmp_path: Path, fmt: str) -> None:
    # A copy of its own for each case: YAML would write shared lists as aliases (refused on reading).
    cases = json.loads(json.dumps([{**BASE_CASE, "id": "a"}, {**BASE_CASE, "id": "b", "pain_sites": ["elbow"]}]))
    text = {"yaml": yaml.safe_dump(cases), "json": json.dumps(cases),
            "jsonl": "".join(json.dumps(c) + "\n" for c in cases),
            "csv": "id,pain_sites,red_flags,conditions\na,lower_back,none,none\nb,elbow,none,none\n"}[fmt]
    path = tmp_path / f"cases.{fmt}"
    path.write_text(text)
    read = list(api.read_cases(path))
    assert [c["id"] for c in read] == ["a", "b"]
    assert read[0]["pain_sites"] == ["lower_back"] and read[1]["error"]["field"] == "pain_sites"
    assert [r.get("disposition") for r in api.triage_file(path)] == [api.triage(cases[0])["disposition"], None]


def test_what_a_case_file_forgives_is_a_python_warning(api: TriageKB, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("id,Pain Sites,red_flags,conditions\na,Lower back,none,none\n")
    with pytest.warns(CaseFileWarning) as caught:
        assert [c["pain_sites"] for c in api.read_cases(path)] == [["lower_back"]]
    assert [str(w.message).split(": warning: ")[1] for w in caught] == [
        "column names read as case fields: 'Pain Sites' as 'pain_sites'",
        "'Lower back' read as 'lower_back' (said once for this file)"]
    said: list[str] = []
    assert len(list(api.triage_file(path, on_warning=lambda w: said.append(w.message)))) == 1
    assert "'Lower back' read as 'lower_back' (said once for this file)" in said


def test_a_frame_read_from_a_csv_file_triages_as_the_file_does(api: TriageKB) -> None:
    """``pd.read_csv`` then ``triage_many``: list cells split on ';', 'none', NaN for an empty cell."""
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(EXAMPLES / "clinic-b.csv")
    assert list(api.triage_many(frame)) == list(api.triage_file(EXAMPLES / "clinic-b.csv"))


def test_nan_in_a_frame_is_unanswered(api: TriageKB) -> None:
    pd = pytest.importorskip("pandas")
    plain = {**BASE_CASE, "id": "p1", "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"]}
    frame = pd.DataFrame([{**plain, "age": float("nan"), "pain_side": None}, {**plain, "id": "p2", "age": 30}])
    first, second = api.triage_many(frame)
    assert first == api.triage(plain)
    assert second == api.triage({**plain, "id": "p2", "age": 30})


@pytest.mark.parametrize(("cases", "hint"), [
    ("examples/clinic-b.csv", "kb.triage_file(path)"),
    ({"pain_sites": ["buttock"], "red_flags": [], "conditions": []}, "kb.triage(case)"),
])
def test_triage_many_refuses_a_string_or_one_mapping_at_once(api: TriageKB, cases: Any, hint: str) -> None:
    with pytest.raises(TypeError, match=re.escape(hint)):
        api.triage_many(cases)  # raised by the call, not later when the results are read


def test_numpy_numbers_and_tuples_are_their_plain_python_kinds(api: TriageKB) -> None:
    np = pytest.importorskip("numpy")
    plain = {**BASE_CASE, "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"],
             "age": 40, "severity": 3, "can_touch_toes": True}
    numpy_kinds = {**plain, "pain_sites": ("buttock", "back_of_thigh"), "triggers": np.array(["tennis_serve"]),
                   "age": np.int64(40), "severity": np.float64(3.0), "can_touch_toes": np.bool_(True)}
    assert api.triage(numpy_kinds) == api.triage(plain)
    assert list(api.triage_many([numpy_kinds])) == [api.triage(plain)]
    answers = {**SELF_CARE_ANSWERS, "age": np.int64(40), "pain_sites": ("buttock", "back_of_thigh")}
    assert api.next_question(answers) == api.next_question(SELF_CARE_ANSWERS)
