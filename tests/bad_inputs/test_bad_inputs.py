"""Every file in this folder gets the answer ``expected.yaml`` gives for it.

Files that cannot run exit 2 with one line naming the file (and the line
where known) and no traceback; invalid cases become error records naming the
case and field while the other cases are still triaged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from triage.cli import main

HERE = Path(__file__).parent
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((HERE / "expected.yaml").read_text())
INPUTS = {p.name for p in HERE.iterdir()} - {"expected.yaml", "test_bad_inputs.py", "__pycache__"}


def test_every_file_has_an_expectation() -> None:
    assert INPUTS <= set(EXPECTED), sorted(INPUTS - set(EXPECTED))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_input(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = EXPECTED[name]
    monkeypatch.chdir(HERE)  # file names in messages stay short and stable
    result = CliRunner().invoke(main, ["run", name, "--format", "jsonl"])

    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == expected["exit"], result.stderr
    assert "Traceback" not in result.stderr
    for fragment in expected.get("stderr", []):
        assert fragment in result.stderr
    if expected["exit"] == 2:
        # Only cases before a syntax error found mid-stream can have run.
        assert len(result.stdout.splitlines()) <= expected.get("before", 0)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        return

    outcomes = [json.loads(line) for line in result.stdout.splitlines()]
    # An invalid case is an error record, or (policy v3, principle 9) a result that
    # carries its errors: an urgent finding, or a screen left out, still gets a result.
    errors = [o for o in outcomes if "error" in o or "errors" in o]
    assert len([o for o in outcomes if "disposition" in o]) == expected["triaged"]
    assert len(errors) == len(expected.get("errors", []))
    for record, want in zip(errors, expected.get("errors", []), strict=True):
        error = record["error"] if "error" in record else record["errors"][0]
        assert record["id"] == want["id"]
        assert ("disposition" in record) == bool(want.get("triaged")), record
        assert error["file"] == name
        assert error["field"] == want.get("field")
        assert want["message"] in error["message"]
        assert error.get("did_you_mean") == want.get("did_you_mean")
        if error["field"] not in (None, "id") and "unknown field" not in want["message"]:
            assert "Allowed:" in error["message"]
        assert f"case {record['id']!r}" in result.stderr
