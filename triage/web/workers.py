"""Several server processes on one port, each given connections by the parent.

How connections are spread decides latency under load: with 32 keep-alive
clients on two processes, the busier process sets p99. uvicorn's
``--workers`` shares one listening socket, and the process that wakes first
accepts every connection waiting (all 32 sometimes landed on one process).
One ``SO_REUSEPORT`` socket per process spreads them by a hash of their
addresses, so a run got 10 + 22 as often as 16 + 16. Here the parent accepts
every connection itself and hands it over a Unix socket pair (the file
descriptor, ``SCM_RIGHTS``) to the ready worker with the fewest open
connections, as a least-connections load balancer would; each worker says
when it is ready and when a connection closes. The parent does no HTTP, so
its share of the work is one accept and one send per connection, not per
request. A worker that dies after saying it is ready, or is killed by a
signal, is replaced, after a pause that doubles while replacements keep dying
(:data:`RESTART_PAUSE` to :data:`MAX_RESTART_PAUSE`); only a worker that exits
by itself before it is ready (a broken installation, an import error) stops the
group, since its replacement would fail the same way. Each worker holds at
most ``max_connections`` connections; above that, new ones wait in the listen
backlog. Where file descriptors cannot be sent (Windows) :data:`SUPPORTED` is
false and ``triage serve`` uses uvicorn's workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.connection
import resource
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

#: Whether connections can be handed to other processes (Unix).
SUPPORTED = hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")
#: uvicorn's default listen backlog.
BACKLOG = 2048
#: The first pause before a dead worker is replaced, and the longest (it doubles per death in a row).
RESTART_PAUSE = 0.1
MAX_RESTART_PAUSE = 5.0
#: A worker serving this long resets the pause: its death is a new incident, not the same one again.
STEADY_SECONDS = 30.0
#: Connections each worker holds at most by default (``triage serve --max-connections``).
MAX_CONNECTIONS = 1000
#: File descriptors a worker keeps beyond its connections (its knowledge base, channel, pipes).
SPARE_FILES = 64
#: How long stopping workers may take before they are killed.
STOP_SECONDS = 30.0
#: The signals that stop the group (each worker shuts down gracefully on SIGTERM).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# What goes over a worker's channel: the parent sends CONNECTION with a socket's
# descriptor; the worker sends READY once it serves, and CLOSED per connection ended.
CONNECTION = b"s"
READY = b"r"
CLOSED = b"c"

# Channels go to the spawned workers by file descriptor.
multiprocessing.allow_connection_pickling()
_SPAWN = multiprocessing.get_context("spawn")


class WorkerFailed(RuntimeError):
    """A worker process exited by itself during its start-up: the group stops instead of restarting it."""


def connection_cap(wanted: int) -> int:
    """``wanted`` connections per worker, or fewer if the file limit would be reached first.

    The soft limit on open files is raised to the hard one first (processes
    started afterwards inherit it): 1,024 is the usual soft default, and
    idle connections past it would make every accept fail.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - SPARE_FILES))


