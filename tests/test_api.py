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
from triage.api import TriageKB, answer_text, answers_file
from triage.errors import CaseError, CaseFileWarning
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
    saved = yaml.safe_load(text)
    assert saved["complete"] is False
    assert api.triage(saved)["disposition"] == "emergency"


def test_answers_saved_unfinished_refer_even_when_every_answer_given_points_to_self_care(api: TriageKB) -> None:
    """Issue 19: the file says complete: false, and triage refers it rather than guessing."""
    answered = {k: v for k, v in SELF_CARE_ANSWERS.items() if k not in ("lower_back_curve", "can_touch_toes")}
    state = api.questionnaire(answered)
    assert not state.finished
    saved = yaml.safe_load(answers_file(state))
    assert saved["complete"] is False
    result = api.triage(saved)
    assert result["disposition"] == "see_doctor"
    assert [r["rule"] for r in result["referral"]["reasons"]] == ["refer.see_doctor.answers_not_finished"]
    finished = yaml.safe_load(answers_file(api.questionnaire(SELF_CARE_ANSWERS)))
    assert "complete" not in finished and api.triage(finished)["disposition"] == "self_care"
    assert api.triage({**finished, "complete": True})["disposition"] == "self_care"


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
    """The pandas example of docs/python-api.md."""
    pd = pytest.importorskip("pandas")
    cases = pd.DataFrame([
        {**BASE_CASE, "id": "p1", "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"]},
        {**BASE_CASE, "id": "p2", "red_flags": ["fever"]},
    ])
    results = pd.DataFrame(api.triage_many(cases.to_dict("records")))
    assert list(results["id"]) == ["p1", "p2"]
    assert list(results["disposition"]) == ["self_care", "urgent"]


# -- the questionnaire at scale: one step's work per request ------------------------------------
class CountingSession(TriageSession):
    """A session that counts its engine runs."""

    runs = 0

    def triage(self, case: Any) -> Any:
        CountingSession.runs += 1
        return super().triage(case)


class CountingKB(TriageKB):
    """A TriageKB whose threads' sessions count their engine runs."""

    @property
    def session(self) -> TriageSession:
        if getattr(self._local, "session", None) is None:
            self._local.session = CountingSession(self.kb)
        return self._local.session


def _golden_answers(kb: Any) -> list[tuple[str, dict[str, Any]]]:
    """One golden case per expected disposition and top muscle, as the JSON answers its person gives.

    One per kind of result keeps the walks affordable (a full walk is up to a
    thousand engine runs); ``benchmarks/same_results.py --parts walks`` walks
    every golden case, to compare two versions.
    """
    import yaml
    from helpers import ROOT

    people, seen = [], set()
    for name in ("cases.yaml", "policy-v2.yaml"):
        for entry in yaml.safe_load((ROOT / "tests" / "golden" / name).read_text()):
            expect = entry.get("expect", {})
            kind = {expect.get("disposition"), *(expect.get("likely_muscles") or ())[:1]}
            if not kind <= seen:
                seen |= kind
                people.append((entry["name"], _answers_of(entry["case"], kb)))
    return people


def _answers_of(case: dict[str, Any], kb: Any) -> dict[str, Any]:
    """The answers a person with ``case`` gives: each question's share of its field."""
    answers: dict[str, Any] = {}
    for question in kb.questions:
        value = case.get(question.field)
        if question.answer == "many":
            offered = [c.value for c in question.choices]
            value = [v for v in value or () if v in offered]
            if not value and not question.may_be_empty:
                value = offered[:1]
        answers[question.id] = value
    return answers


