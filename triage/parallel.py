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

A worker that dies (killed, out of memory) breaks the pool; the chunks that
were in flight are then run again one at a time on a fresh pool, so a chunk
that kills its worker a second time is known exactly and stops the run with a
:class:`~triage.errors.WorkerError` naming its cases. A failure reading a later
input file first lets every chunk already read finish, so the results before
it never depend on the number of workers. However the run stops, the workers
are killed and reaped: none is left behind.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice

from .case import Case
from .casefiles import CaseRecord
from .errors import WorkerError
from .interrupts import blocked, shielded, worker_signals
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

#: Seconds between looks at the workers while waiting for a result.
_POLL = 0.5
#: Seconds a dead worker may go unnoticed by the executor before the pool counts as broken.
_DEAD_WORKER_GRACE = 2.0

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
    Error records pass through in their place. An error reading ``records``
    is raised after the outcome of every record read before it. Raises
    :class:`~triage.errors.WorkerError` when a chunk kills its worker twice.
    """
    count = default_workers() if workers is None else workers
    if count < 1:
        raise ValueError(f"workers must be at least 1, got {count}")
    iterator = iter(records)
    first: list[CaseRecord] = []
    if count > 1:
        try:
            first.extend(islice(iterator, CHUNK_SIZE))
        except Exception:
            # A file failing within the first chunk: what was read still runs, here.
            yield from _triage_here(first, session)
            raise
    if count == 1 or len(first) < CHUNK_SIZE:
        # Less than one chunk is not worth starting processes for.
        yield from _triage_here(chain(first, iterator), session)
        return
    yield from _triage_on_pool(chain(first, iterator), session.kb, count)


def _triage_here(records: Iterable[CaseRecord], session: TriageSession) -> Iterator[Outcome]:
    for record in records:
        yield record if isinstance(record, ErrorRecord) else session.triage(record)


class _Chunk:
    """Records sent to a worker together, and the future of their results."""

    def __init__(self, records: list[CaseRecord]) -> None:
        self.records = records
        self.cases = [record for record in records if isinstance(record, Case)]
        self.future: Future[list[TriageResult]] = Future()
        #: Set when the chunk killed its worker again on its retry.
        self.fatal: WorkerError | None = None

    def describe(self) -> str:
        ids = [record.id for record in self.records]
        noun = "case" if len(ids) == 1 else "cases"
        span = repr(ids[0]) if len(ids) == 1 else f"{ids[0]!r} to {ids[-1]!r}"
        return f"the {len(ids)} {noun} {span}"


class _Pool:
    """A process pool that can be replaced when broken and is always stopped completely."""

    def __init__(self, kb: KnowledgeBase, workers: int) -> None:
        self._kb = kb
        self._workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def submit(self, chunk: _Chunk) -> None:
        # Workers are forked inside: with the stop signals blocked they start
        # unable to be stopped before they have set their own handling.
        with blocked():
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self._workers, mp_context=multiprocessing.get_context(START_METHOD),
                    initializer=_start_worker, initargs=(self._kb,))
            try:
                chunk.future = self._executor.submit(_triage_chunk, chunk.cases)
            except BrokenProcessPool as exc:
                # A worker died since the last look: the chunk is in the same plight
                # as those in flight, and is retried with them.
                chunk.future = Future()
                chunk.future.set_exception(exc)

    def wait(self, future: Future[list[TriageResult]]) -> bool:
        """Wait for ``future``; False if the pool broke (a worker died) instead.

        The executor notices a dead worker at once, except when the worker
        died halfway through sending its results: its reader then waits for
        the rest for ever. A worker found dead while a result is still awaited
        breaks the pool here after a grace period.
        """
        grace = 0
        while True:
            done, _ = wait([future], timeout=_POLL)
            if done:
                return not future.cancelled() and not isinstance(future.exception(), BrokenProcessPool)
            grace = grace + 1 if self._a_worker_died() else 0
            if grace * _POLL >= _DEAD_WORKER_GRACE:
                return False

    def _a_worker_died(self) -> bool:
        return any(process.exitcode is not None for process in self._processes())

    def _processes(self) -> list[multiprocessing.process.BaseProcess]:
        # ProcessPoolExecutor cannot kill its workers before Python 3.14
        # (terminate_workers); its process table is the one way to reach them.
        return list(dict(getattr(self._executor, "_processes", None) or {}).values())

    def stop(self) -> None:
        """Kill the workers and reap them (also when broken, also on Ctrl-C)."""
        if self._executor is None:
            return
        with shielded():
            processes = self._processes()
            for process in processes:
                if process.is_alive():
                    process.kill()
            for process in processes:
                process.join(_DEAD_WORKER_GRACE)
            # A worker killed while sending its results leaves the executor's
            # reader waiting for the rest; with this last writer closed it
            # reads the end of the pipe instead, and the executor can shut down.
            results = getattr(self._executor, "_result_queue", None)
            writer = getattr(results, "_writer", None)
            if writer is not None:
                writer.close()
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _triage_on_pool(records: Iterable[CaseRecord], kb: KnowledgeBase,
                    workers: int) -> Iterator[Outcome]:
    limit = workers * CHUNKS_IN_FLIGHT_PER_WORKER
    pool = _Pool(kb, workers)
    source = _chunks(records, CHUNK_SIZE)
    in_flight: deque[_Chunk] = deque()
    failure: Exception | None = None
    try:
        while True:
            while failure is None and len(in_flight) < limit:
                try:
                    records_read = next(source)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 (re-raised once the chunks read are done)
                    failure = exc
                    break
                chunk = _Chunk(records_read)
                pool.submit(chunk)
                in_flight.append(chunk)
            if not in_flight:
                break
            results = _results(in_flight, pool)
            yield from _merge(in_flight.popleft(), results)
        if failure is not None:
            raise failure
    finally:
        # Also reached when the consumer stops early or on Ctrl-C / SIGTERM:
        # stop the workers rather than leave them running.
        pool.stop()


def _results(in_flight: deque[_Chunk], pool: _Pool) -> list[TriageResult]:
    """The results of the first chunk in flight; a broken pool is replaced first.

    Raises :class:`WorkerError` when this chunk killed its worker twice.
    """
    head = in_flight[0]
    if head.fatal is None and not pool.wait(head.future):
        pool.stop()
        # Every chunk in flight failed with the pool: run each again alone, so
        # that a chunk killing its worker a second time is known for certain.
        for chunk in in_flight:
            future = chunk.future
            if future.done() and not future.cancelled() and future.exception() is None:
                continue  # finished before the pool broke
            pool.submit(chunk)
            if not pool.wait(chunk.future):
                # The run stops there, once the results before it are written.
                chunk.fatal = WorkerError(
                    f"a worker process died twice (killed, or out of memory) on {chunk.describe()}; "
                    "the results before them are kept")
                pool.stop()
                break
    if head.fatal is not None:
        raise head.fatal
    return head.future.result()


def _chunks(records: Iterable[CaseRecord], size: int) -> Iterator[list[CaseRecord]]:
    """Chunks of ``size`` records; an error reading comes after the records read before it."""
    iterator = iter(records)
    while True:
        chunk: list[CaseRecord] = []
        try:
            chunk.extend(islice(iterator, size))
        except Exception:
            if chunk:
                yield chunk
            raise
        if not chunk:
            return
        yield chunk


def _merge(chunk: _Chunk, results: list[TriageResult]) -> Iterator[Outcome]:
    """The chunk's outcomes in order: error records in place, results for the cases."""
    found = iter(results)
    for record in chunk.records:
        yield record if isinstance(record, ErrorRecord) else next(found)


def _start_worker(kb: KnowledgeBase) -> None:
    """Pool initializer: set the worker's signal handling, then compile its engine once."""
    global _worker_session
    worker_signals()
    _worker_session = TriageSession(kb)


def _triage_chunk(cases: list[Case]) -> list[TriageResult]:
    """Triage a chunk of valid cases in a worker process."""
    if _worker_session is None:
        raise RuntimeError("the worker was started without its engine")
    return [_worker_session.triage(case) for case in cases]
