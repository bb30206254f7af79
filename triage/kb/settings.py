"""The ``knowledge_base:`` section: the settings of the whole knowledge base.

Exactly one file carries it (``rules/knowledge-base.yaml``): the weight of
each strength of sign, the default salience of each kind of conclusion, the
advice given with each disposition, and the advice given always. Rules read
their default salience from here, so it is parsed before them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..conclusions import CONCLUSION_KINDS, STRENGTHS
from ..errors import Location, Problem
from ..vocabulary import Disposition
from ..yamlio import YamlMap
from .entries import check_keys, is_text_list, unknown_key
from .model import DispositionAdvice

_KEYS = ("name", "description", "evidence_weights", "salience", "dispositions", "always_advice")


@dataclass(frozen=True)
class Settings:
    """The parsed ``knowledge_base:`` section (what could be read of it, if it has problems)."""

    evidence_weights: dict[str, float]
    #: The default salience of each kind of conclusion (empty when unreadable: rules then default to 0).
    salience: dict[str, int]
    dispositions: dict[Disposition, DispositionAdvice]
    always_advice: tuple[str, ...]


def parse_settings(found: list[tuple[YamlMap, str]], directory: Path, problems: list[Problem]) -> Settings:
    """The settings from ``found``, the ``knowledge_base:`` sections of every file with one.

    Exactly one is expected; ``directory`` is where to point when there is none.
    """
    if len(found) != 1:
        where = Location(found[1][1]) if found else Location(str(directory))
        problems.append(Problem(where, f"exactly one file must have a knowledge_base section, found {len(found)}"))
    # What to go on with when a setting cannot be read, so that the rest is still checked.
    weights: dict[str, float] = {"strong": 0.6, "supporting": 0.2}
    salience: dict[str, int] = {}
    always: tuple[str, ...] = ()
    if not found:
        return Settings(weights, salience, {}, always)
    data, file = found[0]
    check_keys(file, data, _KEYS, "knowledge_base field", problems)
    raw_weights = data.get("evidence_weights")
    if isinstance(raw_weights, YamlMap) and set(raw_weights) == set(STRENGTHS) and all(
            isinstance(w, float) and 0 < w < 1 for w in raw_weights.values()):
        weights = dict(raw_weights)
    else:
        problems.append(Problem(Location(file, data.line_of("evidence_weights")),
                                "evidence_weights needs strong and supporting, each a number between 0 and 1"))
    raw_salience = data.get("salience")
    if isinstance(raw_salience, YamlMap) and set(raw_salience) == set(CONCLUSION_KINDS) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in raw_salience.values()):
        salience = dict(raw_salience)
    else:
        problems.append(Problem(Location(file, data.line_of("salience")),
                                f"salience needs a whole number for each of {', '.join(CONCLUSION_KINDS)}"))
    dispositions = _disposition_advice(data, file, problems)
    raw_always = data.get("always_advice")
    if is_text_list(raw_always):
        always = tuple(raw_always)
    else:
        problems.append(Problem(Location(file, data.line_of("always_advice")), "always_advice must be a list of texts"))
    return Settings(weights, salience, dispositions, always)


def _disposition_advice(data: YamlMap, file: str, problems: list[Problem]) -> dict[Disposition, DispositionAdvice]:
    """The headline and advice for each disposition, from ``dispositions:``."""
    advice: dict[Disposition, DispositionAdvice] = {}
    table = data.get("dispositions")
    if not isinstance(table, YamlMap):
        problems.append(Problem(Location(file, data.line_of("dispositions")), "dispositions must be a mapping"))
        return advice
    for disposition in Disposition:
        entry = table.get(disposition.value)
        where = Location(file, table.line_of(disposition.value))
        if not isinstance(entry, YamlMap) or not isinstance(entry.get("headline"), str) \
                or not is_text_list(entry.get("advice")):
            problems.append(Problem(where, f"dispositions.{disposition.value} needs a headline and a list of advice"))
            continue
        check_keys(file, entry, ("headline", "advice"), "disposition field", problems)
        advice[disposition] = DispositionAdvice(entry["headline"], tuple(entry["advice"]))
    for key in table:
        if key not in {d.value for d in Disposition}:
            unknown_key(file, table, key, tuple(d.value for d in Disposition), "disposition", problems)
    return advice
