"""A result as a FHIR Bundle, and an invalid case as an OperationOutcome.

The Bundle (type ``collection``) holds, each with a ``urn:uuid`` that is the
same every run for the same case and knowledge base:

- a ``GuidanceResponse``: ``moduleUri`` names the knowledge-base version;
  ``status`` is ``success``, or ``data-required`` with a ``dataRequirement``
  per screen not answered; the reasons as ``reasonCode``; the headline and
  advice as notes; ``outputParameters`` -> a ``Parameters`` of the
  disposition, the likely muscles and every fired rule in order;
  ``result`` -> the CarePlan (self-care) or a RequestGroup proposing the
  referral;
- a ``RiskAssessment`` per referring finding (each referral reason), its
  ``basis`` the QuestionnaireResponse;
- a ``ServiceRequest`` for a referral (``intent: proposal``; emergency ->
  ``stat``, urgent -> ``asap``, see_doctor -> ``routine``);
- a ``CarePlan`` of the self-care techniques, each activity citing its
  sources (``instantiatesUri``);
- a ``Provenance`` naming the tool version and the knowledge-base hash;
- the QuestionnaireResponse itself when there is one, and the Patient the
  resources are about when the response names none (an anonymous one).

Built from a result's JSON shape (``TriageResult.to_dict()``), so the Python
API's dicts and the command line's results make the same Bundle.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from typing import Any

from .. import __version__
from ..vocabulary import SCREENING_FIELDS
from .common import (CANONICAL, CASE_ID_SYSTEM, DISPOSITION_SYSTEM, MUSCLE_SYSTEM, RULE_SYSTEM, SOURCE_BASE,
                     TECHNIQUE_SYSTEM, coding, stable_uuid, words)

#: ServiceRequest.priority of each referral.
PRIORITIES = {"emergency": "stat", "urgent": "asap", "see_doctor": "routine"}
#: RiskAssessment.prediction.qualitativeRisk of each urgency (HL7's risk-probability codes).
RISK_SYSTEM = "http://terminology.hl7.org/CodeSystem/risk-probability"
RISKS = {"emergency": ("high", "High likelihood"), "urgent": ("moderate", "Moderate likelihood"),
         "see_doctor": ("low", "Low likelihood")}
#: The identifier system of knowledge-base versions (Provenance.entity).
KB_VERSION_SYSTEM = f"{CANONICAL}/knowledge-base"
PROVENANCE_AGENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def now() -> str:
    """The current time as a FHIR instant (UTC, whole seconds), for ``Provenance.recorded``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def unscreened_fields(result: Mapping[str, Any]) -> list[str]:
    """The screens a result's firings found not answered (a screen's value ``None``), in order."""
    found: list[str] = []
    for firing in result.get("fired_rules", []):
        for field, value in firing.get("facts", {}).items():
            if value is None and field in SCREENING_FIELDS and field not in found:
                found.append(field)
    return found


