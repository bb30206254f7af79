"""Clinical safety evidence drawn from a knowledge base, for the reviewer who signs triage off.

- :mod:`~triage.safety.evidence`: what the evidence rests on: the golden
  cases, the bundled case files and a seeded generated corpus, each run once;
- :mod:`~triage.safety.report`: the traceability matrix (``triage rules report``);
- :mod:`~triage.safety.hazards`: the hazard-log skeleton (``triage rules hazards``);
- :mod:`~triage.safety.kbdiff`: what changes between two knowledge bases, for
  rules and for cases (``triage rules diff``);
- :mod:`~triage.safety.mutation`: knowledge-base mutation testing (``triage rules mutate``);
- :mod:`~triage.safety.tables`: the one table shape they share, written as
  Markdown, CSV, HTML or JSON.

Everything here returns data or text and never prints.
"""
