"""``triage run`` on bad input: exit codes, one-line messages, warnings, Ctrl-C, a broken knowledge base."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.kb import default_rules_dir

CASE = '{"id": "%s", "pain_sites": ["buttock", "back_of_thigh", "knee"], "triggers": ["tennis_serve"], ' \
       '"red_flags": [], "conditions": []}\n'


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["run", "--workers", "1", *args])


def test_duplicate_ids_warn_on_stderr_and_both_are_triaged(tmp_path: Path) -> None:
    cases = tmp_path / "c.jsonl"
    cases.write_text(CASE % "same" + CASE % "same")
    result = run(str(cases), "--format", "jsonl")
    assert result.exit_code == 0
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["same", "same"]
    assert "warning: the id 'same' is also case 1" in result.stderr


def test_output_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(CASE % "a")
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1\n")
    out = tmp_path / "out.jsonl"
    result = run(str(good), str(broken), "--output", str(out))
    assert result.exit_code == 2
    assert "broken.yaml:1" in result.stderr or "broken.yaml:2" in result.stderr
    # FILE never appears; the results before the failing file are kept aside.
    partial = tmp_path / "out.jsonl.partial"
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "broken.yaml", "good.jsonl", "out.jsonl.partial"]
    assert json.loads(partial.read_text())["id"] == "a"
    assert f"the 1 results before the error are in {partial}" in result.stderr
    assert run(str(broken), "--output", str(out)).exit_code == 2
    assert not out.exists()
    assert run(str(good), "--output", str(out)).exit_code == 0
    assert json.loads(out.read_text())["id"] == "a"


def test_output_over_an_input_file_is_refused(tmp_path: Path) -> None:
    cases = tmp_path / "c.jsonl"
    cases.write_text(CASE % "a")
    result = run(str(cases), "--output", str(cases))
    assert result.exit_code == 2
    assert "is one of the case files" in result.stderr
    assert cases.read_text() == CASE % "a"


def test_output_in_a_missing_folder_is_one_clear_line(tmp_path: Path) -> None:
    cases = tmp_path / "c.jsonl"
    cases.write_text(CASE % "a")
    result = run(str(cases), "--output", str(tmp_path / "nowhere" / "out.jsonl"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "cannot write the results here" in result.stderr


def broken_rules(tmp_path: Path, file: str, old: str, new: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    text = (rules / file).read_text()
    assert old in text
    (rules / file).write_text(text.replace(old, new, 1))
    return rules


@pytest.mark.parametrize(("file", "old", "new", "fragment"), [
    ("muscles.yaml", "triggers: {has: tennis_serve}", "trigers: {has: tennis_serve}", "did you mean 'triggers'"),
    ("muscles.yaml", "{has: tennis_serve}", "{hass: tennis_serve}", "hass"),
    ("recommendations.yaml", "recommend: [warm_up]", "recommend: [warm_upp]", "warm_upp"),
    ("sources.yaml", "sources:", "sources: [", "invalid YAML"),
])
def test_a_broken_knowledge_base_is_reported_with_file_and_line_before_any_case(
        tmp_path: Path, file: str, old: str, new: str, fragment: str) -> None:
    rules = broken_rules(tmp_path, file, old, new)
    cases = tmp_path / "c.jsonl"
    cases.write_text(CASE % "a")
    result = run(str(cases), "--rules", str(rules), "--format", "jsonl")
    assert result.exit_code == 2
    assert result.stdout == ""
    problem = next(line for line in result.stderr.splitlines() if fragment in line)
    assert re.search(re.escape(str(rules / file)) + r":\d+[,:]", problem), problem
    assert "nothing was run" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_keeps_the_results_so_far_and_never_touches_the_input(tmp_path: Path) -> None:
    cases = tmp_path / "many.jsonl"
    with cases.open("w") as stream:
        for n in range(200_000):
            stream.write(CASE % f"case-{n}")
    before = hashlib.sha256(cases.read_bytes()).hexdigest()
    out = tmp_path / "results.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "triage", "run", str(cases), "--output", str(out), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell may start background jobs with SIGINT ignored; Ctrl-C must reach this one.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not any(p.stat().st_size > 50_000 for p in tmp_path.glob(".results.jsonl.*.tmp")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no results were written"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    partial = tmp_path / "results.jsonl.partial"
    records = [json.loads(line) for line in partial.read_text().splitlines()]  # every line complete
    assert [r["id"] for r in records] == [f"case-{n}" for n in range(len(records))]
    assert f"interrupted: {len(records)} cases were done; the results so far are in {partial}" in stderr
    assert "Traceback" not in stderr
    assert not out.exists() and not list(tmp_path.glob(".results.jsonl.*"))
    assert hashlib.sha256(cases.read_bytes()).hexdigest() == before