def result_bundle(result: Mapping[str, Any], *, recorded: str, response: Mapping[str, Any] | None = None,
                  missing_screens: Iterable[str] = ()) -> dict[str, Any]:
    """The Bundle of one result (``TriageResult.to_dict()``).

    ``response`` is the QuestionnaireResponse the result answers (put in the
    Bundle and named as the basis; without it the basis is a reference by
    the case id). ``missing_screens`` are the linkIds of screens not
    answered: the GuidanceResponse is then ``data-required``. Without a
    QuestionnaireResponse (a case file), they are the screens the result's
    firings read as not answered (policy v3, principle 7), named by their
    case field. ``recorded`` is the Provenance's instant.
    """
    case_id = str(result["id"])
    kb_version = str(result["kb_version"])
    resources = _Resources(case_id, kb_version)
    subject = dict(response["subject"]) if response and isinstance(response.get("subject"), Mapping) else None
    if response is not None:
        basis = resources.add("QuestionnaireResponse", dict(response))
    else:
        basis = {"type": "QuestionnaireResponse", "identifier": {"system": CASE_ID_SYSTEM, "value": case_id},
                 "display": f"the answers of case {case_id}"}
    if subject is None:
        subject = resources.add("Patient", {"resourceType": "Patient", "active": True})
    disposition = str(result["disposition"])
    referral = result.get("referral")
    reasons = referral["reasons"] if referral else []
    risks = [resources.add("RiskAssessment", _risk(reason, subject, basis)) for reason in reasons]
    outcome: dict[str, Any] | None = None
    if referral:
        request = resources.add("ServiceRequest", {
            "resourceType": "ServiceRequest", "status": "active", "intent": "proposal",
            "priority": PRIORITIES[referral["urgency"]],
            "code": _disposition(disposition, result),
            "subject": subject,
            "reasonCode": [_reason(r) for r in reasons],
            "reasonReference": risks,
            "supportingInfo": [basis],
            "note": [{"text": text} for text in result.get("advice", [])],
        })
        outcome = resources.add("RequestGroup", {
            "resourceType": "RequestGroup", "status": "active", "intent": "proposal",
            "priority": PRIORITIES[referral["urgency"]], "subject": subject,
            "action": [{"title": result.get("headline") or words(disposition), "resource": request}],
        })
    elif result.get("recommendations"):
        outcome = resources.add("CarePlan", _care_plan(result, subject, basis))
    parameters = resources.add("Parameters", _parameters(result))
    guidance: dict[str, Any] = {
        "resourceType": "GuidanceResponse",
        "requestIdentifier": {"system": CASE_ID_SYSTEM, "value": case_id},
        "identifier": [{"system": CASE_ID_SYSTEM, "value": case_id}],
        "moduleUri": f"{KB_VERSION_SYSTEM}/{kb_version}",
        "status": "success",
        "subject": subject,
        "occurrenceDateTime": recorded,
    }
    missing = list(missing_screens) or ([] if response is not None else unscreened_fields(result))
    if missing:
        guidance["status"] = "data-required"
        guidance["dataRequirement"] = [{"type": "QuestionnaireResponse",
                                        "mustSupport": [f"item.where(linkId='{link_id}').answer"]}
                                       for link_id in missing]
    if reasons:
        guidance["reasonCode"] = [_reason(r) for r in reasons]
    guidance["note"] = [{"text": text} for text in [result.get("headline"), *result.get("advice", [])] if text]
    guidance["outputParameters"] = parameters
    if outcome is not None:
        guidance["result"] = outcome
    resources.add("GuidanceResponse", guidance)
    targets = [{"reference": url, "type": resource["resourceType"]} for url, resource in resources.entries
               if resource["resourceType"] not in ("Patient", "QuestionnaireResponse")]
    resources.add("Provenance", {
        "resourceType": "Provenance",
        "target": targets,
        "recorded": recorded,
        "agent": [{"type": {"coding": [coding(PROVENANCE_AGENT_SYSTEM, "assembler", "Assembler")]},
                   "who": {"display": f"triage {__version__}"}}],
        "entity": [{"role": "source", "what": {
            "identifier": {"system": KB_VERSION_SYSTEM, "value": kb_version},
            "display": f"triage knowledge base {kb_version}"}}],
    })
    return {"resourceType": "Bundle", "type": "collection",
            "identifier": {"system": CASE_ID_SYSTEM, "value": case_id},
            "entry": [{"fullUrl": url, "resource": resource} for url, resource in resources.entries]}


class _Resources:
    """The Bundle's entries as they are added, each with its stable ``urn:uuid``."""

    def __init__(self, case_id: str, kb_version: str) -> None:
        self.case_id = case_id
        self.kb_version = kb_version
        self.entries: list[tuple[str, dict[str, Any]]] = []

    def add(self, kind: str, resource: dict[str, Any]) -> dict[str, Any]:
        """Add ``resource``; a Reference to it (typed: a ``urn:uuid`` does not say what it names)."""
        url = stable_uuid(self.case_id, self.kb_version, kind, str(len(self.entries)))
        self.entries.append((url, resource))
        return {"reference": url, "type": kind}


def _reason(reason: Mapping[str, Any]) -> dict[str, Any]:
    return {"coding": [coding(RULE_SYSTEM, str(reason["rule"]), str(reason["text"]))], "text": str(reason["text"])}


