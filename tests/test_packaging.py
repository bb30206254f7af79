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
    assert sbom["bomFormat"] == "CycloneDX" and sbom["metadata"]["component"]["name"] == DISTRIBUTION
    components = {c["name"].lower(): c["version"] for c in sbom["components"]}
    assert components["experta"] == version("experta")
    assert components["frozendict"] == version("frozendict")


#: The distribution's name: "triage" on PyPI is an unrelated project (risk modelling).
DISTRIBUTION = "lbp-triage"
ROOT = Path(__file__).resolve().parents[1]


def test_the_distribution_has_a_name_of_its_own_and_keeps_the_triage_command() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()  # read as text: tomllib is Python 3.11+
    assert f'\nname = "{DISTRIBUTION}"\n' in pyproject
    assert '\n[project.scripts]\ntriage = "triage.__main__:main"\n' in pyproject
    assert f'"{DISTRIBUTION}[web]"' in pyproject  # the test extra pulls in our own web extra


def test_every_install_line_names_our_distribution() -> None:
    """No README, docs page, message or CI script offers `pip install triage...` (someone else's project)."""
    import re

    texts = [ROOT / "README.md", ROOT / ".ci" / "run", *(ROOT / "docs").glob("*.md"), *(ROOT / "triage").rglob("*.py")]
    wrong = re.compile(r"""pip install\s+(?:-\S+\s+)*['"]?triage\b|['"]triage\[""")
    # A heading may name the wrong command: troubleshooting's "`pip install triage` installed something else".
    offenders = [f"{path.relative_to(ROOT)}: {line}" for path in texts if path.is_file()
                 for line in path.read_text().splitlines() if wrong.search(line) and not line.startswith("#")]
    assert offenders == []
