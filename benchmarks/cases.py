"""Seeded random valid cases over the whole case vocabulary, for benchmarks and tests.

Every field of the bundled vocabulary (``rules/vocabulary.yaml``) is exercised: optional
fields are sometimes absent, list fields draw each value independently.
Warning signs are drawn rarely (as in real intake), so the batch mixes every
disposition instead of being nearly all emergencies.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import IO, Any

from triage.kb import load_knowledge_base
from triage.vocabulary import CaseField, FieldKind

#: Chance that each value of a list field is present (rare for warning signs).
_LIST_VALUE_CHANCE = {"red_flags": 0.015, "conditions": 0.015}
_DEFAULT_LIST_VALUE_CHANCE = 0.2
#: Chance that an optional field is given at all.
_PRESENT_CHANCE = 0.8


def generate_cases(count: int, seed: int = 6) -> Iterator[dict[str, Any]]:
    """``count`` valid raw cases (as read from JSON), the same for the same seed."""
    rng = random.Random(seed)
    fields = load_knowledge_base().vocabulary.fields
    for n in range(1, count + 1):
        yield _case(rng, n, fields)


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


def write_jsonl(stream: IO[str], count: int, seed: int = 6) -> None:
    """Write ``count`` generated cases to ``stream`` as JSON Lines."""
    for case in generate_cases(count, seed):
        stream.write(json.dumps(case, separators=(",", ":")) + "\n")


def _case(rng: random.Random, n: int, fields: dict[str, CaseField]) -> dict[str, Any]:
    case: dict[str, Any] = {"id": f"bench-{n}"}
    for name, spec in fields.items():
        if name == "id" or not (spec.required or rng.random() < _PRESENT_CHANCE):
            continue
        if spec.is_list:
            chance = _LIST_VALUE_CHANCE.get(name, _DEFAULT_LIST_VALUE_CHANCE)
            values = [v for v in spec.values if rng.random() < chance]
            if spec.non_empty and not values:
                values = [rng.choice(spec.values)]
            case[name] = values
        elif spec.kind is FieldKind.INTEGER:
            high = spec.maximum if spec.maximum is not None else 400
            case[name] = rng.randint(spec.minimum or 0, high)
        elif spec.kind is FieldKind.BOOLEAN:
            case[name] = rng.random() < 0.5
        else:
            case[name] = rng.choice(spec.values)
    return case
