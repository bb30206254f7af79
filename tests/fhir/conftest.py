"""Shared by the FHIR tests: the Python API on the bundled knowledge base, the golden and generated
cases, and every resource triage generates for them."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from fhir_helpers import RECORDED
from helpers import ROOT, write_generated_cases

from triage.api import TriageKB
from triage.fhir.bundle import result_bundle
from triage.fhir.operations import capability_statement, triage_operation_definition
from triage.fhir.questionnaire import build_questionnaire
from triage.fhir.response import response_from_case
from triage.kb import KnowledgeBase

GOLDEN_FILES = ("cases.yaml", "policy-v2.yaml")


@pytest.fixture(scope="session")
def api(kb: KnowledgeBase) -> TriageKB:
    return TriageKB(kb)


@pytest.fixture(scope="session")
def golden_cases() -> list[dict[str, Any]]:
    """The golden cases (raw case mappings with their ids), every file of tests/golden."""
    return [dict(golden["case"], id=golden["case"].get("id") or golden["name"])
            for name in GOLDEN_FILES for golden in yaml.safe_load((ROOT / "tests" / "golden" / name).read_text())]


@pytest.fixture(scope="session")
def generated_cases(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """2,000 seeded valid cases of benchmarks/cases.py."""
    path = write_generated_cases(tmp_path_factory.mktemp("generated") / "cases.jsonl", 2000)
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="session")
def golden_bundles(api: TriageKB, golden_cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The result Bundle of every golden case, its QuestionnaireResponse included."""
    return [result_bundle(api.triage(case), recorded=RECORDED,
                          response=response_from_case(api.parse(case), api.kb.questions, api.version))
            for case in golden_cases]


@pytest.fixture(scope="session")
def every_resource(api: TriageKB, golden_bundles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every resource triage makes for the golden cases: Bundles and each of their entries,
    the Questionnaire, the OperationDefinition and the CapabilityStatement."""
    resources = [build_questionnaire(api.kb), triage_operation_definition(api.version),
                 capability_statement(api.version)]
    for bundle in golden_bundles:
        resources += [bundle, *(entry["resource"] for entry in bundle["entry"])]
    return resources
