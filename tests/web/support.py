"""Shared by the web tests: answers as a browser submits them, and running the real server."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest

#: Form answers (question id -> submitted values) of a person with a tight piriformis.
SELF_CARE_FORM: dict[str, Any] = {
    "emergency_signs": [], "warning_signs": [], "conditions": [],
    "pain_sites": ["buttock", "back_of_thigh"], "pain_below_knee": [], "age": "40",
    "severity": "4", "duration_days": "5", "course": "improving", "pain_side": "left",
    "pain_feels": ["ache"], "triggers": ["tennis_serve"], "worse_when": ["sitting"],
    "lower_back_curve": "normal", "can_touch_toes": "true",
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
            out, _ = server.communicate()
        output += out.splitlines()


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
