"""Reading case files: YAML, JSON, JSON Lines and CSV, or ``-`` for standard input.

``read_cases`` yields, in file order, a :class:`~triage.case.Case` for each
valid case and an :class:`~triage.results.ErrorRecord` for each invalid one, so
one bad case never costs the others their results. JSON Lines, CSV and
multi-document YAML are read one case at a time, never whole. Problems with
the file itself (missing, unreadable, not UTF-8, a syntax error, no cases)
raise :class:`~triage.errors.InputFileError` with the file and line.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .case import Case, parse_case
from .errors import CaseError, InputFileError, Location
from .results import ErrorRecord
from .vocabulary import CASE_FIELDS, did_you_mean
from .yamlio import YamlList, iter_yaml_documents

INPUT_FORMATS = ("yaml", "json", "jsonl", "csv")
_EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "jsonl",
               ".ndjson": "jsonl", ".csv": "csv"}
STDIN = "-"
#: JSON nested deeper than this is refused (no case needs more than 2 levels).
MAX_JSON_DEPTH = 32

CaseRecord = Case | ErrorRecord


def display_name(path: str) -> str:
    """How a file is named in ids and messages."""
    return "stdin" if path == STDIN else path


def check_readable(path: str) -> None:
    """Fail early, before any case runs, if ``path`` cannot be read at all."""
    if path == STDIN:
        return
    where = Location(path)
    if not os.path.exists(path):
        raise InputFileError("no such file", where)
    if os.path.isdir(path):
        raise InputFileError("is a directory, not a case file", where)
    if not os.access(path, os.R_OK):
        raise InputFileError("permission denied: the file cannot be read", where)


def detect_format(path: str, sample: str) -> str:
    """The input format of ``path``: by extension, else by its first character."""
    by_extension = _EXTENSIONS.get(Path(path).suffix.lower())
    if by_extension:
        return by_extension
    head = sample.lstrip()
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        first_line = head.splitlines()[0] if head else ""
        return "jsonl" if _is_json_object(first_line) else "json"
    return "yaml"


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def read_cases(path: str, input_format: str = "auto", stdin: IO[str] | None = None) -> Iterator[CaseRecord]:
    """Yield the cases of one file (``-`` = standard input) in order."""
    name = display_name(path)
    check_readable(path)
    try:
        stream = _open(path, stdin)
    except OSError as exc:
        raise InputFileError(f"cannot read the file: {exc.strerror or exc}", Location(name)) from None
    with contextlib.nullcontext(stream) if path == STDIN else stream:
        head = stream.read(4096)
        # A pipe cannot be rewound, so the sniffed sample is put back in front.
        source = _Peekable(stream, head)
        fmt = detect_format(path, head) if input_format == "auto" else input_format
        count = 0
        try:
            for record in _READERS[fmt](source, name):
                count += 1
                yield record
        except UnicodeDecodeError as exc:
            raise InputFileError(f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                                 "cannot be decoded); save it as UTF-8", Location(name)) from None
    if count == 0:
        raise InputFileError(f"no cases in {name}", Location(name))


class _Peekable(io.TextIOBase):
    """A text stream with its first chunk already read (to sniff the format)."""

    def __init__(self, stream: IO[str], head: str) -> None:
        self._stream = stream
        self._head = head

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            out, self._head = self._head + self._stream.read(), ""
            return out
        if self._head:
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._stream.read(size)

    def readline(self, size: int | None = -1) -> str:
        if self._head:
            if "\n" in self._head:
                line, _, self._head = self._head.partition("\n")
                return line + "\n"
            return self._head_rest() + self._stream.readline()
        return self._stream.readline()

    def _head_rest(self) -> str:
        out, self._head = self._head, ""
        return out

    def __iter__(self) -> Iterator[str]:
        while line := self.readline():
            yield line

    def readable(self) -> bool:
        return True


def _open(path: str, stdin: IO[str] | None) -> IO[str]:
    if path == STDIN:
        source = stdin if stdin is not None else sys.stdin
        if isinstance(source, io.TextIOWrapper):
            source.reconfigure(encoding="utf-8-sig")
        return source
    return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed by caller)


def _default_id(name: str, n: int) -> str:
    return f"{Path(name).name}#{n}"


def _case_or_error(raw: Any, name: str, n: int, line: int | None, from_text: bool = False) -> CaseRecord:
    default_id = _default_id(name, n)
    try:
        return parse_case(raw, default_id, file=name, line=line, from_text=from_text)
    except CaseError as exc:
        return ErrorRecord(exc.location.case or default_id, exc)


def _read_yaml(stream: IO[str], name: str) -> Iterator[CaseRecord]:
    n = 0
    for document, line in iter_yaml_documents(stream, name):
        if document is None:
            continue
        items = document if isinstance(document, list) else [document]
        for index, raw in enumerate(items):
            n += 1
            item_line = document.line_of(index) if isinstance(document, YamlList) else line
            yield _case_or_error(raw, name, n, item_line)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _json_depth_ok(text: str) -> bool:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def _parse_json(text: str, name: str, line: int | None = None) -> Any:
    if not _json_depth_ok(text):
        raise InputFileError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", Location(name, line))
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        at = line if line is not None else exc.lineno
        raise InputFileError(f"invalid JSON: {exc.msg} (column {exc.colno})", Location(name, at)) from None
    except ValueError as exc:
        raise InputFileError(f"invalid JSON: {exc}", Location(name, line)) from None


def _read_json(stream: IO[str], name: str) -> Iterator[CaseRecord]:
    data = _parse_json(stream.read(), name)
    items = data if isinstance(data, list) else [data]
    for n, raw in enumerate(items, start=1):
        yield _case_or_error(raw, name, n, None)


def _read_jsonl(stream: IO[str], name: str) -> Iterator[CaseRecord]:
    n = 0
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        n += 1
        try:
            raw = _parse_json(line, name, line_number)
        except InputFileError as exc:
            # One broken line is one bad case: the rest of the file still runs.
            where = Location(name, line_number, _default_id(name, n))
            yield ErrorRecord(_default_id(name, n), CaseError(exc.message, where, value=line.strip()[:200]))
            continue
        yield _case_or_error(raw, name, n, line_number)


def _read_csv(stream: IO[str], name: str) -> Iterator[CaseRecord]:
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    for column in header:
        if column not in CASE_FIELDS:
            hint = did_you_mean(column, list(CASE_FIELDS))
            raise InputFileError(f"unknown column {column!r}" + (f"; did you mean {hint!r}?" if hint else "")
                                 + f" Allowed: {', '.join(CASE_FIELDS)}.", Location(name, 1))
    n = 0
    try:
        for row in reader:
            n += 1
            line = reader.line_num
            extra = row.pop(None, None)  # type: ignore[call-overload]
            if extra:
                where = Location(name, line, _default_id(name, n))
                yield ErrorRecord(_default_id(name, n), CaseError(
                    f"the row has {len(header) + len(extra)} cells but the header has {len(header)}",
                    where, value=";".join(extra)))
                continue
            cells = {k: v for k, v in row.items() if v is not None and v.strip() != ""}
            yield _case_or_error(cells, name, n, line, from_text=True)
    except csv.Error as exc:
        raise InputFileError(f"invalid CSV: {exc}", Location(name, reader.line_num)) from None


_READERS = {"yaml": _read_yaml, "json": _read_json, "jsonl": _read_jsonl, "csv": _read_csv}
