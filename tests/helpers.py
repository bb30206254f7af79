"""Helpers for tests: the bundled vocabulary, and valid cases with only the answers that matter."""

from __future__ import annotations

from typing import Any

from triage.case import Case, parse_case
from triage.knowledge import load_knowledge_base

#: The bundled knowledge base's vocabulary (loaded once for every test module).
VOCABULARY = load_knowledge_base().vocabulary
FIELDS = VOCABULARY.fields

#: The smallest valid case: screened, nothing found, pain in the lower back.
BASE_CASE: dict[str, Any] = {"pain_sites": ["lower_back"], "red_flags": [], "conditions": []}


def parse(raw: object, case_id: str, **options: Any) -> Case:
    """``parse_case`` with the bundled vocabulary."""
    return parse_case(raw, case_id, VOCABULARY, **options)


def make_case(case_id: str = "test#1", **answers: Any) -> Case:
    """A valid case: ``BASE_CASE`` with ``answers`` laid over it."""
    return parse({**BASE_CASE, **answers}, case_id)
