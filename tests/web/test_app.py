"""The application's guards: hostile bodies get 4xx, internal errors log no content, no cross-site posts."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import BASE_CASE
from starlette.testclient import TestClient

from triage.api import TriageKB
from triage.kb import KnowledgeBase
from triage.web.app import SECURITY_HEADERS, create_app, relative_location
from triage.web.pages import ANSWERS_COOKIE

JSON = {"content-type": "application/json"}
#: Half a character, as JSON writes it.
LONE = "\\ud800"
DEEP = "[" * 50_000 + "]" * 50_000


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/triage", f'{{"id": "{LONE}", "pain_sites": ["lower_back"], "red_flags": [], "conditions": []}}'),
    ("/api/v1/triage", f'{{"id": "x", "pain_sites": ["{LONE}"], "red_flags": [], "conditions": []}}'),
    ("/api/v1/triage", f'{{"id": "x", "{LONE}": 1}}'),
    ("/api/v1/next", f'{{"{LONE}": []}}'),
    ("/api/v1/next", f'{{"emergency_signs": ["{LONE}"]}}'),
    ("/api/v1/audit", f'{{"id": "{LONE}", "pain_sites": ["lower_back"], "red_flags": [], "conditions": []}}'),
], ids=["triage-id", "triage-value", "triage-field-name", "next-key", "next-value", "audit-id"])
def test_half_a_character_anywhere_in_an_api_body_is_a_422_naming_it(client: TestClient, path: str,
                                                                      body: str) -> None:
    response = client.post(path, content=body, headers=JSON)
    assert response.status_code == 422
    assert "half of a character" in response.json()["error"]["message"]
    assert response.json()["error"]["value"] == "\\ud800"  # shown escaped, so it can be written


@pytest.mark.parametrize("path", ["/api/v1/triage", "/api/v1/audit"])
def test_in_a_list_half_a_character_costs_only_its_case(client: TestClient, path: str) -> None:
    cases = [{**BASE_CASE, "id": "fine-1"}, {**BASE_CASE, "id": "\ud800"}, {**BASE_CASE, "id": "fine-2"}]
    response = client.post(path, content=json.dumps(cases), headers=JSON)
    assert response.status_code == 200
    first, bad, last = response.json()
    assert "error" in bad and bad["id"] == "\\ud800"
    assert "error" not in first and "error" not in last
    assert (first.get("id") or first["result"]["id"]) == "fine-1"


@pytest.mark.parametrize("answers", [DEEP, f'{{"emergency_signs": ["{LONE}"]}}', f'{{"{LONE}": []}}'],
                         ids=["deep-answers", "lone-value", "lone-key"])
@pytest.mark.parametrize("path", ["/question", "/download/answers", "/download/result"])
def test_a_damaged_answers_cookie_on_a_post_is_a_400_page_with_every_security_header(
        client: TestClient, answers: str, path: str) -> None:
    client.cookies.clear()
    client.cookies.set(ANSWERS_COOKIE, encode_cookie_text(answers), domain="testserver.local", path="/")
    try:
        response = client.post(path, data={"current": "emergency_signs", "answer": "none"})
    finally:
        client.cookies.clear()
    assert response.status_code == 400
    assert "damaged" in response.text and "start again" in response.text
    for name, value in SECURITY_HEADERS:
        assert response.headers[name.decode()] == value.decode()


def encode_cookie_text(text: str) -> str:
    """``text`` as the cookie carries it (base64url), whatever it holds."""
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


class _Failing(TriageKB):
    """A knowledge base whose triage fails with what a person typed in the exception."""

    def triage(self, case: object, default_id: str = "case#1") -> dict[str, Any]:
        raise RuntimeError(f"cannot triage {case!r}")


@pytest.fixture(scope="module")
def failing(kb: KnowledgeBase) -> Iterator[TestClient]:
    with TestClient(create_app(kb=_Failing(kb))) as test_client:
        yield test_client


def test_an_internal_error_logs_an_id_and_its_type_never_what_was_sent(failing: TestClient,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    private = "Jane Doe DOB 1970-01-01"
    with caplog.at_level(logging.DEBUG):
        response = failing.post("/api/v1/triage", json={**BASE_CASE, "id": private})
    assert response.status_code == 500
    error_id = response.json()["error"]["error_id"]
    assert error_id in response.json()["error"]["message"]  # the person can quote it
    assert response.headers["content-security-policy"]  # security headers on a 500 too
    logged = "\n".join(record.getMessage() + (record.exc_text or "") + str(record.exc_info)
                       for record in caplog.records)
    assert error_id in logged and "RuntimeError" in logged
    assert "Jane" not in logged and "1970" not in logged


@pytest.mark.parametrize("headers", [
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
    {"origin": "https://elsewhere.example"},
    {"origin": "null"},
], ids=["fetch-cross-site", "fetch-same-site", "origin-elsewhere", "origin-null"])
@pytest.mark.parametrize("path", ["/question", "/audit", "/download/answers", "/download/result"])
def test_a_form_post_from_another_site_is_refused_with_a_plain_403(client: TestClient, path: str,
                                                                  headers: dict[str, str]) -> None:
    response = client.post(path, data={"answers": "{}", "current": "emergency_signs", "cases": "{}"},
                           headers=headers)
    assert response.status_code == 403
    assert "another site" in response.text and "<script" not in response.text
    assert response.headers["content-security-policy"]


@pytest.mark.parametrize("headers", [
    {"sec-fetch-site": "same-origin", "origin": "http://testserver"},
    {"sec-fetch-site": "none"},
    {"origin": "http://testserver"},
    {"origin": "https://triage.example", "x-forwarded-host": "triage.example"},
    {},  # no browser headers at all: a form posted without JavaScript by an old browser, or curl
], ids=["same-origin", "typed", "origin-same-host", "origin-forwarded-host", "no-headers"])
def test_same_origin_and_headerless_form_posts_are_served(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post("/question", data={"answers": "{}", "current": "emergency_signs",
                                              "answer": "saddle_numbness"}, headers=headers)
    assert response.status_code == 200 and "emergency" in response.text


def test_the_api_is_not_a_form_and_keeps_its_own_rules(client: TestClient) -> None:
    response = client.post("/api/v1/triage", json={**BASE_CASE, "id": "api"},
                           headers={"origin": "https://elsewhere.example", "sec-fetch-site": "cross-site"})
    assert response.status_code == 200


def test_a_redirect_never_reflects_the_host_header(client: TestClient) -> None:
    response = client.get("/audit/", headers={"host": "evil.example"}, follow_redirects=False)
    assert 300 <= response.status_code < 400
    assert response.headers["location"] == "../audit"
    assert "evil" not in response.headers["location"]


@pytest.mark.parametrize(("request_path", "location", "expected"), [
    ("/audit/", b"http://upstream:8000/audit", b"../audit"),
    ("/a/b/", b"http://h/a/b?x=1", b"../../a/b?x=1"),
    ("/", b"/audit", b"audit"),
    ("/audit/", b"../audit", b"../audit"),
])
def test_relative_locations_land_under_any_proxy_prefix(request_path: str, location: bytes,
                                                        expected: bytes) -> None:
    assert relative_location(request_path, location) == expected


def test_bidi_controls_are_escaped_on_the_audit_page(client: TestClient) -> None:
    spoof = "abc\u202edef"
    response = client.post("/audit", data={"cases": json.dumps({**BASE_CASE, "id": spoof}), "format": "json"})
    assert response.status_code == 200
    assert "\u202e" not in response.text
    assert "abc\\u202edef" in response.text


def test_bidi_controls_are_escaped_on_error_pages(client: TestClient) -> None:
    response = client.post("/question", data={"answers": "{}", "current": "emergency_signs",
                                              "answer": "\u202eevil"})
    assert "\u202e" not in response.text
