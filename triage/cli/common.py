"""Options shared by several commands, and the one place errors become exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes of the contract: 0 all triaged, 1 some cases invalid, 2 nothing could run,
#: 130 interrupted (128 + SIGINT, as shells report it).
EXIT_OK, EXIT_INVALID_CASES, EXIT_CANNOT_RUN, EXIT_INTERRUPTED = 0, 1, 2, 130


def rules_option(function: F) -> F:
    """``--rules DIR``: use another knowledge base than the bundled one."""
    return click.option(
        "--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path),
        default=None, metavar="DIR",
        help="Knowledge-base folder (default: the bundled rules/).")(function)


def echo_warning(warning: Any) -> None:
    """Show a library warning (an :class:`~triage.errors.InputWarning`) on stderr."""
    click.echo(f"triage: {warning}", err=True)


def shown_problem(problem: Any) -> Any:
    """A knowledge-base :class:`~triage.errors.Problem` with its file named from the
    knowledge base folder (``rules/questions.yaml``), not the full path of the installed
    package; files elsewhere are shown as given."""
    import dataclasses

    from ..knowledge import default_rules_dir

    file = problem.location.file
    bundled = default_rules_dir()
    if file is None or not Path(file).is_relative_to(bundled):
        return problem
    short = (Path(bundled.name) / Path(file).relative_to(bundled)).as_posix()
    return dataclasses.replace(problem, location=dataclasses.replace(problem.location, file=short))


def load_session(rules_dir: Path | None) -> Any:
    """A triage session on the chosen knowledge base (errors handled by ``reports_errors``)."""
    from ..session import TriageSession

    return TriageSession(rules_dir=rules_dir)


def reports_errors(function: F) -> F:
    """Turn library errors into a message on stderr and the contract's exit code.

    The one place errors become exit codes: a broken knowledge base lists
    every problem (file:line) and exits 2; any other library error is one
    line naming its file, line, case and field where known, exit 2; Ctrl-C
    says how many cases were done and where they are, exit 130.
    """
    from ..errors import InterruptedRun, KnowledgeBaseError, TriageError

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except InterruptedRun as exc:
            click.echo(f"triage: {exc}", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except KnowledgeBaseError as exc:
            for problem in exc.problems:
                click.echo(f"triage: {shown_problem(problem)}", err=True)
            click.echo(f"triage: {exc.message}; nothing was run", err=True)
            sys.exit(EXIT_CANNOT_RUN)
        except TriageError as exc:
            click.echo(f"triage: {exc}", err=True)
            sys.exit(EXIT_CANNOT_RUN)
        except KeyboardInterrupt:
            click.echo("triage: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)

    return wrapper  # type: ignore[return-value]
