"""Helpers for tests: build valid cases with only the answers that matter."""

from __future__ import annotations

from typing import Any

from triage.case import Case, parse_case

#: The smallest valid case: screened, nothing found, pain in the lower back.
BASE_CASE: dict[str, Any] = {"pain_sites": ["lower_back"], "red_flags": [], "conditions": []}


def make_case(case_id: str = "test#1", **answers: Any) -> Case:
    """A valid case: ``BASE_CASE`` with ``answers`` laid over it."""
    return parse_case({**BASE_CASE, **answers}, case_id)
