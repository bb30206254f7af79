"""Ctrl-C, SIGTERM and SIGHUP as one orderly stop, and sections they must not cut.

The command line calls :func:`install`: from then on SIGINT, SIGTERM and
SIGHUP all raise :class:`Stopped` (a ``KeyboardInterrupt`` that knows its
signal) in the main thread, so every ``except KeyboardInterrupt`` that keeps
partial results also serves a batch scheduler's SIGTERM or a closed terminal's
SIGHUP. The first signal starts the stop; a second one is noted and ignored
so the clean-up (stopping workers, saving ``FILE.partial``) is not cut short;
a third leaves at once, after the last-ditch actions registered with
:func:`at_forced_exit` (kill the workers, remove the temporary output file)
and one line saying so.

:func:`deferred` holds a signal back until a section is done (a record is
written whole or not at all); :func:`shielded` swallows it (the clean-up
itself). Both cost two integer updates when nothing arrives, so they can wrap
every record. Nothing here is done on import: a library user keeps Python's
own signal handling unless they call :func:`install`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

#: The signals that stop a run (SIGHUP does not exist on Windows).
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
#: How many stop signals make the process leave at once, clean-up or not.
FORCE_AFTER = 3


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which (exit status 128 + signum)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _State:
    #: What a forced exit still does, by registration number (see at_forced_exit).
    last_ditch: dict[int, Callable[[], None]] = {}
    registered = 0
    installed = False
    depth = 0            # sections (deferred or shielded) currently open
    swallow = 0          # of which shielded
    pending: int | None = None
    received = 0


def signal_number(exc: BaseException | None = None) -> int:
    """The signal behind an interrupt (SIGINT for a plain KeyboardInterrupt)."""
    return exc.signum if isinstance(exc, Stopped) else int(signal.SIGINT)


def exit_status(exc: BaseException | None = None) -> int:
    """128 + the signal that stopped the run, as shells report it."""
    return 128 + signal_number(exc)


def _handler(signum: int, frame: FrameType | None) -> None:
    _State.received += 1
    if _State.received >= FORCE_AFTER:
        _forced_exit(signum)
    if _State.received > 1:
        return  # already stopping: let the clean-up finish
    if _State.depth:
        _State.pending = signum
        return
    raise Stopped(signum)


def _forced_exit(signum: int) -> None:
    """Leave now: run the last-ditch actions, say so in one line, exit 128 + ``signum``."""
    for action in list(_State.last_ditch.values()):
        with contextlib.suppress(Exception):
            action()
    with contextlib.suppress(OSError):
        os.write(2, f"triage: stopped at once ({FORCE_AFTER} stop signals); "
                    "results being written were not kept\n".encode())
    os._exit(128 + signum)


def at_forced_exit(action: Callable[[], None]) -> Callable[[], None]:
    """Have a forced exit (the third stop signal) call ``action`` first; returns its undo.

    ``action`` must be quick and safe at any moment: a kill, an unlink.
    """
    _State.registered += 1
    key = _State.registered
    _State.last_ditch[key] = action
    return lambda: _State.last_ditch.pop(key, None)


def install() -> Callable[[], None]:
    """Make the stop signals raise :class:`Stopped`; returns a function that undoes it.

    Only possible in the main thread; elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {signum: signal.signal(signum, _handler) for signum in STOP_SIGNALS}
    _State.installed, _State.received, _State.pending = True, 0, None

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _State.installed = False

    return restore


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A stop signal arriving inside waits until the section ends, then stops the run."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if not _State.depth and _State.pending is not None:
            signum, _State.pending = _State.pending, None
            if not _State.swallow:
                raise Stopped(signum)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A stop signal arriving inside is ignored (the section is the clean-up).

    Without :func:`install`, Ctrl-C is ignored for the section instead.
    """
    if not _State.installed and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
        return
    _State.depth += 1
    _State.swallow += 1
    try:
        yield
    finally:
        _State.swallow -= 1
        _State.depth -= 1
        if not _State.depth:
            _State.pending = None


@contextlib.contextmanager
def blocked() -> Iterator[None]:
    """Hold the stop signals back at the OS level (around starting worker processes).

    A process forked inside starts with them blocked, so it cannot be stopped
    before it has set its own handling (:func:`worker_signals`).
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def worker_signals() -> None:
    """In a worker process: Ctrl-C and SIGHUP are the parent's, SIGTERM kills it quietly.

    The parent stops the workers itself when the run stops; a worker killed
    by SIGTERM (or anything else) is noticed by the parent and its chunk retried.
    """
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
