"""`triage run` on a real clinic's spreadsheet export: forgiving where it is safe, strict where it matters.

tests/fixtures/messy-clinic.csv has capitalised headers and values, values
with spaces, an extra column, semicolons between cells, a blank row and a row
with several errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from helpers import FIELDS
from triage.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MESSY = "messy-clinic.csv"


def _values(field: str) -> str:
    """The allowed values of a field, as error messages list them (from the knowledge base)."""
    return ", ".join(FIELDS[field].values)


WARNINGS = [
    "triage: messy-clinic.csv:1: warning: columns read as separated by semicolons "
    "(detected; --delimiter sets it)",
    "triage: messy-clinic.csv:1: warning: column names read as case fields: 'ID' as 'id', "
    "'Age' as 'age', 'Pain Sites' as 'pain_sites', 'Pain-Side' as 'pain_side', "
    "'Triggers' as 'triggers', 'Red_Flags' as 'red_flags', 'CONDITIONS' as 'conditions'",
    "triage: messy-clinic.csv:1: warning: ignoring unknown column 'clinic_notes'",
    "triage: messy-clinic.csv:2, field 'pain_sites': warning: 'Buttock' read as 'buttock' "
    "(said once for this file)",
    "triage: messy-clinic.csv:2, field 'pain_side': warning: 'Left' read as 'left' "
    "(said once for this file)",
    "triage: messy-clinic.csv:2, field 'triggers': warning: 'Tennis_Serve' read as 'tennis_serve' "
    "(said once for this file)",
    "triage: messy-clinic.csv:3, field 'pain_sites': warning: 'lower back' read as 'lower_back' "
    "(said once for this file)",
    "triage: messy-clinic.csv:3, field 'pain_sites': warning: 'Back of thigh' read as "
    "'back_of_thigh' (said once for this file)",
    "triage: messy-clinic.csv:3, field 'triggers': warning: 'desk work' read as 'desk_work' "
    "(said once for this file)",
]
ERRORS = [
    "triage: messy-clinic.csv:5, case 'clinic-b-3', field 'age': 'forty' is not a whole number. "
    "Allowed: a whole number from 0 to 120.",
    "triage: messy-clinic.csv:5, case 'clinic-b-3', field 'pain_sites': 'elbow' is not allowed. "
    f"Allowed: a list of: {_values('pain_sites')}.",
    "triage: messy-clinic.csv:5, case 'clinic-b-3', field 'pain_side': 'up' is not allowed. "
    f"Allowed: one of: {_values('pain_side')}.",
    "triage: messy-clinic.csv:5, case 'clinic-b-3', field 'triggers': 'tenis_serve' is not allowed; "
    f"did you mean 'tennis_serve'? Allowed: a list of: {_values('triggers')}.",
    "triage: messy-clinic.csv:5, case 'clinic-b-3', field 'conditions': missing required field "
    "'conditions': list the conditions found, [] if they were asked about and none was found, "
    "or unknown if the person was not sure. "
    f"Allowed: a list of: {_values('conditions')}.",
]
LATER_WARNINGS = [
    "triage: messy-clinic.csv:6, field 'pain_sites': warning: 'Lower Back' read as 'lower_back' "
    "(said once for this file)",
    "triage: messy-clinic.csv:6, field 'triggers': warning: 'Heavy Lifting' read as "
    "'heavy_lifting' (said once for this file)",
    "triage: messy-clinic.csv:6, field 'red_flags': warning: 'Fever' read as 'fever' "
    "(said once for this file)",
    "triage: messy-clinic.csv: warning: 1 blank row was skipped (line 4)",
    "triage: 3 triaged, 1 invalid",
]


def run(*args: str, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.chdir(FIXTURES)  # file names in messages stay short and stable
    # One worker: warnings and errors then come in file order.
    return CliRunner().invoke(main, ["run", *args, "--workers", "1"])


def test_the_messy_export_is_read_with_exact_warnings_and_every_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(MESSY, "--ignore-unknown-columns", "-f", "json", monkeypatch=monkeypatch)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines() == WARNINGS + ERRORS + LATER_WARNINGS
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == ["clinic-b-1", "clinic-b-2", "clinic-b-3", "clinic-b-4"]
    # The invalid row: the contract's error is the first problem, errors lists all five.
    invalid = records[2]
    assert invalid["error"] == {"field": "age", "value": "forty", "file": MESSY, "line": 5,
                                "message": "'forty' is not a whole number. "
                                           "Allowed: a whole number from 0 to 120."}
    assert [(e["field"], e["value"], e.get("did_you_mean")) for e in invalid["errors"]] == [
        ("age", "forty", None), ("pain_sites", "elbow", None), ("pain_side", "up", None),
        ("triggers", "tenis_serve", "tennis_serve"), ("conditions", None, None)]
    # The others are triaged exactly as the same cases written cleanly.
    clean = CliRunner().invoke(main, ["run", "messy-clinic.expected.yaml", "-f", "json"])
    assert clean.exit_code == 0, clean.stderr
    assert [records[0], records[1], records[3]] == json.loads(clean.stdout)


def test_an_extra_column_still_refuses_the_file_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(MESSY, monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"triage: messy-clinic.csv:1: unknown column 'clinic_notes'. Allowed: {', '.join(FIELDS)}. "
        "--ignore-unknown-columns skips columns that are not case fields.")


def test_a_forced_delimiter_that_does_not_fit_says_which_one_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(MESSY, "--delimiter", ",", monkeypatch=monkeypatch)
    assert result.exit_code == 2
    assert "unknown column 'ID;Age;Pain Sites;" in result.stderr
    assert "The columns seem to be separated by ';': --delimiter sets it." in result.stderr
    # Ignoring unknown columns cannot make it pass: no column would be left.
    ignoring = run(MESSY, "--delimiter", ",", "--ignore-unknown-columns", monkeypatch=monkeypatch)
    assert ignoring.exit_code == 2
    assert ignoring.stderr.splitlines()[-1] == (
        "triage: messy-clinic.csv:1: no column of the header is a case field, so nothing can be "
        "read. The columns seem to be separated by ';': --delimiter sets it.")


@pytest.mark.parametrize(("delimiter", "option"), [("\t", None), ("\t", "tab"), (",", ","), (";", ";")])
def test_the_delimiter_is_detected_or_forced(tmp_path: Path, delimiter: str, option: str | None) -> None:
    rows = [["id", "pain_sites", "red_flags", "conditions"], ["a", "hip", "none", "none"]]
    path = tmp_path / "cases.csv"
    path.write_text("".join(delimiter.join(row) + "\n" for row in rows))
    args = ["run", str(path), "-f", "json"] + (["--delimiter", option] if option else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["id"] == "a"
    detected_other = option is None and delimiter != ","
    assert ("detected; --delimiter sets it" in result.stderr) == detected_other


@pytest.mark.parametrize(("value", "says"), [
    ("Buttok", "'Buttok' is not allowed; did you mean 'buttock'?"),  # a near miss stays an error
    ("lower  back", None),                                           # spaces: forgiven
    ("LOWER-BACK", None),
])
def test_values_match_across_capitals_and_spaces_but_never_a_near_miss(
        tmp_path: Path, value: str, says: str | None) -> None:
    path = tmp_path / "cases.yaml"
    path.write_text(f"id: a\npain_sites: [{value}]\nred_flags: []\nconditions: []\n")
    result = CliRunner().invoke(main, ["run", str(path), "-f", "json"])
    if says is None:
        assert result.exit_code == 0, result.stderr
        assert f"warning: '{value}' read as 'lower_back' (said once for this file)" in result.stderr
    else:
        assert result.exit_code == 1 and says in result.stderr


def test_screening_fields_stay_required(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text("ID,Pain Sites\na,Hip\n")
    result = CliRunner().invoke(main, ["run", str(path), "-f", "json"])
    assert result.exit_code == 1
    [record] = json.loads(result.stdout)
    assert [e["field"] for e in record["errors"]] == ["red_flags", "conditions"]
