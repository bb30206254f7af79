"""The web questionnaire without JavaScript: plain form posts carrying the state in the page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient
from web.support import SELF_CARE_FORM

from triage.api import TriageKB

SELF_CARE = SELF_CARE_FORM
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def hidden(page: str) -> dict[str, str]:
    """The page's hidden state fields."""
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)}


def answer(client: TestClient, page: str, value: Any, action: str = "next") -> Any:
    return client.post("/question", data={**hidden(page), "action": action, "answer": value})


def walk(client: TestClient, answers: dict[str, Any]) -> tuple[Any, list[str]]:
    """Answer every question asked from ``answers``; the last response and the ids asked."""
    response = client.get("/")
    asked = []
    while "current" in hidden(response.text):
        current = hidden(response.text)["current"]
        asked.append(current)
        response = answer(client, response.text, answers[current])
        assert response.status_code == 200, response.text
    return response, asked


def test_the_whole_questionnaire_ends_at_self_care_with_technique_cards(client: TestClient) -> None:
    page, asked = walk(client, SELF_CARE)
    assert asked[:4] == ["emergency_signs", "other_symptoms", "warning_signs", "conditions"]  # screens first
    assert 'class="banner d-self_care"' in page.text
    assert page.text.count('<article class="card">') >= 2
    assert "Hold:" in page.text and "Cautions" in page.text
    assert "<details class=\"how\">" in page.text and "Likely tight muscle: piriformis" in page.text


def test_the_page_follows_the_library_questionnaire(client: TestClient, kb: Any) -> None:
    """Same questions, same order, same result as kb.next_question (no second copy of the logic)."""
    page, asked = walk(client, SELF_CARE)
    answers = json.loads(hidden(page.text)["answers"])
    step = TriageKB(kb).next_question(answers)
    assert step["asked"] == asked and "result" in step
    assert step["result"]["headline"] in html.unescape(page.text)


def test_an_emergency_sign_on_the_first_screen_ends_at_the_emergency_page(client: TestClient) -> None:
    page = answer(client, client.get("/").text, ["saddle_numbness"])
    assert 'class="banner d-emergency"' in page.text and "Get emergency help now" in page.text
    assert "current" not in hidden(page.text)


def test_back_returns_to_the_previous_question_with_its_answers(client: TestClient) -> None:
    first = client.get("/")
    second = answer(client, answer(client, first.text, ["none"]).text, ["none"])
    third = answer(client, second.text, ["fever", "night_pain"])
    assert hidden(third.text)["current"] == "conditions"
    back = answer(client, third.text, [], action="back")
    assert hidden(back.text)["current"] == "warning_signs"
    assert re.findall(r'value="(\w+)" id="choice-\d+" checked', back.text) == ["fever", "night_pain"]
    again = answer(client, back.text, ["fever"])
    assert json.loads(hidden(again.text)["answers"])["warning_signs"] == ["fever"]


def test_a_missing_required_answer_is_asked_again_with_a_message(client: TestClient) -> None:
    page = client.get("/")
    for _ in range(4):
        page = answer(client, page.text, ["none"])
    assert hidden(page.text)["current"] == "pain_sites"
    again = client.post("/question", data={**hidden(page.text), "action": "next"})
    assert again.status_code == 422
    assert hidden(again.text)["current"] == "pain_sites" and 'role="alert"' in again.text


def test_unknown_is_offered_where_the_terminal_allows_an_empty_answer(client: TestClient) -> None:
    page = client.get("/")
    for key in ("emergency_signs", "other_symptoms", "warning_signs", "conditions", "pain_sites", "pain_below_knee"):
        page = answer(client, page.text, SELF_CARE[key])
    assert hidden(page.text)["current"] == "age"
    assert "Leave it empty if you don't know" in page.text
    after = answer(client, page.text, "")
    assert json.loads(hidden(after.text)["answers"])["age"] is None
    page = after
    while 'id="choice-unknown"' not in page.text:
        # Numbers asked (or asked again) before the first question with choices: left empty.
        current = hidden(page.text).get("current")
        assert current is not None, "no question offered I don't know"
        page = answer(client, page.text, "")
        assert hidden(page.text).get("current") != current, f"{current} did not take its unknown answer"
    assert "I don't know" in page.text
    current = hidden(page.text)["current"]
    assert hidden(answer(client, page.text, "unknown").text).get("current") != current


def test_every_choice_is_a_labelled_control(client: TestClient) -> None:
    page = client.get("/").text
    ids = re.findall(r'<input type="checkbox" name="answer" value="\w+" id="([\w-]+)"', page)
    assert ids and all(f'<label for="{i}">' in page for i in ids)


def test_downloads_give_the_ask_save_yaml_and_the_result_json(client: TestClient) -> None:
    page, _ = walk(client, SELF_CARE)
    state = {"answers": hidden(page.text)["answers"]}
    answers = client.post("/download/answers", data=state)
    assert answers.headers["content-disposition"].startswith("attachment")
    assert answers.text.startswith("# Answers from triage ask (sha256:")
    saved = yaml.safe_load(answers.text)
    assert saved["pain_sites"] == ["buttock", "back_of_thigh"] and saved["red_flags"] == []
    result = client.post("/download/result", data=state)
    assert json.loads(result.text)["disposition"] == "self_care"
    unfinished = client.post("/download/result", data={"answers": "{}"})
    assert unfinished.status_code == 400


def test_hostile_answers_are_refused_and_shown_escaped(client: TestClient) -> None:
    page = client.get("/")
    response = answer(client, page.text, [HOSTILE])
    assert response.status_code == 422
    assert "<script>alert" not in response.text and "&lt;script&gt;" in response.text


