"""A test client on the web application, and the real server (``triage serve``) on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from triage.api import TriageKB
from triage.knowledge import KnowledgeBase
from triage.web.app import create_app


@pytest.fixture(scope="session")
def client(kb: KnowledgeBase) -> Iterator[TestClient]:
    with TestClient(create_app(kb=TriageKB(kb))) as test_client:
        yield test_client


def free_port() -> int:
    """A loopback port nobody listens on (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """``triage serve`` in its own process on a free loopback port; yields its base URL."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "triage", "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                pytest.fail(f"triage serve exited: {server.stdout.read() if server.stdout else ''}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("triage serve did not answer /healthz within 30 s")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()
