"""Which engine this process uses: the fast path only on the experta it was proven against.

The fast path (:mod:`triage.engine.fast_rete`) overrides private internals of
experta; a different release may change them in ways no import error would
reveal. So it is used only when the installed experta is exactly
:data:`PROVEN_EXPERTA_VERSION`; any other version runs experta's own
machinery (:class:`~triage.engine.plain.TriageEngine`: the same firings,
slower) and says so once, as an :class:`~triage.errors.ExpertaVersionWarning`.
"""

from __future__ import annotations

import functools
import warnings
from importlib import metadata

from ..errors import ExpertaVersionWarning
from .plain import TriageEngine

#: The experta release the fast path was proven equivalent on (the last release there is).
PROVEN_EXPERTA_VERSION = "1.9.4"


def installed_experta_version() -> str | None:
    """The installed experta's version, or None if its metadata cannot be found."""
    try:
        return metadata.version("experta")
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def engine_class() -> type[TriageEngine]:
    """The engine class for this process, chosen (and warned about) once.

    The fast engine on the proven experta, else the plain one with an
    :class:`~triage.errors.ExpertaVersionWarning`.
    """
    installed = installed_experta_version()
    if installed == PROVEN_EXPERTA_VERSION:
        # Imported only here: its imports of experta's internals may fail on another release.
        from .fast_rete import FastTriageEngine

        return FastTriageEngine
    warnings.warn(ExpertaVersionWarning(
        f"experta {installed or '(version unknown)'} is installed, not "
        f"{PROVEN_EXPERTA_VERSION}: using experta's plain engine (same results, slower)"),
        stacklevel=2)
    return TriageEngine
