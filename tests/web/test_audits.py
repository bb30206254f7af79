"""Audits run in a process of their own: a big one holds up no single case, a dead one is replaced,
it ends with the server, and the page says its limits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import urllib.parse
import urllib.request

import pytest
from helpers import BASE_CASE
from starlette.testclient import TestClient

from web.support import children, is_worker, running, serving

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
    request = urllib.request.Request(live_server + "/api/v1/triage", data=json.dumps(PIRIFORMIS).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        # Single cases, one after another, for as long as the audit runs.
        for _ in range(100_000):
            if "audit" in finished:
                break
            with urllib.request.urlopen(request, timeout=300) as response:
                assert response.status == 200
            finished.append("single")
    finally:
        auditing.join(timeout=300)
    assert "audit" in finished
    answered_meanwhile = finished.index("audit")
    assert answered_meanwhile >= 5, f"only {answered_meanwhile} single cases were answered during the audit"


def _audit(base: str, count: int = 2) -> list[dict[str, object]]:
    request = urllib.request.Request(base + "/api/v1/audit", data=cases(count).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read())


def _audit_process(server: int) -> int:
    """The one audit process of ``triage serve`` ``server``: its worker's spawned child."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [pid for worker in children(server) if is_worker(worker)
                 for pid in children(worker) if is_worker(pid)]
        if found:
            (pid,) = found
            return pid
        time.sleep(0.05)
    pytest.fail("no audit process")


def test_an_audit_process_that_dies_is_replaced_and_the_audit_still_answers() -> None:
    with serving() as served:
        assert [a["disposition"] for a in _audit(served.base)] == ["self_care", "self_care"]
        first = _audit_process(served.process.pid)
        os.kill(first, signal.SIGKILL)
        assert [a["id"] for a in _audit(served.base, 3)] == ["audit-0", "audit-1", "audit-2"]
        assert _audit_process(served.process.pid) != first


def test_the_audit_process_ends_when_the_server_is_killed() -> None:
    with serving() as served:
        _audit(served.base)
        audits = _audit_process(served.process.pid)
        served.process.kill()
        served.process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while running(audits) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(audits), "the audit process outlived its server"


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
