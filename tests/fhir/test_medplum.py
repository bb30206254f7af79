"""A second, independent validator: @medplum/core's validateResource (Node), over every resource.

Installed by .ci/run with ``npm ci`` in tests/fhir (versions pinned in its
package.json and package-lock.json). Errors must be none, but for the
documented false positives of :data:`FALSE_POSITIVES`; warnings are allowed
(medplum cannot tell the type a ``urn:uuid:`` reference names and warns of
each one, though the references carry ``type``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fhir_helpers import node_tool

from triage.api import TriageKB
from triage.fhir.bundle import error_outcome
from triage.fhir.operations import next_question

VALIDATE = Path(__file__).parent / "medplum_validate.cjs"


def _no_probability(resource: dict[str, Any], issue: dict[str, Any]) -> bool:
    """ras-2 is "probability is decimal implies (probability as decimal) <= 100": with no probability
    the implication holds (FHIRPath: an empty antecedent is true), but medplum 4.5.2 reports it."""
    return resource["resourceType"] == "RiskAssessment" and not any(
        key.startswith("probability") for p in resource.get("prediction", []) for key in p)


#: (constraint key, when it is a false positive): issues medplum reports that the resource does not break.
FALSE_POSITIVES = {"ras-2": _no_probability}


def _subject(resource: dict[str, Any], issue: dict[str, Any]) -> dict[str, Any]:
    """The resource an issue is about: a Bundle's entry when its expression points into one."""
    found = re.match(r"Bundle\.entry\[(\d+)\]\.resource", (issue.get("expression") or [""])[0])
    return resource["entry"][int(found.group(1))]["resource"] if found else resource


def _validate(resources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    node_tool("@medplum/core")
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    run = subprocess.run([node, str(VALIDATE)], input=json.dumps(resources), capture_output=True, text=True,
                         cwd=VALIDATE.parent, check=True, timeout=600)
    return json.loads(run.stdout)


def _errors(resources: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
    found = []
    for resource, issues in zip(resources, _validate(resources), strict=True):
        for issue in issues:
            if issue.get("severity") not in ("error", "fatal"):
                continue
            text = issue.get("details", {}).get("text", "") or issue.get("diagnostics", "")
            allowed = any(f"Constraint {key} " in text and applies(_subject(resource, issue), issue)
                          for key, applies in FALSE_POSITIVES.items())
            if not allowed:
                found.append((resource["resourceType"], text, issue.get("expression", [])))
    return found


def test_every_resource_of_every_golden_case_has_no_error(api: TriageKB, every_resource: list[dict[str, Any]]) -> None:
    status, step = next_question(api, {"resourceType": "QuestionnaireResponse", "status": "in-progress"})
    record = next(api.triage_many([{"pain_sites": ["buttok"], "red_flags": [], "conditions": []}]))
    assert _errors([*every_resource, step, error_outcome(record)]) == []


def test_the_validator_does_find_errors() -> None:
    """The check is live: a ServiceRequest without its required intent and subject is refused."""
    errors = _errors([{"resourceType": "ServiceRequest", "status": "active"}])
    assert {e[2][0] for e in errors} >= {"ServiceRequest.intent", "ServiceRequest.subject"}
