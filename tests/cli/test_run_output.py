"""``triage run --output`` never destroys: inputs (standard input too), FIFOs, devices, links;
and what the run writes is safe to open in a spreadsheet or a terminal."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import triage_command

from triage.cli import main

CASE = '{"id": "%s", "pain_sites": ["buttock", "back_of_thigh", "knee"], "triggers": ["tennis_serve"], ' \
       '"red_flags": [], "conditions": []}\n'


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["run", "--workers", "1", *args], input=input)


def test_standard_input_redirected_from_the_output_file_is_refused(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    cases.write_text(CASE % "a" + CASE % "b")
    before = cases.read_bytes()
    with cases.open("rb") as stdin:
        done = subprocess.run(triage_command("run", "-", "-o", str(cases), "--workers", "1"),
                              stdin=stdin, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "is standard input; input files are never overwritten" in done.stderr
    assert cases.read_bytes() == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_output_onto_a_fifo_reaches_its_reader(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    cases.write_text(CASE % "a" + CASE % "b")
    fifo = tmp_path / "results"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    done = subprocess.run(triage_command("run", str(cases), "-o", str(fifo), "--workers", "1"),
                          capture_output=True, text=True, timeout=120)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in received[0].splitlines()] == ["a", "b"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO, not replaced by a file
    assert not list(tmp_path.glob(".results.*"))


@pytest.mark.skipif(not stat.S_ISCHR(os.stat(os.devnull).st_mode), reason="/dev/null is not a device here")
def test_output_onto_a_character_device_writes_through_it(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    cases.write_text(CASE % "a")
    assert run(str(cases), "-o", os.devnull).exit_code == 0
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    cases.write_text(CASE % "a")
    target = tmp_path / "kept" / "results.jsonl"
    target.parent.mkdir()
    link = tmp_path / "results.jsonl"
    link.symlink_to(target)
    assert run(str(cases), "-o", str(link)).exit_code == 0
    assert link.is_symlink() and json.loads(target.read_text())["id"] == "a"


def test_a_symbolic_link_to_an_input_is_refused(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    cases.write_text(CASE % "a")
    link = tmp_path / "out.jsonl"
    link.symlink_to(cases)
    result = run(str(cases), "-o", str(link))
    assert result.exit_code == 2 and "is one of the case files" in result.stderr
    assert cases.read_text() == CASE % "a"


def test_an_extension_that_names_no_format_is_refused(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    cases.write_text(CASE % "a")
    result = run(str(cases), "-o", str(tmp_path / "out.xlsx"))
    assert result.exit_code == 2 and "give --format" in result.stderr
    assert not (tmp_path / "out.xlsx").exists()
    assert run(str(cases), "-o", str(tmp_path / "out.xlsx"), "--format", "csv").exit_code == 0


def test_a_lone_surrogate_costs_one_case(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    cases.write_text(CASE % "a" + CASE % "x\\ud800" + CASE.replace('"knee"', '"kn\\udc00ee"') % "c"
                     + CASE % "d")
    for fmt in ("jsonl", "csv", "table", "yaml", "json"):
        result = run(str(cases), "-f", fmt)
        assert result.exit_code == 1, result.output
        assert "2 triaged, 2 invalid" in result.stderr
    records = [json.loads(line) for line in run(str(cases), "-f", "jsonl").stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", "x\\ud800", "c", "d"]
    assert "lone surrogate" in records[1]["error"]["message"]
    assert records[2]["error"]["field"] == "pain_sites" and records[2]["error"]["value"] == "kn\\udc00ee"


def test_csv_output_neutralises_formulas_from_case_ids(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    hostile = ['=HYPERLINK("http://x.example","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd", "-2+3"]
    cases.write_text("".join(CASE % name.replace('"', '\\"') for name in hostile))
    result = run(str(cases), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["id"] for row in rows] == ["'" + name for name in hostile]
    assert all(float(row["top_confidence"]) > 0 for row in rows)


def test_table_output_escapes_control_characters_from_case_ids(tmp_path: Path) -> None:
    cases = tmp_path / "in.jsonl"
    cases.write_text(CASE % "\\u001b[2J\\r\\u202eab")
    result = run(str(cases), "-f", "table")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout and "\r" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b[2J\\r\\u202eab" in result.stdout
