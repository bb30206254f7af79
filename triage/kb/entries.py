"""What the parsers of the list sections check the same way: ids, keys and texts.

The list sections (``sources``, ``derived_facts``, ``techniques``, ``rules``)
are gathered across files as :data:`Entries`. Each entry needs a well-formed
id that no earlier entry has, only the keys its section allows, and non-empty
texts where texts are due. These helpers append a problem (with file and
line) for each mistake instead of raising, like every parser of
:mod:`triage.kb`, so that the loader can report them all at once.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Location, Problem
from ..vocabulary import not_allowed
from ..yamlio import YamlMap

#: The entries of one list section, gathered across files: each entry as read
#: from YAML (any value: the loader reports those that are not mappings) and its file.
Entries = list[tuple[Any, str]]


def entries_with_ids(section: str, entries: Entries, pattern: re.Pattern[str],
                     problems: list[Problem]) -> list[tuple[YamlMap, str, str]]:
    """The mappings of ``entries`` with a well-formed id that no earlier one has: (entry, file, id)."""
    seen: dict[str, Location] = {}
    good = []
    for item, file in entries:
        if not isinstance(item, YamlMap):
            continue
        where = Location(file, item.line)
        ident = item.get("id")
        if not isinstance(ident, str) or not pattern.match(ident):
            problems.append(Problem(where, f"{section} entry needs an id matching {pattern.pattern}, got {ident!r}"))
            continue
        if ident in seen:
            problems.append(Problem(where, f"duplicate id {ident!r} (first at {seen[ident]})"))
            continue
        seen[ident] = where
        good.append((item, file, ident))
    return good


def check_keys(file: str, mapping: YamlMap, allowed: tuple[str, ...], what: str,
               problems: list[Problem]) -> None:
    """Append a problem for each key of ``mapping`` that is not ``allowed`` (a ``what``)."""
    for key in mapping:
        if key not in allowed:
            unknown_key(file, mapping, key, allowed, what, problems)


def unknown_key(file: str, mapping: YamlMap, key: Any, allowed: tuple[str, ...], what: str,
                problems: list[Problem]) -> None:
    """Append the problem of ``key``, a key of ``mapping`` that is not ``allowed``, at its line."""
    problems.append(Problem(Location(file, mapping.line_of(key)), not_allowed(f"unknown {what}", key, allowed)))


def required_text(item: YamlMap, key: str, file: str, problems: list[Problem]) -> str:
    """The text under ``key``, stripped; ``""`` with a problem when it is missing or blank."""
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(Location(file, item.line_of(key)), f"{key} must be a non-empty text"))
        return ""
    return value.strip()


def is_text_list(value: Any) -> bool:
    """Whether ``value`` is a list of non-blank texts (an empty list is one)."""
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
