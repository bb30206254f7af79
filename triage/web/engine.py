"""Where the engine runs: a thread beside the event loop, with its own engine.

The engine is CPU-bound Python: a second engine thread in the same process
would only contend for the GIL with the event loop (at 32 clients, p99 was
about 10 ms worse with two than with one, at the same throughput), so each
process has one, and more cores are used by more processes (``--workers``).
Work is queued in order, and a batch is queued in chunks so that single
requests are served between its chunks instead of waiting for the whole
batch. Never on the event loop: a slow request or a big batch cannot stop
the server from accepting and answering others.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.requests import Request

from ..api import TriageKB

T = TypeVar("T")
#: Engine threads per server process (run more processes with --workers).
ENGINE_THREADS = 1
#: Cases of a batch triaged per queued job (about 20 ms of work).
CHUNK = 20


class EnginePool:
    """A thread pool (of :data:`ENGINE_THREADS`) whose threads each hold an engine on ``kb``."""

    def __init__(self, kb: TriageKB, threads: int = ENGINE_THREADS) -> None:
        self.kb = kb
        self.threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="triage-engine",
                                            initializer=self._warm)

    def _warm(self) -> None:
        self.kb.session  # noqa: B018 - builds this thread's engine before its first job

    def start(self) -> None:
        """Start every engine thread and build its engine now, not on the first requests."""
        # Each job waits for the others, so each runs on a thread of its own.
        all_started = threading.Barrier(self.threads)
        for job in [self._executor.submit(all_started.wait, 60) for _ in range(self.threads)]:
            job.result()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on an engine thread; the event loop stays free meanwhile."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    async def triage_many(self, cases: Sequence[Any]) -> list[dict[str, Any]]:
        """Results of ``cases`` in order (error records in place), queued in chunks."""
        results: list[dict[str, Any]] = []
        for start in range(0, len(cases), CHUNK):
            chunk = cases[start:start + CHUNK]
            results += await self.run(lambda c, n: list(self.kb.triage_many(c, first=n)), chunk, start + 1)
        return results

    def close(self) -> None:
        """Stop the threads (work not started is dropped)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def kb_of(request: Request) -> TriageKB:
    """The knowledge base the application serves."""
    kb: TriageKB = request.app.state.kb
    return kb


def engine_of(request: Request) -> EnginePool:
    """The application's engine threads."""
    pool: EnginePool = request.app.state.engine
    return pool