def _disposition(disposition: str, result: Mapping[str, Any]) -> dict[str, Any]:
    headline = str(result.get("headline") or words(disposition))
    return {"coding": [coding(DISPOSITION_SYSTEM, disposition, words(disposition))], "text": headline}


def _risk(reason: Mapping[str, Any], subject: dict[str, Any], basis: dict[str, Any]) -> dict[str, Any]:
    risk, display = RISKS[str(reason["urgency"])]
    return {"resourceType": "RiskAssessment", "status": "final", "subject": subject,
            "code": {"coding": [coding(RULE_SYSTEM, str(reason["rule"]), str(reason["text"]))]},
            "basis": [basis],
            "prediction": [{"outcome": {"coding": [coding(DISPOSITION_SYSTEM, str(reason["urgency"]),
                                                          words(str(reason["urgency"])))],
                                        "text": str(reason["text"])},
                            "qualitativeRisk": {"coding": [coding(RISK_SYSTEM, risk, display)]}}]}


def _care_plan(result: Mapping[str, Any], subject: dict[str, Any], basis: dict[str, Any]) -> dict[str, Any]:
    activities = []
    for technique in result["recommendations"]:
        steps = " ".join(technique.get("steps", []))
        hold = f" Hold: {technique['hold']}." if technique.get("hold") else ""
        cautions = " ".join(f"Caution: {c}" for c in technique.get("cautions", []))
        activities.append({"detail": {
            "instantiatesUri": [f"{SOURCE_BASE}/{source}" for source in technique.get("sources", [])],
            "code": {"coding": [coding(TECHNIQUE_SYSTEM, str(technique["technique"]), str(technique["name"]))],
                     "text": str(technique["name"])},
            "status": "not-started",
            "description": " ".join(part for part in (steps + hold, cautions) if part),
        }})
    return {"resourceType": "CarePlan", "status": "active", "intent": "proposal",
            "title": "Self-care for lower back pain", "description": str(result.get("headline") or ""),
            "subject": subject, "supportingInfo": [basis], "activity": activities,
            "note": [{"text": text} for text in result.get("advice", [])]}


def _parameters(result: Mapping[str, Any]) -> dict[str, Any]:
    disposition = str(result["disposition"])
    parameter: list[dict[str, Any]] = [
        {"name": "disposition", "valueCoding": coding(DISPOSITION_SYSTEM, disposition, words(disposition))},
        {"name": "kbVersion", "valueString": str(result["kb_version"])},
    ]
    for muscle in result.get("likely_muscles", []):
        parameter.append({"name": "likelyMuscle", "part": [
            {"name": "muscle", "valueCoding": coding(MUSCLE_SYSTEM, str(muscle["muscle"]), words(str(muscle["muscle"])))},
            {"name": "confidence", "valueDecimal": muscle["confidence"]},
            *({"name": "evidence", "valueString": rule} for rule in muscle.get("evidence", [])),
        ]})
    for firing in result.get("fired_rules", []):
        parameter.append({"name": "firedRule", "part": [
            {"name": "order", "valueInteger": firing["order"]},
            {"name": "rule", "valueString": str(firing["rule"])},
            {"name": "facts", "valueString": json.dumps(firing.get("facts", {}), ensure_ascii=False,
                                                        sort_keys=True, separators=(",", ":"))},
            *({"name": "asserted", "valueString": text} for text in firing.get("asserted", [])),
        ]})
    return {"resourceType": "Parameters", "parameter": parameter}


def error_outcome(record: Mapping[str, Any], location: str = "case") -> dict[str, Any]:
    """An invalid case's error record (``ErrorRecord.to_dict()``) as an OperationOutcome.

    Each problem is one issue; its ``expression`` names the field, or with
    ``location="response"`` the QuestionnaireResponse item (the field of
    such errors is the item's linkId).
    """
    problems = record.get("errors") or [record["error"]]
    issues = []
    for problem in problems:
        issue: dict[str, Any] = {"severity": "error", "code": "invalid",
                                 "diagnostics": str(problem.get("message", ""))}
        field = problem.get("field")
        if field:
            issue["expression"] = [f"QuestionnaireResponse.item.where(linkId='{field}')" if location == "response"
                                   else str(field)]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "issue": issues}


__all__ = ["PRIORITIES", "error_outcome", "now", "result_bundle"]
