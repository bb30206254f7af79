"""``triage run`` stopped from outside: SIGTERM, SIGHUP, Ctrl-C at start-up, a killed worker,
a full disk and a reader that leaves. Every test is bounded by timeouts; none asserts on time."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import children_of, gone, triage_command, write_generated_cases

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and POSIX signals")

COUNT = 700


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A batch long enough to be stopped mid-run, and its full output."""
    folder = tmp_path_factory.mktemp("signals")
    cases = write_generated_cases(folder / "cases.jsonl", COUNT)
    done = subprocess.run(triage_command("run", str(cases), "-f", "jsonl", "--workers", "2"),
                          capture_output=True, timeout=300, check=True)
    return cases, done.stdout


def _catches_stop_signals(pid: int) -> bool:
    """Whether the process has taken over SIGTERM (done before the command line is imported)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except OSError:
        pass
    return False


def _start(cases: Path, out: Path, workers: str = "2") -> subprocess.Popen[str]:
    return subprocess.Popen(triage_command("run", str(cases), "-o", str(out), "--workers", workers),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _finish(process: subprocess.Popen[str]) -> str:
    try:
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return stderr


# Seeded, so a failure can be replayed; the moments span start-up, the pool's start and the run.
MOMENTS = [(signum, delay) for signum, delay in zip(
    [signal.SIGTERM, signal.SIGHUP] * 3,
    random.Random(11).sample([0.3, 0.8, 1.5, 2.5, 4.0, 6.0], 6), strict=True)]


@pytest.mark.parametrize(("signum", "delay"), MOMENTS, ids=[f"{s.name}-{d}s" for s, d in MOMENTS])
def test_sigterm_and_sighup_keep_a_prefix_and_leave_no_temporary_file(
        batch: tuple[Path, bytes], tmp_path: Path, signum: signal.Signals, delay: float) -> None:
    cases, full = batch
    out = tmp_path / "out.jsonl"
    process = _start(cases, out)
    deadline = time.monotonic() + 60
    while not _catches_stop_signals(process.pid):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(delay)
    workers = children_of(process.pid)
    process.send_signal(signum)
    stderr = _finish(process)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    assert not list(tmp_path.glob(".out.jsonl.*")), "a temporary file was left behind"
    assert gone(workers), "a worker outlived the run"
    partial = tmp_path / "out.jsonl.partial"
    if out.exists():  # finished before the signal came (or as it came, while exiting)
        assert out.read_bytes() == full
        assert process.returncode in (0, -signum, 128 + signum)
        return
    assert process.returncode == 128 + signum, stderr
    assert not out.exists()
    if partial.exists():
        kept = partial.read_bytes()
        assert kept and full.startswith(kept) and kept.endswith(b"\n")
        assert f"the results so far are in {partial}" in stderr


def test_ctrl_c_while_python_is_still_importing_is_quiet(batch: tuple[Path, bytes], tmp_path: Path) -> None:
    cases, _ = batch
    process = _start(cases, tmp_path / "out.jsonl")
    deadline = time.monotonic() + 60
    while not _catches_stop_signals(process.pid):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.001)
    process.send_signal(signal.SIGINT)
    stderr = _finish(process)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not list(tmp_path.glob(".out.jsonl.*"))


def test_a_killed_worker_is_retried_and_the_output_is_the_same(batch: tuple[Path, bytes], tmp_path: Path) -> None:
    cases, full = batch
    out = tmp_path / "out.jsonl"
    process = _start(cases, out)
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 20_000 for p in tmp_path.glob(".out.jsonl.*.tmp")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no results were written"
        time.sleep(0.02)
    workers = children_of(process.pid)
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    stderr = _finish(process)
    assert process.returncode == 0, stderr
    assert out.read_bytes() == full
    assert gone(workers + children_of(process.pid))


def test_without_output_every_line_written_is_complete(batch: tuple[Path, bytes]) -> None:
    cases, full = batch
    process = subprocess.Popen(triage_command("run", str(cases), "-f", "jsonl", "--workers", "2"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    try:
        first = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        written = first + process.stdout.read()  # through the same buffer as the first line
        stderr = process.stderr.read()
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (0, 143), stderr
    assert full.startswith(written) and written.endswith(b"\n")
    assert all(json.loads(line) for line in written.splitlines())


@pytest.mark.parametrize("fmt", ["jsonl", "json", "yaml", "csv", "table"])
def test_a_full_disk_on_standard_output_is_one_line_and_exit_2(batch: tuple[Path, bytes], fmt: str) -> None:
    cases, _ = batch
    with open("/dev/full", "w") as full:
        done = subprocess.run(triage_command("run", str(cases), "-f", fmt, "--workers", "1"),
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "triage: standard output: cannot write the results: No space left on device"]


def test_a_reader_that_leaves_ends_the_run_quietly(batch: tuple[Path, bytes]) -> None:
    cases, _ = batch
    process = subprocess.Popen(triage_command("run", str(cases), "-f", "jsonl", "--workers", "2"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    workers = children_of(process.pid)
    process.stdout.close()  # like `| head -1`
    try:
        stderr = process.stderr.read()
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 141  # 128 + SIGPIPE, as shells report a reader gone
    assert stderr == b""
    assert gone(workers)


def _workers_running(process: subprocess.Popen[str], tmp_path: Path) -> list[int]:
    """Once results are being written: the run's worker processes."""
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 5_000 for p in tmp_path.glob(".out.jsonl.*.tmp")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no results were written"
        time.sleep(0.02)
    workers = children_of(process.pid)
    assert workers
    return workers


def test_workers_stop_when_the_run_is_killed_with_sigkill(batch: tuple[Path, bytes], tmp_path: Path) -> None:
    cases, _ = batch
    process = _start(cases, tmp_path / "out.jsonl")
    workers = _workers_running(process, tmp_path)
    process.kill()  # no clean-up possible: the workers must notice by themselves
    _finish(process)
    assert gone(workers, within=30), "a worker outlived its killed parent"


@pytest.mark.parametrize("trial", range(4))
def test_three_quick_stop_signals_leave_no_temporary_file_and_no_worker(
        batch: tuple[Path, bytes], tmp_path: Path, trial: int) -> None:
    cases, _ = batch
    process = _start(cases, tmp_path / "out.jsonl")
    workers = _workers_running(process, tmp_path)
    for _ in range(3):
        process.send_signal(signal.SIGTERM)
    stderr = _finish(process)
    assert process.returncode == 143, stderr
    assert not list(tmp_path.glob(".out.jsonl.*")), "a temporary file was left behind"
    assert gone(workers), "a worker outlived the run"
    assert stderr.strip(), "the run said nothing about how it stopped"
    assert "Traceback" not in stderr
