"""Seeded random valid cases over the bundled case vocabulary, for benchmarks and tests.

The generator itself is the library's (:mod:`triage.corpus`), which the
traceability report and ``triage rules diff`` use too; this module binds it
to the bundled knowledge base (``rules/vocabulary.yaml``) and writes JSON Lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from triage.corpus import DEFAULT_SEED
from triage.corpus import generate_cases as _generate
from triage.kb import load_knowledge_base


def generate_cases(count: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """``count`` valid raw cases (as read from JSON), the same for the same seed."""
    return _generate(load_knowledge_base().vocabulary, count, seed)


def questionnaire_answers(case: dict[str, Any], questions: Any) -> dict[str, Any]:
    """The JSON answers (question id -> answer) a person with ``case`` gives to the questionnaire.

    Each question gets its share of its field (a list field may be split over
    several questions); a question that needs a value the case lacks gets its
    first choice.
    """
    answers: dict[str, Any] = {}
    for question in questions:
        value = case.get(question.field)
        if question.answer == "many":
            offered = [c.value for c in question.choices]
            value = [v for v in value or () if v in offered] or ([] if question.may_be_empty else offered[:1])
        answers[question.id] = value
    return answers


def write_jsonl(stream: IO[str], count: int, seed: int = DEFAULT_SEED) -> None:
    """Write ``count`` generated cases to ``stream`` as JSON Lines."""
    for case in generate_cases(count, seed):
        stream.write(json.dumps(case, separators=(",", ":")) + "\n")
