"""Where the engine runs: threads beside the event loop, each with its own engine.

The engine is CPU-bound Python: a second engine thread for single requests
would only contend for the GIL with the event loop (at 32 clients, p99 was
about 10 ms worse with two than with one, at the same throughput), so each
process has one for them, and more cores are used by more processes
(``--workers``). Work is queued in order, and a batch is queued in chunks so
that single requests are served between its chunks instead of waiting for
the whole batch.

A questionnaire step (the pages and ``/api/v1/next``) can take a few hundred
milliseconds of engine search, so steps have threads of their own
(:data:`QUESTIONNAIRE_THREADS`, ``triage serve --questionnaire-threads``):
a single case never waits in a queue behind people's steps, and one long
step does not hold up the other people's. Never on the event loop: a slow
request or a big batch cannot stop the server from accepting and answering
others.
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
#: Engine threads for single cases, batches and audits, per server process (run more processes with --workers).
ENGINE_THREADS = 1
#: Engine threads for questionnaire steps, per server process (``triage serve --questionnaire-threads``).
QUESTIONNAIRE_THREADS = 2
#: Python's thread switch interval in a server process (its default is 5 ms). A
#: thread wanting the GIL waits this long before the one running must let go, so
#: while a questionnaire step runs, the event loop and the single-case thread
#: each wait up to this long at every hand-over: at 1 ms, 16 people walking the
#: questionnaire beside 8 single-case clients gave single-case p99 of 79 and
#: 132 ms where 5 ms gave 169 and 271 (alternating runs on a busy machine).
SWITCH_INTERVAL = 0.001
#: Cases of a batch triaged per queued job (about 20 ms of work).
CHUNK = 20


class EnginePool:
    """Engine threads on ``kb``: ``threads`` for single requests, ``questionnaire_threads`` for steps.

    Each thread holds its own engine; the two kinds of work have separate
    queues, so neither waits behind the other.
    """

    def __init__(self, kb: TriageKB, threads: int = ENGINE_THREADS,
                 questionnaire_threads: int = QUESTIONNAIRE_THREADS) -> None:
        self.kb = kb
        self.threads = threads
        self.questionnaire_threads = questionnaire_threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="triage-engine",
                                            initializer=self._warm)
        self._steps = ThreadPoolExecutor(max_workers=questionnaire_threads,
                                         thread_name_prefix="triage-questionnaire", initializer=self._warm)

    def _warm(self) -> None:
        self.kb.session  # noqa: B018 - builds this thread's engine before its first job

    def start(self) -> None:
        """Start every engine thread and build its engine now, not on the first requests."""
        for executor, count in ((self._executor, self.threads), (self._steps, self.questionnaire_threads)):
            # Each job waits for the others, so each runs on a thread of its own.
            all_started = threading.Barrier(count)
            for job in [executor.submit(all_started.wait, 60) for _ in range(count)]:
                job.result()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on an engine thread; the event loop stays free meanwhile."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    async def step(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` (a questionnaire step) on a questionnaire thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._steps, functools.partial(function, *args))

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
        self._steps.shutdown(wait=False, cancel_futures=True)


def kb_of(request: Request) -> TriageKB:
    """The knowledge base the application serves."""
    kb: TriageKB = request.app.state.kb
    return kb


def engine_of(request: Request) -> EnginePool:
    """The application's engine threads (``.run`` for single requests, ``.step`` for the questionnaire)."""
    pool: EnginePool = request.app.state.engine
    return pool
