"""triage: a rule-based triage expert system for lower back pain.

The knowledge base (YAML under ``rules/``) is compiled into an experta
engine. Library entry points:

* :func:`triage.load` - the Python API (:mod:`triage.api`): ``kb = triage.load()``,
  then ``kb.triage(case)``, ``kb.triage_many(cases)``, ``kb.next_question(answers)``,
  ``kb.questions()``, ``kb.audit(case)``;
* :func:`triage.kb.load_knowledge_base` - load and validate the rules;
* :class:`triage.session.TriageSession` - triage :class:`triage.case.Case` values;
* :func:`triage.casefiles.read_cases` - read case files;
* :mod:`triage.formats` - write results.

This is not a diagnosis; when in doubt, see a doctor.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: Names re-exported from triage.api, imported on first use so that
#: ``import triage`` (and ``triage --version``) does not load experta.
_API_NAMES = ("load", "TriageKB", "CaseError")


def __getattr__(name: str) -> Any:
    if name in _API_NAMES:
        from . import api, errors

        return getattr(api if hasattr(api, name) else errors, name)
    raise AttributeError(f"module 'triage' has no attribute {name!r}")
