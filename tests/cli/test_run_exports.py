"""`triage run` on what clinics really export: semicolons, bracketed headers, N/A cells, notes columns.

tests/fixtures/clinic-export.txt is a spreadsheet export without a .csv name:
a `Duration (days)` header, `N/A` and `-` in list cells, and two columns that
are not case fields, one holding patient notes that must never be echoed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from triage.casefiles import detect_format
from triage.cli import main
from helpers import FIELDS

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "clinic-export.txt"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["run", *args, "-f", "jsonl"], input=stdin)


@pytest.mark.parametrize("how", ["stdin", "file without .csv"])
def test_a_semicolon_export_is_read_as_a_table_not_yaml(how: str) -> None:
    text = EXPORT.read_text()
    args = ["-", "--ignore-unknown-columns"] if how == "stdin" else [str(EXPORT), "--ignore-unknown-columns"]
    result = run(*args, stdin=text if how == "stdin" else None)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["p1", "p2", "p3"]  # three patients, not "1 invalid"
    assert "'Duration (days)' as 'duration_days'" in result.stderr
    # A version-2 export has no other-symptoms column: not screened, so not self-care (v3, principle 7).
    assert records[0]["disposition"] == "see_doctor"
    assert "refer.see_doctor.other_symptoms_not_screened" in [r["rule"] for r in records[0]["referral"]["reasons"]]


def test_every_unknown_column_is_named_in_one_message() -> None:
    result = run(str(EXPORT))
    assert result.exit_code == 2
    last = result.stderr.splitlines()[-1]
    assert last.startswith("triage: ") and "2 unknown columns: 'Notes', 'Clinician'" in last
    assert "--ignore-unknown-columns skips columns that are not case fields." in last


def test_na_and_dash_read_as_none_where_a_list_may_be_empty_and_are_said() -> None:
    result = run(str(EXPORT), "--ignore-unknown-columns")
    records = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert "error" not in records["p1"] and "error" not in records["p2"]
    assert "field 'worse_when': warning: 'N/A' read as 'none' (said once for this file)" in result.stderr
    assert "field 'triggers': warning: 'n/a' read as 'none' (said once for this file)" in result.stderr


def test_na_in_a_screen_is_not_taken_as_nothing_found_and_says_what_to_write() -> None:
    result = run(str(EXPORT), "--ignore-unknown-columns")
    p3 = [r for r in map(json.loads, result.stdout.splitlines()) if r["id"] == "p3"][0]
    assert p3["error"]["field"] == "red_flags" and p3["error"]["value"] == "N/A"
    assert "write none if it was asked and nothing was found" in p3["error"]["message"]
    assert result.exit_code == 1


@pytest.mark.parametrize("field", [name for name, spec in FIELDS.items() if spec.is_list and spec.non_empty])
def test_na_in_a_list_that_needs_a_value_is_refused_with_a_hint(tmp_path: Path, field: str) -> None:
    row = {"id": "a", "pain_sites": "lower_back", "red_flags": "none", "conditions": "none", field: "N/A"}
    path = tmp_path / "cases.csv"
    path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n")
    error = json.loads(run(str(path)).stdout)["error"]
    assert error["field"] == field and "needs at least one value" in error["message"]


def test_quiet_silences_every_warning_but_not_errors() -> None:
    loud = run(str(EXPORT), "--ignore-unknown-columns")
    assert "warning:" in loud.stderr
    quiet = run(str(EXPORT), "--ignore-unknown-columns", "-q")
    assert quiet.stdout == loud.stdout
    assert quiet.stderr.splitlines() == [line for line in loud.stderr.splitlines()
                                         if "warning:" not in line and not line.endswith(" invalid")]
    assert "'N/A' does not say whether this was screened" in quiet.stderr


@pytest.mark.parametrize("args", [[], ["--ignore-unknown-columns"], ["--input-format", "yaml"]])
def test_no_message_echoes_the_file(args: list[str]) -> None:
    """Read as a table, as YAML by force, or refused: at most the offending cell is quoted."""
    result = run(str(EXPORT), *args)
    assert "private note" not in result.stdout + result.stderr


def test_text_that_is_no_table_is_described_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Seen today, private history follows\nmore private lines\n")
    result = run(str(path))
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert "private" not in json.dumps(error) + result.stderr
    assert "plain text" in error["message"]


@pytest.mark.parametrize(("first_line", "fmt"), [
    ("ID;Age;Pain sites;Duration (days);Notes", "csv"),
    ("id\tpain_sites\tred_flags", "csv"),
    ("Notes,Pain Sites", "csv"),            # one known field name is enough
    ("id: a", "yaml"),
    ("- id: a, pain_sites: [lower_back]", "yaml"),
    ("# cases, red_flags first", "yaml"),
    ("pain_sites: [lower_back, buttock]", "yaml"),
    ("hello, world", "yaml"),                # no field name: not taken for a table
])
def test_content_sniffing_takes_a_line_of_field_names_for_a_table(first_line: str, fmt: str) -> None:
    assert detect_format("-", first_line + "\nmore\n", FIELDS) == fmt
