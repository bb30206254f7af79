"""``triage run`` on a terminal: progress on stderr, a table that fits and is coloured;
none of it when the output is not a terminal."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from helpers import triage_command, write_generated_cases

from triage.batch import ReadProgress
from triage.cli.progress import Progress
from triage.ruletools import format_rule_table

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and terminals are POSIX")



def _feed_slowly(fifo: Path, cases: Path, stop: threading.Event) -> None:
    """Write cases into ``fifo`` a few at a time until told to stop (or they run out)."""
    lines = cases.read_text().splitlines(keepends=True)
    with fifo.open("w") as stream:
        for start in range(0, len(lines), 5):
            if stop.is_set():
                break
            stream.write("".join(lines[start:start + 5]))
            stream.flush()
            time.sleep(0.05)


def _slow_feed(folder: Path) -> tuple[Path, threading.Event, threading.Thread]:
    """A FIFO fed with cases a few at a time (so a run lasts as long as the test wants).

    The feeder is started by the caller once the command is running: forking
    (pexpect's pty) while a thread runs can deadlock the child.
    """
    cases = write_generated_cases(folder / "cases.jsonl", 2000)
    fifo = folder / "feed.jsonl"
    os.mkfifo(fifo)
    stop = threading.Event()
    feeder = threading.Thread(target=_feed_slowly, args=(fifo, cases, stop))
    return fifo, stop, feeder


def _spawn(*args: str, env: dict[str, str] | None = None, columns: int = 80) -> object:
    command = triage_command(*args)
    # The terminal's own size, not a COLUMNS the test runner may have set (pytest-xdist does).
    inherited = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return pexpect.spawn(command[0], command[1:], env={**inherited, **(env or {})},
                         dimensions=(24, columns), timeout=120, encoding="utf-8")


@pytest.mark.parametrize("quiet", [False, True])
def test_a_long_batch_on_a_terminal_shows_progress_that_is_cleared(tmp_path: Path, quiet: bool) -> None:
    fifo, stop, feeder = _slow_feed(tmp_path)
    out = tmp_path / "out.jsonl"
    child = _spawn("run", str(fifo), "-o", str(out), "--workers", "1", *(["--quiet"] if quiet else []))
    feeder.start()
    try:
        if quiet:
            time.sleep(2.5)
            stop.set()
            child.expect(pexpect.EOF)
            assert "cases/s" not in child.before and "triaged" not in child.before
            return
        child.expect(r"triage: [\d,]+ cases, [\d,]+ cases/s")
        stop.set()
        child.expect(pexpect.EOF)
        tail = child.before
        # The progress line is wiped (spaces, back to the start) before the closing count.
        assert "\r" in tail and tail.rstrip().endswith("invalid")
        assert "cases/s" not in tail.split("\r")[-1]
    finally:
        stop.set()
        feeder.join(timeout=60)
        child.close()


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    fifo, stop, feeder = _slow_feed(tmp_path)
    process = subprocess.Popen(triage_command("run", str(fifo), "-o", str(tmp_path / "out.jsonl"),
                                              "--workers", "1"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    feeder.start()
    try:
        time.sleep(2.5)  # well past the second after which a terminal would see progress
        stop.set()
        _, stderr = process.communicate(timeout=120)
    finally:
        stop.set()
        feeder.join(timeout=60)
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert stderr.endswith(" triaged, 0 invalid\n") and stderr.count("\n") == 1 and "\r" not in stderr


def test_progress_gives_the_time_left_when_the_total_is_known() -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    source = ReadProgress(total_bytes=1000, records=250)
    source._done_bytes = 250  # a quarter of the input read
    line = Progress(Tty(), source).line(200, 10.0)
    assert line == "triage: 200 of about 1,000 cases (20%), 20 cases/s, about 40 s left"
    assert Progress(Tty(), None).line(200, 10.0) == "triage: 200 cases, 20 cases/s"


@pytest.mark.parametrize(("env", "coloured"), [({}, True), ({"NO_COLOR": "1"}, False)])
def test_the_table_fits_the_terminal_and_colours_the_disposition(
        tmp_path: Path, env: dict[str, str], coloured: bool) -> None:
    cases = write_generated_cases(tmp_path / "cases.jsonl", 30)
    child = _spawn("run", str(cases), "--workers", "1", "--quiet", env={"TERM": "xterm", **env}, columns=60)
    child.expect(pexpect.EOF)
    child.close()
    lines = [line for line in child.before.replace("\r", "").split("\n") if line]
    plain = [line.replace("\x1b[0m", "").replace("\x1b[1;31m", "").replace("\x1b[33m", "")
             .replace("\x1b[36m", "").replace("\x1b[32m", "").replace("\x1b[35m", "") for line in lines]
    assert plain[0].startswith("CASE") and len(plain) == 31
    assert all(len(line) <= 60 for line in plain), max(plain, key=len)
    assert ("\x1b[" in child.before) == coloured


def test_rules_list_fits_a_width() -> None:
    from triage.kb import load_knowledge_base

    rules = load_knowledge_base().rules
    assert max(len(line) for line in format_rule_table(rules).splitlines()) > 100
    lines = format_rule_table(rules, width=60).splitlines()
    assert all(len(line) <= 60 for line in lines) and lines[0].startswith("ID")
    assert len(lines) == len(rules) + 1
