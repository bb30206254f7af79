"""End to end in a real headless Chromium (Debian's chromium and chromium-driver) via Selenium.

Screenshots are saved under $TRIAGE_SCREENSHOTS if set, else a pytest
temporary folder (its path is printed with -s). The tests skip, saying why,
only when Chromium or its driver is not installed; CI installs both.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web.support import SELF_CARE_FORM

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")

HOSTILE = '<script>alert("x")</script><img src=x onerror="document.title=\'pwned\'">'
SELF_CARE = SELF_CARE_FORM


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("TRIAGE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture()
def page(driver: Any, live_server: str) -> Any:
    driver.set_window_size(1280, 1000)
    driver.get(live_server + "/")
    return driver


def submit(driver: Any, press: Any) -> None:
    """Submit with ``press()`` (a click or a key) and wait for the next page to replace this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    press()
    # Mid-navigation, Chromium may answer "node does not belong to the document": ask again.
    WebDriverWait(driver, 60, ignored_exceptions=(WebDriverException,)).until(staleness_of(old))


def current(driver: Any) -> str | None:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, 'input[type=hidden][name="current"]')
    return found[0].get_attribute("value") if found else None


def choose(driver: Any, value: Any) -> None:
    """Answer the question on screen the way a person does: click the labels, type the number."""
    from selenium.webdriver.common.by import By

    values = value if isinstance(value, list) else [value]
    number = driver.find_elements(By.ID, "number-answer")
    if number:
        number[0].clear()
        number[0].send_keys(values[0])
    else:
        for wanted in values:
            control = driver.find_element(By.CSS_SELECTOR, f'input[name="answer"][value="{wanted}"]')
            label = driver.find_element(By.CSS_SELECTOR, f'label[for="{control.get_attribute("id")}"]')
            label.click()  # the visible text is the control's label
            assert control.is_selected()
    submit(driver, driver.find_element(By.CSS_SELECTOR, 'button[value="next"]').click)


def answer_all(driver: Any, answers: dict[str, Any]) -> list[str]:
    asked = []
    while (ident := current(driver)) is not None:
        asked.append(ident)
        choose(driver, answers[ident])
        assert len(asked) < 30
    return asked


