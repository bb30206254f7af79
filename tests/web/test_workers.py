"""Several server processes on one port (``triage serve --workers N``), fed connections by the parent."""

from __future__ import annotations

import http.client
import os
import re
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

pytestmark = pytest.mark.skipif(not workers.SUPPORTED, reason="handing connections to workers needs Unix sockets")


def children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # a thread that ended meanwhile
            continue
    return found


def client_ports_by_worker(pids: list[int], port: int, established: bool = True) -> dict[int, set[int]]:
    """The client ports of the loopback connections to ``port`` that each of ``pids`` holds open.

    Only established connections count, unless ``established`` is false: then
    also those the client has closed and the worker has not yet.
    """
    client_port_of = {}  # socket inode of the server side -> the client's port
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and (fields[3] == "01" or not established):  # 01: ESTABLISHED
            client_port_of[fields[9]] = int(fields[2].split(":")[1], 16)
    held: dict[int, set[int]] = {}
    for pid in pids:
        held[pid] = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:  # closed meanwhile
                continue
            if link.startswith("socket:[") and link[8:-1] in client_port_of:
                held[pid].add(client_port_of[link[8:-1]])
    return held


def open_connections(port: int, count: int) -> list[http.client.HTTPConnection]:
    """``count`` keep-alive connections to ``port``, each answered once (so each is with a worker)."""
    connections = []
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connections.append(connection)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200
        response.read()
    return connections


def local_port(connection: http.client.HTTPConnection) -> int:
    assert connection.sock is not None
    return int(connection.sock.getsockname()[1])


def test_connections_are_spread_evenly_over_the_worker_processes() -> None:
    with serving("--workers", "2") as (base, output, server):
        port = urlsplit(base).port
        assert port is not None
        workers = wait_for_workers(server.pid, 2)
        connections = open_connections(port, 24)
        try:
            held = client_ports_by_worker(workers, port)
            ports = {local_port(connection) for connection in connections}
        finally:
            for connection in connections:
                connection.close()
    # A shared socket let one process take them all, a socket each split them by a hash
    # (10 + 14 as often as 12 + 12); the parent gives each to the least busy worker.
    assert sorted(len(held_ports) for held_ports in held.values()) == [12, 12], held
    assert set().union(*held.values()) == ports
    assert output[0] == f"triage: serving on {base}/ with 2 processes (Ctrl-C stops)"


def test_a_new_connection_goes_to_the_worker_with_fewest_open() -> None:
    with serving("--workers", "2") as (base, _, server):
        port = urlsplit(base).port
        assert port is not None
        first, second = wait_for_workers(server.pid, 2)
        connections = open_connections(port, 10)
        try:
            held = client_ports_by_worker([first, second], port)
            assert len(held[first]) == len(held[second]) == 5, held
            for connection in connections:  # the first worker's five close: it is idle now
                if local_port(connection) in held[first]:
                    connection.close()
            deadline = time.monotonic() + 30
            while client_ports_by_worker([first], port, established=False)[first] and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)  # it has closed them, and tells the parent as it does
            connections += open_connections(port, 4)
            now = client_ports_by_worker([first, second], port)
        finally:
            for connection in connections:
                connection.close()
    assert len(now[first]) == 4 and now[second] == held[second], now


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


def test_a_worker_that_dies_in_service_is_replaced_and_given_connections() -> None:
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
        assert all(healthy(port) for _ in range(20))
        # Once the new worker has started, it takes its share of new connections.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            connections = open_connections(port, 6)
            try:
                held = client_ports_by_worker(now, port)
            finally:
                for connection in connections:
                    connection.close()
            if all(held.values()):
                break
            time.sleep(0.5)  # the parent hears of the closes before the next round
        assert [len(ports) for ports in held.values()] == [3, 3], held
    finally:
        group.terminate()
        group.wait(timeout=60)


def test_a_worker_that_cannot_start_stops_the_group_with_a_message() -> None:
    done = subprocess.run([sys.executable, "-c", GROUP_SCRIPT, "no_such_module:app", str(free_port()), "30"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert re.search(r"failed: server process [12] exited during start-up \(exit code \d+\)", done.stdout), done.stdout


def test_workers_stop_when_the_parent_is_killed() -> None:
    group = subprocess.Popen([sys.executable, "-c", GROUP_SCRIPT, "triage.web.app:app_from_environment",
                              str(free_port()), "30"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = wait_for_workers(group.pid, 2)
    group.kill()  # no chance to stop them: their channels close instead
    group.wait(timeout=60)
    deadline = time.monotonic() + 60
    while any(running(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in started if running(pid)]
