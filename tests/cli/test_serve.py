"""``triage serve``: options, and one clear line when the web extra is missing."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from click.testing import CliRunner

from triage.cli import main


def test_without_the_web_extra_it_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "starlette" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    run = CliRunner().invoke(main, ["serve"])
    assert run.exit_code == 2
    assert run.output.strip() == "triage: triage serve needs the web extra: pip install 'lbp-triage[web]'"


def test_a_broken_knowledge_base_stops_before_serving(tmp_path: Any) -> None:
    run = CliRunner().invoke(main, ["serve", "--rules", str(tmp_path), "--port", "0"])
    assert run.exit_code == 2
    assert "nothing was run" in run.output


def test_help_says_it_binds_to_loopback_by_default() -> None:
    run = CliRunner().invoke(main, ["serve", "--help"])
    assert run.exit_code == 0 and "127.0.0.1" in run.output and "--workers" in run.output