def test_full_questionnaire_to_a_self_care_result_with_technique_cards(page: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    page.save_screenshot(str(shots / "01-first-question.png"))
    asked = answer_all(page, SELF_CARE)
    assert asked[0] == "emergency_signs"
    banner = page.find_element(By.CSS_SELECTOR, ".banner")
    assert "d-self_care" in banner.get_attribute("class")
    assert banner.text.startswith("Self-care should help")
    techniques = page.find_elements(By.CSS_SELECTOR, "details.technique")
    assert len(techniques) >= 2 and all(t.get_attribute("open") is None for t in techniques)  # folded
    techniques[0].find_element(By.TAG_NAME, "summary").click()
    assert "Hold:" in techniques[0].text
    how = page.find_element(By.CSS_SELECTOR, "details.how")
    assert how.get_attribute("open") is None  # folded away until asked for
    page.save_screenshot(str(shots / "02-self-care-result.png"))
    page.find_element(By.CSS_SELECTOR, "details.how summary").click()
    assert "piriformis" in how.text.lower()


def test_an_emergency_sign_on_the_first_screen_ends_at_the_emergency_page(page: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    choose(page, ["saddle_numbness"])
    banner = page.find_element(By.CSS_SELECTOR, ".banner")
    assert "d-emergency" in banner.get_attribute("class")
    assert "Get emergency help now" in banner.text
    assert current(page) is None
    page.save_screenshot(str(shots / "03-emergency.png"))


def test_back_returns_to_the_previous_answers(page: Any, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    choose(page, ["none"])  # the emergency signs: None of these
    choose(page, ["none"])  # the other symptoms
    choose(page, ["fever", "night_pain"])
    assert current(page) == "conditions"
    submit(page, page.find_element(By.CSS_SELECTOR, "a.back-link").click)  # the Back link at the top
    assert current(page) == "warning_signs"
    ticked = [c.get_attribute("value") for c in page.find_elements(By.CSS_SELECTOR, 'input[name="answer"]')
              if c.is_selected()]
    assert ticked == ["fever", "night_pain"]
    page.save_screenshot(str(shots / "04-back.png"))


def test_keyboard_alone_answers_a_question(page: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    first = page.find_element(By.CSS_SELECTOR, 'input[name="answer"]')
    first.send_keys(Keys.SPACE)  # tick with the space bar
    submit(page, lambda: first.send_keys(Keys.ENTER))  # Enter submits (Next is the form's first button)
    assert current(page) is None  # saddle numbness: straight to the emergency page


def test_a_phone_sized_window_fits_without_sideways_scrolling(page: Any, live_server: str, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    page.set_window_size(390, 844)
    page.get(live_server + "/")
    for ident in ("emergency_signs", "other_symptoms", "warning_signs", "conditions"):
        assert current(page) == ident
        assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        choose(page, SELF_CARE[ident])
    page.save_screenshot(str(shots / "05-phone-question.png"))
    answer_all(page, SELF_CARE)
    assert page.find_element(By.CSS_SELECTOR, ".banner").is_displayed()
    assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    page.save_screenshot(str(shots / "06-phone-result.png"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_the_audit_page_shows_the_graph_and_hostile_ids_as_text(page: Any, live_server: str,
                                                                  shots: Path) -> None:
    from selenium.webdriver.common.by import By

    page.get(live_server + "/audit")
    title = page.title
    case = json.dumps([{"id": HOSTILE, "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"],
                        "red_flags": [], "conditions": []}])
    page.find_element(By.ID, "cases").send_keys(case)
    submit(page, page.find_element(By.CSS_SELECTOR, "form.audit button").click)
    graph = page.find_element(By.ID, "graph")
    assert page.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", graph)
    assert HOSTILE in page.find_element(By.CSS_SELECTOR, "section.case h2").text  # shown as text
    assert page.title == title  # the onerror handler never ran
    assert not page.find_elements(By.CSS_SELECTOR, "section.case script, section.case img")
    page.execute_script("arguments[0].scrollIntoView()", graph)
    page.save_screenshot(str(shots / "07-audit.png"))


def test_a_hostile_answer_shows_as_text_and_never_runs(page: Any) -> None:
    from selenium.webdriver.common.by import By

    title = page.title
    box = page.find_element(By.CSS_SELECTOR, 'input[name="answer"]')
    page.execute_script("arguments[0].value = arguments[1]; arguments[0].checked = true;", box, HOSTILE)
    submit(page, page.find_element(By.CSS_SELECTOR, 'button[value="next"]').click)
    error = page.find_element(By.CSS_SELECTOR, ".error")
    assert "<script>" in error.text
    assert page.title == "Error: " + title  # the error summary's page title (GOV.UK pattern)
    assert not page.find_elements(By.CSS_SELECTOR, ".error script, .error img")


def test_a_screen_has_none_of_these_and_not_sure_and_an_empty_answer_is_asked_again(page: Any, shots: Path) -> None:
    """Policy v3, principle 7, as a person sees it: nothing ticked is not "none"."""
    from selenium.webdriver.common.by import By

    labels = [label.text for label in page.find_elements(By.CSS_SELECTOR, "label")]
    assert "None of these" in labels and "I'm not sure" in labels
    page.save_screenshot(str(shots / "07-screen-choices.png"))
    submit(page, page.find_element(By.CSS_SELECTOR, 'button[value="next"]').click)  # nothing ticked
    assert current(page) == "emergency_signs"
    assert page.title.startswith("Error: ")
    summary = page.find_element(By.CSS_SELECTOR, ".error-summary")
    assert summary.is_displayed() and "There is a problem" in summary.text
    assert "None of these" in summary.text and "not sure" in summary.text
    page.save_screenshot(str(shots / "08-screen-error-summary.png"))
    choose(page, ["not_sure"])
    assert current(page) == "other_symptoms"  # taken: not screened, and the questions go on


def ticked(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [c.get_attribute("value") for c in driver.find_elements(By.CSS_SELECTOR, 'input[name="answer"]')
            if c.is_selected()]


def test_the_browsers_back_and_forward_show_each_step_without_resubmitting(page: Any, shots: Path) -> None:
    """Post/Redirect/Get: every step is a GET page, so history moves never ask to resend a form."""
    choose(page, ["none"])
    choose(page, ["none"])
    choose(page, ["fever", "night_pain"])
    assert current(page) == "conditions" and page.current_url.endswith("/question?step=4")
    page.back()  # a POST page here would be Chromium's "Confirm Form Resubmission" (ERR_CACHE_MISS)
    assert current(page) == "warning_signs" and ticked(page) == ["fever", "night_pain"]
    page.back()
    assert current(page) == "other_symptoms" and ticked(page) == ["none"]
    page.forward()
    page.forward()
    assert current(page) == "conditions" and page.title.startswith("Question 4")
    assert "fever" not in page.current_url and "none" not in page.current_url  # only the step number
    page.save_screenshot(str(shots / "09-forward-again.png"))


def _answers_of(form: dict[str, Any]) -> dict[str, Any]:
    """The answers as the cookie keeps them, from what a person submits on each page."""
    from starlette.datastructures import FormData

    from triage.api import load
    from triage.web.pages import form_answer

    kb = load()
    answers: dict[str, Any] = {}
    while "question" in (step := kb.next_question(answers)):
        question = next(q for q in kb.kb.questions if q.id == step["question"]["id"])
        values = form[question.id] if isinstance(form[question.id], list) else [form[question.id]]
        answers[question.id] = form_answer(question, FormData([("answer", v) for v in values]))
    return answers


def open_result(driver: Any, live_server: str, answers: dict[str, Any]) -> None:
    """The result page of ``answers``, put in the browser's cookie as the pages would."""
    from triage.web.pages import ANSWERS_COOKIE, encode_cookie

    driver.get(live_server + "/")  # a new questionnaire, on the server's address
    driver.add_cookie({"name": ANSWERS_COOKIE, "value": encode_cookie(answers), "path": "/", "httpOnly": True,
                       "sameSite": "Strict"})
    driver.get(live_server + "/result")


EMERGENCY = {"emergency_signs": ["saddle_numbness"]}


@pytest.mark.parametrize(("name", "answers"), [("self-care", "self_care"), ("emergency", "emergency")])
def test_on_a_phone_when_to_get_help_is_within_the_first_two_screens(page: Any, live_server: str, shots: Path,
                                                                      name: str, answers: str) -> None:
    from selenium.webdriver.common.by import By

    page.set_window_size(390, 844)
    open_result(page, live_server, _answers_of(SELF_CARE) if answers == "self_care" else EMERGENCY)
    assert page.find_element(By.CSS_SELECTOR, f".banner.d-{answers}").is_displayed()
    height = page.execute_script("return window.innerHeight")
    top = page.execute_script("return document.getElementById('get-help').getBoundingClientRect().top"
                              " + window.scrollY")
    assert top < 2 * height, f"When to get help starts {top} px down, below two screens of {height} px"
    page.save_screenshot(str(shots / f"10-phone-{name}-top.png"))
    page.execute_script("document.getElementById('get-help').scrollIntoView()")
    page.save_screenshot(str(shots / f"11-phone-{name}-get-help.png"))


#: What a finger taps: labels of choices, buttons, links, the summaries that unfold.
TAPPABLE = "label[for], button, a.button, a.back-link, header a, summary"


def _too_small(driver: Any) -> list[str]:
    return list(driver.execute_script("""
        return [...document.querySelectorAll(arguments[0])]
          .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
          .map(e => e.tagName + ' "' + e.textContent.trim().slice(0, 30) + '" ' + e.getBoundingClientRect().height);
    """, TAPPABLE))


def test_every_tap_target_is_at_least_44_px_high(page: Any, live_server: str) -> None:
    page.set_window_size(390, 844)
    page.get(live_server + "/")
    assert _too_small(page) == []  # a screen: ticks, None of these, Next, Why we ask
    choose(page, ["none"])
    assert _too_small(page) == []  # with the Back link
    open_result(page, live_server, _answers_of(SELF_CARE))
    assert _too_small(page) == []


def test_the_result_prints_dark_on_white_without_navigation_or_buttons(page: Any, live_server: str,
                                                                       shots: Path) -> None:
    from selenium.webdriver.common.by import By

    open_result(page, live_server, EMERGENCY)
    page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        heading = page.find_element(By.CSS_SELECTOR, ".banner h1")
        assert heading.value_of_css_property("color") in ("rgba(0, 0, 0, 1)", "rgb(0, 0, 0)")
        banner = page.find_element(By.CSS_SELECTOR, ".banner")
        assert banner.value_of_css_property("background-color") in ("rgba(0, 0, 0, 0)", "transparent")
        assert banner.value_of_css_property("border-top-style") == "solid"  # framed instead
        for hidden in page.find_elements(By.CSS_SELECTOR, "header.site nav, .actions, button, a.button"):
            assert not hidden.is_displayed()
        page.save_screenshot(str(shots / "12-print.png"))
    finally:
        page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"


def axe_problems(driver: Any) -> list[str]:
    """axe-core's serious and critical violations on the page shown: rule id, impact, where."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        # The page's Content-Security-Policy allows no inline script, but WebDriver's own scripts run.
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done(String(e)));
    """)
    assert isinstance(result, list), f"axe.run failed: {result}"
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]} - {v['help']}"
            for v in result if v["impact"] in ("serious", "critical")]


@pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed: cd tests/web && npm ci --ignore-scripts")
@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
def test_axe_finds_nothing_serious_on_any_page_type(page: Any, live_server: str, width: int) -> None:
    """Every page type: each kind of question, an error summary, result, emergency, error and audit pages."""
    from selenium.webdriver.common.by import By

    page.set_window_size(width, 844 if width < 500 else 1000)
    page.get(live_server + "/")
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        found[name] = axe_problems(page)

    check("screen question")
    submit(page, page.find_element(By.CSS_SELECTOR, 'button[value="next"]').click)  # nothing ticked
    check("error summary")
    kinds: set[str] = set()
    while (ident := current(page)) is not None:
        kind = ("number" if page.find_elements(By.ID, "number-answer") else
                "many" if page.find_elements(By.CSS_SELECTOR, "input[type=checkbox]") else
                "yes_no" if page.find_elements(By.CSS_SELECTOR, 'input[value="true"]') else "one")
        if kind not in kinds:
            kinds.add(kind)
            check(f"{kind} question ({ident})")
        choose(page, SELF_CARE[ident])
    for summary in page.find_elements(By.CSS_SELECTOR, "details summary"):
        summary.click()  # the folded parts too
    check("self-care result")
    open_result(page, live_server, EMERGENCY)
    check("emergency result")
    page.delete_all_cookies()
    page.add_cookie({"name": "triage_answers", "value": "damaged", "path": "/"})
    page.get(live_server + "/result")
    check("error page")
    page.get(live_server + "/audit")
    case = json.dumps([{"id": "a", "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"],
                        "red_flags": [], "conditions": []}])
    page.find_element(By.ID, "cases").send_keys(case)
    submit(page, page.find_element(By.CSS_SELECTOR, "form.audit button").click)
    check("audit report")
    assert kinds == {"many", "number", "one", "yes_no"}
    problems = {name: found_there for name, found_there in found.items() if found_there}
    assert not problems, "axe-core, serious or critical:\n" + "\n".join(
        f"{name}: {line}" for name, lines in problems.items() for line in lines)
