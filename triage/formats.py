"""Output formats for results: JSON Lines, JSON, YAML, CSV, a table for people and FHIR.

Every writer streams: it writes each result as it comes, so memory does not
grow with the batch. JSON, YAML and CSV carry the same content as JSON Lines.

CSV is safe to open in a spreadsheet: a list cell is a JSON array (split back
exactly with any JSON parser), and a text cell beginning with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return gets a leading ``'`` so it cannot run
as a formula (OWASP's advice); numbers stay numbers. The table is for a
terminal: characters of a case that could drive it (control characters, bidi
overrides) are shown escaped, it can fit a width and colour the disposition.
FHIR is NDJSON: a result Bundle (:mod:`triage.fhir.bundle`) or, for an
invalid case, an OperationOutcome, one a line.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from typing import IO, Any

import yaml

from .fhir.bundle import error_outcome, now, result_bundle
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


CSV_COLUMNS = ("id", "disposition", "top_muscle", "top_confidence", "likely_muscles", "urgency",
               "reasons", "referral_rules", "recommendations", "advice", "fired_rules", "kb_version",
               "error_field", "error_value", "error_message")
#: Columns holding a JSON array (of ``muscle:confidence`` for likely_muscles).
CSV_LIST_COLUMNS = ("likely_muscles", "reasons", "referral_rules", "recommendations", "advice",
                    "fired_rules")
#: What a spreadsheet may take for the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CsvWriter(ResultWriter):
    def __init__(self, stream: IO[str]) -> None:
        super().__init__(stream)
        self._csv = csv.writer(stream, lineterminator="\n")
        self._csv.writerow(CSV_COLUMNS)

    def _write(self, outcome: Outcome) -> None:
        self._csv.writerow([_csv_cell(value) for value in csv_row(outcome)])


def csv_row(outcome: Outcome) -> list[Any]:
    """One outcome flattened into ``CSV_COLUMNS`` (lists as JSON arrays).

    A result triaged despite a bad field (policy v3, principle 9) fills the
    error columns too, with its first problem.
    """
    if isinstance(outcome, ErrorRecord):
        return [outcome.id] + [""] * 11 + _error_cells(outcome.to_dict()["error"])
    referral = outcome.referral
    top = outcome.likely_muscles[0].confidence if outcome.likely_muscles else None
    return [
        outcome.id,
        outcome.disposition.value,
        outcome.top_muscle or "",
        top,
        _json_cell([f"{m.muscle}:{m.confidence}" for m in outcome.likely_muscles]),
        referral.urgency.value if referral else "",
        _json_cell([r.text for r in referral.reasons] if referral else []),
        _json_cell([r.rule for r in referral.reasons] if referral else []),
        _json_cell([r.technique for r in outcome.recommendations]),
        _json_cell(list(outcome.advice)),
        _json_cell([f.rule for f in outcome.fired_rules]),
        outcome.kb_version,
        *(_error_cells(outcome.to_dict()["errors"][0]) if outcome.errors else ["", "", ""]),
    ]


def _error_cells(error: dict[str, Any]) -> list[Any]:
    value = error["value"]
    if not isinstance(value, (str, int, float)) and value is not None:
        value = _json_cell(value)
    return [error["field"] or "", value, error["message"]]


def _json_cell(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _csv_cell(value: Any) -> Any:
    """A cell as written: numbers as they are, text neutralised against formulas."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


#: Characters a terminal may act on rather than show: C0/C1 controls and
#: DEL, line and paragraph separators, and format characters such as the bidi
#: overrides (U+202E) that reorder what follows.
_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))
_SAFE_TEXT = re.compile(r"[ -~]*")  # printable ASCII: the common case, checked fast


def printable(text: str, keep: str = "") -> str:
    """``text`` with every character that could drive a terminal shown as an escape.

    ``\\x1b``, ``\\n``, ``\\u202e`` and so on, as Python writes them; characters
    in ``keep`` (say, newlines of a multi-line text) are left alone.
    """
    if _SAFE_TEXT.fullmatch(text):
        return text
    return "".join(
        char if char in keep or unicodedata.category(char) not in _UNSAFE_CATEGORIES
        else char.encode("unicode_escape", "backslashreplace").decode("ascii")
        for char in text)


