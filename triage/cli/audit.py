"""``triage audit``: which rules fired for a case, how each conclusion was reached, why not."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from ..fileformats import INPUT_FORMATS
from .common import (EXIT_CANNOT_RUN, EXIT_INVALID_CASES, EXIT_OK, echo_warning, load_session,
                     reports_errors, rules_option)

_IDS_KEPT = 100_000


def _complete_why_not(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion for --why-not: the muscles of the knowledge base and the dispositions."""
    from ..audit import why_not_targets
    from ..errors import TriageError
    from ..kb import load_knowledge_base

    try:
        kb = load_knowledge_base(ctx.params.get("rules_dir"))
    except TriageError:  # a broken knowledge base: nothing to offer, never a traceback in the shell
        return []
    return [t for t in why_not_targets(kb) if t.startswith(incomplete)]


@click.command("audit")
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--id", "case_id", default=None, metavar="ID",
              help="Audit only the case with this id (default: every case of the files).")
@click.option("--format", "-f", "output_format", type=click.Choice(("text", "json", "dot", "html")),
              default="text", show_default=True,
              help="text for people, json for tools, dot for a Graphviz graph (render with dot -Tsvg), "
                   "html for one self-contained page (graph drawn when Graphviz is installed).")
@click.option("--why-not", "why_not", multiple=True, metavar="MUSCLE|DISPOSITION",
              shell_complete=_complete_why_not,
              help="Also explain why this muscle or disposition was (not) concluded; repeat for "
                   "several (a muscle of the knowledge base, or emergency, urgent, see_doctor, "
                   "self_care).")
@click.option("--input-format", type=click.Choice(("auto", *INPUT_FORMATS)),
              default="auto", show_default=True, help="Format of the case files.")
@rules_option
@reports_errors
def audit_command(files: tuple[str, ...], case_id: str | None, output_format: str,
                  why_not: tuple[str, ...], input_format: str, rules_dir: Path | None) -> None:
    """Explain the triage of the cases in FILES... (- for stdin).

    For each case: every rule that fired, in order, with its description,
    sources, salience, the facts it matched and what it asserted; then HOW
    each conclusion was reached, back to the answers; then WHY NOT for each
    --why-not (the dot graph draws the missing links dashed in red). Exit
    status: 0 all audited, 1 some cases invalid, 2 nothing could run (or no
    case with ID).
    """
    from ..audit import audit_record, render_dot, render_json, render_text
    from ..batch import read_all
    from ..formats import printable
    from ..results import ErrorRecord
    from ..vocabulary import not_allowed

    session = load_session(rules_dir)
    audits = []
    errors = []
    invalid = False
    # The other ids, to suggest a near miss for --id (the first _IDS_KEPT: memory stays flat).
    seen: list[str] = []
    for record in read_all(files, session.kb.vocabulary, input_format, on_warning=echo_warning):
        if case_id is not None and record.id != case_id:
            if len(seen) < _IDS_KEPT:
                seen.append(record.id)
            continue
        if isinstance(record, ErrorRecord):
            for error in record.error.all:
                click.echo(f"triage: {error}", err=True)
        if output_format == "text" and not isinstance(record, ErrorRecord):
            # A newline in an id would forge a line of the audit: the id is shown escaped.
            record = dataclasses.replace(record, id=printable(record.id))
        audit = audit_record(session, record, why_not)
        if isinstance(audit, ErrorRecord):
            errors.append(audit)
            continue
        invalid = invalid or isinstance(record, ErrorRecord)  # audited on what parsed; still exit 1
        audits.append(audit)
    if case_id is not None and not audits and not errors:
        click.echo("triage: " + not_allowed("no case with id", case_id, seen, rest=f" in {', '.join(files)}",
                                            listed=False), err=True)
        sys.exit(EXIT_CANNOT_RUN)
    if output_format == "html":
        from ..audit_html import render_html

        text = render_html(audits, errors)
    else:
        render = {"text": render_text, "json": render_json, "dot": render_dot}[output_format]
        text = render(audits)
    if output_format == "text":
        # Case ids are shown as they were given: escape what could drive the terminal.
        text = printable(text, keep="\n")
    click.echo(text, nl=False)
    sys.exit(EXIT_INVALID_CASES if errors or invalid else EXIT_OK)
