"""Where results go: standard output, or a file that is never left half-written.

``open_output`` gives a :class:`ResultOutput` that writes outcomes in one
format and counts them; a record is written whole or not at all, even when a
stop signal arrives in the middle (:func:`~triage.interrupts.deferred`). With a
file, results go to a temporary file beside it that is renamed into place only
when the run finishes, so ``FILE`` is either complete or untouched. On Ctrl-C,
SIGTERM or SIGHUP the results so far are kept as ``FILE.partial``, holding
only complete records (and a well-formed document: a JSON or YAML list is
closed), and :class:`~triage.errors.InterruptedRun` says how many cases were
done; so does any other error of the run (a later input file that cannot be
read, a worker that keeps dying), the file's name then in
:attr:`ResultOutput.kept`. A failure to write removes the temporary file.

``--output`` never destroys: a file that is one of the inputs (standard input
included) is refused; a FIFO or a character device (``/dev/null``, a
terminal) is written directly, never replaced; a symbolic link is followed,
so the file it points to is replaced and the link stays.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from .errors import CaseError, InterruptedRun, Location, OutputFileError, TriageError
from .formats import make_writer
from .interrupts import at_forced_exit, deferred, shielded, signal_number
from .results import ErrorRecord, Outcome

PARTIAL_SUFFIX = ".partial"


class ResultOutput:
    """Writes outcomes one at a time in one format; ``done`` counts complete records."""

    def __init__(self, fmt: str, stream: IO[str], name: str, raw: BinaryIO | None = None,
                 width: int | None = None, color: bool = False) -> None:
        self._name = name
        self._stream = stream
        #: The file's bytes (None for a stream), to cut it back to complete records.
        self.raw = raw
        try:
            self._writer = make_writer(fmt, stream, width=width, color=color)  # a header, for some
        except OSError as exc:
            raise _write_error(exc, name) from None
        #: Where the complete results were kept when the run failed (``FILE.partial``).
        self.kept: str | None = None
        # (records done, bytes they fill) change together in one assignment, so
        # an interrupt can never see one updated without the other.
        self._mark = (0, self._commit())

    @property
    def done(self) -> int:
        """How many outcomes have been written completely."""
        return self._mark[0]

    def write(self, outcome: Outcome) -> None:
        """Write one outcome; once this returns, the record is complete on disk.

        A stop signal arriving meanwhile takes effect once the record is
        written. An outcome holding text that UTF-8 cannot encode (a lone
        surrogate) becomes an error record for that case.
        """
        with deferred():
            try:
                try:
                    self._writer.write(outcome)
                except UnicodeEncodeError:
                    # Every writer encodes a record in one piece, so nothing was written.
                    self._writer.write(_unwritable(outcome))
                self._mark = (self._mark[0] + 1, self._commit())
            except OSError as exc:
                raise _write_error(exc, self._name) from None

    def _commit(self) -> int:
        """Flush and return how many bytes of the file hold complete records."""
        if self.raw is None:
            return 0
        self._stream.flush()
        return self.raw.tell()

    def finish(self) -> None:
        """Finish the document (closing brackets and the like) and flush it."""
        try:
            self._writer.close()
            self._stream.flush()
        except OSError as exc:
            raise _write_error(exc, self._name) from None

    def cut_to_complete(self) -> None:
        """Drop anything after the last complete record, then finish the document."""
        if self.raw is None:
            return
        # A record being written when the interrupt came may be half in the
        # text buffer and half on disk: flush it, then cut the file back.
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()
        done, committed = self._mark
        self.raw.truncate(committed)
        self.raw.seek(committed)
        self._writer.count = done
        self.finish()


def _write_error(exc: OSError, name: str) -> OutputFileError:
    return OutputFileError(f"cannot write the results: {exc.strerror or exc}", Location(name),
                           errno=exc.errno)


def _escaped(text: str) -> str:
    """``text`` with anything UTF-8 cannot encode shown as a backslash escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _unwritable(outcome: Outcome) -> ErrorRecord:
    case_id = _escaped(outcome.id)
    return ErrorRecord(case_id, CaseError(
        "the case holds text that cannot be written as UTF-8 (a lone surrogate)",
        Location(case=case_id)))


@contextlib.contextmanager
def open_output(path: Path | None, fmt: str, inputs: Iterable[str] = (),
                stdout: IO[str] | None = None, width: int | None = None,
                color: bool = False) -> Iterator[ResultOutput]:
    """Results in ``fmt`` to ``path`` (atomically), or to ``stdout`` when ``path`` is None.

    ``inputs`` are the case files (``-`` = standard input): writing over one
    of them is refused, so input files are never modified. ``width`` and
    ``color`` are for the table. Raises :class:`OutputFileError` when the
    file cannot be written and :class:`InterruptedRun` on a stop signal.
    """
    if path is None:
        yield from _to_stream(fmt, stdout if stdout is not None else sys.stdout, "standard output",
                              width, color)
        return
    special = _is_special(path)
    _refuse_inputs(path, inputs)
    if special:
        yield from _to_special(path, fmt)
    else:
        yield from _to_file(Path(os.path.realpath(path)), fmt)


