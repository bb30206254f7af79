"""``triage run``: batch case files to results."""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path

import click

from ..errors import TriageWarning
from ..fileformats import INPUT_FORMATS, OUTPUT_FORMAT_BY_EXTENSION, OUTPUT_FORMATS
from .common import (EXIT_INVALID_CASES, EXIT_OK, echo_warning, load_session, reports_errors,
                     rules_option, say, terminal_width, use_color)


def default_format(output: Path | None) -> str:
    """table on a terminal; otherwise from the output file's extension, else JSON Lines.

    An extension that names no format (``out.xlsx``) is refused rather than
    silently written as JSON Lines; a file without one (``/dev/null``, a FIFO)
    gets JSON Lines.
    """
    if output is not None:
        suffix = output.suffix.lower()
        if suffix and suffix not in OUTPUT_FORMAT_BY_EXTENSION:
            raise click.UsageError(
                f"cannot tell the format of {output} from {output.suffix!r}; give --format "
                f"({', '.join(OUTPUT_FORMATS)}) or use one of {', '.join(OUTPUT_FORMAT_BY_EXTENSION)}")
        return OUTPUT_FORMAT_BY_EXTENSION.get(suffix, "jsonl")
    return "table" if sys.stdout.isatty() else "jsonl"


@click.command("run")
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.option("--format", "-f", "output_format", type=click.Choice(OUTPUT_FORMATS), default=None,
              help="Output format (default: table on a terminal, else jsonl or the --output extension).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write results to this file instead of standard output.")
@click.option("--input-format", type=click.Choice(("auto", *INPUT_FORMATS)), default="auto", show_default=True,
              help="Format of the case files (auto: by extension, else by content).")
@click.option("--delimiter", type=click.Choice((",", ";", "tab")), default=None,
              help="CSV delimiter (default: detected from the header: comma, semicolon or tab).")
@click.option("--ignore-unknown-columns", is_flag=True,
              help="CSV: skip columns that are not case fields (listed once on stderr) "
                   "instead of refusing the file.")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes (default: the number of CPUs; 1 = in this process).")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress display, no warnings and no closing count on stderr (errors still show).")
@rules_option
@reports_errors
def run_command(files: tuple[str, ...], output_format: str | None, output: Path | None,
                input_format: str, delimiter: str | None, ignore_unknown_columns: bool,
                workers: int | None, quiet: bool, rules_dir: Path | None) -> None:
    """Triage case files (YAML, JSON, JSON Lines, CSV; - for stdin).

    JSON and JSON Lines may also hold FHIR QuestionnaireResponses (or Bundles
    of them); --format fhir writes each result as a FHIR Bundle.

    Results come in input order; an invalid case becomes an error record in
    its place while the others are triaged, with every problem it has. CSV
    headers and values are forgiven other capitals and spaces or hyphens for
    underscores (each said once on stderr); blank rows are skipped. With
    --output the file appears only when the run finishes; on Ctrl-C, SIGTERM
    or SIGHUP (or an error mid-run) the results so far are kept in
    FILE.partial. On a terminal a long run shows its progress on stderr.
    Exit status: 0 every case triaged, 1 some cases invalid, 2 nothing could
    run, 128 + the signal when stopped (130 for Ctrl-C).
    """
    fmt = output_format or default_format(output)
    from ..batch import BatchCounts, ReadProgress, read_all
    from ..casefiles import CsvOptions
    from ..errors import TriageError
    from ..output import open_output
    from ..parallel import triage_parallel
    from ..results import ErrorRecord
    from .progress import Progress

    if quiet:
        # -q silences what is forgiven (the library's warnings too); errors still show.
        warnings.simplefilter("ignore", TriageWarning)
    session = load_session(rules_dir)
    read = ReadProgress()
    csv_options = CsvOptions({"tab": "\t"}.get(delimiter or "", delimiter), ignore_unknown_columns)
    records = read_all(files, session.kb.vocabulary, input_format, on_warning=None if quiet else echo_warning,
                       csv_options=csv_options, progress=read, questions=session.kb.questions)
    counts = BatchCounts()
    to_terminal = output is None and fmt == "table"
    progress = Progress(sys.stderr, read, enabled=not quiet)
    results = None
    try:
        with open_output(output, fmt, inputs=files,
                         width=terminal_width(sys.stdout) if to_terminal else None,
                         color=to_terminal and use_color(sys.stdout)) as results, \
                contextlib.closing(triage_parallel(records, session, workers)) as outcomes:
            for outcome in outcomes:
                results.write(outcome)
                counts.add(outcome)
                problems = outcome.error.all if isinstance(outcome, ErrorRecord) else outcome.errors
                if problems:
                    progress.clear()
                    for error in problems:  # every problem of the case, to fix in one round
                        say(str(error))
                    if not isinstance(outcome, ErrorRecord):
                        say(f"case {outcome.id!r} was triaged on the answers that could be read: "
                            f"{outcome.disposition.value} (fix the input above and run it again)")
                progress.update(counts.triaged + counts.invalid)
    except TriageError:
        progress.clear()
        if results is not None and results.kept:
            say(f"the {results.done} results before the error are in {results.kept}")
        raise
    finally:
        progress.clear()
    if not quiet:
        say(f"{counts.triaged} triaged, {counts.invalid} invalid")
    sys.exit(EXIT_INVALID_CASES if counts.invalid else EXIT_OK)
