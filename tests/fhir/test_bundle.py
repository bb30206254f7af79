"""Result Bundles: they parse as R4B, pass our own checks of what the models do not enforce, and say
what the result says."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir_helpers import RECORDED, codings

from triage.api import TriageKB
from triage.fhir.bundle import PRIORITIES, error_outcome, result_bundle
from triage.fhir.common import SOURCE_BASE

#: Required bindings fhir.resources does not check (FHIR R4 value sets).
REQUEST_PRIORITY = {"routine", "urgent", "asap", "stat"}
STATUSES = {
    "GuidanceResponse": {"success", "data-requested", "data-required", "in-progress", "failure", "entered-in-error"},
    "RiskAssessment": {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                       "entered-in-error", "unknown"},
    "ServiceRequest": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    "RequestGroup": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    "CarePlan": {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    "QuestionnaireResponse": {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
}
REQUEST_INTENTS = {"proposal", "plan", "directive", "order", "original-order", "reflex-order", "filler-order",
                   "instance-order", "option"}


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _references(value: Any) -> list[str]:
    if isinstance(value, dict):
        return ([value["reference"]] if isinstance(value.get("reference"), str) else []) + [
            r for v in value.values() for r in _references(v)]
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    return []


def test_every_bundle_and_entry_parses_as_r4b(golden_bundles: list[dict[str, Any]]) -> None:
    for bundle in golden_bundles:
        Bundle.model_validate(bundle)
        for entry in bundle["entry"]:
            get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])


def test_every_resource_parses_as_r4b(every_resource: list[dict[str, Any]]) -> None:
    for resource in every_resource:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_bindings_statuses_and_intents(golden_bundles: list[dict[str, Any]]) -> None:
    for bundle in golden_bundles:
        for entry in bundle["entry"]:
            resource = entry["resource"]
            kind = resource["resourceType"]
            if kind in STATUSES:
                assert resource["status"] in STATUSES[kind], (kind, resource["status"])
            if "intent" in resource:
                assert resource["intent"] == "proposal" and resource["intent"] in REQUEST_INTENTS
            if "priority" in resource:
                assert resource["priority"] in REQUEST_PRIORITY


def test_every_coding_is_complete(every_resource: list[dict[str, Any]]) -> None:
    for resource in every_resource:
        for coding in codings(resource):
            assert all(isinstance(coding.get(k), str) and coding[k] for k in ("system", "code", "display")), coding


def test_every_reference_resolves_inside_the_bundle(golden_bundles: list[dict[str, Any]]) -> None:
    for bundle in golden_bundles:
        urls = [e["fullUrl"] for e in bundle["entry"]]
        assert len(urls) == len(set(urls)) and all(u.startswith("urn:uuid:") for u in urls)
        assert set(_references(bundle["entry"])) <= set(urls)


def test_the_bundle_says_what_the_result_says(api: TriageKB, golden_cases: list[dict[str, Any]],
                                              golden_bundles: list[dict[str, Any]]) -> None:
    for raw, bundle in zip(golden_cases, golden_bundles, strict=True):
        result = api.triage(raw)
        (guidance,) = _resources(bundle, "GuidanceResponse")
        (parameters,) = _resources(bundle, "Parameters")
        (response,) = _resources(bundle, "QuestionnaireResponse")
        response_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is response)
        assert guidance["moduleUri"].endswith(result["kb_version"]) and guidance["status"] == "success"
        disposition = next(p["valueCoding"]["code"] for p in parameters["parameter"] if p["name"] == "disposition")
        assert disposition == result["disposition"]
        fired = [next(part["valueString"] for part in p["part"] if part["name"] == "rule")
                 for p in parameters["parameter"] if p["name"] == "firedRule"]
        assert fired == [f["rule"] for f in result["fired_rules"]]
        reasons = result["referral"]["reasons"] if result["referral"] else []
        risks = _resources(bundle, "RiskAssessment")
        assert [r["code"]["coding"][0]["code"] for r in risks] == [r["rule"] for r in reasons]
        assert all(r["basis"] == [{"reference": response_url, "type": "QuestionnaireResponse"}] for r in risks)
        requests = _resources(bundle, "ServiceRequest")
        plans = _resources(bundle, "CarePlan")
        if result["referral"]:
            (request,) = requests
            assert request["priority"] == PRIORITIES[result["disposition"]] and not plans
        else:
            (plan,) = plans
            assert not requests
            assert [a["detail"]["code"]["coding"][0]["code"] for a in plan["activity"]] == [
                t["technique"] for t in result["recommendations"]]
            for activity, technique in zip(plan["activity"], result["recommendations"], strict=True):
                assert activity["detail"]["instantiatesUri"] == [f"{SOURCE_BASE}/{s}" for s in technique["sources"]]
        (provenance,) = _resources(bundle, "Provenance")
        assert provenance["entity"][0]["what"]["identifier"]["value"] == result["kb_version"]
        assert provenance["agent"][0]["who"]["display"].startswith("triage ")
        assert provenance["recorded"] == RECORDED


def test_the_priority_follows_the_urgency() -> None:
    assert PRIORITIES == {"emergency": "stat", "urgent": "asap", "see_doctor": "routine"}


def test_a_screen_not_answered_makes_the_guidance_data_required(api: TriageKB, golden_cases: list[dict[str, Any]]) -> None:
    result = api.triage(golden_cases[0])
    bundle = result_bundle(result, recorded=RECORDED, missing_screens=["conditions"])
    (guidance,) = _resources(bundle, "GuidanceResponse")
    assert guidance["status"] == "data-required"
    assert guidance["dataRequirement"] == [{"type": "QuestionnaireResponse",
                                            "mustSupport": ["item.where(linkId='conditions').answer"]}]
    Bundle.model_validate(bundle)


def test_bundles_are_the_same_every_run(api: TriageKB, golden_cases: list[dict[str, Any]]) -> None:
    result = api.triage(golden_cases[0])
    assert result_bundle(result, recorded=RECORDED) == result_bundle(result, recorded=RECORDED)


def test_an_invalid_case_is_an_operation_outcome_naming_each_field(api: TriageKB) -> None:
    record = next(api.triage_many([{"pain_sites": ["buttok"], "red_flags": [], "conditions": [], "age": 300}]))
    outcome = error_outcome(record)
    get_fhir_model_class("OperationOutcome").model_validate(outcome)
    assert sorted(i["expression"][0] for i in outcome["issue"]) == ["age", "pain_sites"]
    assert all(i["severity"] == "error" for i in outcome["issue"])


def test_a_case_file_with_a_screen_not_answered_is_data_required_too(api: TriageKB,
                                                                   golden_cases: list[dict[str, Any]]) -> None:
    """Policy v3, principle 7: a case file (no QuestionnaireResponse) whose screen was not answered."""
    complete = golden_cases[0]
    assert _resources(result_bundle(api.triage(complete), recorded=RECORDED), "GuidanceResponse")[0][
        "status"] == "success"
    unsure = {**complete, "other_symptoms": "unknown", "conditions": None}
    (guidance,) = _resources(result_bundle(api.triage(unsure), recorded=RECORDED), "GuidanceResponse")
    assert guidance["status"] == "data-required"
    assert sorted(r["mustSupport"][0] for r in guidance["dataRequirement"]) == [
        "item.where(linkId='conditions').answer", "item.where(linkId='other_symptoms').answer"]
