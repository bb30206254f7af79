"""Instructions per case: a measure of the engine's cost that a busy machine does not change.

    python benchmarks/instructions.py              # 100 cases (about a minute)
    python benchmarks/instructions.py --cases 300

On a shared machine the same code runs 30% faster or slower from one minute
to the next, so timings cannot show a change of a few percent. valgrind's
cachegrind counts the instructions the CPU executes instead, which repeat to
within 0.1% for the same code and inputs. This runs ``TriageKB.triage``
(parse, engine, result dict) on the benchmark's seeded cases twice under
cachegrind, once with no cases and once with N (after 100 warm-up cases in
both), and prints the difference divided by N. ``PYTHONPATH=other/checkout``
measures another version of triage with the same cases; name both versions
that way when comparing, since the environment itself moves the count a
little (0.6% with PYTHONPATH unset against set). It needs
``valgrind`` on the PATH (Debian's package of that name) and asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WARM_UP = 100

#: What runs under valgrind: triage ``count`` cases after the warm-up ones.
PROGRAM = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
from cases import generate_cases
import triage
count = int(sys.argv[1])
kb = triage.load()
cases = list(generate_cases({WARM_UP} + count))
for case in cases:
    kb.triage(case)
"""


def instructions(count: int) -> int:
    """Instructions valgrind counted for the program with ``count`` measured cases."""
    # A fixed hash seed: set and dict layouts, and so the count, repeat from run to run.
    # Run from this folder, so that PYTHONPATH (not the current one) says which triage runs.
    run = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                          sys.executable, "-c", PROGRAM, str(count)],
                         capture_output=True, text=True, check=True, cwd=HERE,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100, help="cases measured (default 100)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    baseline = instructions(0)
    measured = instructions(args.cases)
    import triage  # only to say which one was measured

    print(f"{(measured - baseline) / args.cases:,.0f} instructions per case "
          f"(TriageKB.triage, {args.cases} cases, Python {sys.version.split()[0]}, "
          f"{Path(triage.__file__).parent.parent})")


if __name__ == "__main__":
    main()
