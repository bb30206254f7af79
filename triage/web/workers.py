"""Several server processes on one port, each with a listening socket of its own.

uvicorn's ``--workers`` shares one listening socket among its processes, and
the process that wakes first accepts every connection waiting: measured with
32 keep-alive clients on two workers, all 32 connections sometimes landed on
one process, which halved throughput and doubled p99 latency. Here (on
Linux) the parent binds one socket per worker with ``SO_REUSEPORT``, and the
kernel spreads new connections over them by a hash of their addresses. The
parent keeps the sockets, so a worker that dies is replaced on the same
socket and the connections queued on it are not lost. Elsewhere
:data:`SUPPORTED` is false and ``triage serve`` uses uvicorn's workers.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import socket
import sys
import time
from typing import Any

#: Whether the kernel balances connections over sockets sharing a port (Linux's SO_REUSEPORT).
SUPPORTED = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
#: uvicorn's default listen backlog.
BACKLOG = 2048
#: A worker that exits sooner than this after starting failed to start: stop rather than loop.
STARTUP_SECONDS = 10.0
#: How long stopping workers may take before they are killed.
STOP_SECONDS = 30.0
#: The signals that stop the group (each worker shuts down gracefully on SIGTERM).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# Sockets go to the spawned workers by file descriptor.
multiprocessing.allow_connection_pickling()
_SPAWN = multiprocessing.get_context("spawn")


class WorkerFailed(RuntimeError):
    """A worker process exited during its start-up: the group stops instead of restarting it."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` that other sockets of this user may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


class WorkerGroup:
    """``workers`` uvicorn processes serving ``app`` (an import string of a factory), one socket each.

    ``options`` are passed to :class:`uvicorn.Config`. Binding happens here, so
    an address in use fails before anything starts; :attr:`port` is the port
    bound (the one chosen by the OS when ``port`` is 0).
    """

    def __init__(self, app: str, host: str, port: int, workers: int, options: dict[str, Any]) -> None:
        first = listening_socket(host, port)
        self.port: int = first.getsockname()[1]
        self.sockets = [first]
        try:
            self.sockets += [listening_socket(host, self.port) for _ in range(workers - 1)]
        except OSError:
            self.close()
            raise
        self._app = app
        self._options = options
        #: Each socket's worker process, and when it was started.
        self._processes: list[Any] = [None] * workers
        self._started = [0.0] * workers

    def run(self) -> None:
        """Serve until SIGINT, SIGTERM or SIGHUP; replace a worker that dies while serving.

        Raises :class:`WorkerFailed` when a worker exits during its start-up.
        """
        wake_reader, wake_writer = socket.socketpair()
        wake_writer.setblocking(False)
        previous = {sig: signal.signal(sig, lambda *_: None) for sig in STOP_SIGNALS}
        previous_fd = signal.set_wakeup_fd(wake_writer.fileno())
        try:
            for index in range(len(self.sockets)):
                self._start(index)
            while True:
                sentinels = {process.sentinel: index for index, process in enumerate(self._processes)}
                ready = multiprocessing.connection.wait([wake_reader, *sentinels])
                if wake_reader in ready:  # a stop signal
                    return
                for index in (sentinels[s] for s in ready if s in sentinels):
                    self._replace(index)
        finally:
            signal.set_wakeup_fd(previous_fd)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            wake_reader.close()
            wake_writer.close()
            self._stop_all()
            self.close()

    def close(self) -> None:
        """Close the listening sockets."""
        for sock in self.sockets:
            sock.close()

    def _start(self, index: int) -> None:
        """A new worker process on socket ``index``."""
        process = _SPAWN.Process(target=_serve, args=(self._app, self.sockets[index], self._options),
                                 name=f"triage-serve-{index + 1}", daemon=False)
        process.start()
        self._processes[index] = process
        self._started[index] = time.monotonic()

    def _replace(self, index: int) -> None:
        process = self._processes[index]
        process.join()
        if time.monotonic() - self._started[index] < STARTUP_SECONDS:
            raise WorkerFailed(f"server process {index + 1} exited during start-up "
                               f"(exit code {process.exitcode})")
        self._start(index)

    def _stop_all(self) -> None:
        started = [process for process in self._processes if process is not None]
        for process in started:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in started:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def _serve(app: str, sock: socket.socket, options: dict[str, Any]) -> None:
    """One worker: uvicorn on its own socket (runs in a spawned process)."""
    import uvicorn

    uvicorn.Server(uvicorn.Config(app, factory=True, **options)).run(sockets=[sock])
