"""``triage ask``: the interactive questionnaire in the terminal (or over a pipe).

This module owns the dialogue: :func:`converse` reads typed lines, gives
them to the library's :class:`~triage.questionnaire.Questionnaire` and
writes what it replies, in the words of :mod:`triage.cli.ask_words`. Only
``click`` and the error classes are imported at the top, so that ``triage
--help`` loads neither YAML nor experta; the library is imported when the
command runs.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import Location, TriageError
from .common import (EXIT_CANNOT_RUN, EXIT_INTERRUPTED, EXIT_OK, load_session, reports_errors, rules_option,
                     use_color)

if TYPE_CHECKING:
    from ..kb import Question
    from ..questionnaire import Questionnaire
    from ..results import Recommendation

#: What stops the questions (as Ctrl-C and the end of the input do); a colon, as for :why and :back.
QUIT_WORDS = (":quit", ":q")


@click.command("ask")
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="Write the answers as a YAML case file (kept, marked incomplete, if interrupted).")
@click.option("--format", "-f", "output_format", type=click.Choice(("text", "json")), default="text",
              show_default=True,
              help="text: the result for a person; json: the result in the contract's shape on "
                   "stdout (questions then go to stderr).")
@click.option("--id", "case_id", default=None, metavar="TEXT",
              help="The id of the case (default: ask-<UTC date and time>, unique per run).")
@click.option("--explain", is_flag=True,
              help="End the result with the rules behind it: each rule that fired, its id, "
                   "the answers it used and what it concluded.")
@rules_option
@reports_errors
def ask_command(save: Path | None, output_format: str, case_id: str | None, explain: bool,
                rules_dir: Path | None) -> None:
    """Ask where it hurts, what set it off and which warning signs are present.

    Warning signs come first; an emergency sign stops the questions at once.
    Questions whose answer can no longer change the result are skipped.
    Answer by number, name or words of a choice (1,3 or buttock, knee);
    ? explains a question in plain words (?? or :rules shows the rules that
    use the answer), yes takes a "did you mean", :back returns to the
    previous question, :quit stops. Answers piped in are strict: one that does not fit stops
    the run (exit 2) naming the question and the line. Ctrl-C, :quit or the
    end of the input stops (exit 130).

    The result comes in this order: the headline, what to do now, when to
    get help, why, then the techniques (in a terminal one at a time: Enter
    for the next, q to stop); --explain adds the rules behind it.
    """
    from ..formats import printable
    from ..interrupts import exit_status
    from ..questionnaire import Questionnaire
    from .ask_words import (EXPLAIN_HINT, INTRODUCTION, STAND_OUT, emergency_lines, headline_lines,
                            how_lines, result_lines, skipped_lines, techniques_lines, wrap)

    session = load_session(rules_dir)
    questionnaire = Questionnaire(session, case_id or default_case_id())
    as_json = output_format == "json"
    stdin = sys.stdin
    interactive = stdin.isatty()
    if interactive:
        _enable_line_editing()
    # Wrap for a person at a terminal; a pipe or file gets the lines whole.
    screen = sys.stderr if as_json else sys.stdout
    terminal = screen.isatty()
    width = shutil.get_terminal_size().columns if terminal else 0
    color = use_color(screen)

    def write(text: str, **style: Any) -> None:
        # Answers and ids are echoed back: escape what could drive the terminal.
        shown = printable(text, keep="\n")
        shown = wrap(shown, width) if width else shown
        if style and color:  # styled after escaping, so only our own codes reach the terminal
            shown = click.style(shown, **style)
        click.echo(shown, nl=not text.endswith("> "), err=as_json)

    def read(prompt: str) -> str | None:
        if interactive:
            try:
                if as_json:  # input() would put the prompt on stdout, which holds the JSON
                    write(prompt)
                    return input()
                return input(prompt)  # through readline: line editing and history
            except EOFError:
                return None
        write(prompt)
        line = stdin.readline()
        if not line:
            return None
        write(line.rstrip("\r\n"))  # echo piped answers so the transcript reads naturally
        return line.rstrip("\r\n")

    write("\n".join(INTRODUCTION))
    try:
        converse(questionnaire, read, write, strict=not interactive, source="stdin")
    except (Interrupted, KeyboardInterrupt) as exc:
        write("")
        _save_incomplete(save, questionnaire)
        click.echo("triage: stopped before the end; no result", err=True)
        sys.exit(exit_status(exc) if isinstance(exc, KeyboardInterrupt) else EXIT_INTERRUPTED)
    except AnswerError as exc:
        write("")
        click.echo(f"triage: {printable(str(exc))}", err=True)
        _save_incomplete(save, questionnaire)
        click.echo("triage: piped answers must each fit their question; no result", err=True)
        sys.exit(EXIT_CANNOT_RUN)

    result = questionnaire.result()
    # Saved (and the JSON written) before the result is shown, so that paging
    # through the techniques, or stopping there, can lose nothing.
    if save is not None:
        _save(save, questionnaire)
        click.echo(f"triage: answers saved to {save}", err=True)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    stands_out = result.disposition in STAND_OUT
    write("\n".join(headline_lines(result, width)), bold=True, fg="red" if stands_out else None)
    if questionnaire.emergency:
        write("\n".join(emergency_lines(result)))
    else:
        write("\n".join(result_lines(result, session.kb)))
        if interactive and terminal:
            page_techniques(result.recommendations, read, write)
        elif result.recommendations:
            write("\n".join(techniques_lines(result.recommendations)))
        write("\n".join(skipped_lines(questionnaire.skipped, questionnaire.questions)))
    if explain:
        write("\n".join(how_lines(result, session.kb)))
    elif not questionnaire.emergency:  # an emergency ends on what to do, nothing after it
        write("\n" + EXPLAIN_HINT)
    sys.exit(EXIT_OK)


def page_techniques(recommendations: tuple[Recommendation, ...], read: Callable[[str], str | None],
                    write: Callable[[str], None]) -> None:
    """The techniques one page at a time: Enter shows the next; q, :quit or the end of the input stops.

    Each page fits a 24-line terminal, so a person follows one technique
    with its cautions in view rather than scrolling back through all of them.
    """
    from .ask_words import technique_page

    for number, technique in enumerate(recommendations, start=1):
        write("\n".join(technique_page(technique, number, len(recommendations))))
        if number == len(recommendations):
            return
        typed = read("Press Enter for the next technique, q to stop > ")
        if typed is None or typed.strip().lower() in ("q", *QUIT_WORDS):
            write(f"({len(recommendations) - number} more not shown.)")
            return


class Interrupted(Exception):
    """The input ended (end of file), or ``:quit`` was typed, before the questionnaire finished."""


class AnswerError(TriageError):
    """A piped (non-interactive) answer that does not fit its question: the run stops.

    Carries the input line and the question, so the script can be fixed
    rather than every later line landing on the wrong question.
    """

    def __init__(self, reason: str, question: Question, number: int, source: str, line: int) -> None:
        from .ask_words import first_sentence

        super().__init__(f"the answer on line {line} does not fit question {number} "
                         f"(\"{first_sentence(question.text)}\", {question.id}): {reason}",
                         Location(source, line, field=question.field))
        self.question = question


def converse(questionnaire: Questionnaire, read: Callable[[str], str | None],
             write: Callable[[str], None], *, strict: bool = False, source: str = "stdin") -> None:
    """Ask until the questionnaire finishes, reading lines and writing text.

    ``read(prompt)`` shows ``prompt`` and returns the next typed line, or
    ``None`` at the end of the input, which raises :class:`Interrupted` (the
    answers so far stay on the questionnaire), as does ``:quit``. With
    ``strict`` (answers piped from ``source``, nobody to ask again) an answer
    that does not fit raises :class:`AnswerError` naming the question and
    the line instead of being asked again. The command line, a pipe and a
    test drive the questionnaire the same way through it.
    """
    from ..questionnaire import Outcome
    from .ask_words import question_lines, reply_lines

    shown: str | None = None
    line_number = 0
    while questionnaire.current is not None:
        question = questionnaire.current
        if shown != question.id:
            write("\n".join(question_lines(question, questionnaire.position)))
            shown = question.id
        line = read("> ")
        if line is None:
            raise Interrupted("the input ended before the last question")
        line_number += 1
        if line.strip().lower() in QUIT_WORDS:
            raise Interrupted("stopped at your request")
        reply = questionnaire.respond(line)
        if strict and reply.outcome is Outcome.INVALID:
            raise AnswerError(str(reply.reason), question, questionnaire.position, source, line_number)
        said = reply_lines(reply, questionnaire.kb, question)
        if said:
            write("\n".join(said))


def default_case_id(now: datetime | None = None) -> str:
    """``ask-`` and the UTC date and time to the millisecond, so saved answers never share an id."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"ask-{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z"


def _enable_line_editing() -> None:
    """Line editing and history for input() through the standard library's readline.

    Not on every platform (Windows has none): then input() still works,
    without editing. History stays in memory; answers about health are never
    written to a history file.
    """
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (importing it is what turns line editing on)


def _save_incomplete(save: Path | None, questionnaire: Questionnaire) -> None:
    if save is not None:
        _save(save, questionnaire, "interrupted")
        click.echo(f"triage: answers so far saved to {save} (marked incomplete)", err=True)


def _save(path: Path, questionnaire: Questionnaire, why: str = "not finished") -> None:
    """Write the answers as a YAML case file (marked ``complete: false`` when not finished)."""
    from ..api import answers_file

    path.write_text(answers_file(questionnaire, why), encoding="utf-8")
