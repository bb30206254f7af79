"""Reading case files: every format, byte-order marks and CRLF, bad files, streaming, fuzzing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.batch import read_all
from triage.case import Case
from triage.casefiles import MAX_JSON_DEPTH, MAX_LINE, CaseIds, json_depth_ok, read_cases
from triage.errors import InputFileError, InputWarning
from triage.results import ErrorRecord
from helpers import VOCABULARY

VALID = {
    "yaml": "- id: a\n  pain_sites: [lower_back]\n  red_flags: []\n  conditions: []\n"
            "- id: b\n  pain_sites: [hip]\n  red_flags: [fever]\n  conditions: []\n",
    "json": '[{"id": "a", "pain_sites": ["lower_back"], "red_flags": [], "conditions": []},\n'
            ' {"id": "b", "pain_sites": ["hip"], "red_flags": ["fever"], "conditions": []}]\n',
    "jsonl": '{"id": "a", "pain_sites": ["lower_back"], "red_flags": [], "conditions": []}\n'
             '{"id": "b", "pain_sites": ["hip"], "red_flags": ["fever"], "conditions": []}\n',
    "csv": "id,pain_sites,red_flags,conditions\na,lower_back,none,none\nb,hip,fever,[]\n",
}


def write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


@pytest.mark.parametrize("fmt", sorted(VALID))
@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
def test_bom_and_crlf_simply_work(tmp_path: Path, fmt: str, bom: bool, crlf: bool) -> None:
    text = VALID[fmt].replace("\n", "\r\n") if crlf else VALID[fmt]
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    for path in (write(tmp_path, f"cases.{fmt}", data), write(tmp_path, "no-extension", data)):
        records = list(read_cases(path, VOCABULARY))
        assert [r.id for r in records] == ["a", "b"], path
        assert all(isinstance(r, Case) for r in records)


@pytest.mark.parametrize("fmt", sorted(VALID))
def test_standard_input_with_a_bom(fmt: str) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + VALID[fmt].replace("\n", "\r\n").encode()))
    assert [r.id for r in read_cases("-", VOCABULARY, stdin=stdin)] == ["a", "b"]


@pytest.mark.parametrize(("name", "data", "fragment", "line"), [
    ("empty.yaml", "", "no cases in", None),
    ("comments.yaml", "# nothing\n", "no cases in", None),
    ("empty.json", "[]", "no cases in", None),
    ("blank.jsonl", "\n\n", "no cases in", None),
    ("header.csv", "id,pain_sites\n", "no cases in", None),
    ("latin1.yaml", b"pain_sites: [lower_back]\n# caf\xe9\n", "is not UTF-8", 2),
    ("utf16.json", "[]".encode("utf-16"), "is not UTF-8", 1),
    ("bad.json", '{"a": 1,\n "b": }', "invalid JSON", 2),
    ("bad.yaml", "a: [1\nb: 2\n", "invalid YAML", 2),
    ("bad.csv", 'id,age\n"x,1\n', "invalid CSV", 2),
    ("bad-header.csv", "id,agee\n", "did you mean 'age'", 1),
    ("twice.csv", "id,age,age\n", "appears twice", 1),
])
def test_bad_files_raise_with_file_and_line(tmp_path: Path, name: str, data: str | bytes,
                                            fragment: str, line: int | None) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(InputFileError) as info:
        list(read_cases(path, VOCABULARY))
    assert fragment in info.value.message
    assert info.value.location.file == path
    assert info.value.location.line == line


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        list(read_cases(str(tmp_path / "nope.yaml"), VOCABULARY))
    with pytest.raises(InputFileError, match="is a directory"):
        list(read_cases(str(tmp_path), VOCABULARY))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.yaml", VALID["yaml"])
    os.chmod(path, 0)
    with pytest.raises(InputFileError, match="permission denied"):
        list(read_cases(path, VOCABULARY))


def test_every_file_is_checked_before_any_case_is_read(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", VALID["yaml"])
    records = read_all([good, str(tmp_path / "missing.yaml")], VOCABULARY)
    with pytest.raises(InputFileError, match="missing.yaml"):
        next(records)


def test_a_broken_json_line_is_one_error_record(tmp_path: Path) -> None:
    lines = VALID["jsonl"].splitlines()
    path = write(tmp_path, "c.jsonl", "\n".join([lines[0], '{"id": "x", ', "x" * (MAX_LINE + 10), lines[1]]))
    records = list(read_cases(path, VOCABULARY))
    assert [type(r).__name__ for r in records] == ["Case", "ErrorRecord", "ErrorRecord", "Case"]
    assert records[1].error.location.line == 2 and "invalid JSON" in records[1].error.message
    assert records[2].error.location.line == 3 and "longer than" in records[2].error.message


def test_csv_extra_cells_are_an_error_record_with_the_row_id(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "id,pain_sites,red_flags,conditions\nz,hip,none,none,extra\n")
    (record,) = read_cases(path, VOCABULARY)
    assert isinstance(record, ErrorRecord) and record.id == "z"
    assert record.error.location.line == 2


def test_duplicate_ids_are_warnings_and_both_cases_are_kept(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", VALID["yaml"])
    second = write(tmp_path, "b.jsonl", VALID["jsonl"])
    warnings: list[InputWarning] = []
    records = list(read_all([first, second], VOCABULARY, on_warning=warnings.append))
    assert [r.id for r in records] == ["a", "b", "a", "b"]
    assert [str(w.location.case) for w in warnings] == ["a", "b"]
    assert "is also case 1 of" in warnings[0].message and "both cases are kept" in warnings[0].message
    assert warnings[0].location.file == second


def test_duplicate_ids_are_noticed_past_the_exact_index_in_fixed_memory() -> None:
    warnings: list[InputWarning] = []
    ids = CaseIds(warnings.append)
    count = CaseIds.EXACT_IDS + 1000
    for n in range(1, count + 1):
        ids.check(f"case-{n}", "a.jsonl", n)
    assert warnings == []
    ids.check("case-7", "b.jsonl", 1)
    ids.check(f"case-{count}", "b.jsonl", 2)
    assert [w.message for w in warnings] == [
        "the id 'case-7' is also case 7 of a.jsonl; both cases are kept",
        f"the id 'case-{count}' is also an earlier case; both cases are kept"]


def test_default_ids_clash_only_for_files_with_the_same_name(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    case = "pain_sites: [hip]\nred_flags: []\nconditions: []\n"
    paths = [write(tmp_path, "x/c.yaml", case), write(tmp_path, "y/c.yaml", case),
             write(tmp_path, "c.jsonl", '{"pain_sites": ["hip"], "red_flags": [], "conditions": []}\n')]
    warnings: list[InputWarning] = []
    assert [r.id for r in read_all(paths, VOCABULARY, on_warning=warnings.append)] == ["c.yaml#1", "c.yaml#1", "c.jsonl#1"]
    assert len(warnings) == 1 and "same default ids" in warnings[0].message


class EndlessCases(io.TextIOBase):
    """A stream that never ends: reading it whole would never finish."""

    def __init__(self, head: str, repeat: str) -> None:
        self._pending = head
        self._repeat = repeat
        self.served = 0

    def readable(self) -> bool:
        return True

    def _take(self, count: int) -> str:
        while len(self._pending) < count:
            self._pending += self._repeat * 100
        out, self._pending = self._pending[:count], self._pending[count:]
        self.served += len(out)
        return out

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            raise AssertionError("the whole stream was asked for")
        return self._take(size)

    def readline(self, size: int | None = -1) -> str:
        self._take(0)
        end = self._pending.find("\n") + 1
        while end == 0:
            self._pending += self._repeat
            end = self._pending.find("\n") + 1
        return self._take(end if size is None or size < 0 else min(end, size))


CASE_JSON = '{"pain_sites": ["lower_back"], "red_flags": [], "conditions": []}\n'


@pytest.mark.parametrize(("fmt", "head", "repeat"), [
    ("jsonl", "", CASE_JSON),
    ("csv", "pain_sites,red_flags,conditions\n", "lower_back,none,none\n"),
    ("yaml", "", "---\npain_sites: [lower_back]\nred_flags: []\nconditions: []\n"),
])
def test_streams_are_read_case_by_case(session: Any, fmt: str, head: str, repeat: str) -> None:
    stream = EndlessCases(head, repeat)
    records = read_cases("-", VOCABULARY, fmt, stdin=stream)
    first = next(records)
    assert session.triage(first).id == "stdin#1"  # a result before the input is read through
    for _ in range(2000):
        next(records)
    # 2,000 cases are about 130 KB; what was read stays within a few read-ahead buffers.
    assert stream.served < 2 * 1024 * 1024


FORMATS = ["auto", "yaml", "json", "jsonl", "csv"]
FRAGMENTS = st.sampled_from([
    "id", "age", "pain_sites", "red_flags", "conditions", "lower_back", "fever", "none", "[]", "{", "}",
    "[", "]", ":", ",", ";", '"', "'", "\n", "\r\n", "-", "---", "&a", "*a", "!!python/name:os.system",
    "!!binary", "!!set", "nan", "1e999", "1" * 40, "yes", "no", "~", "\t", " ", "#", "\ufeff", "\x00",
])
TEXTS = st.text() | st.lists(FRAGMENTS, max_size=40).map("".join)


def triage_all(records: Any, session: Any) -> None:
    for record in records:
        if isinstance(record, Case):
            session.triage(record)
        else:
            assert isinstance(record, ErrorRecord) and record.error.message


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, fmt=st.sampled_from(FORMATS))
def test_any_text_gives_results_or_a_clean_error(session: Any, text: str, fmt: str) -> None:
    try:
        triage_all(read_cases("-", VOCABULARY, fmt, stdin=io.StringIO(text)), session)
    except InputFileError as error:
        assert error.location.file == "stdin" and error.message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary() | TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass")),
       suffix=st.sampled_from([".yaml", ".json", ".jsonl", ".csv", ""]))
def test_any_bytes_in_a_file_give_results_or_a_clean_error(session: Any, data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            triage_all(read_cases(str(path), VOCABULARY), session)
        except InputFileError as error:
            assert error.location.file == str(path) and error.message


def _read_csv_text(tmp_path: Path, text: str, **options: Any) -> tuple[list[Any], list[str]]:
    from triage.casefiles import CsvOptions

    warnings: list[InputWarning] = []
    path = write(tmp_path, "clinic.csv", text)
    records = list(read_cases(path, VOCABULARY, on_warning=warnings.append,
                              csv_options=CsvOptions(**options)))
    return records, [w.message for w in warnings]


def test_blank_csv_rows_are_skipped_and_counted_without_shifting_default_ids(tmp_path: Path) -> None:
    records, said = _read_csv_text(
        tmp_path, "pain_sites,red_flags,conditions\n,,\nhip,none,none\n  , ,\n\nknee,none,none\n")
    assert [r.id for r in records] == ["clinic.csv#1", "clinic.csv#2"]
    assert all(isinstance(r, Case) for r in records)
    assert said == ["3 blank rows were skipped (lines 2, 4, 5)"]


def test_trailing_empty_cells_are_harmless_but_extra_values_are_not(tmp_path: Path) -> None:
    records, _ = _read_csv_text(tmp_path, "id,pain_sites,red_flags,conditions\n"
                                          "a,hip,none,none,,\nb,hip,none,none,oops\n")
    assert isinstance(records[0], Case)
    assert isinstance(records[1], ErrorRecord)
    assert records[1].error.message == "the row has 5 cells but the header has 4"


def test_a_header_named_twice_in_two_spellings_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"'id' appears twice in the header \(as 'id' and 'ID'\)"):
        _read_csv_text(tmp_path, "id,ID,pain_sites,red_flags,conditions\na,b,hip,none,none\n")


def test_each_respelled_value_is_said_once_per_file(tmp_path: Path) -> None:
    records, said = _read_csv_text(tmp_path, "id,pain_sites,red_flags,conditions\n"
                                             "a,Hip,none,none\nb,Hip;Knee,none,none\n")
    assert [sorted(r.value("pain_sites")) for r in records] == [["hip"], ["hip", "knee"]]
    assert said == ["'Hip' read as 'hip' (said once for this file)",
                    "'Knee' read as 'knee' (said once for this file)"]


def test_commas_in_list_cells_separate_values_said_once_per_file(tmp_path: Path) -> None:
    """A ;-separated clinic export with `Buttock, Back of Thigh` typed in a list cell."""
    assert not any("," in v for spec in VOCABULARY.fields.values() if spec.is_list for v in spec.values)
    records, said = _read_csv_text(tmp_path, "id;pain_sites;triggers;red_flags;conditions\n"
                                             "a;Buttock, Back of Thigh;tennis_serve;none;none\n"
                                             "b;hip,knee;desk_work, driving;none;none\n")
    assert [sorted(r.value("pain_sites")) for r in records] == [
        ["back_of_thigh", "buttock"], ["hip", "knee"]]
    assert sorted(records[1].value("triggers")) == ["desk_work", "driving"]
    commas = [m for m in said if "commas" in m]
    assert commas == ["commas in list cells read as separators between values, as ';' is "
                      "(said once for this file)"]


def test_every_problem_of_a_yaml_case_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "cases.yaml", "id: a\nage: old\npain_sites: [hip, elbow, shoulder]\n"
                                         "triggers: [tenis_serve]\nred_flags: []\n")
    [record] = list(read_cases(path, VOCABULARY))
    assert isinstance(record, ErrorRecord)
    assert [(e.location.field, e.location.line, e.value) for e in record.error.all] == [
        ("age", 2, "old"), ("pain_sites", 3, "elbow"), ("pain_sites", 3, "shoulder"),
        ("triggers", 4, "tenis_serve"), ("conditions", 1, None)]
    as_dict = record.to_dict()
    assert as_dict["error"]["field"] == "age" and len(as_dict["errors"]) == 5


def test_an_oversized_csv_cell_costs_its_row_only(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("id,pain_sites,red_flags,conditions\n"
                    "a,lower_back,,\n"
                    f"b,{'x' * 200_000},,\n"
                    "c,lower_back,,\n")
    records = list(read_cases(str(path), VOCABULARY))
    assert [r.id for r in records] == ["a", "cases.csv#2", "c"]
    error = records[1]
    assert isinstance(error, ErrorRecord) and "a cell is longer than" in error.error.message
    assert error.error.location.line == 3


def test_a_json_list_is_read_case_by_case_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    items = [{"id": f"c{n}", "pain_sites": ["lower_back"], "red_flags": [], "conditions": [],
              "age": 30 + n} for n in range(3000)]
    path.write_text(json.dumps(items, indent=1))
    records = list(read_cases(str(path), VOCABULARY))
    assert [r.id for r in records] == [f"c{n}" for n in range(3000)]
    bad = tmp_path / "bad.json"
    bad.write_text('[\n {"pain_sites": ["lower_back"], "red_flags": [], "conditions": []},\n'
                   ' {"pain_sites": ["lower_back"], "red_flags": [], "conditions": [], "age": "x"}\n]')
    first, second = read_cases(str(bad), VOCABULARY)
    assert isinstance(second, ErrorRecord) and second.error.location.line == 3


@pytest.mark.parametrize(("text", "message"), [
    ('[{"pain_sites": ["lower_back"], "red_flags": [], "conditions": []} {}]', "Expecting ',' delimiter"),
    ('[{"pain_sites": ["lower_back"], "red_flags": [], "conditions": []}', "not closed"),
    ('[{"pain_sites": ["lower_back"], "red_flags": [], "conditions": []}] []', "Extra data"),
])
def test_a_broken_json_list_is_a_file_error_after_the_cases_before_it(
        tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    reader = read_cases(str(path), VOCABULARY)
    assert next(reader).id == "bad.json#1"
    with pytest.raises(InputFileError, match=message):
        next(reader)


# The peak resident size of this process alone: on Linux ru_maxrss keeps the high-water mark
# of the process that forked it (pytest), VmHWM starts afresh at exec.
LIST_READER = """
import resource, sys
from triage.casefiles import read_cases
from triage.kb import load_knowledge_base
count = sum(1 for _ in read_cases(sys.argv[1], load_knowledge_base().vocabulary))
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, peak)
"""


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_single_list_of_20000_cases_is_read_in_bounded_memory(tmp_path: Path, fmt: str) -> None:
    """Read whole, such a YAML list peaked at ~200 MB; case by case it stays near start-up size."""
    path = tmp_path / f"cases.{fmt}"
    case = '{id: c%d, pain_sites: [buttock, back_of_thigh], triggers: [tennis_serve], ' \
           'red_flags: [], conditions: []}'
    if fmt == "yaml":
        path.write_text("".join(f"- {case % n}\n" for n in range(20_000)))
    else:
        path.write_text(json.dumps([{"id": f"c{n}", "pain_sites": ["buttock", "back_of_thigh"],
                                     "triggers": ["tennis_serve"], "red_flags": [], "conditions": []}
                                    for n in range(20_000)], indent=1))
    done = subprocess.run([sys.executable, "-c", LIST_READER, str(path)], capture_output=True,
                          text=True, check=True, timeout=600)
    count, peak_kib = map(int, done.stdout.split())
    assert count == 20_000
    assert peak_kib < 100 * 1024, f"peak {peak_kib} KiB"


@pytest.mark.parametrize(("text", "ok"), [
    ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, True),
    ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), False),
    # Many brackets, shallow: siblings and brackets inside strings are not nesting.
    ("[" + ",".join(["{}"] * 100) + "]", True),
    ('{"id": "' + "[{" * 100 + '"}', True),
    ('{"id": "\\"' + "[" * 40 + '", "x": ' + "[" * 33 + "]" * 33 + "}", False),
])
def test_json_nesting_limit_counts_only_real_nesting(text: str, ok: bool) -> None:
    assert json_depth_ok(text) is ok


# -- FHIR QuestionnaireResponses (the mapping itself is tested in tests/fhir/test_response.py) --

def _responses(kb: Any, *cases: dict[str, Any]) -> list[dict[str, Any]]:
    from triage.fhir.response import response_from_case

    return [response_from_case(case, kb.questions, kb.version) for case in cases]


def test_questionnaire_responses_are_told_by_their_resource_type(kb: Any) -> None:
    """A Bundle (its entry that is no response an error in its place) and NDJSON, from standard input."""
    ok = {"id": "ok", "pain_sites": ["lower_back"], "red_flags": [], "conditions": []}
    first, second = _responses(kb, ok, {**ok, "id": "ok2"})
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": first}, {"resource": {"resourceType": "Patient"}}, {"resource": second}]}
    records = list(read_cases("-", kb.vocabulary, stdin=io.StringIO(json.dumps(bundle)), questions=kb.questions))
    assert [type(r).__name__ for r in records] == ["Case", "ErrorRecord", "Case"]
    assert [r.id for r in records] == ["ok", "stdin#2", "ok2"]
    assert records[1].error.location.field == "resourceType"
    lines = "".join(json.dumps(r) + "\n" for r in (first, second))
    records = list(read_cases("-", kb.vocabulary, stdin=io.StringIO(lines), questions=kb.questions))
    assert [r.id for r in records] == ["ok", "ok2"] and all(isinstance(r, Case) for r in records)


def test_a_response_cannot_be_read_without_the_questions(kb: Any) -> None:
    (response,) = _responses(kb, {"id": "ok", "pain_sites": ["lower_back"], "red_flags": [], "conditions": []})
    (record,) = read_cases("-", kb.vocabulary, stdin=io.StringIO(json.dumps(response)))
    assert isinstance(record, ErrorRecord) and "questions" in record.error.message
