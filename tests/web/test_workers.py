"""Several server processes on one port (``triage serve --workers N``), each with its own socket."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from web.support import free_port, serving

from triage.web import workers

pytestmark = pytest.mark.skipif(not workers.SUPPORTED, reason="SO_REUSEPORT balancing is Linux's")


def children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # a thread that ended meanwhile
            continue
    return found


def established_inodes(port: int) -> set[str]:
    """Socket inodes of the server side of established TCP connections to ``port`` on loopback."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(fields[9])
    return inodes


def holders(pids: list[int], inodes: set[str]) -> dict[int, int]:
    """How many of the sockets ``inodes`` each process in ``pids`` holds open."""
    held = {}
    for pid in pids:
        links = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links.append(os.readlink(fd))
            except OSError:  # closed meanwhile
                continue
        held[pid] = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
    return held


def test_connections_are_spread_over_the_worker_processes() -> None:
    with serving("--workers", "2") as (base, output, server):
        port = urlsplit(base).port
        assert port is not None
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(24)]
        try:
            for connection in connections:  # kept alive: each stays with the process that accepted it
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                assert response.status == 200
                response.read()
            held = holders(children(server.pid), established_inodes(port))
        finally:
            for connection in connections:
                connection.close()
    busy = [pid for pid, count in held.items() if count]
    # One shared socket let one process take them all; per-process sockets split them
    # (by a hash: all 24 on one of two sockets would happen once in 8 million runs).
    assert len(busy) == 2 and sum(held.values()) == 24, held
    assert output[0] == f"triage: serving on {base}/ with 2 processes (Ctrl-C stops)"


def test_stopping_the_server_stops_every_worker() -> None:
    with serving("--workers", "2") as (_, _, server):
        started = wait_for_workers(server.pid, 2)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
    assert not [pid for pid in started if running(pid)]


def test_an_address_in_use_is_one_clear_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "triage", "serve", "--workers", "2", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"triage: cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


# A worker group run directly, with a short start-up window so that a death counts as one in service.
GROUP_SCRIPT = """
import sys
from triage.web import workers
workers.STARTUP_SECONDS = float(sys.argv[3])
group = workers.WorkerGroup(sys.argv[1], "127.0.0.1", int(sys.argv[2]), 2, {"log_level": "warning"})
try:
    group.run()
except workers.WorkerFailed as exc:
    print("failed:", exc, flush=True)
    sys.exit(3)
"""


def wait_for_workers(pid: int, count: int) -> list[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [p for p in children(pid) if is_worker(p)]
        if len(found) == count:
            return found
        time.sleep(0.1)
    pytest.fail(f"expected {count} worker processes")


def is_worker(pid: int) -> bool:
    """Whether ``pid`` is a spawned worker (not multiprocessing's resource tracker)."""
    try:
        return "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:  # gone meanwhile
        return False


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    finally:
        connection.close()


def test_a_worker_that_dies_in_service_is_replaced_on_its_socket() -> None:
    port = free_port()
    group = subprocess.Popen([sys.executable, "-c", GROUP_SCRIPT, "triage.web.app:app_from_environment",
                              str(port), "0.5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first, second = wait_for_workers(group.pid, 2)
        time.sleep(1)  # past the start-up window
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while first in children(group.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        now = wait_for_workers(group.pid, 2)
        assert second in now and first not in now
        # Every new connection is answered, whichever socket the kernel picks.
        assert all(healthy(port) for _ in range(20))
    finally:
        group.terminate()
        group.wait(timeout=60)


def test_a_worker_that_cannot_start_stops_the_group_with_a_message() -> None:
    done = subprocess.run([sys.executable, "-c", GROUP_SCRIPT, "no_such_module:app", str(free_port()), "30"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "failed: server process" in done.stdout and "exited during start-up" in done.stdout
