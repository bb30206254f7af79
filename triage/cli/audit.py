"""``triage audit``: which rules fired for a case, how each conclusion was reached, why not."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..vocabulary import MUSCLES, Disposition
from .common import (EXIT_CANNOT_RUN, EXIT_INVALID_CASES, EXIT_OK, load_session, reports_errors,
                     rules_option)

_WHY_NOT = MUSCLES + tuple(d.value for d in Disposition)


@click.command("audit")
@click.argument("casefile", metavar="CASEFILE")
@click.option("--id", "case_id", default=None, metavar="ID",
              help="Audit only the case with this id (default: every case in the file).")
@click.option("--format", "-f", "output_format", type=click.Choice(("text", "json", "dot", "html")),
              default="text", show_default=True,
              help="text for people, json for tools, dot for a Graphviz graph (render with dot -Tsvg), "
                   "html for one self-contained page (graph drawn when Graphviz is installed).")
@click.option("--why-not", "why_not", type=click.Choice(_WHY_NOT), default=None,
              metavar="MUSCLE|DISPOSITION",
              help="Also explain why this muscle or disposition was (not) concluded "
                   f"({', '.join(_WHY_NOT)}).")
@click.option("--input-format", type=click.Choice(("auto", "yaml", "json", "jsonl", "csv")),
              default="auto", show_default=True, help="Format of the case file.")
@rules_option
@reports_errors
def audit_command(casefile: str, case_id: str | None, output_format: str, why_not: str | None,
                  input_format: str, rules_dir: Path | None) -> None:
    """Explain the triage of the cases in CASEFILE (- for stdin).

    For each case: every rule that fired, in order, with its description,
    sources, salience, the facts it matched and what it asserted; then HOW
    each conclusion was reached, back to the answers. Exit status: 0 all
    audited, 1 some cases invalid, 2 nothing could run (or no case with ID).
    """
    from ..audit import audit_case, render_dot, render_json, render_text
    from ..casefiles import read_cases
    from ..results import ErrorRecord

    session = load_session(rules_dir)
    audits = []
    errors = []
    for record in read_cases(casefile, input_format):
        if case_id is not None and record.id != case_id:
            continue
        if isinstance(record, ErrorRecord):
            errors.append(record)
            click.echo(f"triage: {record.error}", err=True)
            continue
        audits.append(audit_case(session, record, why_not))
    if case_id is not None and not audits and not errors:
        click.echo(f"triage: no case with id {case_id!r} in {casefile}", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    if output_format == "html":
        from ..audit_html import render_html

        click.echo(render_html(audits, errors), nl=False)
    else:
        render = {"text": render_text, "json": render_json, "dot": render_dot}[output_format]
        click.echo(render(audits), nl=False)
    sys.exit(EXIT_INVALID_CASES if errors else EXIT_OK)