@pytest.mark.parametrize("data", [
    {"answers": "not json", "current": "emergency_signs"},
    {"answers": "[]", "current": "emergency_signs"},
    {"answers": json.dumps({"emergency_signs": "x"}), "current": "warning_signs"},
    {"answers": "{}", "current": "no_such_question"},
])
def test_damaged_page_state_is_a_400_page_not_a_crash(client: TestClient, data: dict[str, str]) -> None:
    response = client.post("/question", data=data)
    assert response.status_code == 400 and "start again" in response.text


def test_pages_take_forms_only(client: TestClient) -> None:
    assert client.post("/question", json={"answers": {}}).status_code == 415


def test_audit_page_shows_each_case_escaped_and_the_graph(client: TestClient) -> None:
    cases = yaml.safe_dump([{"id": HOSTILE, "pain_sites": ["buttock"], "triggers": ["tennis_serve"],
                             "red_flags": [], "conditions": []}])
    response = client.post("/audit", files={"file": ("cases.yaml", cases.encode())}, data={"format": "auto"})
    assert response.status_code == 200
    assert "<script>alert" not in response.text and "&lt;script&gt;" in response.text
    assert "Rules that fired" in response.text
    assert 'id="graph" src="data:image/svg+xml;base64,' in response.text or "Graphviz" in response.text


def test_audit_page_says_what_is_wrong_with_a_bad_file(client: TestClient) -> None:
    response = client.post("/audit", data={"cases": "- {id: a, pain_sites: [", "format": "yaml"})
    assert response.status_code == 422 and 'class="error"' in response.text
    empty = client.post("/audit", data={"cases": ""})
    assert empty.status_code == 422 and "Paste a case file" in empty.text


def test_each_question_kind_gets_its_own_controls(client: TestClient) -> None:
    """many: ticks; number: a number field; yes_no: radios sent as true/false; one: radios."""
    response, seen = client.get("/"), set()
    while "current" in hidden(response.text):
        page = response.text
        radios = re.findall(r'<input type="radio" name="answer" value="([^"]*)"', page)
        if '<input type="checkbox" name="answer"' in page:
            seen.add("many")
        elif '<input type="number"' in page:
            seen.add("number")
        elif {"true", "false"} <= set(radios):
            seen.add("yes_no")
        elif radios:
            seen.add("one")
        response = answer(client, page, SELF_CARE[hidden(page)["current"]])
    assert seen == {"many", "number", "yes_no", "one"}


def test_audit_upload_reads_a_clinic_export_as_a_table_and_never_echoes_it(client: TestClient) -> None:
    """A ';' export uploaded without a .csv name: its unknown columns named in one message, no notes shown."""
    export = (Path(__file__).resolve().parents[1] / "fixtures" / "clinic-export.txt").read_bytes()
    response = client.post("/audit", files={"file": ("export.txt", export)}, data={"format": "auto"})
    assert response.status_code == 422
    error = re.search(r'class="error"[^>]*>(.*?)</p>', response.text, re.S)
    assert error is not None and "2 unknown columns: &#39;Notes&#39;, &#39;Clinician&#39;" in error[1]
    assert "private note" not in error[1]


def test_a_screen_offers_none_of_these_and_not_sure_and_nothing_ticked_is_asked_again(client: TestClient) -> None:
    """Policy v3, principle 7: an empty screen is not "none"; the error summary says what to do."""
    page = client.get("/")
    assert 'value="none" id="choice-none"' in page.text and "None of these" in page.text
    assert 'value="not_sure" id="choice-not_sure"' in page.text and "I&#39;m not sure" in page.text
    empty = client.post("/question", data={**hidden(page.text), "action": "next"})
    assert empty.status_code == 422 and hidden(empty.text)["current"] == "emergency_signs"
    assert "<title>Error: " in empty.text and 'class="error-summary"' in empty.text
    assert "There is a problem" in empty.text
    both = answer(client, page.text, ["leg_weakness", "none"])
    assert both.status_code == 422 and "each go alone" in html.unescape(both.text)


@pytest.mark.parametrize("screen", ["emergency_signs", "other_symptoms", "warning_signs", "conditions"])
def test_not_sure_on_any_screen_never_ends_in_self_care(client: TestClient, screen: str) -> None:
    page, _ = walk(client, {**SELF_CARE, screen: ["not_sure"]})
    assert 'class="banner d-self_care"' not in page.text
    assert "were not answered" in html.unescape(page.text)


def test_crafted_hidden_answers_with_null_screens_never_end_in_self_care(client: TestClient) -> None:
    """A page post whose hidden answers carry null ("don't know") for every screen."""
    done, _ = walk(client, SELF_CARE)
    answers = json.loads(hidden(done.text)["answers"])
    forged = {**answers, "emergency_signs": None, "other_symptoms": None, "warning_signs": None, "conditions": None}
    page = client.post("/download/result", data={"answers": json.dumps(forged)})
    assert json.loads(page.text)["disposition"] != "self_care"


def test_answers_downloaded_mid_way_say_they_are_not_finished_and_refer(client: TestClient) -> None:
    """Policy v3: a download before the end is marked, and its unanswered screens are not screened."""
    page = answer(client, client.get("/").text, ["none"])  # the emergency signs only
    download = client.post("/download/answers", data={"answers": hidden(page.text)["answers"]})
    assert download.text.startswith("# INCOMPLETE: triage ask was not finished")
    saved = yaml.safe_load(download.text)
    assert saved["complete"] is False
    assert saved["red_flags"] == "unknown" and saved["other_symptoms"] == "unknown"
    assert saved["conditions"] == "unknown"
