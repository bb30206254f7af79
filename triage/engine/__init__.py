"""The triage engine: experta's knowledge engine, with a fast path behind a version guard.

- :mod:`~triage.engine.facts`: the facts the engine holds (the case, the conclusions).
- :mod:`~triage.engine.plain`: :class:`TriageEngine`, on experta's own machinery.
- :mod:`~triage.engine.fast_rete`: ``FastTriageEngine``, overrides of experta's
  internals proven equivalent on experta 1.9.4.
- :mod:`~triage.engine.choice`: which of the two this process uses.

:mod:`triage.compiler` compiles a knowledge base onto the class
:func:`engine_class` returns.
"""

from __future__ import annotations

from .choice import PROVEN_EXPERTA_VERSION, engine_class
from .plain import TriageEngine

__all__ = ["PROVEN_EXPERTA_VERSION", "TriageEngine", "engine_class"]
