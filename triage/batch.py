"""Batch triage: many case files in, one outcome per case out, in input order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from .casefiles import CaseRecord, check_readable, read_cases
from .results import ErrorRecord, Outcome
from .session import TriageSession


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


def read_all(paths: Iterable[str], input_format: str = "auto",
             stdin: IO[str] | None = None) -> Iterator[CaseRecord]:
    """The cases of every file in turn; every file is checked before the first is read."""
    paths = list(paths)
    for path in paths:
        check_readable(path)
    for path in paths:
        yield from read_cases(path, input_format, stdin)


def triage_records(records: Iterable[CaseRecord], session: TriageSession) -> Iterator[Outcome]:
    """Triage each case; invalid cases pass through as error records, in place."""
    for record in records:
        yield record if isinstance(record, ErrorRecord) else session.triage(record)
