"""Shared fixtures: the bundled knowledge base and a session on it."""

from __future__ import annotations

import pytest

from triage.kb import KnowledgeBase, load_knowledge_base
from triage.session import TriageSession


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def session(kb: KnowledgeBase) -> TriageSession:
    return TriageSession(kb)
