"""The web questionnaire without JavaScript: plain form posts, redirects to GET pages, the answers in a cookie."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient
from web.support import SELF_CARE_FORM

from triage.api import TriageKB
from triage.web.app import SECURITY_HEADERS
from triage.web.pages import ANSWERS_COOKIE, decode_cookie, encode_cookie

SELF_CARE = SELF_CARE_FORM
_FORM = "application/x-www-form-urlencoded"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def current(page: str) -> str | None:
    """The id of the question the page asks (its one hidden field), or None on a result page."""
    found = re.search(r'<input type="hidden" name="current" value="(\w+)"', page)
    return found[1] if found else None


def kept(client: TestClient) -> dict[str, Any]:
    """The answers the browser keeps in its cookie."""
    value = decode_cookie(client.cookies.get(ANSWERS_COOKIE))
    assert value is not None
    return value


def answer(client: TestClient, page: str, value: Any, **extra: str) -> Any:
    """Submit ``value`` to the page's form the way a browser does: post, then follow the 303."""
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)" class="question"', page)[1])
    fields = {"current": current(page) or "", **extra}
    if value is not None:
        fields["answer"] = value
    return client.post("/" + action, data=fields)


def give_cookie(client: TestClient, value: str) -> None:
    """Make the browser's cookie ``value``, as a person (or an attacker) could edit it."""
    client.cookies.clear()
    client.cookies.set(ANSWERS_COOKIE, value, domain="testserver.local", path="/")


def walk(client: TestClient, answers: dict[str, Any]) -> tuple[Any, list[str]]:
    """Answer every question asked from ``answers``; the last response and the ids asked."""
    response = client.get("/")
    asked = []
    while (ident := current(response.text)) is not None:
        asked.append(ident)
        response = answer(client, response.text, answers[ident])
        assert response.status_code == 200, response.text
    return response, asked


@pytest.fixture(autouse=True)
def _fresh_browser(client: TestClient) -> Iterator[None]:
    """Each test starts as a new browser: no cookie left by another test."""
    client.cookies.clear()
    yield
    client.cookies.clear()


def test_the_whole_questionnaire_ends_at_self_care_with_techniques_folded(client: TestClient) -> None:
    page, asked = walk(client, SELF_CARE)
    assert asked[:4] == ["emergency_signs", "other_symptoms", "warning_signs", "conditions"]  # screens first
    assert 'class="banner d-self_care"' in page.text
    assert page.text.count('<details class="technique">') >= 2
    assert "Hold:" in page.text and "Cautions" in page.text
    assert "Tight muscle: piriformis (likely)" in page.text


def test_the_page_follows_the_library_questionnaire(client: TestClient, kb: Any) -> None:
    """Same questions, same order, same result as kb.next_question (no second copy of the logic)."""
    page, asked = walk(client, SELF_CARE)
    step = TriageKB(kb).next_question(kept(client))
    assert step["asked"] == asked and "result" in step
    assert step["result"]["headline"] in html.unescape(page.text)


def test_an_emergency_sign_on_the_first_screen_ends_at_the_emergency_page(client: TestClient) -> None:
    page = answer(client, client.get("/").text, ["saddle_numbness"])
    assert 'class="banner d-emergency"' in page.text and "Get emergency help now" in page.text
    assert current(page.text) is None and page.url.path == "/result"


