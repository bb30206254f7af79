"""The knowledge base as a package: its model, one parser per section, the checks, the loader.

So far it holds :mod:`triage.kb.conditions`: the tests a ``when:`` makes and
the one parser of ``when:``.
"""

from __future__ import annotations

from .conditions import Condition, parse_when

__all__ = ["Condition", "parse_when"]
