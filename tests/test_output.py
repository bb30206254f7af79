"""Atomic output: FILE appears only when complete; on Ctrl-C, FILE.partial holds complete records."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import make_case

from triage.errors import InterruptedRun, OutputFileError
from triage.fileformats import OUTPUT_FORMATS
from triage.output import open_output

READERS = {
    "jsonl": lambda text: [json.loads(line) for line in text.splitlines()],
    "json": json.loads,
    "yaml": yaml.safe_load,
    "csv": lambda text: list(csv.DictReader(io.StringIO(text))),
    "table": lambda text: text.splitlines()[1:],
    "fhir": lambda text: [json.loads(line) for line in text.splitlines()],
}


@pytest.fixture(scope="module")
def outcomes(session: Any) -> list[Any]:
    return [session.triage(make_case(f"c{n}", age=20 + n)) for n in range(5)]


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_the_file_appears_only_when_the_run_finishes(tmp_path: Path, outcomes: list[Any], fmt: str) -> None:
    target = tmp_path / f"out.{fmt}"
    target.write_text("old results\n")
    with open_output(target, fmt) as output:
        for outcome in outcomes:
            output.write(outcome)
            assert target.read_text() == "old results\n"
    assert len(READERS[fmt](target.read_text())) == 5
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_ctrl_c_keeps_complete_records_as_partial(tmp_path: Path, outcomes: list[Any], fmt: str) -> None:
    target = tmp_path / f"out.{fmt}"
    with pytest.raises(InterruptedRun) as info:
        with open_output(target, fmt) as output:
            for outcome in outcomes[:3]:
                output.write(outcome)
            raise KeyboardInterrupt
    assert info.value.done == 3
    partial = tmp_path / f"out.{fmt}.partial"
    assert info.value.partial == str(partial)
    assert not target.exists()
    assert len(READERS[fmt](partial.read_text())) == 3  # a well-formed document


@pytest.mark.parametrize("fmt", ["jsonl", "json", "yaml"])
def test_a_record_cut_short_by_ctrl_c_is_dropped(tmp_path: Path, outcomes: list[Any], fmt: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / f"out.{fmt}"
    with pytest.raises(InterruptedRun) as info:
        with open_output(target, fmt) as output:
            output.write(outcomes[0])
            output.write(outcomes[1])
            stream = output._stream
            real_write = stream.write

            def half_then_interrupt(text: str) -> int:
                monkeypatch.undo()  # only this one record is cut short
                real_write(text[: len(text) // 2])
                stream.flush()
                raise KeyboardInterrupt

            monkeypatch.setattr(stream, "write", half_then_interrupt)
            output.write(outcomes[2])
    assert info.value.done == 2
    records = READERS[fmt](Path(info.value.partial).read_text())
    assert [r["id"] for r in records] == ["c0", "c1"]


def test_nothing_done_leaves_no_partial_file(tmp_path: Path) -> None:
    with pytest.raises(InterruptedRun) as info:
        with open_output(tmp_path / "out.jsonl", "jsonl"):
            raise KeyboardInterrupt
    assert (info.value.done, info.value.partial) == (0, None)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_run_leaves_the_old_file_untouched(tmp_path: Path, outcomes: list[Any]) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with open_output(target, "jsonl") as output:
            output.write(outcomes[0])
            raise RuntimeError("a file further on was broken")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_an_input_file_is_never_overwritten(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("{}\n")
    with pytest.raises(OutputFileError, match="is one of the case files"):
        with open_output(cases, "jsonl", inputs=[str(tmp_path / ".." / tmp_path.name / "cases.jsonl")]):
            pass
    assert cases.read_text() == "{}\n"


def test_an_unwritable_place_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputFileError, match="cannot write the results here") as info:
        with open_output(tmp_path / "no" / "such" / "out.jsonl", "jsonl"):
            pass
    assert info.value.location.file == str(tmp_path / "no" / "such" / "out.jsonl")


def test_the_mode_of_a_replaced_file_is_kept(tmp_path: Path, outcomes: list[Any]) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("")
    target.chmod(0o640)
    with open_output(target, "jsonl") as output:
        output.write(outcomes[0])
    assert target.stat().st_mode & 0o777 == 0o640


def test_standard_output_counts_and_reports_an_interruption(outcomes: list[Any]) -> None:
    stream = io.StringIO()
    with pytest.raises(InterruptedRun) as info:
        with open_output(None, "jsonl", stdout=stream) as output:
            output.write(outcomes[0])
            raise KeyboardInterrupt
    assert (info.value.done, info.value.partial) == (1, None)
    assert len(stream.getvalue().splitlines()) == 1
