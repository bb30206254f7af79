"""Benchmark ``triage``: throughput, per-case latency, peak memory and start-up time.

    python benchmarks/benchmark.py                     # 100,000 cases, 1 and default workers
    python benchmarks/benchmark.py --cases 1000000     # the memory-flatness run
    python benchmarks/benchmark.py --cases 10000 --workers 1,2,4

It generates N seeded random valid cases (``benchmarks/cases.py``) into a
JSON Lines file, then measures:

- in-process: parse, triage and JSON-encode every case in this process
  (one core), with per-case triage latency percentiles;
- the CLI end to end (``python -m triage run FILE --format jsonl``, output to
  a file) for each worker count, with the peak RSS summed over the command
  and its worker processes (sampled from /proc every 20 ms on Linux);
- start-up: ``triage --version`` and ``triage --help``, best of 5.

Figures are printed as a Markdown table. The benchmark asserts nothing:
the targets are judged by reading the table (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import write_jsonl  # noqa: E402

#: Sampling period of the memory sampler.
SAMPLE_SECONDS = 0.02


def main() -> None:
    """Parse the command line, run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000,
                        help="number of cases (default 100000)")
    parser.add_argument("--seed", type=int, default=6, help="random seed of the generated cases")
    parser.add_argument("--workers", default="1,default",
                        help="comma-separated worker counts for the CLI runs; 'default' = CPUs")
    parser.add_argument("--in-process-cases", type=int, default=20_000,
                        help="cases for the in-process latency run (default 20000)")
    parser.add_argument("--skip-cli", action="store_true", help="only the in-process run")
    args = parser.parse_args()

    print(machine_line())
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="triage-bench-") as folder:
        cases_file = Path(folder) / "cases.jsonl"
        with open(cases_file, "w", encoding="utf-8") as stream:
            write_jsonl(stream, args.cases, args.seed)
        rows += in_process(cases_file, min(args.cases, args.in_process_cases))
        if not args.skip_cli:
            for workers in args.workers.split(","):
                rows += cli_run(cases_file, args.cases, workers.strip(), Path(folder) / "out.jsonl")
            rows += startup()
    print()
    print("| measurement | value |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


def machine_line() -> str:
    """The machine the figures come from: CPUs, CPU model, Python."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{time.strftime('%Y-%m-%d')}: {os.cpu_count()} CPUs, {model}, "
            f"Python {platform.python_version()} ({sys.executable})")


def in_process(cases_file: Path, count: int) -> list[tuple[str, str]]:
    """Parse, triage and encode ``count`` cases in this process; one core."""
    from triage.casefiles import read_cases
    from triage.formats import to_json
    from triage.results import ErrorRecord
    from triage.session import TriageSession

    session = TriageSession()
    latencies: list[float] = []
    clock = time.perf_counter
    started = clock()
    for n, record in enumerate(read_cases(str(cases_file), session.kb.vocabulary), start=1):
        if isinstance(record, ErrorRecord):
            raise SystemExit(f"generated case {record.id} is invalid: {record.error}")
        before = clock()
        result = session.triage(record)
        latencies.append(clock() - before)
        to_json(result)
        if n == count:
            break
    elapsed = clock() - started
    cut = statistics.quantiles(latencies, n=100)
    ms = 1000
    return [
        (f"in-process, {count:,} cases (parse + triage + JSON), one core",
         f"{count / elapsed:,.0f} cases/s"),
        ("per-case triage latency p50 / p90 / p99 / max",
         f"{cut[49] * ms:.2f} / {cut[89] * ms:.2f} / {cut[98] * ms:.2f} / "
         f"{max(latencies) * ms:.2f} ms"),
    ]


def cli_run(cases_file: Path, count: int, workers: str, output: Path) -> list[tuple[str, str]]:
    """``triage run`` end to end on ``cases_file``; throughput and peak RSS of all processes."""
    command = [sys.executable, "-m", "triage", "run", str(cases_file), "--format", "jsonl",
               "--output", str(output)]
    if workers != "default":
        command += ["--workers", workers]
    label = f"{os.cpu_count()} (default)" if workers == "default" else workers
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = PeakMemory(process.pid)
    peak.start()
    _, errors = process.communicate()
    elapsed = time.perf_counter() - started
    peak.stop()
    if process.returncode != 0:
        raise SystemExit(f"triage run failed ({process.returncode}): {errors.decode()[-2000:]}")
    return [
        (f"`triage run`, {count:,} cases, workers {label}", f"{count / elapsed:,.0f} cases/s "
         f"({elapsed:.1f} s)"),
        (f"peak RSS, all processes, workers {label}", peak.describe()),
    ]


class PeakMemory:
    """The highest total RSS of a process and its descendants, sampled from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def describe(self) -> str:
        if not Path("/proc").is_dir():
            return "not measured (no /proc)"
        return f"{self.peak_kib / 1024:.0f} MB"

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(pid) for pid in _tree(self.pid)))
            self._done.wait(SAMPLE_SECONDS)


def _tree(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if entry.name.isdigit():
            parent = _parent_pid(entry.name)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def _parent_pid(pid: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; after it come state, then the parent.
    return int(text[text.rindex(")") + 2:].split()[1])


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def startup() -> list[tuple[str, str]]:
    """Best-of-5 wall time of ``triage --version`` and ``triage --help``."""
    script = Path(sys.executable).with_name("triage")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "triage"]
    rows = []
    for flag in ("--version", "--help"):
        rows.append((f"start-up: `triage {flag}` (best of 5)",
                     f"{_best_of(5, lambda flag=flag: _quiet([*base, flag])) * 1000:.0f} ms"))
    return rows


def _quiet(command: list[str]) -> None:
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


def _best_of(times: int, action: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


if __name__ == "__main__":
    main()
