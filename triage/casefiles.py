"""Reading case files: YAML, JSON, JSON Lines and CSV, or ``-`` for standard input.

A JSON or JSON Lines file may also hold FHIR QuestionnaireResponses (told by
their ``resourceType``), or Bundles of them: each response is one case,
read through the knowledge base's questions (:mod:`triage.fhir.response`).

``read_cases`` yields, in file order, a :class:`~triage.case.Case` for each
valid case and an :class:`~triage.results.ErrorRecord` for each invalid one, so
one bad case never costs the others their results. JSON Lines, CSV and
multi-document YAML are read one case at a time, never whole. Problems with
the file itself (missing, unreadable, not UTF-8, a syntax error, no cases)
raise :class:`~triage.errors.InputFileError` with the file and line.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import itertools
import json
import os
import re
import sys
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .case import Case, normal_spelling, parse_case
from .errors import CaseError, InputFileError, InputWarning, Location
from .fhir.response import case_from_response, response_case_id, responses_in
from .kb.model import Question
from .results import ErrorRecord
from .vocabulary import REQUIRED_FIELDS, Vocabulary, not_allowed, several_not_allowed
from .yamlio import iter_yaml_cases

_EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "jsonl",
               ".ndjson": "jsonl", ".csv": "csv"}
STDIN = "-"
#: JSON nested deeper than this is refused (no case needs more than 2 levels).
MAX_JSON_DEPTH = 32
#: A JSON Lines line longer than this is one bad case (a real case is under 2 KB).
MAX_LINE = 1_000_000
#: A case of a JSON file (an item of its list, or the whole file when it is not
#: a list) longer than this is refused: a JSON list is read one case at a time,
#: so memory stays bounded however long the list.
MAX_JSON_CASE = MAX_LINE
#: How much of a JSON file is read at a time.
_JSON_CHUNK = 1 << 16
#: A CSV cell longer than this (the csv module's limit) makes its row one bad case.
MAX_CSV_CELL = csv.field_size_limit()

CaseRecord = Case | ErrorRecord


def display_name(path: str) -> str:
    """How a file is named in ids and messages (bytes that are not UTF-8 shown escaped)."""
    if path == STDIN:
        return "stdin"
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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


def detect_format(path: str, sample: str, fields: Collection[str] = REQUIRED_FIELDS) -> str:
    """The input format of ``path``: by extension, else by its content.

    ``[`` starts JSON, ``{`` JSON Lines (or JSON if the first line is not a
    whole object); a first line that a comma, semicolon or tab splits into
    cells of which one or more names a case field of ``fields`` (``Pain
    sites`` and ``Duration (days)`` as well) is a CSV header, whatever the
    other cells say, unless it reads as a YAML key (``name: ...``); anything
    else is read as YAML.
    """
    by_extension = _EXTENSIONS.get(Path(path).suffix.lower())
    if by_extension:
        return by_extension
    head = sample.lstrip()
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        first_line = head.splitlines()[0] if head else ""
        return "jsonl" if _is_json_object(first_line) else "json"
    first_line = head.splitlines()[0] if head else ""
    if not _YAML_KEY.match(first_line):
        for delimiter in CSV_DELIMITERS:
            cells = first_line.split(delimiter)
            if len(cells) > 1 and any(column_field(cell) in fields for cell in cells):
                return "csv"
    return "yaml"


#: A first line a YAML case would start with: a key and a colon, or a list item, comment or document start.
_YAML_KEY = re.compile(r"^\s*(?:[\w\"' -]+:(?:\s|$)|- |#|---)")


def column_field(column: str) -> str:
    """The case field a CSV column name means, in the vocabulary's spelling.

    As :func:`~triage.case.normal_spelling`, brackets taken as spaces, so that
    a spreadsheet's ``Duration (days)`` is ``duration_days``.
    """
    return normal_spelling(_BRACKETS.sub(" ", column))


_BRACKETS = re.compile(r"[()\[\]]")


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


class CaseIds:
    """Notices a case id used twice, across all the files of a batch.

    Both cases are kept; ``warn`` receives an :class:`InputWarning` for the
    second. Memory stays flat however long the batch: every written id goes
    into a fixed-size Bloom filter, and only the first ``EXACT_IDS`` ids are
    also kept with their place, to say where an id was first seen. Default
    ids (``name#n``) can only clash when two files share a base name, which
    is noticed once per file.
    """

    EXACT_IDS = 50_000
    BLOOM_BITS = 1 << 26  # 8 MiB: under one false alarm in a million ids up to a million ids
    BLOOM_HASHES = 6

    def __init__(self, warn: Callable[[InputWarning], None]) -> None:
        self._warn = warn
        self._first: dict[str, tuple[str, int]] = {}
        self._bloom = bytearray(self.BLOOM_BITS // 8)
        self._files: dict[str, str] = {}
        self._clashes_with: str | None = None

    def start_file(self, name: str) -> None:
        """Note that the cases of file ``name`` come next."""
        base = Path(name).name
        self._clashes_with = self._files.get(base)
        self._files.setdefault(base, name)

    def check(self, case_id: str, name: str, n: int) -> None:
        """Record that case ``n`` of file ``name`` has ``case_id``; warn if seen before."""
        if case_id == _default_id(name, n):
            if self._clashes_with is not None:
                self._warn(InputWarning(Location(name, case=case_id), (
                    f"cases without an id get the same default ids ({Path(name).name}#n) as "
                    f"those of {self._clashes_with}; both are kept, give them ids to tell them apart")))
                self._clashes_with = None
            return
        if not self._remember(case_id):
            if len(self._first) < self.EXACT_IDS:
                self._first[case_id] = (name, n)
            return
        first = self._first.get(case_id)
        where = f"case {first[1]} of {first[0]}" if first else "an earlier case"
        self._warn(InputWarning(Location(name, case=case_id),
                                f"the id {case_id!r} is also {where}; both cases are kept"))

    def _remember(self, case_id: str) -> bool:
        """Set the id's bits; True if they were all set already (seen before)."""
        digest = hashlib.blake2b(case_id.encode(), digest_size=16).digest()
        h1, h2 = int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little") | 1
        seen = True
        for i in range(self.BLOOM_HASHES):
            bit = (h1 + i * h2) % self.BLOOM_BITS
            byte, mask = bit >> 3, 1 << (bit & 7)
            if not self._bloom[byte] & mask:
                seen = False
                self._bloom[byte] |= mask
        return seen


@dataclass(frozen=True)
class CsvOptions:
    """How to read CSV: the delimiter (``None``: detected) and what to do with unknown columns."""

    delimiter: str | None = None
    ignore_unknown_columns: bool = False


#: The delimiters a CSV file may use, as detected (comma, semicolon, tab).
CSV_DELIMITERS = (",", ";", "\t")


class _Reading:
    """What is noticed while reading one file, reported once each as a warning."""

    def __init__(self, name: str, warn: Callable[[InputWarning], None] | None, csv: CsvOptions,
                 questions: tuple[Question, ...] = ()) -> None:
        self.name = name
        self.csv = csv
        #: The knowledge base's questions, to read QuestionnaireResponses by.
        self.questions = questions
        self._warn = warn
        self._said: set[tuple[str, ...]] = set()

    def warn(self, line: int | None, message: str, field: str | None = None) -> None:
        if self._warn is not None:
            self._warn(InputWarning(Location(self.name, line, field=field), message))

    def once(self, key: tuple[str, ...], line: int | None, message: str, field: str | None = None) -> None:
        """Warn with ``message`` the first time ``key`` is noticed in this file only."""
        if key not in self._said:
            self._said.add(key)
            self.warn(line, message, field)

    def respelled(self, field: str, given: str, used: str, line: int | None) -> None:
        """A value read in the vocabulary's spelling: said once per file for each spelling."""
        self.once(("value", field, given), line, f"{given!r} read as {used!r} (said once for this file)", field)


def read_cases(path: str, vocabulary: Vocabulary, input_format: str = "auto",
               stdin: IO[str] | None = None, ids: CaseIds | None = None, *,
               on_warning: Callable[[InputWarning], None] | None = None,
               csv_options: CsvOptions | None = None,
               on_open: Callable[[IO[str]], None] | None = None,
               questions: tuple[Question, ...] = ()) -> Iterator[CaseRecord]:
    """Yield the cases of one file (``-`` = standard input) in order, checked against ``vocabulary``.

    ``ids``, if given, is told every case's id (to warn about duplicates).
    ``on_warning`` receives what was forgiven, once each per file: values
    and CSV column names read in the vocabulary's spelling, ignored unknown
    columns, skipped blank rows. ``csv_options`` says how to read CSV.
    ``on_open``, if given, receives the opened stream (to follow progress).
    ``questions`` (the knowledge base's) are needed to read FHIR
    QuestionnaireResponses; without them each response is an invalid case.
    """
    name = display_name(path)
    check_readable(path)
    try:
        stream = _open(path, stdin)
    except OSError as exc:
        raise InputFileError(f"cannot read the file: {exc.strerror or exc}", Location(name)) from None
    if on_open is not None:
        on_open(stream)
    count = 0
    if ids is not None:
        ids.start_file(name)
    with contextlib.nullcontext(stream) if path == STDIN else stream:
        try:
            head = stream.read(4096)
            # A pipe cannot be rewound, so the sniffed sample is put back in front.
            source = _Peekable(stream, head)
            fmt = detect_format(path, head, vocabulary.fields) if input_format == "auto" else input_format
            reading = _Reading(name, on_warning, csv_options or CsvOptions(), questions)
            for record in _READERS[fmt](source, name, vocabulary, reading):
                count += 1
                if ids is not None:
                    ids.check(record.id, name, count)
                yield record
        except UnicodeDecodeError as exc:
            line = None if path == STDIN else _undecodable_line(path)
            raise InputFileError(f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                                 "cannot be decoded); save it as UTF-8", Location(name, line)) from None
        except OSError as exc:
            raise InputFileError(f"cannot read the file: {exc.strerror or exc}", Location(name)) from None
    if count == 0:
        raise InputFileError(f"no cases in {name}", Location(name))


def _undecodable_line(path: str) -> int | None:
    """The line of the first byte of ``path`` that is not UTF-8 (read again, in chunks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    try:
        with open(path, "rb") as raw:
            while chunk := raw.read(65536):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    return line + chunk.count(b"\n", 0, max(exc.start, 0))
                line += chunk.count(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line  # a character cut short at the very end
    except OSError:
        return None
    return None


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
        limit = size if size is not None and size >= 0 else None
        if not self._head:
            return self._stream.readline(-1 if limit is None else limit)
        newline = self._head.find("\n")
        cut = newline + 1 if newline >= 0 else len(self._head)
        if limit is not None:
            cut = min(cut, limit)
        out, self._head = self._head[:cut], self._head[cut:]
        if self._head or out.endswith("\n"):
            return out
        if limit is None:
            return out + self._stream.readline()
        return out + self._stream.readline(limit - len(out)) if limit > len(out) else out

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


def _case_or_error(raw: Any, name: str, n: int, line: int | None, vocabulary: Vocabulary,
                   reading: _Reading, from_text: bool = False) -> CaseRecord:
    default_id = _default_id(name, n)
    unwritable = unwritable_text(raw, default_id, name, line)
    if unwritable is not None:
        return unwritable

    def normalised(field: str, given: str, used: str) -> None:
        reading.respelled(field, given, used, line)

    try:
        return parse_case(raw, default_id, vocabulary, file=name, line=line, from_text=from_text,
                          normalised=normalised)
    except CaseError as exc:
        return ErrorRecord(exc.location.case or default_id, exc)


def _json_records(raw: Any, name: str, n: int, line: int | None, vocabulary: Vocabulary,
                  reading: _Reading) -> list[CaseRecord]:
    """The cases of one JSON value, the ``n``-th of its file: a case, or FHIR QuestionnaireResponses.

    A QuestionnaireResponse is one case, a Bundle one per entry (an entry
    that is no response is an invalid case in its place).
    """
    resources = responses_in(raw)
    if resources is None:
        return [_case_or_error(raw, name, n, line, vocabulary, reading)]
    records: list[CaseRecord] = []
    for k, resource in enumerate(resources, start=n):
        default_id = _default_id(name, k)
        if not reading.questions:
            records.append(ErrorRecord(default_id, CaseError(
                "a FHIR resource is read through the knowledge base's questions, and none were given "
                "(read it with triage run, or pass questions= to read_cases)", Location(name, line, default_id),
                value=resource.get("resourceType") if isinstance(resource, dict) else None)))
            continue
        unwritable = _lone_surrogate(resource)
        if unwritable is not None:
            records.append(_surrogate_error(resource, unwritable, default_id, name, line))
            continue
        try:
            records.append(case_from_response(resource, vocabulary, reading.questions, default_id,
                                              file=name, line=line))
        except CaseError as exc:
            case_id = response_case_id(resource, default_id) if isinstance(resource, dict) else default_id
            records.append(ErrorRecord(exc.location.case or case_id, exc))
    return records


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(raw: Any, field: str | None = None) -> tuple[str | None, str] | None:
    """(field, text) of the first string holding a lone surrogate, if any.

    JSON escapes such as ``"\\ud800"`` decode to half a character, which no
    UTF-8 output can hold; such a case is refused rather than lose the batch.
    """
    if isinstance(raw, str):
        return (field, raw) if not raw.isascii() and _SURROGATE.search(raw) else None
    if isinstance(raw, dict):
        for key, value in raw.items():
            found = _lone_surrogate(key, field) or _lone_surrogate(
                value, key if field is None and isinstance(key, str) else field)
            if found is not None:
                return found
    elif isinstance(raw, list):
        for item in raw:
            found = _lone_surrogate(item, field)
            if found is not None:
                return found
    return None


def unwritable_text(raw: Any, default_id: str, name: str | None = None,
                    line: int | None = None) -> ErrorRecord | None:
    """The error record of a case (or answers) holding a lone surrogate anywhere, else None.

    Keys count as well as values; the record's id, field and value show the
    half character escaped (``\\ud800``), so the record itself can be written.
    """
    found = _lone_surrogate(raw)
    return None if found is None else _surrogate_error(raw, found, default_id, name, line)


def _escaped(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _surrogate_error(raw: Any, found: tuple[str | None, str], default_id: str, name: str | None,
                     line: int | None) -> ErrorRecord:
    field, text = found
    given = raw.get("id") if isinstance(raw, dict) else None
    case_id = _escaped(str(given)) if isinstance(given, (str, int)) and given != "" else default_id
    field = _escaped(field) if field is not None else None
    return ErrorRecord(case_id, CaseError(
        "the text holds half of a character (a lone surrogate such as \\ud800), which "
        "cannot be written; fix the escapes in the file", Location(name, line, case_id, field),
        value=_escaped(text)[:200]))


def _read_yaml(stream: IO[str], name: str, vocabulary: Vocabulary,
               reading: _Reading) -> Iterator[CaseRecord]:
    # A list is read one item at a time (iter_yaml_cases), so memory stays flat.
    for n, (raw, line) in enumerate(iter_yaml_cases(stream, name), start=1):
        yield _case_or_error(raw, name, n, line, vocabulary, reading)


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict; a repeated key raises ValueError (for ``object_pairs_hook``)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def json_depth_ok(text: str) -> bool:
    """Whether JSON ``text`` nests at most :data:`MAX_JSON_DEPTH` levels (checked before parsing it)."""
    # Nesting can never exceed the number of brackets: most texts need no scan.
    if text.count("{") + text.count("[") <= MAX_JSON_DEPTH:
        return True
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
    if not json_depth_ok(text):
        raise InputFileError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", Location(name, line))
    try:
        return json.loads(text, object_pairs_hook=no_duplicate_keys)
    except json.JSONDecodeError as exc:
        at = line if line is not None else exc.lineno
        raise InputFileError(f"invalid JSON: {exc.msg} (column {exc.colno})", Location(name, at)) from None
    except ValueError as exc:
        raise InputFileError(f"invalid JSON: {exc}", Location(name, line)) from None


class _JsonText:
    """A JSON file read a chunk at a time and consumed from the front, counting lines."""

    _NOT_SPACE = re.compile(r"[^ \t\r\n]")

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.text = ""
        self.pos = 0
        self.eof = False
        self._counted = 0      # text[:_counted] has been counted ...
        self._line = 1         # ... and text[_counted] is on this line

    def more(self) -> bool:
        """Read another chunk, dropping what was consumed; False at the end of the file."""
        if self.eof:
            return False
        chunk = self._stream.read(_JSON_CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.line_at(self.pos)
        self.text, self._counted = self.text[self.pos:] + chunk, 0
        self.pos = 0
        return True

    def unread(self) -> int:
        return len(self.text) - self.pos

    def next_char(self) -> str:
        """Skip white space; the next character ("" at the end of the file)."""
        while True:
            found = self._NOT_SPACE.search(self.text, self.pos)
            if found is not None:
                self.pos = found.start()
                return self.text[self.pos]
            self.pos = len(self.text)
            if not self.more():
                return ""

    def line_at(self, index: int) -> int:
        """The line of ``text[index]`` (``index`` at or after the last one asked)."""
        if index > self._counted:
            self._line += self.text.count("\n", self._counted, index)
            self._counted = index
        return self._line


def _read_json(stream: IO[str], name: str, vocabulary: Vocabulary,
               reading: _Reading) -> Iterator[CaseRecord]:
    """A JSON list one case at a time (bounded memory), or a file holding one case."""
    source = _JsonText(stream)
    if source.next_char() != "[":
        while source.unread() <= MAX_JSON_CASE and source.more():
            pass
        if source.unread() > MAX_JSON_CASE:
            raise InputFileError(
                f"a JSON file that is not a list holds one case, and this one is over "
                f"{MAX_JSON_CASE:,} characters; give a list of cases or JSON Lines", Location(name))
        yield from _json_records(_parse_json(source.text, name), name, 1, None, vocabulary, reading)
        return
    source.pos += 1
    decoder = json.JSONDecoder(object_pairs_hook=no_duplicate_keys)
    n = 0
    char = source.next_char()
    while char != "]":
        raw, line = _json_item(source, decoder, name)
        records = _json_records(raw, name, n + 1, line, vocabulary, reading)
        n += len(records)
        yield from records
        char = source.next_char()
        if char == ",":
            source.pos += 1
            source.next_char()
        elif char != "]":
            problem = "Expecting ',' delimiter" if char else "the list is not closed with ']'"
            raise InputFileError(f"invalid JSON: {problem}", Location(name, source.line_at(source.pos)))
    source.pos += 1
    if source.next_char():
        raise InputFileError("invalid JSON: Extra data after the list",
                             Location(name, source.line_at(source.pos)))


def _json_item(source: _JsonText, decoder: json.JSONDecoder, name: str) -> tuple[Any, int]:
    """Decode the value at ``source.pos`` (reading on while it is cut short); (value, line)."""
    while True:
        try:
            value, end = decoder.raw_decode(source.text, source.pos)
        except json.JSONDecodeError as exc:
            if source.unread() <= MAX_JSON_CASE and source.more():
                continue  # the value may only be cut short by the chunk's end
            if not source.eof:
                raise InputFileError(f"a case is over {MAX_JSON_CASE:,} characters; no case is "
                                     "that long", Location(name, source.line_at(source.pos))) from None
            raise InputFileError(f"invalid JSON: {exc.msg} (column {exc.colno})",
                                 Location(name, source.line_at(exc.pos))) from None
        except RecursionError:
            raise InputFileError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
                                 Location(name, source.line_at(source.pos))) from None
        except ValueError as exc:
            raise InputFileError(f"invalid JSON: {exc}", Location(name, source.line_at(source.pos))) from None
        # A number at the very end of the text may go on in the next chunk.
        if end < len(source.text) or not source.more():
            break
    line = source.line_at(source.pos)
    if not json_depth_ok(source.text[source.pos:end]):
        raise InputFileError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", Location(name, line))
    source.pos = end
    return value, line


def _read_jsonl(stream: IO[str], name: str, vocabulary: Vocabulary,
                reading: _Reading) -> Iterator[CaseRecord]:
    n = 0
    for line_number, line in enumerate(_bounded_lines(stream), start=1):
        if not line.strip():
            continue
        n += 1
        if len(line) > MAX_LINE:
            where = Location(name, line_number, _default_id(name, n))
            yield ErrorRecord(_default_id(name, n), CaseError(
                f"the line is longer than {MAX_LINE} characters; no case is that long",
                where, value=line[:200]))
            continue
        try:
            raw = _parse_json(line, name, line_number)
        except InputFileError as exc:
            # One broken line is one bad case: the rest of the file still runs.
            where = Location(name, line_number, _default_id(name, n))
            yield ErrorRecord(_default_id(name, n), CaseError(exc.message, where, value=line.strip()[:200]))
            continue
        records = _json_records(raw, name, n, line_number, vocabulary, reading)
        n += len(records) - 1
        yield from records


def _bounded_lines(stream: IO[str]) -> Iterator[str]:
    """The lines of ``stream``; a line over ``MAX_LINE`` is cut there and the rest skipped.

    Memory stays bounded whatever the input: a multi-gigabyte line without a
    newline is never held whole.
    """
    while line := stream.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE and not line.endswith("\n"):
            while (rest := stream.readline(MAX_LINE)) and not rest.endswith("\n"):
                pass
        yield line


class _LineCounter:
    """The lines of a stream, counting them (the csv module's count lags on errors)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self.count += 1
            yield line


def _read_csv(stream: IO[str], name: str, vocabulary: Vocabulary,
              reading: _Reading) -> Iterator[CaseRecord]:
    lines = _LineCounter(_bounded_lines(stream))
    first = next(iter(lines), "")
    delimiter = reading.csv.delimiter or _detect_delimiter(first, vocabulary, reading)
    # strict: an unclosed quote is an error, not a field that swallows the file.
    rows = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=True)
    try:
        header = _csv_header(next(rows, []), delimiter, vocabulary, reading)
        n = 0
        blank: list[int] = []
        for cells in _csv_rows(rows):
            line = lines.count
            if cells is None:
                n += 1
                yield ErrorRecord(_default_id(name, n), CaseError(
                    f"a cell is longer than {MAX_CSV_CELL:,} characters; no case needs that much",
                    Location(name, line, _default_id(name, n))))
                continue
            if not any(cell.strip() for cell in cells):
                blank.append(line)  # a row of only delimiters or spaces: nothing to triage
                continue
            n += 1
            extra = [cell for cell in cells[len(header):] if cell.strip()]
            row = {column: cell for column, cell in zip(header, cells, strict=False)
                   if column is not None and cell.strip() != ""}
            if extra:
                case_id = row.get("id", "").strip() or _default_id(name, n)
                yield ErrorRecord(case_id, CaseError(
                    f"the row has {len(cells)} cells but the header has {len(header)}",
                    Location(name, line, case_id), value=";".join(extra)))
                continue
            yield _case_or_error(_comma_lists(row, vocabulary, reading, line), name, n, line, vocabulary,
                                 reading, from_text=True)
    except csv.Error as exc:
        raise InputFileError(f"invalid CSV: {exc}", Location(name, lines.count)) from None
    if blank:
        shown = ", ".join(map(str, blank[:10])) + (f" and {len(blank) - 10} more" if len(blank) > 10 else "")
        noun = "row was" if len(blank) == 1 else "rows were"
        reading.warn(None, f"{len(blank)} blank {noun} skipped (line{'s' if len(blank) > 1 else ''} {shown})")


def _comma_lists(row: dict[str, str], vocabulary: Vocabulary, reading: _Reading, line: int | None) -> dict[str, str]:
    """``row`` with commas in list cells read as separators, where no value of the field has one.

    A list cell's values are separated by ``;``, but a clinic's export or a
    person typing ``Buttock, Back of Thigh`` uses commas; when no value of
    the field contains a comma, a comma can only separate two values, so it
    is read as one (said once per file).
    """
    for column, cell in row.items():
        spec = vocabulary.fields.get(column)
        if spec is None or not spec.is_list or "," not in cell or any("," in v for v in spec.values):
            continue
        row = {**row, column: cell.replace(",", ";")}
        reading.once(("comma-lists",), line, "commas in list cells read as separators between values, "
                     "as ';' is (said once for this file)", column)
    return row


def _detect_delimiter(header: str, vocabulary: Vocabulary, reading: _Reading) -> str:
    """The delimiter that splits the header line into the most known column names.

    Comma, semicolon or tab (what spreadsheet programs export); on a tie the
    comma. A delimiter other than the comma is reported, as it was guessed.
    """
    def known(delimiter: str) -> tuple[int, int]:
        try:
            cells = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:  # a broken header: reading it with the comma reports it, with its line
            return (0, 0)
        return sum(column_field(c) in vocabulary.fields for c in cells), len(cells)

    best = max(CSV_DELIMITERS, key=known)  # max keeps the first of equals: the comma
    if best != ",":
        shown = {"\t": "tabs", ";": "semicolons"}[best]
        reading.warn(1, f"columns read as separated by {shown} (detected; --delimiter sets it)")
    return best


def _delimiter_hint(column: str, delimiter: str) -> str:
    """A hint when a column name holds another delimiter (the file is separated by it)."""
    others = [d for d in CSV_DELIMITERS if d != delimiter and d in column]
    return f" The columns seem to be separated by {others[0]!r}: --delimiter sets it." if others else ""


def _csv_header(cells: list[str], delimiter: str, vocabulary: Vocabulary,
                reading: _Reading) -> list[str | None]:
    """The case field of each column (``None`` for an ignored one), checked and reported.

    Names are matched like values (``ID``, ``Pain Sites`` -> ``id``,
    ``pain_sites``), the renamings said in one warning; an unknown column is an error
    unless unknown columns are ignored, then they are listed once.
    """
    name = reading.name
    header: list[str | None] = []
    unknown: list[str] = []
    renamed: list[str] = []
    for cell in cells:
        column = cell.strip()
        usual = column_field(column)
        if column in vocabulary.fields:
            header.append(column)
        elif usual in vocabulary.fields:
            renamed.append(f"{column!r} as {usual!r}")
            header.append(usual)
        else:
            unknown.append(column)
            header.append(None)
    if unknown and not reading.csv.ignore_unknown_columns:
        # Every unknown column in one message: a clinic's export is fixed in one round.
        note = (_delimiter_hint(unknown[0], delimiter)
                + " --ignore-unknown-columns skips columns that are not case fields.").strip()
        if len(unknown) == 1:
            raise InputFileError(not_allowed("unknown column", unknown[0], vocabulary.fields, note=note),
                                 Location(name, 1))
        raise InputFileError(several_not_allowed("unknown columns", unknown, vocabulary.fields, note=note),
                             Location(name, 1))
    if cells and all(column is None for column in header):
        raise InputFileError("no column of the header is a case field, so nothing can be read."
                             + _delimiter_hint(cells[0], delimiter), Location(name, 1))
    named = [(cell.strip(), column) for cell, column in zip(cells, header, strict=False) if column is not None]
    for index, (given, column) in enumerate(named):
        earlier = next((g for g, c in named[:index] if c == column), None)
        if earlier is not None:
            same = f"the column {column!r} appears twice in the header"
            raise InputFileError(same if earlier == given == column else
                                 f"{same} (as {earlier!r} and {given!r})", Location(name, 1))
    if renamed:
        reading.warn(1, f"column names read as case fields: {', '.join(renamed)}")
    if unknown:
        noun = "column" if len(unknown) == 1 else "columns"
        reading.warn(1, f"ignoring unknown {noun} {', '.join(map(repr, unknown))}")
    return header


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[list[str] | None]:
    """The rows of ``reader``; None for a row with a cell over the csv module's limit.

    The reader goes on with the next line, so one oversized cell costs one
    case, not the rest of the file.
    """
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if not str(exc).startswith("field larger than field limit"):
                raise
            yield None
            continue
        yield row


#: One reader per name of :data:`triage.fileformats.INPUT_FORMATS`.
_READERS = {"yaml": _read_yaml, "json": _read_json, "jsonl": _read_jsonl, "csv": _read_csv}
