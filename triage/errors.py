"""One exception hierarchy; every error carries where it happened.

The library raises these and never prints; the CLI turns them into messages
and exit codes in one place (``triage.cli.common.reports_errors``). Warnings
about input are data too (:class:`InputWarning`), handed to a callback for the
caller to show; a warning about the library's own set-up is a Python warning
(:class:`TriageWarning`), which the CLI shows as one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Location:
    """Where a problem is: file, line (1-based) where known, case id, field."""

    file: str | None = None
    line: int | None = None
    case: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        place = self.file or "<input>"
        if self.line is not None:
            place += f":{self.line}"
        parts = [place]
        if self.case is not None:
            parts.append(f"case {self.case!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


class TriageError(Exception):
    """Base of every error the triage library raises on purpose."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class InputFileError(TriageError):
    """A case file cannot be read or parsed at all (nothing in it can run)."""


class OutputFileError(TriageError):
    """The results cannot be written where they were asked to go.

    ``errno`` is the operating system's error number, when there was one
    (``EPIPE``: the reader of a pipe has gone).
    """

    def __init__(self, message: str, location: Location | None = None,
                 errno: int | None = None) -> None:
        super().__init__(message, location)
        self.errno = errno


class WorkerError(TriageError):
    """A worker process died twice on the same cases (killed, or out of memory)."""

    def __str__(self) -> str:
        return self.message


class InterruptedRun(TriageError):
    """The run was interrupted (Ctrl-C, SIGTERM, SIGHUP); ``done`` cases were written.

    ``partial`` is the file holding those results (only complete records), or
    ``None`` when they went to standard output. ``signum`` is the signal
    (SIGINT for Ctrl-C); the command exits with 128 + ``signum``.
    """

    def __init__(self, done: int, partial: str | None, signum: int = 2) -> None:
        noun = "case was" if done == 1 else "cases were"
        kept = f"; the results so far are in {partial}" if partial else ""
        super().__init__(f"interrupted: {done} {noun} done{kept}", Location(partial))
        self.done = done
        self.partial = partial
        self.signum = signum

    def __str__(self) -> str:
        return self.message


class CaseError(TriageError):
    """One case is invalid; the other cases of the batch still run.

    The error describes the case's first problem; ``more`` holds the others
    found in the same case, so one round of fixing can mend them all.
    """

    def __init__(self, message: str, location: Location, value: object = None,
                 allowed: str | None = None, suggestion: str | None = None,
                 more: tuple[CaseError, ...] = ()) -> None:
        super().__init__(message, location)
        self.value = value
        self.allowed = allowed
        self.suggestion = suggestion
        self.more = more
        #: For a list field: the values that did parse beside the bad ones.
        self.kept: frozenset[str] = frozenset()
        #: The case built from every field that parsed (bad fields left unanswered),
        #: which is still triaged (policy v3, principle 9); set by the case parser.
        self.partial: Any = None
        #: False when the only problems are screens left out, which are read as not
        #: screened: the case is then triaged (see_doctor at least) with its errors.
        self.blocking: bool = True

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to --workers processes: rebuilt from its arguments, then its state.
        return (_rebuild_case_error, (self.message, self.location), self.__dict__)

    @property
    def all(self) -> tuple[CaseError, ...]:
        """Every problem of the case, the first one first."""
        return (self, *self.more)


def _rebuild_case_error(message: str, location: Location) -> CaseError:
    return CaseError(message, location)


class TriageWarning(UserWarning):
    """Base of the Python warnings the triage library issues (``warnings.warn``)."""


class CaseFileWarning(TriageWarning):
    """Something forgiven while reading a case file through the Python API (an :class:`InputWarning`)."""


class ExpertaVersionWarning(TriageWarning):
    """The installed experta is not the one the fast engine was proven on: the plain one runs."""


@dataclass(frozen=True)
class InputWarning:
    """Something suspicious in the input that does not stop any case (e.g. a duplicate id)."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: warning: {self.message}"


@dataclass(frozen=True)
class Problem:
    """One finding about the knowledge base (an error or a lint warning)."""

    location: Location
    message: str
    severity: str = "error"
    check: str = "load"

    def __str__(self) -> str:
        return f"{self.location}: [{self.severity}] {self.message} ({self.check})"


class KnowledgeBaseError(TriageError):
    """The knowledge base is broken; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        first = self.problems[0].location if self.problems else Location()
        super().__init__(f"the knowledge base has {len(self.problems)} {noun}", first)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)
