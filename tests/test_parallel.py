"""``--workers``: results byte for byte the same, in input order, whatever the workers."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from triage import parallel
from triage.casefiles import read_cases
from triage.formats import to_json
from triage.parallel import CHUNK_SIZE, triage_parallel
from triage.results import ErrorRecord
from triage.session import TriageSession
from helpers import VOCABULARY

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> Any:
    """The benchmark's seeded case generator (benchmarks/cases.py)."""
    spec = importlib.util.spec_from_file_location("bench_cases", ROOT / "benchmarks" / "cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _batch_file(folder: Path, count: int, seed: int = 6) -> Path:
    """``count`` generated cases with an invalid one every 37 cases (kept in place)."""
    lines = []
    for n, case in enumerate(_generator().generate_cases(count, seed), start=1):
        if n % 37 == 0:
            case["triggers"] = ["tenis_serve"]
        lines.append(json.dumps(case))
    path = folder / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(path: Path, workers: int, hash_seed: str = "0") -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-m", "triage", "run", str(path), "--format", "jsonl",
                           "--workers", str(workers)], capture_output=True, env=env, check=False)
    assert done.returncode == 1, done.stderr.decode()  # 1: some cases were invalid
    return done.stdout


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _batch_file(tmp_path_factory.mktemp("parallel"), 3 * CHUNK_SIZE + 11)


def test_one_and_two_workers_write_the_same_bytes(batch: Path) -> None:
    one = _cli(batch, 1)
    assert one == _cli(batch, 2)
    records = [json.loads(line) for line in one.splitlines()]
    assert [r["id"] for r in records] == [f"bench-{n}" for n in range(1, 3 * CHUNK_SIZE + 12)]
    assert all(("error" in r) == (n % 37 == 0) for n, r in enumerate(records, start=1))


def test_output_does_not_depend_on_the_hash_seed(batch: Path) -> None:
    assert _cli(batch, 2, hash_seed="1") == _cli(batch, 2, hash_seed="4242")


def test_spawned_workers_agree_with_in_process(batch: Path, session: TriageSession,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Spawned workers import everything afresh, each with its own random hash seed.
    monkeypatch.setattr(parallel, "START_METHOD", "spawn")
    expected = [to_json(o) for o in triage_parallel(read_cases(str(batch), VOCABULARY), session, 1)]
    assert [to_json(o) for o in triage_parallel(read_cases(str(batch), VOCABULARY), session, 2)] == expected


def test_error_records_stay_in_place_across_chunk_edges(batch: Path, session: TriageSession,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK_SIZE", 7)
    records = list(read_cases(str(batch), VOCABULARY))
    outcomes = list(triage_parallel(records, session, 2))
    assert [o.id for o in outcomes] == [r.id for r in records]
    assert [isinstance(o, ErrorRecord) for o in outcomes] == [
        isinstance(r, ErrorRecord) for r in records]


def test_stopping_early_stops_the_workers(batch: Path, session: TriageSession) -> None:
    outcomes = triage_parallel(read_cases(str(batch), VOCABULARY), session, 2)
    first = next(outcomes)
    outcomes.close()
    assert first.id == "bench-1"


def test_workers_must_be_positive(session: TriageSession) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(triage_parallel([], session, 0))


def test_cli_refuses_zero_workers(batch: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "triage", "run", str(batch), "--workers", "0"],
                          capture_output=True, check=False)
    assert done.returncode == 2 and b"--workers" in done.stderr
