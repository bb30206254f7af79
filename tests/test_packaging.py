"""The installed command finds its knowledge base from any directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from triage.kb import KnowledgeBase


def test_triage_run_works_outside_the_repository(tmp_path: Path, kb: KnowledgeBase) -> None:
    case = tmp_path / "one.json"
    case.write_text(json.dumps({"pain_sites": ["lower_back"], "pain_feels": ["locked_up", "spasm"],
                                "red_flags": [], "other_symptoms": [], "conditions": [],
                                "age": 40, "severity": 3, "duration_days": 7}))
    run = subprocess.run([sys.executable, "-m", "triage", "run", case.name, "--format", "jsonl"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["disposition"] == "self_care"
    # The same knowledge base as the repository's rules/, byte for byte.
    assert result["kb_version"] == kb.version
