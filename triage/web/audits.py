"""Where audits run: a process of their own, beside the engine threads that answer people.

An audit of many cases (and Graphviz drawing its graph) takes seconds. On
the engine thread, every questionnaire step and single case queued behind
it waited that long (a 1,000-case audit held a single case for 45 s); on a
thread of its own it still shared the interpreter, so a single case sent
meanwhile waited tens of milliseconds for its turn (issue 25). In a process
it shares nothing but the machine's cores. The process starts on the first
audit, with the server's knowledge base, so a server nobody audits on pays
nothing for it; it ends with the server, or on its own when the server is gone.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from starlette.requests import Request

from ..api import TriageKB
from ..kb import KnowledgeBase

T = TypeVar("T")

#: The audit process's knowledge base, set when it starts.
_audit_kb: TriageKB | None = None


class AuditPool:
    """One process that runs audits, one at a time, in the order they came."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._kb = kb
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(kb, *args)`` in the audit process, ``kb`` its :class:`TriageKB`.

        ``function`` must be a module-level function and ``args`` and its result
        plain data (they cross a pipe). An audit process that died (killed, out
        of memory) is replaced, and the audit is run once more in the new one:
        an audit changes nothing, so running it again is safe.
        """
        try:
            return await self._run_once(function, args)
        except BrokenProcessPool:
            return await self._run_once(function, args)

    async def _run_once(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        executor = self._started()
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, _call, function, args)
        except BrokenProcessPool:
            self._discard(executor)
            raise

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # Spawned, not forked: the server has threads (and an event loop) that a
                # forked child would inherit half-way through.
                self._executor = ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start, initargs=(self._kb, os.getpid()))
            return self._executor

    def _discard(self, executor: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the audit process and wait for it (audits not started are dropped).

        The server calls this once its requests are answered, so no audit is
        running; waiting lets the process release what it holds before the
        server exits, instead of leaving that to Python's resource tracker.
        """
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def _start(kb: KnowledgeBase, parent: int) -> None:
    """The audit process's start: Ctrl-C is the server's to handle, and the engine is built once."""
    from ..errors import ExpertaVersionWarning
    from ..interrupts import worker_signals
    from ..parallel import watch_parent

    global _audit_kb
    worker_signals()
    threading.Thread(target=watch_parent, args=(parent,), name="triage-parent-watch", daemon=True).start()
    warnings.simplefilter("ignore", ExpertaVersionWarning)  # the server has said it once
    _audit_kb = TriageKB(kb)


def _call(function: Callable[..., T], args: tuple[Any, ...]) -> T:
    if _audit_kb is None:
        raise RuntimeError("the audit process was started without its knowledge base")
    return function(_audit_kb, *args)


def audits_of(request: Request) -> AuditPool:
    """The application's audit process."""
    pool: AuditPool = request.app.state.audits
    return pool
