"""Output writers: every format carries each case's content, in order."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml
from helpers import make_case

from triage.errors import CaseError, Location
from triage.formats import OUTPUT_FORMATS, make_writer
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


def test_csv_flattens_lists_with_semicolons(outcomes) -> None:
    rows = list(csv.DictReader(io.StringIO(_write("csv", outcomes))))
    assert [r["id"] for r in rows] == ["tennis", "bad#2", "fever"]
    assert rows[0]["disposition"] == "self_care" and rows[0]["top_muscle"] == "piriformis"
    assert rows[0]["recommendations"].split(";")[0] == "warm_up"
    assert rows[1]["error_field"] == "triggers" and rows[1]["error_value"] == "tenis"
    assert rows[2]["urgency"] == "urgent" and "refer.urgent.fever" in rows[2]["referral_rules"].split(";")


def test_table_shows_disposition_muscle_and_main_reason(outcomes) -> None:
    header, tennis, bad, fever = _write("table", outcomes).splitlines()
    assert header.split() == ["CASE", "DISPOSITION", "LIKELY", "MUSCLE", "WHY"]
    assert "self_care" in tennis and "piriformis (0.84)" in tennis
    assert "INVALID" in bad and "'tenis' is not allowed" in bad
    assert "urgent" in fever and "infection" in fever


def test_every_format_is_available() -> None:
    assert set(OUTPUT_FORMATS) == {"jsonl", "json", "yaml", "csv", "table"}
