"""The real server (uvicorn, started by ``triage serve``) over HTTP on a loopback port."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from helpers import BASE_CASE


def post(url: str, body: bytes, kind: str = "application/json") -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, json.loads(error.read())


def test_the_server_answers_over_http(live_server: str) -> None:
    with urllib.request.urlopen(live_server + "/healthz", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"
    status, headers, body = post(live_server + "/api/v1/triage",
                                 json.dumps({**BASE_CASE, "id": "over-http"}).encode())
    assert status == 200 and body["id"] == "over-http"
    assert headers["x-content-type-options"] == "nosniff"
    assert "server" not in headers  # no version banner


def test_the_server_refuses_bad_requests_with_4xx(live_server: str) -> None:
    assert post(live_server + "/api/v1/triage", b"{")[0] == 400
    assert post(live_server + "/api/v1/triage", b"{}", "text/plain")[0] == 415
    # Declared too large: answered from the headers, before any body is sent (sending
    # 1.5 MB to a server that has already said no can end in a reset instead).
    address = urllib.parse.urlsplit(live_server)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.putrequest("POST", "/api/v1/triage")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", "1500000")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413 and "larger than" in json.loads(response.read())["error"]["message"]
    finally:
        connection.close()


def test_a_big_batch_does_not_hold_up_other_requests(live_server: str) -> None:
    """The engine runs off the event loop, and batches in chunks: others are answered meanwhile."""
    batch = json.dumps([{**BASE_CASE, "id": f"batch-{n}"} for n in range(1000)]).encode()
    finished: list[str] = []

    def send_batch() -> None:
        status, _, results = post(live_server + "/api/v1/triage", batch)
        assert status == 200 and len(results) == 1000
        finished.append("batch")

    # Three batches: a second or more of engine work even on a fast machine.
    senders = [threading.Thread(target=send_batch) for _ in range(3)]
    for sender in senders:
        sender.start()
    try:
        time.sleep(0.2)  # the batches are under way
        with urllib.request.urlopen(live_server + "/healthz", timeout=30) as response:
            assert response.status == 200
        finished.append("healthz")
        status, _, result = post(live_server + "/api/v1/triage", json.dumps({**BASE_CASE, "id": "single"}).encode())
        assert status == 200 and result["id"] == "single"
        finished.append("single")
    finally:
        for sender in senders:
            sender.join(timeout=120)
    assert finished == ["healthz", "single", "batch", "batch", "batch"]


def test_the_questionnaire_page_is_served(live_server: str) -> None:
    with urllib.request.urlopen(live_server + "/", timeout=10) as response:
        page = response.read().decode()
        assert "First, do you have any of these?" in page
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    with urllib.request.urlopen(live_server + "/static/style.css", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/css")


def test_nothing_a_person_enters_is_logged() -> None:
    from web.support import serving

    marker = "private-marker-7f3a"
    with serving("--workers", "2") as (base, output, _):
        status, _, body = post(base + "/api/v1/triage", json.dumps({**BASE_CASE, "id": marker}).encode())
        assert status == 200 and body["id"] == marker
        form = urllib.parse.urlencode({"current": "emergency_signs", "answer": "saddle_numbness",
                                       "action": "next"}).encode()
        request = urllib.request.Request(base + "/question?step=1", data=form, method="POST")
        # A browser's cookie jar: the answer travels to the result page in the cookie.
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with browser.open(request, timeout=30) as response:
            assert "emergency" in response.read().decode()
    assert output and output[0].startswith("triage: serving on")  # the output was captured
    assert not any(marker in line or "/api/v1/triage" in line or "/question" in line for line in output)
