"""The ``techniques:`` section: the catalogue of self-care techniques that rules recommend.

Each technique says which muscles it is for (or ``any``), its steps, how long
to hold it, its cautions and its sources. Rules are parsed after it, so that a
``recommend`` conclusion can only name a technique that exists.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ..errors import Location, Problem
from .entries import Entries, check_keys, entries_with_ids, is_text_list, required_text
from .model import Technique
from .sources import cited_sources

#: A technique's id: lower case, digits and ``_``.
TECHNIQUE_ID = re.compile(r"^[a-z0-9_]+$")
_KINDS = ("warming", "stretch", "massage", "rest")
_KEYS = ("id", "name", "kind", "for", "steps", "hold", "cautions", "sources")


def parse_techniques(entries: Entries, sources: Collection[str], muscles: tuple[str, ...],
                     problems: list[Problem]) -> dict[str, Technique]:
    """The techniques of ``entries`` by id, checked against the ``sources`` and ``muscles`` they name."""
    techniques = {}
    for item, file, ident in entries_with_ids("techniques", entries, TECHNIQUE_ID, problems):
        check_keys(file, item, _KEYS, "technique field", problems)
        where = Location(file, item.line)
        kind = item.get("kind")
        if kind not in _KINDS:
            problems.append(Problem(Location(file, item.line_of("kind")),
                                    f"technique kind must be one of {', '.join(_KINDS)}, got {kind!r}"))
        targets = item.get("for")
        if not is_text_list(targets) or not targets or any(t not in muscles and t != "any" for t in targets):
            problems.append(Problem(Location(file, item.line_of("for")),
                                    f"technique 'for' must list muscles ({', '.join(muscles)}) or any, got {targets!r}"))
            targets = []
        for key in ("steps", "cautions"):
            if not is_text_list(item.get(key)) or not item.get(key):
                problems.append(Problem(Location(file, item.line_of(key)),
                                        f"technique {key} must be a non-empty list of texts"))
        techniques[ident] = Technique(
            id=ident, name=required_text(item, "name", file, problems), kind=str(kind),
            for_muscles=tuple(targets), steps=tuple(item.get("steps") or ()),
            hold=required_text(item, "hold", file, problems), cautions=tuple(item.get("cautions") or ()),
            sources=cited_sources(item, file, sources, problems), location=where)
    return techniques
