"""`triage run` through click's CliRunner: every format and exit code."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from triage.cli import main
from triage.kb import default_rules_dir

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOOD = ('{"id": "a", "pain_sites": ["buttock", "back_of_thigh"], "triggers": ["tennis_serve"],'
        ' "red_flags": [], "other_symptoms": [], "conditions": [], "age": 40, "severity": 3, "duration_days": 5}\n'
        '{"id": "b", "pain_sites": ["lower_back"], "red_flags": ["fever"], "conditions": []}\n')
BAD = '{"id": "c", "pain_sites": ["lower_back"], "triggers": ["tenis_serve"], "red_flags": [], "conditions": []}\n'


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["run", *args], input=input)


def test_examples_run_in_order_and_exit_0() -> None:
    files = sorted(str(p) for p in EXAMPLES.iterdir())
    result = _run(*files, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids[:2] == ["clinic-a-tennis", "clinic-a-office"] and len(ids) == 19


@pytest.mark.parametrize("fmt", ["jsonl", "json", "yaml", "csv", "table"])
def test_every_format_from_stdin(fmt: str) -> None:
    result = _run("-", "--format", fmt, input=GOOD)
    assert result.exit_code == 0
    out = result.stdout
    if fmt == "jsonl":
        assert [json.loads(line)["disposition"] for line in out.splitlines()] == ["self_care", "urgent"]
    elif fmt == "json":
        assert [r["disposition"] for r in json.loads(out)] == ["self_care", "urgent"]
    elif fmt == "yaml":
        assert [r["disposition"] for r in yaml.safe_load(out)] == ["self_care", "urgent"]
    elif fmt == "csv":
        assert out.splitlines()[0].startswith("id,disposition,top_muscle")
        assert out.splitlines()[2].startswith("b,urgent,")
    else:
        assert out.splitlines()[0].split()[:2] == ["CASE", "DISPOSITION"]
        assert "piriformis" in out.splitlines()[1]


def test_invalid_case_is_an_error_record_in_place_and_exit_1() -> None:
    result = _run("-", "--format", "jsonl", input=GOOD + BAD + GOOD)
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c", "a", "b"]
    assert records[2]["error"]["field"] == "triggers"
    assert records[2]["error"]["did_you_mean"] == "tennis_serve"
    assert "disposition" in records[3]
    assert "did you mean 'tennis_serve'" in result.stderr


def test_output_file_format_follows_its_extension(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    result = _run("-", "--output", str(target), input=GOOD)
    assert result.exit_code == 0 and result.stdout == ""
    assert [r["id"] for r in json.loads(target.read_text())] == ["a", "b"]


def test_missing_file_exits_2_before_anything_runs(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(GOOD)
    result = _run(str(good), str(tmp_path / "missing.yaml"), "--format", "jsonl")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "missing.yaml: no such file" in result.stderr


def test_broken_knowledge_base_exits_2_with_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "zz.yaml").write_text("rules:\n  - id: x.y\n    description: d\n    sources: [article-004]\n"
                                   "    when: {pain_side: {is: middle}}\n    then: {derive: prolonged_sitting}\n")
    result = _run("-", "--rules", str(rules), input=GOOD)
    assert result.exit_code == 2
    assert f"{rules / 'zz.yaml'}:5" in result.stderr and "did you mean" not in result.stdout
    assert "unknown value 'middle' for pain_side" in result.stderr


def test_bad_option_exits_2() -> None:
    assert _run("-", "--format", "xml", input=GOOD).exit_code == 2


def test_the_library_reads_and_writes_exactly_the_formats_it_names() -> None:
    from triage.casefiles import _READERS
    from triage.fileformats import INPUT_FORMATS, OUTPUT_FORMAT_BY_EXTENSION, OUTPUT_FORMATS
    from triage.formats import WRITERS

    assert tuple(_READERS) == INPUT_FORMATS
    assert tuple(WRITERS) == OUTPUT_FORMATS
    # FHIR NDJSON shares .ndjson with JSON Lines, so only --format fhir names it.
    assert set(OUTPUT_FORMAT_BY_EXTENSION.values()) == set(OUTPUT_FORMATS) - {"fhir"}


#: ``triage`` in a fresh interpreter that reports another experta release than the proven one.
_OTHER_EXPERTA = (
    "import sys\n"
    "from importlib import metadata\n"
    "real = metadata.version\n"
    "metadata.version = lambda name: '2.0.0' if name == 'experta' else real(name)\n"
    "from triage.__main__ import main\n"
    "sys.argv = ['triage', *sys.argv[1:]]\n"
    "main()\n"
)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_another_experta_is_one_readable_warning_line(workers: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    from helpers import write_generated_cases

    cases = write_generated_cases(tmp_path / "cases.jsonl", 150)
    command = [sys.executable, "-c", _OTHER_EXPERTA, "run", str(cases), "--format", "jsonl", "--workers", workers]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == [
        "triage: warning: experta 2.0.0 is installed, not 1.9.4: using experta's plain engine "
        "(same results, slower)", "triage: 150 triaged, 0 invalid"]
    assert len(run.stdout.splitlines()) == 150
    # --quiet silences warnings too, this one included.
    quiet = subprocess.run([*command, "--quiet"], capture_output=True, text=True, check=False)
    assert (quiet.returncode, quiet.stderr, quiet.stdout) == (0, "", run.stdout)


#: An emergency beside one bad field of each kind (policy v3, principle 9).
EMERGENCY_WITH_TYPOS = [
    {"id": "unknown-value", "pain_sites": ["buttok"], "red_flags": ["saddle_numbness"], "conditions": []},
    {"id": "out-of-range", "pain_sites": ["lower_back"], "age": 300, "red_flags": ["leg_weakness"], "conditions": []},
    {"id": "unknown-field", "pain_sites": ["lower_back"], "colour": "red", "red_flags": ["major_trauma"],
     "conditions": []},
    {"id": "wrong-type", "pain_sites": ["lower_back"], "severity": "bad", "other_symptoms": ["fainted_or_collapsed"],
     "red_flags": [], "conditions": []},
]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "yaml", "csv", "table"])
def test_an_emergency_with_a_bad_field_is_triaged_in_every_format_and_exits_1(fmt: str) -> None:
    lines = "".join(json.dumps(case) + "\n" for case in EMERGENCY_WITH_TYPOS)
    result = _run("-", "--format", fmt, input=lines)
    assert result.exit_code == 1  # some input was invalid
    out = result.stdout
    if fmt in ("jsonl", "json", "yaml"):
        records = ([json.loads(line) for line in out.splitlines()] if fmt == "jsonl"
                   else json.loads(out) if fmt == "json" else yaml.safe_load(out))
        assert [r["disposition"] for r in records] == ["emergency"] * 4
        assert [r["errors"][0]["field"] for r in records] == ["pain_sites", "age", "colour", "severity"]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [(r["disposition"], r["error_field"]) for r in rows] == [
            ("emergency", "pain_sites"), ("emergency", "age"), ("emergency", "colour"), ("emergency", "severity")]
    else:
        assert out.count("emergency") == 4 and out.count("(input has 1 error)") == 4
    assert "was triaged on the answers that could be read: emergency" in result.stderr
