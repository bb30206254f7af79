"""``triage run``: batch case files to results."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import (EXIT_INVALID_CASES, EXIT_OK, echo_warning, load_session, reports_errors,
                     rules_option)

# Spelled out rather than imported from casefiles/formats, which would pull in
# experta and double start-up time; tests/cli/test_run.py checks they agree.
_INPUT_FORMATS = ("auto", "yaml", "json", "jsonl", "csv")
_OUTPUT_FORMATS = ("jsonl", "json", "yaml", "csv", "table")
_BY_EXTENSION = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".yaml": "yaml",
                 ".yml": "yaml", ".csv": "csv", ".txt": "table"}


def default_format(output: Path | None) -> str:
    """table on a terminal; otherwise from the output file's extension, else JSON Lines."""
    if output is not None:
        return _BY_EXTENSION.get(output.suffix.lower(), "jsonl")
    return "table" if sys.stdout.isatty() else "jsonl"


@click.command("run")
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--format", "-f", "output_format", type=click.Choice(_OUTPUT_FORMATS), default=None,
              help="Output format (default: table on a terminal, else jsonl or the --output extension).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write results to this file instead of standard output.")
@click.option("--input-format", type=click.Choice(_INPUT_FORMATS), default="auto", show_default=True,
              help="Format of the case files (auto: by extension, else by content).")
@click.option("--delimiter", type=click.Choice((",", ";", "tab")), default=None,
              help="CSV delimiter (default: detected from the header: comma, semicolon or tab).")
@click.option("--ignore-unknown-columns", is_flag=True,
              help="CSV: skip columns that are not case fields (listed once on stderr) "
                   "instead of refusing the file.")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes (default: the number of CPUs; 1 = in this process).")
@rules_option
@reports_errors
def run_command(files: tuple[str, ...], output_format: str | None, output: Path | None,
                input_format: str, delimiter: str | None, ignore_unknown_columns: bool,
                workers: int | None, rules_dir: Path | None) -> None:
    """Triage case files (YAML, JSON, JSON Lines, CSV; - for stdin).

    Results come in input order; an invalid case becomes an error record in
    its place while the others are triaged, with every problem it has. CSV
    headers and values are forgiven other capitals and spaces or hyphens for
    underscores (each said once on stderr); blank rows are skipped. With
    --output the file appears
    only when the run finishes; on Ctrl-C the results so far are kept in
    FILE.partial. Exit status: 0 every case triaged, 1 some cases invalid,
    2 nothing could run, 130 interrupted.
    """
    from ..batch import BatchCounts, read_all
    from ..casefiles import CsvOptions
    from ..output import open_output
    from ..parallel import triage_parallel
    from ..results import ErrorRecord

    session = load_session(rules_dir)
    fmt = output_format or default_format(output)
    csv_options = CsvOptions({"tab": "\t"}.get(delimiter or "", delimiter), ignore_unknown_columns)
    records = read_all(files, session.kb.vocabulary, input_format, on_warning=echo_warning,
                       csv_options=csv_options)
    counts = BatchCounts()
    with open_output(output, fmt, inputs=files) as results:
        for outcome in triage_parallel(records, session, workers):
            results.write(outcome)
            counts.add(outcome)
            if isinstance(outcome, ErrorRecord):
                for error in outcome.error.all:  # every problem of the case, to fix in one round
                    click.echo(f"triage: {error}", err=True)
    click.echo(f"triage: {counts.triaged} triaged, {counts.invalid} invalid", err=True)
    sys.exit(EXIT_INVALID_CASES if counts.invalid else EXIT_OK)
