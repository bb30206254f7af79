"""Slow clients and oversized heads cannot hold the server: timeouts, header caps, connection caps."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from web.support import client_ports_by_worker, serving, wait_for_workers

from triage.web import workers
from triage.web.protocol import MAX_HEADER_BYTES, MAX_HEADERS

pytestmark = pytest.mark.skipif(not workers.SUPPORTED, reason="the connection cap is the parent's (Unix)")

#: Small limits, so that the test takes seconds.
CAP = 5


@pytest.fixture(scope="module")
def guarded() -> Iterator[tuple[int, int]]:
    """``triage serve`` with a 1 s header timeout and 5 connections per process: (port, parent pid)."""
    with serving("--header-timeout", "1", "--max-connections", str(CAP)) as served:
        port = urlsplit(served.base).port
        assert port is not None
        yield port, served.process.pid


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server ends the connection (within 30 s, far beyond the 1 s timeout)."""
    sock.settimeout(30)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_connection_that_never_sends_a_request_is_closed(guarded: tuple[int, int]) -> None:
    with socket.create_connection(("127.0.0.1", guarded[0])) as idle:
        assert closed_by_server(idle)


def test_headers_that_trickle_in_are_cut_off(guarded: tuple[int, int]) -> None:
    with socket.create_connection(("127.0.0.1", guarded[0])) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert closed_by_server(slow)


def head_answer(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):  # refused before all of it was sent
            pass
        return sock.recv(200)


@pytest.mark.parametrize("head", [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 2_000_000,  # unfinished, and far too big
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * (MAX_HEADERS + 1) + b"\r\n",
], ids=["large", "unfinished-2MB", "many"])
def test_too_large_a_head_is_a_431(guarded: tuple[int, int], head: bytes) -> None:
    assert head_answer(guarded[0], head).startswith(b"HTTP/1.1 431 ")


def test_a_head_within_the_limits_is_served(guarded: tuple[int, int]) -> None:
    filler = b"X-Fill: " + b"a" * (MAX_HEADER_BYTES // 2) + b"\r\n"
    assert head_answer(guarded[0], b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + filler + b"\r\n").startswith(
        b"HTTP/1.1 200 ")


def test_idle_connections_beyond_the_cap_wait_and_a_real_client_is_served(guarded: tuple[int, int]) -> None:
    port, parent = guarded
    (worker,) = wait_for_workers(parent, 1)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(CAP * 4)]
    try:
        assert len(client_ports_by_worker([worker], port)[worker]) <= CAP
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:  # answered once the idle ones ahead of it have timed out
            connection.request("GET", "/healthz")
            assert connection.getresponse().status == 200
        finally:
            connection.close()
    finally:
        for sock in idle:
            sock.close()
