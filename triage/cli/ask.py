"""``triage ask``: the interactive questionnaire in the terminal (or over a pipe)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .common import EXIT_INTERRUPTED, EXIT_OK, load_session, reports_errors, rules_option


@click.command("ask")
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Write the answers as a YAML case file (kept, marked incomplete, if interrupted).")
@click.option("--format", "-f", "output_format", type=click.Choice(("text", "json")), default="text",
              show_default=True,
              help="text: the result for a person; json: the result in the contract's shape on "
                   "stdout (questions then go to stderr).")
@click.option("--id", "case_id", default="ask", show_default=True, help="The id of the case.")
@rules_option
@reports_errors
def ask_command(save: Path | None, output_format: str, case_id: str, rules_dir: Path | None) -> None:
    """Ask where it hurts, what set it off and which warning signs are present.

    Warning signs come first; an emergency sign stops the questions at once.
    Questions whose answer can no longer change the result are skipped.
    Answer by number or name (1,3 or buttock, knee); ? explains a question,
    back returns to the previous one. Reads any input, so answers can be
    piped in. Ctrl-C or the end of the input stops (exit 130).
    """
    from ..api import answers_file, incomplete_note
    from ..questionnaire import (INTRODUCTION, Interrupted, Questionnaire, converse,
                                 emergency_lines, how_lines, result_lines, skipped_lines)

    session = load_session(rules_dir)
    questionnaire = Questionnaire(session, case_id)
    as_json = output_format == "json"
    stdin = sys.stdin

    def write(text: str) -> None:
        click.echo(text, nl=not text.endswith("> "), err=as_json)

    def read() -> str | None:
        line = stdin.readline()
        if not line:
            return None
        if not stdin.isatty():
            write(line.rstrip("\n"))  # echo piped answers so the transcript reads naturally
        return line.rstrip("\r\n")

    write("\n".join(INTRODUCTION))
    try:
        converse(questionnaire, read, write)
    except (Interrupted, KeyboardInterrupt):
        write("")
        if save is not None:
            _save(save, questionnaire.case_dict(), incomplete_note(questionnaire))
            click.echo(f"triage: answers so far saved to {save} (marked incomplete)", err=True)
        click.echo("triage: stopped before the end; no result", err=True)
        sys.exit(EXIT_INTERRUPTED)

    result = questionnaire.result()
    if questionnaire.emergency:
        write("\n".join(emergency_lines(result)))
    else:
        write("\n".join(result_lines(result, session.kb) + skipped_lines(questionnaire.skipped)
                        + how_lines(result, session.kb)))
    if save is not None:
        save.write_text(answers_file(questionnaire), encoding="utf-8")
        click.echo(f"triage: answers saved to {save}", err=True)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    sys.exit(EXIT_OK)


def _save(path: Path, case: dict[str, Any], note: list[str]) -> None:
    """Write ``case`` as a YAML case file, with ``note`` as a comment header."""
    from ..api import answers_yaml

    path.write_text(answers_yaml(case, note), encoding="utf-8")
