"""The ``derived_facts:`` section: the facts rules may derive and test, each with its meaning.

A ``derive`` conclusion, and a ``derived`` test in a ``when:``, may only name
a fact declared here, so that a misspelt fact is an error rather than a rule
that never fires.
"""

from __future__ import annotations

import re

from ..errors import Problem
from .entries import Entries, check_keys, entries_with_ids, required_text

#: A derived fact's id: lower case, digits and ``_`` (``prolonged_sitting``).
DERIVED_ID = re.compile(r"^[a-z0-9_]+$")
_KEYS = ("id", "description")


def parse_derived_facts(entries: Entries, problems: list[Problem]) -> dict[str, str]:
    """The declared derived facts of ``entries``, each id with its description."""
    facts = {}
    for item, file, ident in entries_with_ids("derived_facts", entries, DERIVED_ID, problems):
        check_keys(file, item, _KEYS, "derived fact field", problems)
        facts[ident] = required_text(item, "description", file, problems)
    return facts