def test_each_answer_redirects_to_a_get_page_whose_url_holds_only_the_step(client: TestClient) -> None:
    """Post/Redirect/Get: Back and Forward fetch GET pages and never send a form again."""
    first = client.get("/")
    assert first.url.path == "/question" and first.url.query == b"step=1"
    response = client.post("/question?step=1", data={"current": "emergency_signs", "answer": "none"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "question?step=2"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(ANSWERS_COOKIE + "=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path"} <= attributes and not attributes & {"max-age", "expires"}
    assert "SameSite=strict" in cookie and "Path=/;" in cookie + ";"
    assert "none" not in response.headers["location"]  # the answer is not in the URL
    assert client.get("/question?step=2").text.count('value="other_symptoms"') == 1


def test_back_and_forward_show_each_step_with_its_earlier_answer(client: TestClient) -> None:
    first = client.get("/")
    second = answer(client, answer(client, first.text, ["none"]).text, ["none"])
    third = answer(client, second.text, ["fever", "night_pain"])
    assert current(third.text) == "conditions" and third.url.query == b"step=4"
    assert 'class="back-link" href="question?step=3"' in third.text  # Back at the top of the page
    back = client.get("/question?step=3")  # what the browser's Back fetches
    assert current(back.text) == "warning_signs"
    assert re.findall(r'value="(\w+)" id="choice-\d+" checked', back.text) == ["fever", "night_pain"]
    forward = client.get("/question?step=4")  # and its Forward
    assert current(forward.text) == "conditions"
    assert client.get("/question?step=9").url.query == b"step=4"  # not reached yet: where the answers are
    again = answer(client, back.text, ["fever"])
    assert current(again.text) == "conditions" and kept(client)["warning_signs"] == ["fever"]


def test_a_changed_answer_that_ends_in_an_emergency_forgets_the_answers_after_it(client: TestClient) -> None:
    page, _ = walk(client, SELF_CARE)
    first = client.get("/question?step=1")
    assert re.findall(r'value="(\w+)" id="choice-none" checked', first.text) == ["none"]
    page = answer(client, first.text, ["saddle_numbness"])
    assert 'class="banner d-emergency"' in page.text
    assert kept(client) == {"emergency_signs": ["saddle_numbness"]}


def test_start_again_forgets_the_answers(client: TestClient) -> None:
    walk(client, SELF_CARE)
    first = client.get("/")
    assert current(first.text) == "emergency_signs" and ANSWERS_COOKIE not in client.cookies
    assert " checked" not in first.text  # nothing ticked in advance
    assert client.get("/result").url.query == b"step=1"


def test_a_missing_required_answer_is_asked_again_with_a_message(client: TestClient) -> None:
    page = client.get("/")
    for _ in range(4):
        page = answer(client, page.text, ["none"])
    assert current(page.text) == "pain_sites"
    again = answer(client, page.text, None)
    assert again.status_code == 422 and again.url.query == b"step=5"
    assert current(again.text) == "pain_sites" and 'role="alert"' in again.text
    assert client.get(str(again.url)).status_code == 200  # said once: a reload asks plainly


def test_unknown_is_offered_where_the_terminal_allows_an_empty_answer(client: TestClient) -> None:
    page = client.get("/")
    for key in ("emergency_signs", "other_symptoms", "warning_signs", "conditions", "pain_sites", "pain_below_knee"):
        page = answer(client, page.text, SELF_CARE[key])
    assert current(page.text) == "age"
    assert "Leave it empty if you don't know" in page.text
    after = answer(client, page.text, "")
    assert kept(client)["age"] is None
    page = after
    while 'id="choice-unknown"' not in page.text:
        # Numbers asked (or asked again) before the first question with choices: left empty.
        ident = current(page.text)
        assert ident is not None, "no question offered I don't know"
        page = answer(client, page.text, "")
        assert current(page.text) != ident, f"{ident} did not take its unknown answer"
    assert "I don't know" in page.text
    ident = current(page.text)
    assert current(answer(client, page.text, "unknown").text) != ident


def test_every_choice_is_a_labelled_control(client: TestClient) -> None:
    page = client.get("/").text
    ids = re.findall(r'<input type="checkbox" name="answer" value="\w+" id="([\w-]+)"', page)
    assert ids and all(f'<label for="{i}">' in page for i in ids)


def test_downloads_give_the_ask_save_yaml_and_the_result_json(client: TestClient) -> None:
    walk(client, SELF_CARE)
    answers = client.post("/download/answers", data={})
    assert answers.headers["content-disposition"].startswith("attachment")
    assert answers.text.startswith("# Answers from triage ask (sha256:")
    saved = yaml.safe_load(answers.text)
    assert saved["pain_sites"] == ["buttock", "back_of_thigh"] and saved["red_flags"] == []
    result = client.post("/download/result", data={})
    assert json.loads(result.text)["disposition"] == "self_care"
    client.get("/")  # start again
    unfinished = client.post("/download/result", data={})
    assert unfinished.status_code == 400


def test_hostile_answers_are_refused_and_shown_escaped(client: TestClient) -> None:
    page = client.get("/")
    response = answer(client, page.text, [HOSTILE])
    assert response.status_code == 422
    assert "<script>alert" not in response.text and "&lt;script&gt;" in response.text
    assert "script" not in str(response.url)  # what was entered never goes in the URL


def _cookie(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).rstrip(b"=").decode()


@pytest.mark.parametrize("cookie", [
    "not base64!", _cookie("not json"), _cookie("[]"), _cookie(json.dumps({"emergency_signs": "x"})),
    _cookie('{"emergency_signs": ["\\ud800"]}'), _cookie("[" * 5000 + "]" * 5000),
    _cookie(json.dumps({"emergency_signs": ["none"] * 2000})),
], ids=["not-base64", "not-json", "not-a-mapping", "invalid-answer", "half-a-character", "deep", "oversized"])
@pytest.mark.parametrize("path", ["/question?step=1", "/result"])
def test_a_damaged_cookie_is_a_400_page_saying_start_again(client: TestClient, cookie: str, path: str) -> None:
    give_cookie(client, cookie)
    response = client.get(path)
    assert response.status_code == 400 and "start again" in response.text
    assert "<h1>" in response.text and 'href="./"' in response.text
    for name, value in SECURITY_HEADERS:
        assert response.headers[name.decode()] == value.decode()
    assert ANSWERS_COOKIE not in client.cookies  # cleared: a reload starts again instead of failing again


def test_a_post_naming_no_question_is_a_400_page(client: TestClient) -> None:
    response = client.post("/question?step=1", data={"current": "no_such_question", "answer": "x"})
    assert response.status_code == 400 and "start again" in response.text


def test_answers_too_long_for_a_cookie_are_refused_plainly(client: TestClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import triage.web.pages

    monkeypatch.setattr(triage.web.pages, "MAX_COOKIE", 20)
    response = answer(client, client.get("/").text, ["none"])
    assert response.status_code == 400 and "too long" in response.text and "start again" in response.text


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
    while current(response.text) is not None:
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
        response = answer(client, page, SELF_CARE[current(page)])
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
    empty = answer(client, page.text, None)
    assert empty.status_code == 422 and current(empty.text) == "emergency_signs"
    assert "<title>Error: " in empty.text and 'class="error-summary"' in empty.text
    assert "There is a problem" in empty.text
    both = answer(client, page.text, ["leg_weakness", "none"])
    assert both.status_code == 422 and "each go alone" in html.unescape(both.text)


@pytest.mark.parametrize("screen", ["emergency_signs", "other_symptoms", "warning_signs", "conditions"])
def test_not_sure_on_any_screen_never_ends_in_self_care(client: TestClient, screen: str) -> None:
    page, _ = walk(client, {**SELF_CARE, screen: ["not_sure"]})
    assert 'class="banner d-self_care"' not in page.text
    assert "were not answered" in html.unescape(page.text)


def test_a_crafted_cookie_with_null_screens_never_ends_in_self_care(client: TestClient) -> None:
    """A browser whose cookie carries null ("don't know") for every screen."""
    walk(client, SELF_CARE)
    forged = {**kept(client), "emergency_signs": None, "other_symptoms": None, "warning_signs": None,
              "conditions": None}
    give_cookie(client, encode_cookie(forged))
    assert json.loads(client.post("/download/result", data={}).text)["disposition"] != "self_care"
    assert 'class="banner d-self_care"' not in client.get("/result").text


def test_answers_downloaded_mid_way_say_they_are_not_finished_and_refer(client: TestClient) -> None:
    """Policy v3: a download before the end is marked, and its unanswered screens are not screened."""
    answer(client, client.get("/").text, ["none"])  # the emergency signs only
    download = client.post("/download/answers", data={})
    assert download.text.startswith("# INCOMPLETE: triage ask was not finished")
    saved = yaml.safe_load(download.text)
    assert saved["complete"] is False
    assert saved["red_flags"] == "unknown" and saved["other_symptoms"] == "unknown"
    assert saved["conditions"] == "unknown"


def _every_question_page(client: TestClient, answers: dict[str, Any]) -> Iterator[Any]:
    """Each question page met on the way to the result of ``answers``."""
    response = client.get("/")
    while current(response.text) is not None:
        yield response
        response = answer(client, response.text, answers[current(response.text)])


def test_each_question_offers_one_dont_know_and_no_keyboard_words(client: TestClient) -> None:
    """GOV.UK/NHS patterns: one "don't know" a question, nothing ticked in advance, no "press Enter" on a phone."""
    for response in _every_question_page(client, SELF_CARE):
        text = html.unescape(response.text)
        labels = re.findall(r"<label [^>]*>([^<]*)</label>", text)
        dont_know = len([label for label in labels if label in ("I don't know", "I can't tell", "I'm not sure")])
        assert dont_know <= 1, f"{current(response.text)} offers {dont_know} don't-know answers"
        assert "Enter" not in text, current(response.text)
        assert " checked" not in response.text  # first time through, nothing is ticked
        assert re.search(r"<h1[ >]", response.text), f"{current(response.text)} has no h1"


def test_the_curve_question_offers_i_cant_tell_once_and_takes_it_as_unknown(client: TestClient) -> None:
    pages = {current(p.text): p for p in _every_question_page(client, SELF_CARE)}
    curve = pages["lower_back_curve"].text
    assert "I can&#39;t tell" in curve and "I don&#39;t know" not in curve
    assert curve.count('value="unknown"') == 1
    refused = answer(client, curve, None)
    assert "(or I can&#39;t tell)" in refused.text and "don&#39;t know" not in refused.text


@pytest.mark.parametrize(("kind", "question", "bad"), [
    ("many", "pain_sites", None), ("number", "age", "forty"), ("one", "course", None),
    ("yes_no", "can_touch_toes", None),
])
def test_an_invalid_answer_of_every_kind_gets_the_error_summary(client: TestClient, kind: str, question: str,
                                                               bad: Any) -> None:
    for response in _every_question_page(client, SELF_CARE):
        if current(response.text) == question:
            break
    refused = answer(client, response.text, bad)
    assert refused.status_code == 422 and current(refused.text) == question, kind
    assert "<title>Error: " in refused.text and 'class="error-summary"' in refused.text
    target = re.search(r'class="error-summary".*?href="#([\w-]+)"', refused.text, re.S)[1]
    assert f'id="{target}"' in refused.text  # the summary's link goes to the control


def _sections(page: str) -> list[str]:
    return re.findall(r"<h[12][^>]*>([^<]+)</h[12]>|<summary>([^<]+)</summary>", page)


def test_the_result_page_says_what_to_do_and_when_to_get_help_before_the_detail(client: TestClient) -> None:
    page, _ = walk(client, SELF_CARE)
    text = page.text
    order = [text.index(marker) for marker in (
        "<h1>Self-care should help</h1>", "<h2>What to do now</h2>", ">When to get help</h2>",
        '<details class="technique">', '<details class="how clinicians">')]
    assert order == sorted(order)
    get_help = text[text.index(">When to get help</h2>"):text.index("</section>", text.index(">When to get help"))]
    assert "999" in get_help and "See a doctor if" in get_help
    patient, clinicians = text.split('<details class="how clinicians">')
    assert "%" not in patient and "Confidence" not in patient  # the certainty in words only
    assert "muscle.piriformis." not in patient and "muscle.piriformis." in clinicians  # rule ids for clinicians
    assert "<summary>For clinicians" in clinicians


def test_the_emergency_page_says_when_to_get_help_too(client: TestClient) -> None:
    page = answer(client, client.get("/").text, ["saddle_numbness"])
    assert page.text.index("<h2>What to do now</h2>") < page.text.index(">When to get help</h2>")
    assert 'href="question?step=1"' in page.text  # back to change it


def test_every_page_has_a_level_one_heading(client: TestClient) -> None:
    give_cookie(client, "damaged!")
    pages = [client.get("/question?step=1")]
    client.cookies.clear()
    pages += [client.get("/"), client.get("/audit"), client.get("/nope"),
              answer(client, client.get("/").text, ["saddle_numbness"])]
    pages.append(walk(client, SELF_CARE)[0])
    pages.append(client.post("/question", content=b"x" * 1_000_001, headers={"content-type": _FORM}))
    pages.append(client.post("/question", data={"answer": "x"}, headers={"sec-fetch-site": "cross-site"}))
    for response in pages:
        assert len(re.findall(r"<h1[ >]", response.text)) == 1, (response.url, response.status_code)


def test_the_audit_tables_and_graph_scroll_in_regions_the_keyboard_reaches(client: TestClient) -> None:
    cases = yaml.safe_dump([{"id": "a", "pain_sites": ["buttock"], "triggers": ["tennis_serve"],
                             "red_flags": [], "conditions": []}])
    page = client.post("/audit", data={"cases": cases, "format": "yaml"}).text
    assert '<div class="scroll" tabindex="0" role="region" aria-label="Rules that fired for case a"><table>' in page
    if 'id="graph"' in page:
        assert '<div class="graph" tabindex="0" role="region" aria-label=' in page
