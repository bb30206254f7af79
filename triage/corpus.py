"""Seeded random valid cases over a case vocabulary: the generated corpus.

Every field of the vocabulary is exercised: optional fields are sometimes
absent, list fields draw each value independently. Warning signs are drawn
rarely (as in real intake), so a corpus mixes every disposition instead of
being nearly all emergencies. The same seed and vocabulary always give the
same cases, so figures computed over a generated corpus (the benchmarks, the
traceability report, a knowledge-base diff) can be repeated exactly.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Types only: the command line reads the defaults below without loading YAML.
    from .vocabulary import CaseField, Vocabulary

#: The seed every tool uses unless told otherwise.
DEFAULT_SEED = 6
#: Cases in the generated corpus of the safety evidence unless told otherwise.
DEFAULT_GENERATED = 2000
#: Chance that each value of a list field is present (rare for warning signs).
_LIST_VALUE_CHANCE = {"red_flags": 0.015, "other_symptoms": 0.015, "conditions": 0.015}
_DEFAULT_LIST_VALUE_CHANCE = 0.2
#: Chance that an optional field is given at all.
_PRESENT_CHANCE = 0.8


def generate_cases(vocabulary: Vocabulary, count: int, seed: int = DEFAULT_SEED,
                   prefix: str = "bench") -> Iterator[dict[str, Any]]:
    """``count`` valid raw cases (as read from JSON) with ids ``{prefix}-1``..., the same for the same seed."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        yield _case(rng, f"{prefix}-{n}", vocabulary.fields)


def _case(rng: random.Random, case_id: str, fields: dict[str, CaseField]) -> dict[str, Any]:
    from .vocabulary import RECORD_FIELDS, FieldKind

    case: dict[str, Any] = {"id": case_id}
    for name, spec in fields.items():
        # The screens are always answered, as the questionnaire asks them first; the
        # fields about the file (id, complete) are no answers.
        if name in RECORD_FIELDS or not (spec.required or spec.is_screen or rng.random() < _PRESENT_CHANCE):
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


__all__ = ["DEFAULT_GENERATED", "DEFAULT_SEED", "generate_cases"]
