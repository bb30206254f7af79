"""The JSON Schemas are generated from the vocabulary and agree with the parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from helpers import BASE_CASE
from jsonschema import Draft202012Validator

from triage.case import parse_case
from triage.cli import main
from triage.errors import CaseError
from triage.schema import case_schema, result_schema, schemas
from triage.session import TriageSession
from triage.kb import load_knowledge_base
from triage.vocabulary import CaseField, FieldKind

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = load_knowledge_base().vocabulary
CASE_FIELDS = VOCABULARY.fields
SCHEMAS = schemas(VOCABULARY)
CASE = Draft202012Validator(SCHEMAS["case"])
RESULT = Draft202012Validator(SCHEMAS["result"])


def example_cases() -> list[dict[str, Any]]:
    cases = yaml.safe_load((ROOT / "examples" / "clinic-a.yaml").read_text())
    lines = (ROOT / "examples" / "self-referrals.jsonl").read_text().splitlines()
    return cases + [json.loads(line) for line in lines if line.strip()]


def test_the_schemas_are_valid_json_schema() -> None:
    Draft202012Validator.check_schema(SCHEMAS["case"])
    Draft202012Validator.check_schema(SCHEMAS["result"])


@pytest.mark.parametrize("case", example_cases(), ids=lambda c: c["id"])
def test_every_example_case_and_its_result_validate(case: dict[str, Any], session: TriageSession) -> None:
    assert not list(CASE.iter_errors(case))
    assert not list(RESULT.iter_errors(session.triage(parse_case(case, "x", VOCABULARY)).to_dict()))


def test_bad_cases_are_refused_by_the_schema_as_by_the_parser() -> None:
    bad = yaml.safe_load((ROOT / "tests" / "bad_inputs" / "bad-values.yaml").read_text())
    for raw in bad:
        refused_by_parser = True
        try:
            parse_case(raw, "x", VOCABULARY)
            refused_by_parser = False
        except CaseError as exc:
            # A screen left out is reported but read as not screened (policy v3, principle 7):
            # the case is triaged, so the schema lets it through.
            refused_by_parser = exc.blocking
        assert refused_by_parser == bool(list(CASE.iter_errors(raw))), raw["id"]


@pytest.mark.parametrize(("field", "value"), [
    ("age", 121), ("age", -1), ("severity", 11), ("pain_side", "up"), ("pain_sites", []),
    ("triggers", ["tenis_serve"]), ("can_touch_toes", "yes"), ("colour", "red"),
])
def test_each_constraint_of_the_vocabulary_is_in_the_schema(field: str, value: Any) -> None:
    case = {**BASE_CASE, field: value}
    assert list(CASE.iter_errors(case))
    with pytest.raises(CaseError):
        parse_case(case, "x", VOCABULARY)


def test_required_fields_come_from_the_vocabulary() -> None:
    # A screen left out is not screened (it refers), not a refused case: only pain_sites is
    # required, unless a screen found something (then the rest may be missing, as for the parser).
    assert SCHEMAS["case"]["anyOf"][0] == {"required": [n for n, f in CASE_FIELDS.items()
                                                        if f.required and not f.is_screen]}
    assert SCHEMAS["case"]["anyOf"][0] == {"required": ["pain_sites"]}


def _saved_by_ask(tmp_path: Path, lines: list[str], name: str) -> Path:
    saved = tmp_path / name
    CliRunner().invoke(main, ["ask", "--save", str(saved)], input="".join(line + "\n" for line in lines))
    assert saved.exists()
    return saved


def _ask_files(tmp_path: Path) -> list[Path]:
    """Files `triage ask --save` writes: an emergency stop at each emergency sign, a finished
    questionnaire, answers saved at each point the input may end."""
    from test_questionnaire import SELF_CARE

    from triage.kb import load_knowledge_base

    kb = load_knowledge_base()
    first = kb.questions[0]
    files = [_saved_by_ask(tmp_path, [str(n)], f"emergency-{n}.yaml") for n in range(1, len(first.choices) + 1)]
    typed = [SELF_CARE[q.id] for q in kb.questions if q.id in SELF_CARE]
    files += [_saved_by_ask(tmp_path, typed[:n], f"after-{n}.yaml") for n in range(len(typed) + 1)]
    return files


def test_the_schema_accepts_what_triage_run_accepts_of_every_file_triage_ask_saves(tmp_path: Path) -> None:
    files = _ask_files(tmp_path)
    for saved in files:
        case = yaml.safe_load(saved.read_text(encoding="utf-8"))
        ran = CliRunner().invoke(main, ["run", str(saved), "--format", "json"])
        accepted_by_run = "error" not in json.loads(ran.stdout)[0]
        assert accepted_by_run == (not list(CASE.iter_errors(case))), saved.name
    # Every emergency stop and the finished questionnaire are valid cases, for run and schema alike.
    for saved in [f for f in files if f.name.startswith("emergency-")] + [files[-1]]:
        assert not list(CASE.iter_errors(yaml.safe_load(saved.read_text(encoding="utf-8")))), saved.name


def test_the_generator_takes_any_field_table() -> None:
    """The vocabulary may move into the knowledge base: the generator only needs the table."""
    fields = {"id": CaseField("id", FieldKind.TEXT, "an id"),
              "mood": CaseField("mood", FieldKind.CHOICE, "how it feels", required=True,
                                values=("calm", "cross"))}
    schema = case_schema(fields)
    assert schema["required"] == ["mood"]
    assert schema["properties"]["mood"] == {"description": "how it feels", "enum": ["calm", "cross", None]}
    assert result_schema(("calf",))["oneOf"][0]["properties"]["likely_muscles"]["items"][
        "properties"]["muscle"] == {"enum": ["calf"]}


@pytest.mark.parametrize("which", ["case", "result"])
def test_triage_schema_prints_the_schema(which: str) -> None:
    run = CliRunner().invoke(main, ["schema", which])
    assert run.exit_code == 0
    assert json.loads(run.output) == SCHEMAS[which]


def test_triage_schema_defaults_to_the_case() -> None:
    run = CliRunner().invoke(main, ["schema"])
    assert json.loads(run.output)["title"] == "triage case"
