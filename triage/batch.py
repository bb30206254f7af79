"""Batch triage: many case files in, one outcome per case out, in input order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from .casefiles import CaseIds, CaseRecord, CsvOptions, check_readable, read_cases
from .errors import InputWarning
from .results import ErrorRecord, Outcome
from .vocabulary import Vocabulary


@dataclass
class BatchCounts:
    """How many cases were triaged and how many were invalid."""

    triaged: int = 0
    invalid: int = 0

    def add(self, outcome: Outcome) -> None:
        if isinstance(outcome, ErrorRecord):
            self.invalid += 1
        else:
            self.triaged += 1


def read_all(paths: Iterable[str], vocabulary: Vocabulary, input_format: str = "auto",
             stdin: IO[str] | None = None,
             on_warning: Callable[[InputWarning], None] | None = None,
             csv_options: CsvOptions | None = None) -> Iterator[CaseRecord]:
    """The cases of every file in turn, checked against ``vocabulary``; every file is checked
    for readability before the first is read.

    ``on_warning`` receives warnings such as a case id used twice (both kept)
    or a value read in the vocabulary's spelling; ``csv_options`` says how to
    read CSV files.
    """
    paths = list(paths)
    for path in paths:
        check_readable(path)
    ids = CaseIds(on_warning) if on_warning is not None else None
    for path in paths:
        yield from read_cases(path, vocabulary, input_format, stdin, ids, on_warning=on_warning,
                              csv_options=csv_options)
