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


def test_a_software_bill_of_materials_names_experta_and_its_pin(tmp_path: Path) -> None:
    """cyclonedx-py (the test extra) writes a valid CycloneDX SBOM; .ci/sbom makes a release's the same way."""
    from importlib.metadata import version

    out = tmp_path / "sbom.cdx.json"
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-m", "cyclonedx_py", "environment", sys.executable,
                          "--pyproject", str(root / "pyproject.toml"), "--output-reproducible",
                          "--output-format", "JSON", "--output-file", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    sbom = json.loads(out.read_text())
    assert sbom["bomFormat"] == "CycloneDX" and sbom["metadata"]["component"]["name"] == "triage"
    components = {c["name"].lower(): c["version"] for c in sbom["components"]}
    assert components["experta"] == version("experta")
    assert components["frozendict"] == version("frozendict")
