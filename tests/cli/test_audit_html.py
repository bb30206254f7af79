"""``triage audit --format html``: one self-contained file, everything escaped, no script."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from triage import audit_html
from triage.cli import main

HOSTILE = '<script>alert("x")</script>'


def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump([
        {"id": HOSTILE, "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"],
         "red_flags": [], "conditions": []},
        {"id": "bad", "pain_sites": ["moon"], "red_flags": [], "conditions": []},
    ]))
    return path


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
def test_html_report_is_self_contained_with_the_graph_inline(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["audit", str(case_file(tmp_path)), "--format", "html"])
    assert run.exit_code == 1  # one invalid case, as for the other formats
    page = run.stdout
    assert page.startswith("<!doctype html>") and "<svg" in page and "<style>" in page
    assert not re.search(r"<script|<link|src=\"http", page)
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "Rules that fired" in page and "Invalid cases" in page and "moon" in page
    assert "default-src 'none'" in page


def test_without_graphviz_the_report_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_html.shutil, "which", lambda name: None)
    run = CliRunner().invoke(main, ["audit", str(case_file(tmp_path)), "--format", "html"])
    assert "<svg" not in run.stdout
    assert "Graphviz (the dot program) is not installed" in run.stdout
