"""Shared by the web tests: answers as a browser submits them, and running the real server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

#: Form answers (question id -> submitted values) of a person with a tight piriformis.
SELF_CARE_FORM: dict[str, Any] = {
    # "none": the screens' "None of these" (an empty screen is asked again, policy v3).
    "emergency_signs": ["none"], "other_symptoms": ["none"], "warning_signs": ["none"], "conditions": ["none"],
    "pain_sites": ["buttock", "back_of_thigh"], "pain_below_knee": [], "age": "40",
    "severity": "4", "duration_days": "5", "course": "improving", "pain_side": "left",
    "pain_feels": ["ache"], "triggers": ["tennis_serve"], "worse_when": ["sitting"],
    "lower_back_curve": "normal", "can_touch_toes": "true",
    "age_again": "", "severity_again": "", "duration_again": "",
}


def free_port() -> int:
    """A loopback port nobody listens on (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served(NamedTuple):
    """A running ``triage serve``: its URL, its output lines (once stopped) and its process."""

    base: str
    output: list[str]
    process: subprocess.Popen[str]


@contextlib.contextmanager
def serving(*options: str) -> Iterator[Served]:
    """Run ``triage serve`` on a free port until the block ends."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "triage", "serve", "--port", str(port), *options],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    output: list[str] = []
    try:
        for _ in range(300):
            if server.poll() is not None:
                pytest.fail(f"triage serve exited: {server.stdout.read() if server.stdout else ''}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("triage serve did not answer /healthz within 30 s")
        yield Served(base, output, server)
    finally:
        server.terminate()
        try:
            out, _ = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            try:
                out, _ = server.communicate(timeout=10)
            except subprocess.TimeoutExpired:  # a process that outlived the server holds its output open
                out = "(output held open by a process that outlived the server)"
                if server.stdout is not None:
                    server.stdout.close()
        output += out.splitlines()


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


#: The flags a headless Chromium of the tests runs with (no network of its own, no first-run screens).
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")


@contextlib.contextmanager
def chromium(chromium_binary: str, chromedriver: str, user_data_dir: Any) -> Iterator[Any]:
    """A headless Chromium driven by Selenium until the block ends."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()