def listening_socket(host: str, port: int) -> socket.socket:
    """A non-blocking TCP socket listening on ``host``:``port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


@dataclass(eq=False)
class _Worker:
    """A worker process as the parent sees it."""

    #: Its number, from 1 (a replacement takes the number of the worker it replaces).
    number: int
    process: Any
    #: The parent's end of the worker's channel (non-blocking).
    channel: socket.socket
    started: float = field(default_factory=time.monotonic)
    #: True once it has said it serves (its death after that is never a start-up failure).
    ready: bool = False
    #: False once the worker's end has closed (it is exiting): its channel is no longer watched.
    heard: bool = True
    #: Connections handed to it and not yet closed.
    connections: int = 0


class WorkerGroup:
    """``workers`` uvicorn processes serving ``app`` (an import string of a factory) on one port.

    ``options`` are passed to :class:`uvicorn.Config`. Binding happens here, so
    an address in use fails before anything starts; :attr:`port` is the port
    bound (the one chosen by the OS when ``port`` is 0). Each worker holds at
    most ``max_connections`` (fewer if the file limit is lower).
    """

    def __init__(self, app: str, host: str, port: int, workers: int, options: dict[str, Any],
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self.listener = listening_socket(host, port)
        self.port: int = self.listener.getsockname()[1]
        self.max_connections = connection_cap(max_connections)
        self._app = app
        self._options = options
        self._count = workers
        self._workers: list[_Worker] = []
        #: Worker numbers waiting to be started again, with when.
        self._restarts: dict[int, float] = {}
        self._pause = RESTART_PAUSE

    def run(self) -> None:
        """Serve until SIGINT, SIGTERM or SIGHUP; replace a worker that dies.

        Connections are accepted once every worker is ready. Raises
        :class:`WorkerFailed` when a worker exits by itself before it is ready.
        """
        wake_reader, wake_writer = socket.socketpair()
        wake_writer.setblocking(False)
        previous = {sig: signal.signal(sig, lambda *_: None) for sig in STOP_SIGNALS}
        previous_fd = signal.set_wakeup_fd(wake_writer.fileno())
        try:
            self._workers = [self._start(number) for number in range(1, self._count + 1)]
            serving = False
            while True:
                by_sentinel = {worker.process.sentinel: worker for worker in self._workers}
                by_channel = {worker.channel: worker for worker in self._workers if worker.heard}
                waiting: list[Any] = [wake_reader, *by_sentinel, *by_channel]
                # Accept once every worker has started (so the first connections are spread too),
                # then whenever one is ready.
                serving = serving or (not self._restarts and all(worker.ready for worker in self._workers))
                if serving and self._takers():
                    waiting.append(self.listener)
                due = min(self._restarts.values(), default=None)
                ready = multiprocessing.connection.wait(
                    waiting, None if due is None else max(0.0, due - time.monotonic()))
                if wake_reader in ready:  # a stop signal
                    return
                for sentinel in (s for s in ready if s in by_sentinel):
                    self._gone(by_sentinel[sentinel])
                self._restart_due()
                for channel in (c for c in ready if c in by_channel):
                    if by_channel[channel] in self._workers:  # not replaced just now
                        self._hear(by_channel[channel])
                if self.listener in ready:
                    self._hand_out()
        finally:
            signal.set_wakeup_fd(previous_fd)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            wake_reader.close()
            wake_writer.close()
            self.close()
            self._stop_all()

    def close(self) -> None:
        """Stop listening (workers keep the connections they have)."""
        self.listener.close()

    def _start(self, number: int) -> _Worker:
        """A new worker process with a channel of its own."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        process = _SPAWN.Process(target=_serve, args=(self._app, theirs, self._options),
                                 name=f"triage-serve-{number}", daemon=False)
        process.start()
        theirs.close()  # the worker holds its own copy now
        return _Worker(number, process, ours)

    def _gone(self, worker: _Worker) -> None:
        """``worker`` has exited: stop the group if it failed to start, else restart it after a pause."""
        worker.process.join()
        if worker.heard:
            self._hear(worker)  # a "ready" it sent just before it went still counts
        worker.channel.close()
        code = worker.process.exitcode
        if not worker.ready and code is not None and code >= 0:  # exited by itself, never ready
            raise WorkerFailed(f"server process {worker.number} exited during start-up (exit code {code})")
        self._workers.remove(worker)
        if time.monotonic() - worker.started >= STEADY_SECONDS:
            self._pause = RESTART_PAUSE
        self._restarts[worker.number] = time.monotonic() + self._pause
        self._pause = min(self._pause * 2, MAX_RESTART_PAUSE)

    def _restart_due(self) -> None:
        """Start the replacements whose pause is over."""
        now = time.monotonic()
        for number in [n for n, due in self._restarts.items() if due <= now]:
            del self._restarts[number]
            self._workers.append(self._start(number))

    def _takers(self) -> list[_Worker]:
        """The ready workers below their connection cap, least busy first."""
        return sorted((w for w in self._workers if w.ready and w.connections < self.max_connections),
                      key=lambda w: w.connections)

    def _hear(self, worker: _Worker) -> None:
        """Read what ``worker`` has said: that it is ready, or that connections closed."""
        while True:
            try:
                message = worker.channel.recv(1)
            except BlockingIOError:
                return
            except OSError:
                message = b""
            if not message:  # the worker is going; its sentinel says when it has gone
                worker.ready = worker.heard = False
                return
            if message == READY:
                worker.ready = True
            elif message == CLOSED:
                worker.connections -= 1

    def _hand_out(self) -> None:
        """Accept waiting connections while a worker has room; give each to the least busy."""
        while self._takers():
            try:
                connection, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. out of file descriptors: the connection waits in the backlog
                return
            with connection:
                for worker in self._takers():
                    try:
                        socket.send_fds(worker.channel, [CONNECTION], [connection.fileno()])
                    except OSError:  # its channel is full or it is going: try the next one
                        continue
                    worker.connections += 1
                    break
                # The worker holds the connection now (or, if none could take it, it is closed).

    def _stop_all(self) -> None:
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.channel.close()


