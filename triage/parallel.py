"""Triage a stream of cases on several worker processes, results in input order.

``triage_parallel`` is the batch loop of ``triage run``: with one worker it
triages in this process; with more, each worker process builds its engine
once and triages chunks of cases sent down its own pipe. Input is read
chunk by chunk and only a few chunks are in flight at a time, so memory
stays flat however long the batch. Invalid cases (error records) never leave
this process: they are put back in their place between the results.

Results do not depend on the number of workers, on the start method (fork or
spawn) or on ``PYTHONHASHSEED``: every case runs on a freshly reset engine
compiled from the same knowledge base, and firing order never depends on
hashing (see :mod:`triage.compiler`).

A worker that dies (killed, out of memory) is replaced and the one chunk it
had is run again on the new worker; a chunk that kills its worker a second
time stops the run with a :class:`~triage.errors.WorkerError` naming its
cases. A failure reading a later input file first lets every chunk already
read finish, so the results before it never depend on the number of workers. However the run stops, the workers
are killed and reaped: none is left behind.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
import signal
import threading
import time
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import Any

from .case import Case
from .casefiles import CaseRecord
from .errors import ExpertaVersionWarning, WorkerError
from .interrupts import at_forced_exit, blocked, shielded, worker_signals
from .kb import KnowledgeBase
from .results import Outcome
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

#: How often a worker checks that the process that started it is still there (seconds).
PARENT_CHECK_SECONDS = 0.5

#: The session of a worker process, built once when it starts (``_work``).
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
        yield session.outcome(record)


class _Chunk:
    """Records sent to a worker together, and what became of them."""

    def __init__(self, records: list[CaseRecord]) -> None:
        self.records = records
        self.cases = [record for record in records if _needs_engine(record)]
        #: The outcomes of ``cases``, once a worker has sent them.
        self.results: list[Outcome] | None = None
        #: Workers that died while they had the chunk.
        self.deaths = 0
        #: Set when the chunk killed its worker again on its retry.
        self.fatal: WorkerError | None = None

    @property
    def settled(self) -> bool:
        return self.results is not None or self.fatal is not None

    def describe(self) -> str:
        ids = [record.id for record in self.records]
        noun = "case" if len(ids) == 1 else "cases"
        span = repr(ids[0]) if len(ids) == 1 else f"{ids[0]!r} to {ids[-1]!r}"
        return f"the {len(ids)} {noun} {span}"


class _Worker:
    """One worker process, this process's end of its pipe, and the chunk it has."""

    def __init__(self, context: multiprocessing.context.BaseContext, kb: KnowledgeBase) -> None:
        ours, theirs = context.Pipe()
        # Forked with the stop signals blocked, the worker cannot be stopped
        # before it has set its own handling.
        with blocked():
            self.process = context.Process(target=_work, args=(theirs, kb, os.getpid()), daemon=True)
            self.process.start()
        # A third stop signal leaves without clean-up: the worker is killed on the way out.
        pid = self.process.pid
        assert pid is not None
        self._forget = at_forced_exit(lambda: os.kill(pid, signal.SIGKILL))
        # Only the worker may hold its end: when it dies, reading ours then
        # ends at once instead of waiting for a message that never comes.
        theirs.close()
        self.connection = ours
        self.chunk: _Chunk | None = None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self._forget()
        self.connection.close()


