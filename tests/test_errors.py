"""The error hierarchy: one base class, every error carrying its location."""

from __future__ import annotations

import pytest

from triage.errors import (CaseError, InputFileError, InputWarning, InterruptedRun,
                           KnowledgeBaseError, Location, OutputFileError, Problem, TriageError)


@pytest.mark.parametrize("error", [
    InputFileError("no such file", Location("a.yaml")),
    OutputFileError("cannot write", Location("out.jsonl")),
    CaseError("bad", Location("a.yaml", 3, "c1", "age"), value=200),
    KnowledgeBaseError([Problem(Location("rules/x.yaml", 4), "unknown field")]),
    InterruptedRun(3, "out.jsonl.partial"),
])
def test_every_error_is_a_triage_error_with_a_location(error: TriageError) -> None:
    assert isinstance(error, TriageError)
    assert isinstance(error.location, Location)
    assert error.message


def test_location_names_file_line_case_and_field() -> None:
    assert str(Location("a.yaml", 3, "c1", "age")) == "a.yaml:3, case 'c1', field 'age'"
    assert str(Location("a.yaml")) == "a.yaml"
    assert str(Location()) == "<input>"


def test_error_message_starts_with_its_location() -> None:
    error = CaseError("too old", Location("a.yaml", 3, "c1", "age"), value=200,
                      allowed="a whole number from 0 to 120")
    assert str(error) == "a.yaml:3, case 'c1', field 'age': too old"
    assert (error.value, error.allowed, error.suggestion) == (200, "a whole number from 0 to 120", None)


def test_knowledge_base_error_lists_every_problem_with_file_and_line() -> None:
    error = KnowledgeBaseError([Problem(Location("r/a.yaml", 4), "one"),
                                Problem(Location("r/b.yaml", 9), "two")])
    assert error.message == "the knowledge base has 2 problems"
    assert str(error).splitlines() == ["r/a.yaml:4: [error] one (load)", "r/b.yaml:9: [error] two (load)"]
    assert error.location == Location("r/a.yaml", 4)


def test_interrupted_run_says_how_many_cases_were_done_and_where() -> None:
    assert str(InterruptedRun(1, "out.jsonl.partial")) == (
        "interrupted: 1 case was done; the results so far are in out.jsonl.partial")
    assert str(InterruptedRun(0, None)) == "interrupted: 0 cases were done"


def test_warnings_are_data_not_output() -> None:
    warning = InputWarning(Location("a.yaml", case="x"), "the id 'x' is used twice")
    assert str(warning) == "a.yaml, case 'x': warning: the id 'x' is used twice"
