"""JSON Schemas of the case and the result, generated from the case vocabulary.

There is one source of truth for what a case may contain: the vocabulary's
field table. :func:`case_schema` turns any such table into a JSON Schema
(draft 2020-12), so ``triage schema``, ``GET /openapi.json`` and any tool that
validates case files agree with the parser by construction. The result
schema follows :meth:`triage.results.TriageResult.to_dict`, with the
dispositions and muscles taken from the vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .vocabulary import NOT_SCREENED_WORDS, SCREENING_FIELDS, CaseField, Disposition, FieldKind, Vocabulary

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def case_schema(fields: Mapping[str, CaseField]) -> dict[str, Any]:
    """The JSON Schema of one case, from the vocabulary's ``fields`` (name -> field)."""
    properties = {name: _field_schema(spec) for name, spec in fields.items()}
    # A screen left out is not screened, which refers by itself: such a case is
    # triaged (with an error saying how to complete it), so only pain_sites is required.
    required = [name for name, spec in fields.items() if spec.required and not spec.is_screen]
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "title": "triage case",
        "description": "One person's answers (docs/case-format.md). Lists are sets: order and "
                       "repeats do not matter; null or a missing field means not answered. A "
                       "screen (red_flags, other_symptoms, conditions) not answered, left out, "
                       "null or 'unknown', is not screened: the case is referred (policy v3).",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    screens = [name for name in SCREENING_FIELDS if name in fields]
    if screens:
        # As the parser: a red flag or condition found refers whatever else is said, so the rest
        # may be missing (what `triage ask --save` writes after an emergency stop).
        del schema["required"]
        schema["anyOf"] = [{"required": required}, *(
            {"required": [name], "properties": {name: {"type": "array", "minItems": 1}}} for name in screens)]
    return schema


def _field_schema(spec: CaseField) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": spec.description}
    if spec.kind is FieldKind.TEXT:
        schema["type"] = ["string", "integer", "null"]
    elif spec.kind is FieldKind.INTEGER:
        schema["type"] = ["integer", "null"]
        if spec.minimum is not None:
            schema["minimum"] = spec.minimum
        if spec.maximum is not None:
            schema["maximum"] = spec.maximum
    elif spec.kind is FieldKind.BOOLEAN:
        schema["type"] = ["boolean", "null"]
    elif spec.kind is FieldKind.CHOICE:
        schema["enum"] = [*spec.values, None]
    elif spec.is_screen:
        schema["oneOf"] = [{"type": "array", "items": {"enum": list(spec.values)}}, {"type": "null"},
                           {"enum": [*NOT_SCREENED_WORDS, "not sure", "don't know"]}]
    else:
        schema["type"] = "array" if spec.required else ["array", "null"]
        schema["items"] = {"enum": list(spec.values)}
        if spec.non_empty:
            schema["minItems"] = 1
    return schema


def result_schema(muscles: Sequence[str]) -> dict[str, Any]:
    """The JSON Schema of one outcome: a result, or an error record in its place."""
    dispositions = [d.value for d in Disposition]
    strings = {"type": "array", "items": {"type": "string"}}
    problem = {
        "type": "object", "required": ["field", "value", "message"],
        "properties": {"field": {"type": ["string", "null"]}, "value": {},
                       "message": {"type": "string"}, "file": {"type": "string"},
                       "line": {"type": "integer"}, "did_you_mean": {"type": "string"}}}
    result = {
        "type": "object",
        "required": ["id", "disposition", "headline", "likely_muscles", "referral",
                     "recommendations", "advice", "fired_rules", "kb_version"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string"},
            "disposition": {"enum": dispositions},
            "headline": {"type": "string"},
            "likely_muscles": {"type": "array", "items": {
                "type": "object", "required": ["muscle", "confidence", "evidence"],
                "additionalProperties": False,
                "properties": {"muscle": {"enum": list(muscles)},
                               "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                               "evidence": strings}}},
            "referral": {"oneOf": [{"type": "null"}, {
                "type": "object", "required": ["urgency", "reasons"], "additionalProperties": False,
                "properties": {"urgency": {"enum": dispositions[1:]}, "reasons": {
                    "type": "array", "minItems": 1, "items": {
                        "type": "object", "required": ["rule", "text", "urgency"],
                        "additionalProperties": False,
                        "properties": {"rule": {"type": "string"}, "text": {"type": "string"},
                                       "urgency": {"enum": dispositions[1:]}}}}}}]},
            "recommendations": {"type": "array", "items": {
                "type": "object",
                "required": ["technique", "name", "for", "steps", "hold", "cautions", "sources"],
                "additionalProperties": False,
                "properties": {"technique": {"type": "string"}, "name": {"type": "string"},
                               # "any": a technique for every muscle (kb/techniques.py allows it)
                               "for": {"type": "array", "items": {"enum": [*muscles, "any"]}},
                               "steps": strings, "hold": {"type": "string"},
                               "cautions": strings, "sources": strings}}},
            "advice": strings,
            "fired_rules": {"type": "array", "items": {
                "type": "object", "required": ["order", "rule", "facts", "asserted"],
                "additionalProperties": False,
                "properties": {"order": {"type": "integer", "minimum": 1}, "rule": {"type": "string"},
                               "facts": {"type": "object"}, "asserted": strings}}},
            "kb_version": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
            # Policy v3, principle 9: a case triaged on the fields that parsed carries its problems.
            "errors": {"type": "array", "minItems": 1, "items": problem},
        },
    }
    error = {
        "type": "object", "required": ["id", "error"], "additionalProperties": False,
        # ``errors``: every problem, the first included, when the case has more than one.
        "properties": {"id": {"type": "string"}, "error": problem,
                       "errors": {"type": "array", "minItems": 2, "items": problem}},
    }
    return {
        "$schema": DIALECT,
        "title": "triage result",
        "description": "The outcome of one case (docs/case-format.md): a result, or an error "
                       "record in the invalid case's place.",
        "oneOf": [result, error],
    }


def schemas(vocabulary: Vocabulary) -> dict[str, dict[str, Any]]:
    """The case and result schemas of a knowledge base's ``vocabulary``, by name."""
    return {"case": case_schema(vocabulary.fields), "result": result_schema(vocabulary.muscles)}


__all__ = ["DIALECT", "case_schema", "result_schema", "schemas"]