class _Pool:
    """Worker processes, each with its own pipe and at most one chunk at a time.

    Built on plain processes and pipes rather than ``concurrent.futures``: a
    worker's death is seen at once on its pipe and its process sentinel, the
    chunk it had is known exactly, and there are no helper threads that a
    dead worker could leave blocked (Python 3.10's executor deadlocks there).
    """

    def __init__(self, kb: KnowledgeBase, workers: int) -> None:
        self._kb = kb
        self._size = workers
        self._context = multiprocessing.get_context(START_METHOD)
        self._workers: list[_Worker] = []

    def settle(self, pending: deque[_Chunk]) -> None:
        """Run the chunks of ``pending`` on the workers until the first is settled."""
        head = pending[0]
        while not head.settled:
            self._hand_out(pending)
            self._collect()

    def _hand_out(self, pending: deque[_Chunk]) -> None:
        # In input order, so the first chunk (and a chunk to retry) goes first.
        held = {id(worker.chunk) for worker in self._workers if worker.chunk is not None}
        waiting = [chunk for chunk in pending if not chunk.settled and id(chunk) not in held]
        for chunk in waiting:
            worker = self._idle_worker()
            if worker is None:
                return
            worker.chunk = chunk
            try:
                # Pickling and unpickling hold a buffer of the message: a stop
                # signal raised inside leaves it exported, and CPython 3.12 then
                # crashes freeing it. The signal waits for the message instead.
                with blocked():
                    worker.connection.send(chunk.cases)
            except OSError:
                self._lost(worker)

    def _idle_worker(self) -> _Worker | None:
        idle = next((worker for worker in self._workers if worker.chunk is None), None)
        if idle is None and len(self._workers) < self._size:
            idle = _Worker(self._context, self._kb)
            self._workers.append(idle)
        return idle

    def _collect(self) -> None:
        """Wait until a busy worker sends its results or dies, and take what came."""
        busy = [worker for worker in self._workers if worker.chunk is not None]
        if not busy:
            return  # a send just failed: the chunk goes out again to a new worker
        ready = set(multiprocessing.connection.wait(
            [worker.connection for worker in busy] + [worker.process.sentinel for worker in busy]))
        for worker in busy:
            if worker.connection in ready or worker.process.sentinel in ready:
                self._receive(worker)

    def _receive(self, worker: _Worker) -> None:
        chunk = worker.chunk
        assert chunk is not None
        try:
            if not worker.connection.poll():
                raise EOFError  # the process ended with nothing more to send
            with blocked():  # see _hand_out
                succeeded, payload = worker.connection.recv()
        except (EOFError, OSError):
            self._lost(worker)
            return
        worker.chunk = None
        if not succeeded:
            raise payload
        chunk.results = payload

    def _lost(self, worker: _Worker) -> None:
        """A worker died (killed, out of memory): retry its chunk once on a new one."""
        chunk = worker.chunk
        assert chunk is not None
        with shielded():
            worker.stop()
        self._workers.remove(worker)
        chunk.deaths += 1
        if chunk.deaths >= 2:
            chunk.fatal = WorkerError(
                f"a worker process died twice (killed, or out of memory) on {chunk.describe()}; "
                "the results before them are kept")

    def stop(self) -> None:
        """Kill the workers and reap them (also on an error, also on Ctrl-C)."""
        with shielded():
            for worker in self._workers:
                worker.stop()
            self._workers.clear()


def _triage_on_pool(records: Iterable[CaseRecord], kb: KnowledgeBase,
                    workers: int) -> Iterator[Outcome]:
    limit = workers * CHUNKS_IN_FLIGHT_PER_WORKER
    pool = _Pool(kb, workers)
    source = _chunks(records, CHUNK_SIZE)
    pending: deque[_Chunk] = deque()
    failure: Exception | None = None
    try:
        while True:
            while failure is None and len(pending) < limit:
                try:
                    pending.append(_Chunk(next(source)))
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001 (re-raised once the chunks read are done)
                    failure = exc
                    break
            if not pending:
                break
            pool.settle(pending)
            head = pending.popleft()
            if head.fatal is not None:
                # The run stops there; the results before it are already out.
                raise head.fatal
            assert head.results is not None
            yield from _merge(head, head.results)
        if failure is not None:
            raise failure
    finally:
        # Also reached when the consumer stops early or on Ctrl-C / SIGTERM:
        # stop the workers rather than leave them running.
        pool.stop()


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


def _needs_engine(record: CaseRecord) -> bool:
    """True for a case, and for an invalid case whose parsed part is still triaged."""
    return isinstance(record, Case) or record.needs_engine


def _merge(chunk: _Chunk, results: list[Outcome]) -> Iterator[Outcome]:
    """The chunk's outcomes in order: error records in place, the workers' outcomes for the rest."""
    found = iter(results)
    for record in chunk.records:
        yield next(found) if _needs_engine(record) else record


def _work(connection: multiprocessing.connection.Connection, kb: KnowledgeBase, parent: int) -> None:
    """A worker process: set its signal handling, compile its engine once, then
    triage each chunk that arrives until the pipe closes or ``parent`` is gone."""
    global _worker_session
    worker_signals()
    threading.Thread(target=watch_parent, args=(parent,), name="triage-parent-watch", daemon=True).start()
    # The parent has already said which engine runs; a spawned worker, which
    # chooses again, would say it once more (in Python's own format).
    warnings.simplefilter("ignore", ExpertaVersionWarning)
    _worker_session = TriageSession(kb)
    while True:
        try:
            cases = connection.recv()
        except EOFError:
            return
        try:
            reply: tuple[bool, Any] = (True, _triage_chunk(cases))
        except Exception as exc:  # noqa: BLE001 (raised again in the parent, which reports it)
            reply = (False, exc)
        try:
            connection.send(reply)
        except Exception:  # noqa: BLE001 (an error that cannot be pickled)
            connection.send((False, RuntimeError(repr(reply[1]))))


def watch_parent(parent: int) -> None:
    """End this worker once ``parent`` has gone, however it went (SIGKILL included).

    The pipe alone does not tell: a forked worker inherits the parent's end
    of its own pipe and of the pipes of the workers forked before it, so
    after the parent's death a read could wait for ever (workers were found
    alive 85 minutes later). The parent's pid changes when it dies: the
    worker is re-parented (to init or a subreaper).
    """
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _triage_chunk(records: list[CaseRecord]) -> list[Outcome]:
    """Triage a chunk of cases (and invalid cases' parsed parts) in a worker process."""
    if _worker_session is None:
        raise RuntimeError("the worker was started without its engine")
    return [_worker_session.outcome(record) for record in records]
