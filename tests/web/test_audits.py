"""Audits run on a thread of their own: a big one holds up no single case, and the page says its limits."""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.parse
import urllib.request

import pytest
from helpers import BASE_CASE
from starlette.testclient import TestClient

from triage.web import pages
from triage.web.api_routes import MAX_CASES

PIRIFORMIS = {**BASE_CASE, "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"]}


def cases(count: int) -> str:
    return json.dumps([{**PIRIFORMIS, "id": f"audit-{n}"} for n in range(count)])


@pytest.mark.parametrize("where", ["page", "api"])
def test_a_big_audit_holds_up_no_single_case(live_server: str, where: str) -> None:
    finished: list[str] = []
    if where == "page":
        big = urllib.request.Request(live_server + "/audit", data=urllib.parse.urlencode(
            {"cases": cases(pages.MAX_AUDIT_CASES), "format": "json"}).encode())
    else:
        big = urllib.request.Request(live_server + "/api/v1/audit", data=cases(MAX_CASES).encode(),
                                     headers={"Content-Type": "application/json"})

    def audit() -> None:
        with urllib.request.urlopen(big, timeout=300) as answer:
            assert answer.status == 200
        finished.append("audit")

    auditing = threading.Thread(target=audit)
    auditing.start()
    try:
        time.sleep(0.3)  # the audit is under way
        request = urllib.request.Request(live_server + "/api/v1/triage", data=json.dumps(PIRIFORMIS).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            assert response.status == 200
        finished.append("single")
    finally:
        auditing.join(timeout=300)
    assert finished == ["single", "audit"]


def test_the_audit_page_refuses_more_cases_than_its_cap_with_a_message(client: TestClient) -> None:
    response = client.post("/audit", data={"cases": cases(pages.MAX_AUDIT_CASES + 1), "format": "json"})
    assert response.status_code == 422
    assert f"at most {pages.MAX_AUDIT_CASES:,} at a time" in response.text


def test_beyond_the_graph_cap_the_page_says_why_there_is_no_graph(client: TestClient) -> None:
    response = client.post("/audit", data={"cases": cases(pages.MAX_GRAPH_CASES + 1), "format": "json"})
    assert response.status_code == 200
    assert f"drawn for at most {pages.MAX_GRAPH_CASES} cases" in response.text
    assert "not installed" not in response.text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_graphviz_too_slow_is_said_as_such_not_as_missing(client: TestClient,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "GRAPH_TIMEOUT", 0.0001)
    response = client.post("/audit", data={"cases": cases(3), "format": "json"})
    assert response.status_code == 200
    assert "Graphviz took longer than" in response.text
    assert "not installed" not in response.text
