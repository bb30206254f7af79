"""The knowledge base (the YAML files under ``rules/``) as a package.

- :mod:`~triage.kb.model`: the values a loaded knowledge base is made of
  (:class:`KnowledgeBase`, :class:`KnowledgeRule`, :class:`Technique`,
  :class:`Source`, :class:`DispositionAdvice`, :class:`Question`,
  :class:`Choice`);
- :mod:`~triage.kb.conditions`: :class:`Condition`, the one test a ``when:``
  makes, and :func:`~triage.kb.conditions.parse_when`, the one parser of
  ``when:`` that rules and questions share;
- one parser per section, each appending its problems (with file and line)
  to a list instead of raising: :mod:`~triage.kb.sources`,
  :mod:`~triage.kb.derived`, :mod:`~triage.kb.settings` (the
  ``knowledge_base:`` section), :mod:`~triage.kb.techniques`,
  :mod:`~triage.kb.rules` and :mod:`~triage.kb.questions`, with what their
  list entries share in :mod:`~triage.kb.entries`. The ``vocabulary:``
  section's parser stays in :mod:`triage.vocabulary`, beside the case
  parser that needs it without the rest of the knowledge base;
- :mod:`~triage.kb.checks`: the checks across entries (each rule's safety,
  salience order, the safety floor);
- :mod:`~triage.kb.loader`: finds and reads the files, hands each section to
  its parser, runs the checks and fails once with every problem.

:class:`Question` and :class:`Choice` live in the model, not beside their
parser: code that only uses a knowledge base (the questionnaire, the web
pages, the API) then reads plain values without importing any parser, and
:class:`KnowledgeBase` types its questions without the model importing the
parser that builds them. Nothing here imports experta.
"""

from __future__ import annotations

from .conditions import Condition
from .loader import default_rules_dir, kb_version, knowledge_base_files, load_knowledge_base
from .model import Choice, DispositionAdvice, KnowledgeBase, KnowledgeRule, Question, Source, Technique

__all__ = [
    "Choice", "Condition", "DispositionAdvice", "KnowledgeBase", "KnowledgeRule", "Question", "Source",
    "Technique", "default_rules_dir", "kb_version", "knowledge_base_files", "load_knowledge_base",
]
