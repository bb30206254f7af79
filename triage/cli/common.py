"""Options shared by several commands, and the one place errors become exit codes."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import TriageWarning
from ..interrupts import exit_status, install

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes of the contract: 0 all triaged, 1 some cases invalid, 2 nothing could run,
#: 130 interrupted (128 + SIGINT, as shells report it; SIGTERM 143, SIGHUP 129).
EXIT_OK, EXIT_INVALID_CASES, EXIT_CANNOT_RUN, EXIT_INTERRUPTED = 0, 1, 2, 130
#: The reader of standard output went away (128 + SIGPIPE, as a tool killed by it reports).
EXIT_PIPE_CLOSED = 141


def rules_option(function: F) -> F:
    """``--rules DIR``: use another knowledge base than the bundled one."""
    return click.option(
        "--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path),
        default=None, metavar="DIR",
        help="Knowledge-base folder (default: the bundled rules/).")(function)


def echo_warning(warning: Any) -> None:
    """Show a library warning (an :class:`~triage.errors.InputWarning`) on stderr."""
    click.echo(f"triage: {warning}", err=True)


@contextlib.contextmanager
def library_warnings_as_lines() -> Iterator[None]:
    """Show the library's Python warnings (:class:`~triage.errors.TriageWarning`) as
    ``triage: warning: message``, one line on stderr, instead of Python's file,
    line and source dump; other warnings are shown as Python would."""
    with warnings.catch_warnings():
        python_way = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
            if issubclass(category, TriageWarning):
                say(f"warning: {message}")
            else:
                python_way(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def shown_problem(problem: Any) -> Any:
    """A knowledge-base :class:`~triage.errors.Problem` with its file named from the
    knowledge base folder (``rules/questions.yaml``), not the full path of the installed
    package; files elsewhere are shown as given."""
    import dataclasses

    from ..kb import default_rules_dir

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
    from ..errors import InterruptedRun, KnowledgeBaseError, OutputFileError, TriageError

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except InterruptedRun as exc:
            say(str(exc))
            sys.exit(128 + exc.signum)
        except KnowledgeBaseError as exc:
            for problem in exc.problems:
                say(shown_problem(problem))
            say(f"{exc.message}; nothing was run")
            sys.exit(EXIT_CANNOT_RUN)
        except OutputFileError as exc:
            if exc.errno == errno.EPIPE:
                # The reader left (| head): command-line tools end quietly.
                _discard_stdout()
                sys.exit(EXIT_PIPE_CLOSED)
            if exc.location.file == "standard output":
                _discard_stdout()
            say(str(exc))
            sys.exit(EXIT_CANNOT_RUN)
        except TriageError as exc:
            say(str(exc))
            sys.exit(EXIT_CANNOT_RUN)
        except KeyboardInterrupt as exc:
            say("interrupted")
            sys.exit(exit_status(exc))

    return wrapper  # type: ignore[return-value]


def say(message: str) -> None:
    """One line on stderr, ``triage: message``; a closed stderr is no reason to fail."""
    with contextlib.suppress(OSError, ValueError):
        click.echo(f"triage: {message}", err=True)


def _discard_stdout() -> None:
    """Point standard output at /dev/null, so what is still buffered cannot fail again at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _flush_stdout() -> int | None:
    """Flush standard output now; the exit status if that fails (full disk, closed pipe)."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        _discard_stdout()
        if exc.errno == errno.EPIPE:
            return EXIT_PIPE_CLOSED
        say(f"standard output: cannot write: {exc.strerror or exc}")
        return EXIT_CANNOT_RUN
    except (ValueError, AttributeError):
        pass  # closed or replaced (a test runner's capture)
    return None


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (a test runner's capture is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def use_color(stream: Any) -> bool:
    """Colour on a terminal, unless NO_COLOR is set (https://no-color.org) or TERM is dumb."""
    return (is_terminal(stream) and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def terminal_width(stream: Any) -> int | None:
    """The width of the terminal ``stream`` writes to; None when it is not a terminal."""
    if not is_terminal(stream):
        return None
    return shutil.get_terminal_size().columns


class TriageGroup(click.Group):
    """The ``triage`` group, which owns the exit status at every moment.

    Stop signals (Ctrl-C, SIGTERM, SIGHUP) end the run with 128 + the signal,
    wherever they arrive; a closed pipe on standard output ends quietly with
    141; a full disk is one line and exit 2; never a traceback.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        restore = install()
        try:
            with library_warnings_as_lines():
                status = self._run(args, prog_name, complete_var, **extra)
            final = _flush_stdout()
            sys.exit(final if final is not None and status in (EXIT_OK, EXIT_INVALID_CASES) else status)
        finally:
            restore()

    def _run(self, args: Sequence[str] | None, prog_name: str | None, complete_var: str | None,
             **extra: Any) -> int:
        try:
            super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            return EXIT_OK
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except click.exceptions.Exit as exc:
            return exc.exit_code
        except click.exceptions.Abort as exc:
            # click turns Ctrl-C while it parses the options into Abort.
            say("interrupted")
            return exit_status(exc.__cause__ or exc.__context__)
        except click.ClickException as exc:
            exc.show()
            return exc.exit_code
        except KeyboardInterrupt as exc:
            say("interrupted")
            return exit_status(exc)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                _discard_stdout()
                return EXIT_PIPE_CLOSED
            _discard_stdout()
            say(f"cannot write the output: {exc.strerror or exc}")
            return EXIT_CANNOT_RUN