#: ANSI colours of the dispositions on a terminal (emergency red, urgent yellow).
DISPOSITION_COLORS = {"emergency": "1;31", "urgent": "33", "see_doctor": "36", "self_care": "32",
                      "INVALID": "35"}


class TableWriter(ResultWriter):
    """A table for people: case, disposition, top muscle and the main reason.

    ``width`` (a terminal's) makes every line fit, narrowing the columns;
    ``color`` colours the disposition.
    """

    ID_WIDTH = 26
    DISPOSITION_WIDTH = 11
    MUSCLE_WIDTH = 26
    #: Below this the table does not narrow further (lines then wrap).
    MIN_WIDTH = 40

    def __init__(self, stream: IO[str], width: int | None = None, color: bool = False) -> None:
        super().__init__(stream)
        self._color = color
        self._width = max(width, self.MIN_WIDTH) if width is not None else None
        self._id_width, self._muscle_width = self.ID_WIDTH, self.MUSCLE_WIDTH
        if self._width is not None:
            # 3 gaps of 2 and the disposition; the rest is shared, WHY getting the most.
            room = self._width - 6 - self.DISPOSITION_WIDTH
            self._id_width = min(self.ID_WIDTH, max(8, room * 3 // 10))
            self._muscle_width = min(self.MUSCLE_WIDTH, max(8, room * 3 // 10))
        self._row("CASE", "DISPOSITION", "LIKELY MUSCLE", "WHY", header=True)

    def _row(self, case: str, disposition: str, muscle: str, why: str, header: bool = False) -> None:
        shown = f"{disposition:<{self.DISPOSITION_WIDTH}}"
        if self._color and not header:
            code = DISPOSITION_COLORS.get(disposition)
            if code:
                shown = f"\x1b[{code}m{disposition}\x1b[0m" + " " * (self.DISPOSITION_WIDTH - len(disposition))
        why = printable(why)
        if self._width is not None:
            room = self._width - (self._id_width + self._muscle_width + self.DISPOSITION_WIDTH + 6)
            why = _fit(why, room).rstrip()
        self.stream.write(f"{_fit(printable(case), self._id_width)}  {shown}  "
                          f"{_fit(muscle, self._muscle_width)}  {why}".rstrip() + "\n")

    def _write(self, outcome: Outcome) -> None:
        if isinstance(outcome, ErrorRecord):
            self._row(outcome.id, "INVALID", "-", outcome.error.message)
            return
        why = outcome.main_reason
        if outcome.errors:  # triaged on what parsed: the input still needs mending
            why = f"(input has {len(outcome.errors)} error{'s' if len(outcome.errors) > 1 else ''}) {why}"
        self._row(outcome.id, outcome.disposition.value, _muscle_cell(outcome), why)


def _muscle_cell(result: TriageResult) -> str:
    if not result.likely_muscles:
        return "-"
    top = result.likely_muscles[0]
    return f"{top.muscle} ({top.confidence:.2f})"


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


class FhirWriter(ResultWriter):
    """FHIR NDJSON: each result as its Bundle, each invalid case as an OperationOutcome.

    Every Provenance of a run is recorded at the time the writer was opened,
    so that the Bundles of one run differ only by their case.
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(stream)
        self._recorded = now()

    def _write(self, outcome: Outcome) -> None:
        resource = (error_outcome(outcome.to_dict()) if isinstance(outcome, ErrorRecord)
                    else result_bundle(outcome.to_dict(), recorded=self._recorded))
        self.stream.write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")


#: One writer per name of :data:`triage.fileformats.OUTPUT_FORMATS`.
WRITERS: dict[str, type[ResultWriter]] = {
    "jsonl": JsonLinesWriter, "json": JsonWriter, "yaml": YamlWriter,
    "csv": CsvWriter, "table": TableWriter, "fhir": FhirWriter,
}


def make_writer(fmt: str, stream: IO[str], width: int | None = None,
                color: bool = False) -> ResultWriter:
    """A writer of ``fmt`` (one of ``OUTPUT_FORMATS``) on ``stream``.

    ``width`` and ``color`` are for the table (a terminal's width, colours on).
    """
    if fmt == "table":
        return TableWriter(stream, width=width, color=color)
    return WRITERS[fmt](stream)
