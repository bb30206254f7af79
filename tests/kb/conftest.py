"""A writable copy of the bundled knowledge base, for tests that break it on purpose."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.kb import default_rules_dir


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge base."""
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target
