"""A real renderer: the exported Questionnaire in NLM's LHC-Forms (npm ``lforms``) in headless Chromium.

The Questionnaire comes from a running ``triage serve``; the form is filled
in by clicking, its QuestionnaireResponse is extracted by LHC-Forms itself
and posted to ``$triage`` on that server. Screenshots are saved under
$TRIAGE_SCREENSHOTS if set, else a pytest temporary folder (printed with -s).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir_helpers import node_tool
from web.support import chromium, serving

from triage.api import TriageKB
from triage.fhir.common import FHIR_JSON, NONE_OF_THESE, SCREEN_SYSTEM, field_system
from triage.fhir.questionnaire import is_screen
from triage.fhir.response import case_from_response

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")

#: The page that loads LHC-Forms as its README says (styles, zone, the web component, the R4 library).
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>LHC-Forms</title>
<link rel="stylesheet" href="lforms/webcomponent/styles.css">
<script src="lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="lforms/webcomponent/runtime.js" type="module"></script>
<script src="lforms/webcomponent/polyfills.js" type="module"></script>
<script src="lforms/webcomponent/main.js" type="module"></script>
<script src="lforms/fhir/R4/lformsFHIR.min.js" defer></script>
<link rel="icon" href="data:,">
</head><body><div id="form"></div></body></html>
"""
#: A person with a tight piriformis, as the web tests' self-care form.
SELF_CARE = {"id": "lforms-self-care", "age": 40, "pain_sites": ["buttock", "back_of_thigh"], "severity": 4,
             "duration_days": 5, "course": "improving", "pain_side": "left", "pain_feels": ["ache"],
             "triggers": ["tennis_serve"], "worse_when": ["sitting"], "lower_back_curve": "normal",
             "can_touch_toes": True, "red_flags": [], "other_symptoms": [], "conditions": []}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Requests are not logged: the test's output stays readable."""


