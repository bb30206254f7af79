"""A test client on the web application (one per test session; the app keeps no state)."""

from __future__ import annotations

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