def _is_special(path: Path) -> bool:
    """True for a FIFO or character device (written directly), False for a new or regular file."""
    where = Location(str(path))
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False  # a new file (or the missing target of a symbolic link)
    except OSError as exc:
        raise OutputFileError(f"cannot write the results here: {exc.strerror or exc}", where) from None
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return True
    if stat.S_ISDIR(mode):
        raise OutputFileError("is a directory", where)
    if not stat.S_ISREG(mode):
        raise OutputFileError("is not a regular file, a FIFO or a character device; "
                              "results are not written there", where)
    return False


def _to_stream(fmt: str, stream: IO[str], name: str, width: int | None = None,
               color: bool = False) -> Iterator[ResultOutput]:
    output = ResultOutput(fmt, stream, name, width=width, color=color)
    try:
        yield output
        output.finish()
    except KeyboardInterrupt as exc:
        with shielded(), contextlib.suppress(OSError, ValueError):
            stream.flush()
        raise InterruptedRun(output.done, None, signal_number(exc)) from None


def _to_special(path: Path, fmt: str) -> Iterator[ResultOutput]:
    """A FIFO or a device: written as it comes, like standard output, and never replaced."""
    try:
        # Opening a FIFO waits for its reader; a stop signal ends the wait.
        stream = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed below)
    except KeyboardInterrupt as exc:
        raise InterruptedRun(0, None, signal_number(exc)) from None
    except OSError as exc:
        raise OutputFileError(f"cannot write the results here: {exc.strerror or exc}",
                              Location(str(path)), errno=exc.errno) from None
    try:
        yield from _to_stream(fmt, stream, str(path))
    finally:
        with shielded(), contextlib.suppress(OSError, ValueError):
            stream.close()


def _to_file(path: Path, fmt: str) -> Iterator[ResultOutput]:
    where = Location(str(path))
    output: ResultOutput | None = None
    temporary: str | None = None
    stream: IO[str] | None = None
    forget: Callable[[], object] | None = None
    try:
        # A stop signal must not come between creating the temporary file and
        # knowing its name: it would be left behind.
        with deferred():
            try:
                fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                                 suffix=".tmp")
            except OSError as exc:
                raise OutputFileError(f"cannot write the results here: {exc.strerror or exc}",
                                      where) from None
            # A third stop signal leaves at once; the temporary file goes with it.
            forget = at_forced_exit(functools.partial(os.remove, temporary))
            raw = os.fdopen(fd, "w+b")
            stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            output = ResultOutput(fmt, stream, str(path), raw)
        yield output
        with shielded():
            output.finish()
            _move(stream, raw, temporary, path)
    except KeyboardInterrupt as exc:
        with shielded():
            partial = _keep_or_discard(output, stream, temporary, path)
        raise InterruptedRun(output.done if output else 0, partial, signal_number(exc)) from None
    except OutputFileError:
        with shielded():
            _discard(stream, temporary)
        raise
    except TriageError:
        with shielded():
            if output is not None:
                output.kept = _keep_or_discard(output, stream, temporary, path)
            else:
                _discard(stream, temporary)
        raise
    except BaseException:
        _discard(stream, temporary)
        raise
    finally:
        if forget is not None:
            forget()


def _keep_or_discard(output: ResultOutput | None, stream: IO[str] | None, temporary: str | None,
                     path: Path) -> str | None:
    """Rename what is complete to ``FILE.partial``; nothing is kept if nothing was done."""
    if output is None or stream is None or temporary is None or output.done == 0:
        _discard(stream, temporary)
        return None
    partial = Path(str(path) + PARTIAL_SUFFIX)
    try:
        output.cut_to_complete()
        _move(stream, output.raw, temporary, partial)
    except OutputFileError:
        _discard(stream, temporary)
        raise
    return str(partial)


def _move(stream: IO[str], raw: BinaryIO, temporary: str, path: Path) -> None:
    """Make the temporary file durable, then rename it to ``path`` in one step."""
    try:
        stream.flush()
        os.fsync(raw.fileno())
        stream.close()
        os.chmod(temporary, _new_file_mode(path))
        os.replace(temporary, path)
    except OSError as exc:
        raise OutputFileError(f"cannot write the results: {exc.strerror or exc}",
                              Location(str(path))) from None


def _discard(stream: IO[str] | None, temporary: str | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError, ValueError):
            stream.close()
    if temporary is not None:
        with contextlib.suppress(OSError):
            os.remove(temporary)


def _refuse_inputs(path: Path, inputs: Iterable[str]) -> None:
    """Refuse an output that is one of the inputs (``-``: the file standard input reads)."""
    try:
        out = os.stat(path)
    except OSError:
        return  # not there yet: it cannot be an input
    if stat.S_ISCHR(out.st_mode):
        return  # a terminal or /dev/null may be read and written alike
    for name in inputs:
        try:
            given = os.fstat(sys.stdin.fileno()) if name == "-" else os.stat(name)
        except (OSError, ValueError, AttributeError):
            continue
        if (given.st_dev, given.st_ino) == (out.st_dev, out.st_ino):
            what = "standard input" if name == "-" else "one of the case files"
            raise OutputFileError(f"is {what}; input files are never overwritten",
                                  Location(str(path)))


def _new_file_mode(path: Path) -> int:
    """Keep the mode of the file being replaced; a new file gets the usual one."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