def _random_answers(kb: Any, seed: int) -> dict[str, Any]:
    """Seeded random answers to every question, warning signs rare (as at an intake)."""
    import random

    rng = random.Random(seed)
    answers: dict[str, Any] = {}
    for question in kb.questions:
        offered = [c.value for c in question.choices]
        if question.answer == "many":
            chance = 0.02 if question.field == "red_flags" else 0.25
            value: Any = [v for v in offered if rng.random() < chance]
            if not value and not question.may_be_empty:
                value = [rng.choice(offered)]
        elif question.answer == "number":
            low, high = question.spec.minimum or 0, question.spec.maximum or 120
            value = None if not question.required and rng.random() < 0.15 else rng.randint(low, high)
        else:
            value = None if not question.required and rng.random() < 0.15 else rng.choice(offered)
        answers[question.id] = value
    return answers


def _walk(api: TriageKB, person: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Each request of a walk through the questionnaire (answers so far) and its reply as JSON text."""
    steps, answers = [], {}
    while True:
        reply = api.next_question(answers)
        steps.append((dict(answers), json.dumps(reply, ensure_ascii=False)))
        if "question" not in reply:
            return steps
        asked = reply["question"]["id"]
        answers[asked] = person[asked]


def _live(api: TriageKB, person: dict[str, Any]) -> list[str]:
    """The same walk on one live questionnaire (as ``triage ask`` holds it), each step as JSON text."""
    state = Questionnaire(api.session)
    steps = [json.dumps(api.step_data(state), ensure_ascii=False)]
    while state.current is not None:
        assert state.respond(answer_text(state.current, person[state.current.id])).accepted
        steps.append(json.dumps(api.step_data(state), ensure_ascii=False))
    return steps


@pytest.fixture(scope="module")
def kept(kb: Any) -> TriageKB:
    """A TriageKB that keeps questionnaire states (the default), shared by the tests below."""
    return TriageKB(kb)


def test_every_golden_path_gives_the_same_bytes_as_a_live_questionnaire(kept: TriageKB, kb: Any) -> None:
    for name, person in _golden_answers(kb):
        walked = [text for _, text in _walk(kept, person)]
        assert walked == _live(kept, person), name


@pytest.mark.parametrize("seed", [0, 3])
def test_random_paths_give_todays_bytes_in_any_order_of_requests(kb: Any, seed: int) -> None:
    """Kept states change nothing: each reply is that of a replay from scratch, whatever came before."""
    person = _random_answers(kb, seed)
    api = TriageKB(kb)
    steps = _walk(api, person)
    assert [text for _, text in steps] == _live(api, person)
    replay = TriageKB(kb, step_cache=0)  # every answer replayed from the first, as before
    assert json.dumps(replay.next_question(steps[-1][0]), ensure_ascii=False) == steps[-1][1]
    # Back, a reload, answers in another key order: all the same.
    for answers, text in [*reversed(steps), *steps]:
        backwards = dict(reversed(list(answers.items())))
        assert json.dumps(api.next_question(backwards), ensure_ascii=False) == text


def test_a_request_costs_one_step_of_engine_work_not_a_replay(kb: Any) -> None:
    """Walking the questionnaire one request per answer runs the engine about as often as one
    live walk; a request for a step already reached (Back, a reload) runs it once, for the result."""
    api = CountingKB(kb)
    live = Questionnaire(api.session)
    CountingSession.runs = 0
    while live.current is not None:
        live.respond(answer_text(live.current, SELF_CARE_ANSWERS.get(live.current.id)))
    live_runs = CountingSession.runs
    CountingSession.runs = 0
    steps = _walk(api, {**{q.id: None for q in kb.questions}, **SELF_CARE_ANSWERS})
    assert CountingSession.runs <= 2 * live_runs
    CountingSession.runs = 0
    api.next_question(steps[-1][0])
    assert CountingSession.runs == 1


def test_a_kept_state_is_never_changed_by_what_its_caller_does(kept: TriageKB) -> None:
    state = kept.questionnaire({})
    state.respond("")
    assert kept.next_question({})["asked"] == []


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
    assert first == api.triage({k: v for k, v in plain.items() if k != "age"})  # age unknown
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