@pytest.fixture(scope="module")
def form_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The LHC-Forms page, served from loopback (its modules cannot load from file://); yields its URL."""
    lforms = node_tool("lforms") / "dist" / "lforms"
    folder = tmp_path_factory.mktemp("lforms-page")
    (folder / "lforms").symlink_to(lforms, target_is_directory=True)
    (folder / "index.html").write_text(PAGE)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def triage_server() -> Iterator[str]:
    with serving() as served:
        yield served.base


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    with chromium(CHROMIUM, CHROMEDRIVER, tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("TRIAGE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _post(url: str, resource: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(resource).encode(), method="POST",
                                     headers={"content-type": FHIR_JSON})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture()
def form(browser: Any, form_page: str, triage_server: str) -> dict[str, Any]:
    """The served Questionnaire rendered afresh by LHC-Forms; returns the Questionnaire."""
    questionnaire = _get(triage_server + "/fhir/Questionnaire/lbp-triage")
    browser.set_window_size(1280, 1000)
    browser.get(form_page)
    deadline = time.monotonic() + 60
    while not browser.execute_script("return !!(window.LForms && LForms.Util && LForms.FHIR)"):
        assert time.monotonic() < deadline, "LHC-Forms did not load"
        time.sleep(0.1)
    rendered = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "LForms.Util.addFormToPage(arguments[0], 'form', {}).then(() => done('ok'), e => done(String(e)));",
        questionnaire)
    assert rendered == "ok"
    return questionnaire


def _shown(browser: Any, link_id: str) -> bool:
    from selenium.webdriver.common.by import By

    found = browser.find_elements(By.ID, f"label-{link_id}/1")
    return bool(found) and found[0].is_displayed()


def _click(browser: Any, element_id: str) -> None:
    from selenium.webdriver.common.by import By

    element = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def _type(browser: Any, link_id: str, value: int) -> None:
    from selenium.webdriver.common.by import By

    field = browser.find_element(By.ID, f"{link_id}/1")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", field)
    field.send_keys(str(value))


def _extracted(browser: Any) -> dict[str, Any]:
    """The QuestionnaireResponse as LHC-Forms makes it from what is on the form."""
    response: dict[str, Any] = browser.execute_script(
        "return LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4');")
    return response


def _screenshot(browser: Any, path: Path) -> None:
    """The whole page, once what was just clicked has been drawn (ant design's checkbox animates 0.3 s)."""
    import base64

    browser.execute_async_script("const done = arguments[arguments.length - 1];"
                                 "setTimeout(() => requestAnimationFrame(() => done()), 500);")
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path.write_bytes(base64.b64decode(shot["data"]))


def _fill(browser: Any, api: TriageKB, case: dict[str, Any]) -> None:
    """Answer every question of the form as ``case`` does, by clicking and typing."""
    for question in api.kb.questions:
        value = case.get(question.field)
        if question.again or not _shown(browser, question.id):
            continue
        if question.answer == "many":
            chosen = [str(c.value) for c in question.choices if c.value in (value or [])]
            for code in chosen:
                _click(browser, f"{question.id}/1|{field_system(question.field)}|{code}")
            if not chosen and is_screen(question):
                _click(browser, f"{question.id}/1|{SCREEN_SYSTEM}|{NONE_OF_THESE}")
        elif question.answer == "one" and value is not None:
            _click(browser, f"{question.id}/1|{field_system(question.field)}|{value}")
        elif question.answer == "yes_no" and value is not None:
            _click(browser, f"{question.id}/1|{str(value).lower()}")
        elif question.answer == "number" and value is not None:
            _type(browser, question.id, value)


def _disposition(bundle: dict[str, Any]) -> tuple[str, list[str]]:
    (parameters,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Parameters"]
    disposition = next(p["valueCoding"]["code"] for p in parameters["parameter"] if p["name"] == "disposition")
    fired = [next(x["valueString"] for x in p["part"] if x["name"] == "rule")
             for p in parameters["parameter"] if p["name"] == "firedRule"]
    return disposition, fired


def test_every_question_shows_and_skip_logic_runs_in_the_renderer(
        browser: Any, form: dict[str, Any], api: TriageKB, shots: Path) -> None:
    from triage.fhir.common import ENABLE_WHEN_EXPRESSION

    conditional = {i["linkId"] for i in form["item"]
                   if i.get("enableWhen") or any(e["url"] == ENABLE_WHEN_EXPRESSION for e in i.get("extension", []))}
    # A question asked again when its field is left empty (v3, principle 8) shows on the empty form.
    again = {q.id for q in api.kb.questions if q.again and not q.when_any}
    for item in form["item"]:
        assert _shown(browser, item["linkId"]) is (item["linkId"] not in conditional or item["linkId"] in again), \
            item["linkId"]
    _screenshot(browser, shots / "lforms-questionnaire.png")
    # A question asked again only when an earlier answer makes it decisive (an enableWhenExpression):
    # a trigger that makes the unknown age decisive shows it.
    for question in api.kb.questions:
        if question.id not in conditional or not question.when_any:
            continue
        trigger = next(c for group in question.when_any for c in group
                       if c.operator in ("has", "is") and isinstance(c.operand, str))
        asker = next(q for q in api.kb.questions if q.field == trigger.subject
                     and any(c.value == trigger.operand for c in q.choices))
        _click(browser, f"{asker.id}/1|{field_system(asker.field)}|{trigger.operand}")
        assert _shown(browser, question.id)
    _screenshot(browser, shots / "lforms-skip-logic.png")


def test_saddle_numbness_from_the_rendered_form_is_an_emergency(
        browser: Any, form: dict[str, Any], api: TriageKB, triage_server: str, shots: Path) -> None:
    screen = next(q for q in api.kb.questions if any(c.value == "saddle_numbness" for c in q.choices))
    _click(browser, f"{screen.id}/1|{field_system(screen.field)}|saddle_numbness")
    response = _extracted(browser)
    _screenshot(browser, shots / "lforms-saddle-numbness.png")
    status, bundle = _post(triage_server + "/fhir/QuestionnaireResponse/$triage", response)
    assert status == 200, bundle
    assert _disposition(bundle)[0] == "emergency"
    (request,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]
    assert request["priority"] == "stat"


def test_a_self_care_path_gives_the_result_of_triage_run(
        browser: Any, form: dict[str, Any], api: TriageKB, triage_server: str, shots: Path,
        tmp_path: Path) -> None:
    from click.testing import CliRunner

    from triage.cli import main

    _fill(browser, api, SELF_CARE)
    response = _extracted(browser)
    _screenshot(browser, shots / "lforms-self-care.png")
    case = case_from_response(response, api.kb.vocabulary, api.kb.questions, SELF_CARE["id"])
    assert case.answers == api.parse(SELF_CARE).answers  # the form said what the case says
    status, bundle = _post(triage_server + "/fhir/QuestionnaireResponse/$triage", response)
    assert status == 200, bundle
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(SELF_CARE))
    run = CliRunner().invoke(main, ["run", str(case_file), "--format", "jsonl", "-q"])
    assert run.exit_code == 0
    expected = json.loads(run.stdout)
    assert expected["disposition"] == "self_care"
    assert _disposition(bundle) == (expected["disposition"], [f["rule"] for f in expected["fired_rules"]])
    (plan,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"]
    assert [a["detail"]["code"]["coding"][0]["code"] for a in plan["activity"]] == [
        t["technique"] for t in expected["recommendations"]]
