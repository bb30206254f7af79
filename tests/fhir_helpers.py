"""Helpers of the FHIR tests (tests/fhir/): the npm tools installed there, and codings in resources."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

#: Where .ci/run installs the npm tools (npm ci in tests/fhir, from its package-lock.json).
NODE_MODULES = Path(__file__).parent / "fhir" / "node_modules"
#: The Provenance instant of the Bundles made in tests.
RECORDED = "2026-01-01T00:00:00Z"


def node_tool(package: str) -> Path:
    """The installed npm package ``package`` of this folder; skipped (failed under CI) if missing."""
    path = NODE_MODULES / package
    if not path.is_dir():
        message = f"{path} is missing: run npm ci in tests/fhir (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def codings(value: Any) -> list[dict[str, Any]]:
    """Every Coding in a resource: every value under a ``coding`` list or a ``valueCoding``/``answerCoding``."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "coding" and isinstance(item, list):
                found += item
            elif key in ("valueCoding", "answerCoding"):
                found.append(item)
            else:
                found += codings(item)
    elif isinstance(value, list):
        for item in value:
            found += codings(item)
    return found
