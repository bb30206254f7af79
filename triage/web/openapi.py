"""``GET /openapi.json``: the JSON API described in OpenAPI 3.1.

The case and result schemas are the generated ones of :mod:`triage.schema`
(OpenAPI 3.1 uses JSON Schema 2020-12 as it is), never a second copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..kb import Question
from ..schema import schemas
from ..vocabulary import Vocabulary


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def answer_schema(question: Question) -> dict[str, Any]:
    """What ``POST /api/v1/next`` takes as the answer to ``question`` (as :func:`triage.api.answer_text`)."""
    values = [choice.value for choice in question.choices]
    if question.answer == "many":
        schema: dict[str, Any] = {"type": "array", "items": {"enum": values}}
        if not question.may_be_empty:
            schema["minItems"] = 1
            return schema
        return {"oneOf": [schema, {"type": "null"}]}  # null: none of them
    if question.answer == "number":
        schema = {"type": "integer"}
        if question.spec.minimum is not None:
            schema["minimum"] = question.spec.minimum
        if question.spec.maximum is not None:
            schema["maximum"] = question.spec.maximum
    elif question.answer == "yes_no":
        schema = {"type": "boolean"}
    else:
        schema = {"enum": values}
    return schema if question.required else {"oneOf": [schema, {"type": "null"}]}


def openapi_document(kb_version: str, vocabulary: Vocabulary, questions: Sequence[Question] = (),
                     why_not: Sequence[str] = ()) -> dict[str, Any]:
    """The OpenAPI document of the JSON API (``kb_version`` names the knowledge base served,
    ``questions`` its questions, whose answers ``/api/v1/next`` takes, and ``why_not`` what
    ``/api/v1/audit?why_not=`` can explain)."""
    components = {name.capitalize(): {k: v for k, v in schema.items() if k != "$schema"}
                  for name, schema in schemas(vocabulary).items()}
    components["Error"] = {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["status", "message"], "properties": {
            "status": {"type": "integer"}, "message": {"type": "string"},
            "field": {"type": ["string", "null"]}, "value": {},
            "allowed": {"type": ["string", "null"]}}}}}
    components["Answers"] = {
        "type": "object", "description": "Answers so far by question id (see GET /api/v1/questions): "
        "a list of values for many, one value for one, a whole number for number, true/false for "
        "yes_no; null means don't know where the question allows it. Every answer given is checked, "
        "also those to questions that will not be asked.",
        "properties": {question.id: answer_schema(question) for question in questions},
        "additionalProperties": False}
    components["Question"] = {
        "type": "object", "required": ["id", "field", "kind", "text", "help", "choices"],
        "properties": {"id": {"type": "string"}, "field": {"type": "string"},
                       "kind": {"enum": ["many", "one", "number", "yes_no"]},
                       "text": {"type": "string"}, "help": {"type": "string"},
                       "choices": {"type": "array", "items": {
                           "type": "object", "properties": {"value": {"type": ["string", "boolean"]},
                                                            "label": {"type": "string"}}}},
                       "required": {"type": "boolean"}, "may_be_empty": {"type": "boolean"},
                       "unknown_allowed": {"type": "boolean"}, "minimum": {"type": ["integer", "null"]},
                       "maximum": {"type": ["integer", "null"]}, "number": {"type": "integer"},
                       "why": {"type": "array", "items": {"type": "string"}}}}
    errors = {
        "400": _json(_ref("Error"), "The body is not valid JSON."),
        "413": _json(_ref("Error"), "The body is over 1 MB, or lists more than 1,000 cases."),
        "415": _json(_ref("Error"), "The body is not sent as application/json."),
        "422": _json(_ref("Error"), "The JSON is not a case (or answers): the field, value and "
                                    "what is allowed are named."),
    }
    # A list may hold anything: each item that is not a case gets an error record in its place.
    one_or_many = {"oneOf": [_ref("Case"), {"type": "array", "maxItems": 1000}]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "triage", "version": __version__,
                 "description": "Lower back pain triage: a rule-based expert system. Not a diagnosis. "
                                f"Knowledge base {kb_version}."},
        "paths": {
            "/api/v1/triage": {"post": {
                "summary": "Triage one case, or a list of up to 1,000 cases (results in order, "
                           "error records in place of invalid cases)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": one_or_many}}},
                "responses": {"200": _json({"oneOf": [_ref("Result"), {"type": "array",
                                                                       "items": _ref("Result")}]},
                                           "The result, or the results in input order."), **errors}}},
            "/api/v1/next": {"post": {
                "summary": "The next question of the questionnaire, or the result when it is finished",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": _ref("Answers")}}},
                "responses": {"200": _json({"type": "object", "properties": {
                    "question": _ref("Question"), "result": _ref("Result"),
                    "emergency": {"type": "boolean"},
                    "asked": {"type": "array", "items": {"type": "string"}},
                    "skipped": {"type": "array", "items": {"type": "object"}},
                    "case": {"type": "object"}}}, "{question: ...} or {result: ...}"), **errors}}},
            "/api/v1/questions": {"get": {
                "summary": "Every question, in the order they are considered",
                "responses": {"200": _json({"type": "object", "properties": {
                    "kb_version": {"type": "string"},
                    "questions": {"type": "array", "items": _ref("Question")}}}, "The questions.")}}},
            "/api/v1/knowledge-base": {"get": {
                "summary": "The knowledge base: version, rules (id, description, sources), sources",
                "responses": {"200": _json({"type": "object", "properties": {
                    "version": {"type": "string"}, "rules": {"type": "array"},
                    "sources": {"type": "object"}}}, "The knowledge base.")}}},
            "/api/v1/audit": {"post": {
                "summary": "Explain one case or a list: fired rules with facts and sources, and how "
                           "each conclusion was reached (as triage audit --format json)",
                "parameters": [{"name": "why_not", "in": "query", "required": False,
                                "schema": {"enum": list(why_not)} if why_not else {"type": "string"},
                                "description": "Also explain why this muscle or disposition was (not) "
                                               "concluded."}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": one_or_many}}},
                "responses": {"200": _json({"type": ["object", "array"]}, "The audit(s)."), **errors}}},
            "/healthz": {"get": {"summary": "Liveness: the knowledge base is loaded",
                                 "responses": {"200": _json({"type": "object"}, "ok")}}},
            "/openapi.json": {"get": {"summary": "This document",
                                      "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")}}},
        },
        "components": {"schemas": components},
    }
