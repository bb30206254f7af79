"""The ``sources:`` section: the articles and guidelines the knowledge rests on.

Techniques and rules must cite at least one of them; :func:`cited_sources`
checks such a citation against the parsed sources, so that every claim of the
knowledge base can be traced to where it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ..errors import Location, Problem
from ..vocabulary import not_allowed
from ..yamlio import YamlMap
from .entries import Entries, check_keys, entries_with_ids, is_text_list, required_text
from .model import Source

#: A source id: lower case, digits, ``_`` and ``-`` (``nice-cks-back-pain``).
SOURCE_ID = re.compile(r"^[a-z0-9_-]+$")
_KEYS = ("id", "title", "kind", "note", "url")


def parse_sources(entries: Entries, problems: list[Problem]) -> dict[str, Source]:
    """The sources of ``entries`` by id, appending a problem for each mistake."""
    sources = {}
    for item, file, ident in entries_with_ids("sources", entries, SOURCE_ID, problems):
        check_keys(file, item, _KEYS, "source field", problems)
        title = required_text(item, "title", file, problems)
        sources[ident] = Source(ident, title, str(item.get("kind", "")), str(item.get("note", "")).strip(),
                                str(item.get("url", "")).strip())
    return sources


def cited_sources(item: YamlMap, file: str, sources: Collection[str],
                  problems: list[Problem]) -> tuple[str, ...]:
    """The source ids ``item`` cites under ``sources:``; a problem unless each is a known source."""
    value = item.get("sources")
    where = Location(file, item.line_of("sources"))
    if not is_text_list(value) or not value:
        problems.append(Problem(where, "sources must list at least one source id (see sources.yaml)"))
        return ()
    for source in value:
        if source not in sources:
            problems.append(Problem(where, not_allowed("unknown source", source, sources)))
    return tuple(value)
