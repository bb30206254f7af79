"""A test client on the web application, and the real server (``triage serve``) on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from web.support import serving

from triage.api import TriageKB
from triage.kb import KnowledgeBase
from triage.web.app import create_app


@pytest.fixture(scope="session")
def client(kb: KnowledgeBase) -> Iterator[TestClient]:
    with TestClient(create_app(kb=TriageKB(kb))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """``triage serve`` in its own process on a free loopback port; yields its base URL."""
    with serving() as served:
        yield served.base
