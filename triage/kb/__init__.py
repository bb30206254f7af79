"""The knowledge base as a package: its model, one parser per section, the checks, the loader.

So far it holds the model (:mod:`triage.kb.model`, the values a loaded
knowledge base is made of) and :mod:`triage.kb.conditions` (the tests a
``when:`` makes and the one parser of ``when:``).
"""

from __future__ import annotations

from .conditions import Condition, parse_when
from .model import Choice, DispositionAdvice, KnowledgeBase, KnowledgeRule, Question, Source, Technique

__all__ = [
    "Choice", "Condition", "DispositionAdvice", "KnowledgeBase", "KnowledgeRule", "Question", "Source",
    "Technique", "parse_when",
]
