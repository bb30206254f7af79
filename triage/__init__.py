"""triage: a rule-based triage expert system for lower back pain.

The knowledge base (YAML under ``rules/``) is compiled into an experta
engine. Library entry points:

* :func:`triage.knowledge.load_knowledge_base` - load and validate the rules;
* :class:`triage.session.TriageSession` - triage :class:`triage.case.Case` values;
* :func:`triage.casefiles.read_cases` - read case files;
* :mod:`triage.formats` - write results.

This is not a diagnosis; when in doubt, see a doctor.
"""

__version__ = "0.1.0"
