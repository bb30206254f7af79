"""The OpenAPI document matches the server: Schemathesis, every check, against the running server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("schemathesis", reason="Schemathesis is in the test extra")

#: Examples per operation and phase: bounded, so the run takes about a minute.
EXAMPLES = 8
#: 413 is the documented answer to a list over 1,000 cases (the schema's maxItems), besides
#: Schemathesis's own list of statuses that mean "refused".
#: Policy v3, principle 9: a case whose valid fields name an urgent finding is triaged even
#: when another field breaks the schema (200, the result carrying its ``errors``), so the
#: two case-taking operations are exempt from "a schema-violating request is refused".
CONFIG = """
[checks]
enabled = true

[checks.negative_data_rejection]
expected-statuses = [400, 413, 415, 422]

[[operations]]
include-path-regex = "^/api/v1/(triage|audit)$"
checks.negative_data_rejection.enabled = false
"""


def test_schemathesis_finds_no_difference_between_the_document_and_the_server(live_server: str,
                                                                              tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
         "--config-file", str(config), "run", f"{live_server}/openapi.json",
         "--max-examples", str(EXAMPLES), "--seed", "25", "--no-color"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
