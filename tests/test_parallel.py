"""``--workers``: results byte for byte the same, in input order, whatever the workers."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from triage import parallel
from triage.casefiles import read_cases
from triage.errors import WorkerError
from triage.formats import to_json
from triage.parallel import CHUNK_SIZE, triage_parallel
from triage.results import ErrorRecord
from triage.session import TriageSession
from helpers import VOCABULARY, load_script

ROOT = Path(__file__).resolve().parents[1]


def _batch_file(folder: Path, count: int, seed: int = 6) -> Path:
    """``count`` generated cases with an invalid one every 37 cases (kept in place)."""
    lines = []
    for n, case in enumerate(load_script("benchmarks/cases.py").generate_cases(count, seed), start=1):
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
    # An invalid case is an error record, or a result with its errors when what
    # parsed refers urgently (policy v3, principle 9).
    assert all(("error" in r or "errors" in r) == (n % 37 == 0) for n, r in enumerate(records, start=1))


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
    assert [isinstance(o, ErrorRecord) or bool(o.errors) for o in outcomes] == [
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


def _poisoned(cases: list[Any]) -> Any:
    """A worker's chunk function that dies (like the OOM killer's victim) on the case 'poison'."""
    if any(case.id == "poison" for case in cases):
        os.kill(os.getpid(), signal.SIGKILL)
    return _REAL_TRIAGE_CHUNK(cases)


_REAL_TRIAGE_CHUNK = parallel._triage_chunk
needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="the poisoned chunk function reaches workers by fork")


def _with_poison(folder: Path, at: int, count: int = 4 * CHUNK_SIZE) -> Path:
    lines = _batch_file(folder, count).read_text().splitlines()
    case = json.loads(lines[at])
    case["id"] = "poison"
    lines[at] = json.dumps(case)
    path = folder / "poisoned.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@needs_fork
def test_a_chunk_that_kills_its_worker_twice_is_named_and_the_results_before_it_kept(
        tmp_path: Path, session: TriageSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "START_METHOD", "fork")
    monkeypatch.setattr(parallel, "_triage_chunk", _poisoned)
    path = _with_poison(tmp_path, at=2 * CHUNK_SIZE + 7)
    outcomes = triage_parallel(read_cases(str(path), VOCABULARY), session, 2)
    seen = []
    with pytest.raises(WorkerError) as caught:
        for outcome in outcomes:
            seen.append(outcome.id)
    assert seen == [f"bench-{n}" for n in range(1, 2 * CHUNK_SIZE + 1)]
    assert f"the {CHUNK_SIZE} cases 'bench-{2 * CHUNK_SIZE + 1}' to 'bench-{3 * CHUNK_SIZE}'" in str(caught.value)
    assert "died twice" in str(caught.value)


@needs_fork
def test_the_cli_keeps_the_results_before_a_deadly_chunk_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from triage.cli import main

    monkeypatch.setattr(parallel, "START_METHOD", "fork")
    monkeypatch.setattr(parallel, "_triage_chunk", _poisoned)
    path = _with_poison(tmp_path, at=CHUNK_SIZE + 3)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--workers", "2"])
    assert result.exit_code == 2, result.output
    assert "a worker process died twice" in result.stderr
    assert f"the {CHUNK_SIZE} cases 'bench-{CHUNK_SIZE + 1}' to 'bench-{2 * CHUNK_SIZE}'" in result.stderr
    kept = [json.loads(line)["id"] for line in Path(str(out) + ".partial").read_text().splitlines()]
    assert kept == [f"bench-{n}" for n in range(1, CHUNK_SIZE + 1)]
    assert not out.exists() and not list(tmp_path.glob(".out.jsonl.*"))


def test_a_failing_later_file_leaves_the_same_output_whatever_the_workers(
        batch: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {pain_sites: [lower_back]\n")
    outputs = []
    for workers in ("1", "2"):
        done = subprocess.run([sys.executable, "-m", "triage", "run", str(batch), str(bad), "-f", "jsonl",
                               "--workers", workers], capture_output=True, check=False, timeout=300)
        assert done.returncode == 2 and b"bad.yaml" in done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 3 * CHUNK_SIZE + 11
