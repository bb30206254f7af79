"""``triage rules ...``: check, test, list, show and measure the coverage of a knowledge base."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..fileformats import INPUT_FORMATS
from .common import (EXIT_INVALID_CASES, EXIT_OK, load_session, reports_errors, rules_option,
                     shown_problem, terminal_width)

_TEXT_OR_JSON = click.Choice(("text", "json"))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group("rules")
def rules_group() -> None:
    """Check, test, list and show the rules of a knowledge base, measure their coverage, and
    draw its safety evidence: traceability, hazards, diff and mutation testing."""


@rules_group.command("check")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
@click.option("--format", "-f", "output_format", type=_TEXT_OR_JSON, default="text", show_default=True)
@rules_option
@reports_errors
def check_command(strict: bool, output_format: str, rules_dir: Path | None) -> None:
    """Load and validate the knowledge base, then lint it.

    Each finding is reported as FILE:LINE: [severity] message (check). Exit
    status: 1 when there are errors (or, with --strict, warnings), else 0.
    """
    from ..lint import check_knowledge_base, count

    problems = check_knowledge_base(rules_dir)
    errors, warnings = count(problems)
    if output_format == "json":
        _json({"errors": errors, "warnings": warnings, "findings": [
            {"file": p.location.file, "line": p.location.line, "severity": p.severity,
             "check": p.check, "message": p.message} for p in problems]})
    else:
        for problem in problems:
            click.echo(str(shown_problem(problem)))
        click.echo(f"{_count(errors, 'error')}, {_count(warnings, 'warning')}")
    failed = errors > 0 or (strict and warnings > 0)
    sys.exit(EXIT_INVALID_CASES if failed else EXIT_OK)


@rules_group.command("test")
@click.option("--format", "-f", "output_format", type=_TEXT_OR_JSON, default="text", show_default=True)
@rules_option
@reports_errors
def test_command(output_format: str, rules_dir: Path | None) -> None:
    """Run every rule's own must-fire / must-not-fire examples.

    Failures are reported by rule id. Exit status: 1 when any example fails.
    """
    from ..ruletools import format_example_report, run_examples

    report = run_examples(load_session(rules_dir))
    if output_format == "json":
        _json(report.to_dict())
    else:
        click.echo(format_example_report(report), nl=False)
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID_CASES)


@rules_group.command("list")
@click.option("--format", "-f", "output_format", type=click.Choice(("table", "json")),
              default="table", show_default=True)
@rules_option
@reports_errors
def list_command(output_format: str, rules_dir: Path | None) -> None:
    """List the rules: id, what each concludes, its sources and description.

    On a terminal the table fits its width (long cells are cut with "…").
    """
    from ..kb import load_knowledge_base
    from ..ruletools import format_rule_table, rule_summary

    kb = load_knowledge_base(rules_dir)
    if output_format == "json":
        _json([rule_summary(rule) for rule in kb.rules])
    else:
        click.echo(format_rule_table(kb.rules, terminal_width(sys.stdout)), nl=False)


@rules_group.command("show")
@click.argument("rule_id", metavar="ID")
@click.option("--format", "-f", "output_format", type=_TEXT_OR_JSON, default="text", show_default=True)
@rules_option
@reports_errors
def show_command(rule_id: str, output_format: str, rules_dir: Path | None) -> None:
    """Show one rule: what it tests, what it concludes, its sources and examples."""
    from ..kb import load_knowledge_base
    from ..ruletools import find_rule, format_rule, rule_summary

    kb = load_knowledge_base(rules_dir)
    rule = find_rule(kb, rule_id)
    if output_format == "json":
        _json(rule_summary(rule))
    else:
        click.echo(format_rule(rule, kb), nl=False)


@rules_group.command("coverage")
@click.argument("files", nargs=-1, required=True, metavar="CASES...")
@click.option("--format", "-f", "output_format", type=click.Choice(("table", "json")),
              default="table", show_default=True)
@click.option("--input-format", type=click.Choice(("auto", *INPUT_FORMATS)),
              default="auto", show_default=True, help="Format of the case files.")
@rules_option
@reports_errors
def coverage_command(files: tuple[str, ...], output_format: str, input_format: str,
                     rules_dir: Path | None) -> None:
    """Over the cases in CASES..., how often each rule fired, and which never fired.

    Invalid cases are reported on stderr and skipped. Exit status: 0, or 1
    when some cases were invalid.
    """
    from ..batch import read_all
    from ..ruletools import coverage, format_coverage_table

    session = load_session(rules_dir)
    report = coverage(session, read_all(files, session.kb.vocabulary, input_format))
    for record in report.invalid_records:
        click.echo(f"triage: {record.error}", err=True)
    if output_format == "json":
        _json(report.to_dict())
    else:
        click.echo(format_coverage_table(report), nl=False)
    sys.exit(EXIT_INVALID_CASES if report.invalid else EXIT_OK)


def _add_evidence_commands() -> None:
    """The clinical safety evidence commands (triage/cli/evidence.py) belong to this group too."""
    from .evidence import COMMANDS

    for command in COMMANDS:
        rules_group.add_command(command)


_add_evidence_commands()
