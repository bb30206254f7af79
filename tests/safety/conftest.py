"""Shared for the safety evidence tests: the golden cases, an editable copy of the knowledge base."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.golden import GoldenCase, read_golden
from triage.kb import KnowledgeBase, default_rules_dir

GOLDEN_FILES = sorted((Path(__file__).resolve().parents[1] / "golden").glob("*.yaml"))


@pytest.fixture(scope="session")
def golden(kb: KnowledgeBase) -> list[GoldenCase]:
    """Every golden case of tests/golden/, read against the bundled vocabulary."""
    return read_golden(GOLDEN_FILES, kb.vocabulary)


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge base."""
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target
