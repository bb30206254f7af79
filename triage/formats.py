"""Output formats for results: JSON Lines, JSON, YAML, CSV and a table for people.

Every writer streams: it writes each result as it comes, so memory does not
grow with the batch. JSON, YAML and CSV carry the same content as JSON Lines
(CSV flattens lists with ``;`` as the case format does).
"""

from __future__ import annotations

import csv
import json
from typing import IO, Any

import yaml

from .results import ErrorRecord, Outcome, TriageResult

class ResultWriter:
    """Writes outcomes one at a time; ``close`` finishes the document."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.count = 0

    def write(self, outcome: Outcome) -> None:
        self._write(outcome)
        self.count += 1

    def _write(self, outcome: Outcome) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the document (closing brackets and the like)."""


def to_json(outcome: Outcome) -> str:
    """One outcome as compact, deterministic JSON."""
    return json.dumps(outcome.to_dict(), ensure_ascii=False, separators=(",", ":"))


class JsonLinesWriter(ResultWriter):
    def _write(self, outcome: Outcome) -> None:
        self.stream.write(to_json(outcome) + "\n")


class JsonWriter(ResultWriter):
    def _write(self, outcome: Outcome) -> None:
        self.stream.write(("[\n" if self.count == 0 else ",\n") + to_json(outcome))

    def close(self) -> None:
        self.stream.write("[]\n" if self.count == 0 else "\n]\n")


class YamlWriter(ResultWriter):
    """Each result is one item of a single YAML list."""

    def _write(self, outcome: Outcome) -> None:
        self.stream.write(yaml.safe_dump([outcome.to_dict()], sort_keys=False,
                                         allow_unicode=True, width=100))

    def close(self) -> None:
        if self.count == 0:
            self.stream.write("[]\n")


CSV_COLUMNS = ("id", "disposition", "top_muscle", "likely_muscles", "urgency", "reasons",
               "referral_rules", "recommendations", "advice", "fired_rules", "kb_version",
               "error_field", "error_value", "error_message")


class CsvWriter(ResultWriter):
    def __init__(self, stream: IO[str]) -> None:
        super().__init__(stream)
        self._csv = csv.writer(stream, lineterminator="\n")
        self._csv.writerow(CSV_COLUMNS)

    def _write(self, outcome: Outcome) -> None:
        self._csv.writerow([_csv_cell(value) for value in csv_row(outcome)])


def csv_row(outcome: Outcome) -> list[Any]:
    """One outcome flattened into ``CSV_COLUMNS`` (lists joined with ``;``)."""
    if isinstance(outcome, ErrorRecord):
        error = outcome.to_dict()["error"]
        return [outcome.id] + [""] * 10 + [error["field"] or "", error["value"], error["message"]]
    referral = outcome.referral
    return [
        outcome.id,
        outcome.disposition.value,
        outcome.top_muscle or "",
        ";".join(f"{m.muscle}:{m.confidence}" for m in outcome.likely_muscles),
        referral.urgency.value if referral else "",
        ";".join(r.text for r in referral.reasons) if referral else "",
        ";".join(r.rule for r in referral.reasons) if referral else "",
        ";".join(r.technique for r in outcome.recommendations),
        ";".join(outcome.advice),
        ";".join(f.rule for f in outcome.fired_rules),
        outcome.kb_version,
        "", "", "",
    ]


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else value


class TableWriter(ResultWriter):
    """A table for people: case, disposition, top muscle and the main reason."""

    ID_WIDTH = 26
    DISPOSITION_WIDTH = 11
    MUSCLE_WIDTH = 26

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(stream)
        self._row("CASE", "DISPOSITION", "LIKELY MUSCLE", "WHY")

    def _row(self, case: str, disposition: str, muscle: str, why: str) -> None:
        self.stream.write(f"{_fit(case, self.ID_WIDTH)}  {disposition:<{self.DISPOSITION_WIDTH}}  "
                          f"{_fit(muscle, self.MUSCLE_WIDTH)}  {why}".rstrip() + "\n")

    def _write(self, outcome: Outcome) -> None:
        if isinstance(outcome, ErrorRecord):
            self._row(outcome.id, "INVALID", "-", outcome.error.message)
            return
        self._row(outcome.id, outcome.disposition.value, _muscle_cell(outcome), outcome.main_reason)


def _muscle_cell(result: TriageResult) -> str:
    if not result.likely_muscles:
        return "-"
    top = result.likely_muscles[0]
    return f"{top.muscle} ({top.confidence:.2f})"


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


WRITERS: dict[str, type[ResultWriter]] = {
    "jsonl": JsonLinesWriter, "json": JsonWriter, "yaml": YamlWriter,
    "csv": CsvWriter, "table": TableWriter,
}
OUTPUT_FORMATS = tuple(WRITERS)


def make_writer(fmt: str, stream: IO[str]) -> ResultWriter:
    """A writer of ``fmt`` (one of ``OUTPUT_FORMATS``) on ``stream``."""
    return WRITERS[fmt](stream)
