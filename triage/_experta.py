"""The one place that imports experta; it makes experta importable on Python >= 3.10.

experta 1.9.4 (the last release) pins ``frozendict==1.2``, whose module body
subclasses ``collections.Mapping``. That alias was removed from ``collections``
in Python 3.10, so ``import experta`` fails with ``AttributeError`` on every
supported Python. frozendict only needs the name while its class statement
runs, so we lend ``collections.Mapping`` (the real ``collections.abc.Mapping``)
for exactly that import and take it away again. Nothing else is patched, the
installed packages are untouched and ``pip install`` stays plain.

Every other module imports experta names from here, never from experta itself,
with one exception: the RETE internals the fast path overrides for speed are
imported by ``triage.engine.fast_rete`` (after this module), which is loaded
only on the experta release it was proven against, so another release, where
they may have moved, still runs the plain engine.
"""

from __future__ import annotations

import collections
import collections.abc
import sys


def _import_frozendict_1_2() -> None:
    if "frozendict" in sys.modules or hasattr(collections, "Mapping"):
        return
    collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
    try:
        import frozendict  # noqa: F401  (imported for its side effect on sys.modules)
    finally:
        del collections.Mapping  # type: ignore[attr-defined]


_import_frozendict_1_2()

from experta import AS, EXISTS, NOT, Fact, KnowledgeEngine, P, Rule, watchers  # noqa: E402
from experta.matchers.rete import ReteMatcher  # noqa: E402
from experta.strategies import DepthStrategy  # noqa: E402

__all__ = ["AS", "EXISTS", "NOT", "DepthStrategy", "Fact", "KnowledgeEngine", "P", "ReteMatcher",
           "Rule", "watchers"]
