"""Where results go: standard output, or a file that is never left half-written.

``open_output`` gives a :class:`ResultOutput` that writes outcomes in one
format and counts them. With a file, results go to a temporary file beside it
that is renamed into place only when the run finishes, so ``FILE`` is either
complete or untouched. On Ctrl-C the results so far are kept as
``FILE.partial``, holding only complete records (and a well-formed document:
a JSON or YAML list is closed), and :class:`~triage.errors.InterruptedRun`
says how many cases were done. Any other failure removes the temporary file.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, BinaryIO

from .errors import InterruptedRun, Location, OutputFileError
from .formats import make_writer
from .results import Outcome

PARTIAL_SUFFIX = ".partial"


class ResultOutput:
    """Writes outcomes one at a time in one format; ``done`` counts complete records."""

    def __init__(self, fmt: str, stream: IO[str], name: str, raw: BinaryIO | None = None) -> None:
        self._name = name
        self._stream = stream
        self._raw = raw
        self._writer = make_writer(fmt, stream)
        # (records done, bytes they fill) change together in one assignment, so
        # an interrupt can never see one updated without the other.
        self._mark = (0, self._commit())

    @property
    def done(self) -> int:
        """How many outcomes have been written completely."""
        return self._mark[0]

    def write(self, outcome: Outcome) -> None:
        """Write one outcome; once this returns, the record is complete on disk."""
        try:
            self._writer.write(outcome)
            self._mark = (self._mark[0] + 1, self._commit())
        except OSError as exc:
            raise OutputFileError(f"cannot write the results: {exc.strerror or exc}",
                                  Location(self._name)) from None

    def _commit(self) -> int:
        """Flush and return how many bytes of the file hold complete records."""
        if self._raw is None:
            return 0
        self._stream.flush()
        return self._raw.tell()

    def finish(self) -> None:
        """Finish the document (closing brackets and the like) and flush it."""
        try:
            self._writer.close()
            self._stream.flush()
        except OSError as exc:
            raise OutputFileError(f"cannot write the results: {exc.strerror or exc}",
                                  Location(self._name)) from None

    def cut_to_complete(self) -> None:
        """Drop anything after the last complete record, then finish the document."""
        if self._raw is None:
            return
        # A record being written when the interrupt came may be half in the
        # text buffer and half on disk: flush it, then cut the file back.
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()
        done, committed = self._mark
        self._raw.truncate(committed)
        self._raw.seek(committed)
        self._writer.count = done
        self.finish()


@contextlib.contextmanager
def open_output(path: Path | None, fmt: str, inputs: Iterable[str] = (),
                stdout: IO[str] | None = None) -> Iterator[ResultOutput]:
    """Results in ``fmt`` to ``path`` (atomically), or to ``stdout`` when ``path`` is None.

    ``inputs`` are the case files: writing over one of them is refused, so
    input files are never modified. Raises :class:`OutputFileError` when the
    file cannot be written and :class:`InterruptedRun` on Ctrl-C.
    """
    if path is None:
        yield from _to_stream(fmt, stdout if stdout is not None else sys.stdout)
    else:
        _refuse_inputs(path, inputs)
        yield from _to_file(path, fmt)


def _to_stream(fmt: str, stream: IO[str]) -> Iterator[ResultOutput]:
    output = ResultOutput(fmt, stream, "standard output")
    try:
        yield output
        output.finish()
    except KeyboardInterrupt:
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
        raise InterruptedRun(output.done, None) from None


def _to_file(path: Path, fmt: str) -> Iterator[ResultOutput]:
    where = Location(str(path))
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputFileError(f"cannot write the results here: {exc.strerror or exc}", where) from None
    raw = os.fdopen(fd, "w+b")
    stream = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    try:
        output = ResultOutput(fmt, stream, str(path), raw)
    except BaseException:
        _discard(stream, temporary)
        raise
    try:
        yield output
        with _interrupts_ignored():
            output.finish()
            _move(stream, raw, temporary, path)
    except KeyboardInterrupt:
        with _interrupts_ignored():
            try:
                partial = _keep_partial(output, stream, raw, temporary, path)
            except OutputFileError:
                _discard(stream, temporary)
                raise
        raise InterruptedRun(output.done, partial) from None
    except BaseException:
        _discard(stream, temporary)
        raise


def _keep_partial(output: ResultOutput, stream: IO[str], raw: BinaryIO,
                  temporary: str, path: Path) -> str | None:
    """Rename what is complete to ``FILE.partial``; nothing is kept if nothing was done."""
    if output.done == 0:
        _discard(stream, temporary)
        return None
    partial = Path(str(path) + PARTIAL_SUFFIX)
    output.cut_to_complete()
    _move(stream, raw, temporary, partial)
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


def _discard(stream: IO[str], temporary: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.close()
    with contextlib.suppress(OSError):
        os.remove(temporary)


def _refuse_inputs(path: Path, inputs: Iterable[str]) -> None:
    for name in inputs:
        if name != "-" and os.path.exists(name) and path.exists() and os.path.samefile(name, path):
            raise OutputFileError("is one of the case files; input files are never overwritten",
                                  Location(str(path)))


def _new_file_mode(path: Path) -> int:
    """Keep the mode of the file being replaced; a new file gets the usual one."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """A second Ctrl-C must not stop the partial file from being saved."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
