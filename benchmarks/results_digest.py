"""Print one digest of every result of the bundled examples and of generated cases.

    python benchmarks/results_digest.py                 # examples + 20,000 cases
    python benchmarks/results_digest.py --write out.jsonl

Run it before and after a change that must not change behaviour (a refactor,
a knowledge-base edit that only touches documentation or lint marks) and
compare the digests. ``kb_version`` is left out of every result: it hashes
the files of ``rules/``, so any edit there changes it by design.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from cases import generate_cases  # noqa: E402

from triage.api import load  # noqa: E402
from triage.casefiles import read_cases  # noqa: E402
from triage.results import ErrorRecord  # noqa: E402


def results(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """Every result, examples first (file by file), then ``count`` generated cases."""
    api = load()
    for path in sorted((ROOT / "examples").iterdir()):
        for record in read_cases(str(path), api.kb.vocabulary):
            if isinstance(record, ErrorRecord):
                yield record.to_dict()
            else:
                yield api.session.triage(record).to_dict()
    yield from api.triage_many(generate_cases(count, seed))


def main() -> None:
    """Print the number of results and their SHA-256, optionally writing them out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--write", type=Path, help="also write every result as JSON Lines here")
    args = parser.parse_args()
    digest = hashlib.sha256()
    written = args.write.open("w", encoding="utf-8") if args.write else None
    total = 0
    for result in results(args.cases, args.seed):
        result.pop("kb_version", None)
        line = json.dumps(result, sort_keys=True, ensure_ascii=False) + "\n"
        digest.update(line.encode())
        if written:
            written.write(line)
        total += 1
    if written:
        written.close()
    print(f"{total} results, sha256 {digest.hexdigest()}")


if __name__ == "__main__":
    main()
