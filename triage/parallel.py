"""Triage a stream of cases on several worker processes, results in input order.

``triage_parallel`` is the batch loop of ``triage run``: with one worker it
triages in this process; with more, each worker process builds its engine
once (in the pool initializer) and triages chunks of cases. Input is read
chunk by chunk and only a few chunks are in flight at a time, so memory
stays flat however long the batch. Invalid cases (error records) never leave
this process: they are put back in their place between the results.

Results do not depend on the number of workers, on the start method (fork or
spawn) or on ``PYTHONHASHSEED``: every case runs on a freshly reset engine
compiled from the same knowledge base, and firing order never depends on
hashing (see :mod:`triage.compiler`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from multiprocessing.pool import AsyncResult

from .case import Case
from .casefiles import CaseRecord
from .knowledge import KnowledgeBase
from .results import ErrorRecord, Outcome, TriageResult
from .session import TriageSession

#: Cases sent to a worker at a time: large enough that messaging is cheap per
#: case, small enough that the first results come quickly and that a chunk's
#: pickled results stay small (with 100, their large buffers fragmented this
#: process's heap, which kept growing by ~1 MB per 50,000 cases).
CHUNK_SIZE = 50
#: Chunks in flight per worker: enough to keep every worker busy while this
#: process reads and writes, few enough to keep memory flat.
CHUNKS_IN_FLIGHT_PER_WORKER = 6

#: multiprocessing start method; None = the platform's default (fork or spawn both work).
START_METHOD: str | None = None

#: The session of a worker process, built once by ``_start_worker``.
_worker_session: TriageSession | None = None


def default_workers() -> int:
    """The default number of workers: the CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def triage_parallel(records: Iterable[CaseRecord], session: TriageSession,
                    workers: int | None = None) -> Iterator[Outcome]:
    """Triage each case on ``workers`` processes; yield one outcome per record, in order.

    ``workers`` defaults to :func:`default_workers`; ``1`` triages in this
    process with ``session``, and so does a batch smaller than one chunk.
    Otherwise each worker compiles its own engine from ``session.kb``.
    Error records pass through in their place.
    """
    count = default_workers() if workers is None else workers
    if count < 1:
        raise ValueError(f"workers must be at least 1, got {count}")
    iterator = iter(records)
    first = list(islice(iterator, CHUNK_SIZE)) if count > 1 else []
    if count == 1 or len(first) < CHUNK_SIZE:
        # Less than one chunk is not worth starting processes for.
        for record in chain(first, iterator):
            yield record if isinstance(record, ErrorRecord) else session.triage(record)
        return
    yield from _triage_on_pool(chain(first, iterator), session.kb, count)


def _triage_on_pool(records: Iterable[CaseRecord], kb: KnowledgeBase,
                    workers: int) -> Iterator[Outcome]:
    limit = workers * CHUNKS_IN_FLIGHT_PER_WORKER
    context = multiprocessing.get_context(START_METHOD)
    pool = context.Pool(workers, initializer=_start_worker, initargs=(kb,))
    try:
        in_flight: deque[tuple[list[CaseRecord], AsyncResult[list[TriageResult]]]] = deque()
        for chunk in _chunks(records, CHUNK_SIZE):
            cases = [record for record in chunk if isinstance(record, Case)]
            in_flight.append((chunk, pool.apply_async(_triage_chunk, (cases,))))
            if len(in_flight) >= limit:
                yield from _merge(*in_flight.popleft())
        while in_flight:
            yield from _merge(*in_flight.popleft())
        pool.close()
    finally:
        # Also reached when the consumer stops early or on Ctrl-C: stop the
        # workers rather than leave them running.
        pool.terminate()
        pool.join()


def _chunks(records: Iterable[CaseRecord], size: int) -> Iterator[list[CaseRecord]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _merge(chunk: list[CaseRecord], pending: AsyncResult[list[TriageResult]]) -> Iterator[Outcome]:
    """The chunk's outcomes in order: error records in place, results for the cases."""
    results = iter(pending.get())
    for record in chunk:
        yield record if isinstance(record, ErrorRecord) else next(results)


def _start_worker(kb: KnowledgeBase) -> None:
    """Pool initializer: compile the engine once for this worker process."""
    global _worker_session
    # Ctrl-C is the parent's to handle: it stops the pool and keeps what was written.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_session = TriageSession(kb)


def _triage_chunk(cases: list[Case]) -> list[TriageResult]:
    """Triage a chunk of valid cases in a worker process."""
    if _worker_session is None:
        raise RuntimeError("the worker was started without its engine")
    return [_worker_session.triage(case) for case in cases]