def _serve(app: str, channel: socket.socket, options: dict[str, Any]) -> None:
    """One worker: uvicorn serving the connections handed over ``channel`` (runs in a spawned process)."""
    _HandedServer(uvicorn.Config(app, factory=True, **options), channel).run()


class _HandedServer(uvicorn.Server):
    """uvicorn with no listening socket of its own: connections arrive over ``channel``."""

    def __init__(self, config: uvicorn.Config, channel: socket.socket) -> None:
        super().__init__(config)
        self._channel = channel
        self._handing: set[asyncio.Task[Any]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the application's start-up, and no listener
        if not self.started:
            return
        report_closed = self._report_closed

        class ReportingProtocol(self.config.http_protocol_class):  # type: ignore[name-defined, misc]
            """uvicorn's HTTP protocol, telling the parent when its connection ends."""

            def connection_lost(self, exc: Exception | None) -> None:
                super().connection_lost(exc)
                report_closed()

        def protocol() -> asyncio.Protocol:  # as uvicorn makes one for a connection it accepts
            made: asyncio.Protocol = ReportingProtocol(config=self.config, server_state=self.server_state,
                                                       app_state=self.lifespan.state)
            return made

        loop = asyncio.get_running_loop()
        self._channel.setblocking(False)
        loop.add_reader(self._channel.fileno(), self._take, loop, protocol)
        self._channel.send(READY)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().remove_reader(self._channel.fileno())
        await super().shutdown(sockets=sockets)

    def _take(self, loop: asyncio.AbstractEventLoop, protocol: Callable[[], asyncio.Protocol]) -> None:
        """Serve every connection waiting on the channel, each with a ``protocol()``."""
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self._channel, 1, 1)
            except BlockingIOError:
                return
            except OSError:
                # A parent that died with our "closed" messages unread resets the channel
                # instead of closing it. Left raising, the callback stopped being called
                # and the worker (and its audit process) outlived the parent.
                message, fds = b"", []
            if not message:  # the parent has gone: stop as on SIGTERM
                loop.remove_reader(self._channel.fileno())
                self.should_exit = True
                return
            for fd in fds:
                task = loop.create_task(loop.connect_accepted_socket(protocol, socket.socket(fileno=fd)))
                self._handing.add(task)
                task.add_done_callback(self._handed)

    def _handed(self, task: asyncio.Task[Any]) -> None:
        self._handing.discard(task)
        if not task.cancelled() and task.exception() is not None:  # closed before it was served
            self._report_closed()

    def _report_closed(self) -> None:
        with contextlib.suppress(OSError):
            self._channel.send(CLOSED)
