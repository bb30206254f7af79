"""Batch triage: many case files in, one outcome per case out, in input order."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from .casefiles import CaseIds, CaseRecord, CsvOptions, check_readable, read_cases
from .errors import InputWarning
from .kb.model import Question
from .results import ErrorRecord, Outcome
from .vocabulary import Vocabulary


@dataclass
class BatchCounts:
    """How many cases were triaged and how many were invalid.

    A case triaged despite a bad field (policy v3, principle 9) counts in
    both: it has a result, and its input still needs mending.
    """

    triaged: int = 0
    invalid: int = 0

    def add(self, outcome: Outcome) -> None:
        if isinstance(outcome, ErrorRecord):
            self.invalid += 1
            return
        self.triaged += 1
        if outcome.errors:
            self.invalid += 1


@dataclass
class ReadProgress:
    """How far reading the input has gone, for a progress display.

    ``total_bytes`` is the size of all the files, or None when one of them is
    not a regular file (standard input, a pipe): then no total is known.
    ``records`` counts the cases read so far.
    """

    total_bytes: int | None = None
    records: int = 0
    _done_bytes: int = 0
    _current: IO[str] | None = field(default=None, repr=False)

    def opened(self, stream: IO[str]) -> None:
        """A new file is being read (the previous one is finished)."""
        self._done_bytes += self._position()
        self._current = stream

    def _position(self) -> int:
        buffer = getattr(self._current, "buffer", None)
        try:
            return int(buffer.tell()) if buffer is not None else 0
        except (OSError, ValueError):
            return 0

    @property
    def fraction(self) -> float | None:
        """The share of the input read so far (0 to 1), if the total is known."""
        if not self.total_bytes:
            return None
        return min(1.0, (self._done_bytes + self._position()) / self.total_bytes)

    def estimated_total(self) -> int | None:
        """About how many cases the whole input holds, once a little has been read."""
        fraction = self.fraction
        if fraction is None or fraction <= 0 or self.records == 0:
            return None
        return max(self.records, round(self.records / fraction))


def _total_bytes(paths: list[str]) -> int | None:
    total = 0
    for path in paths:
        try:
            info = os.stat(path) if path != "-" else None
        except OSError:
            return None
        if info is None or not stat.S_ISREG(info.st_mode):
            return None
        total += info.st_size
    return total


def read_all(paths: Iterable[str], vocabulary: Vocabulary, input_format: str = "auto",
             stdin: IO[str] | None = None,
             on_warning: Callable[[InputWarning], None] | None = None,
             csv_options: CsvOptions | None = None,
             progress: ReadProgress | None = None,
             questions: tuple[Question, ...] = ()) -> Iterator[CaseRecord]:
    """The cases of every file in turn, checked against ``vocabulary``; every file is checked
    for readability before the first is read.

    ``on_warning`` receives warnings such as a case id used twice (both kept)
    or a value read in the vocabulary's spelling; ``csv_options`` says how to
    read CSV files; ``progress``, if given, is kept up to date with how much
    has been read; ``questions`` (the knowledge base's) read FHIR QuestionnaireResponses.
    """
    paths = list(paths)
    for path in paths:
        check_readable(path)
    ids = CaseIds(on_warning) if on_warning is not None else None
    if progress is not None:
        progress.total_bytes = _total_bytes(paths)
    for path in paths:
        opened = progress.opened if progress is not None else None
        for record in read_cases(path, vocabulary, input_format, stdin, ids, on_warning=on_warning,
                                 csv_options=csv_options, on_open=opened, questions=questions):
            if progress is not None:
                progress.records += 1
            yield record
