"""What every FHIR module shares: canonical URLs, code systems, codings and resource ids.

The code systems are our own (no licensed terminology): one per case field,
whose codes are the vocabulary's values, so a coding names its field by its
system and the vocabulary alone decides what a code means.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

#: The base of every canonical URL triage defines (a reserved example domain:
#: nothing is served there; the URLs only name things).
CANONICAL = "http://triage.example.org/fhir"
#: The id and canonical URL of the generated Questionnaire.
QUESTIONNAIRE_ID = "lbp-triage"
QUESTIONNAIRE_URL = f"{CANONICAL}/Questionnaire/{QUESTIONNAIRE_ID}"
#: The identifier system of case ids (a case id is any text, a FHIR id is not).
CASE_ID_SYSTEM = f"{CANONICAL}/case-id"
#: Code systems of what a result names.
RULE_SYSTEM = f"{CANONICAL}/CodeSystem/rule"
DISPOSITION_SYSTEM = f"{CANONICAL}/CodeSystem/disposition"
TECHNIQUE_SYSTEM = f"{CANONICAL}/CodeSystem/technique"
MUSCLE_SYSTEM = f"{CANONICAL}/CodeSystem/muscle"
#: The answer "None of these" of a screening question (a screen answered, nothing found).
SCREEN_SYSTEM = f"{CANONICAL}/CodeSystem/screen-answer"
NONE_OF_THESE = "none-of-these"
NONE_OF_THESE_DISPLAY = "None of these"
#: Where a technique's source is named (``instantiatesUri`` of a care plan activity).
SOURCE_BASE = f"{CANONICAL}/source"
#: The SDC and core extensions the Questionnaire uses.
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ENABLE_WHEN_EXPRESSION = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression"
SDC_QUESTIONNAIRE_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
#: The FHIR media type, for the web routes.
FHIR_JSON = "application/fhir+json"

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, CANONICAL)


def field_system(field: str) -> str:
    """The code system of a case field's values (``.../CodeSystem/red_flags``)."""
    return f"{CANONICAL}/CodeSystem/{field}"


def coding(system: str, code: str, display: str) -> dict[str, Any]:
    """A Coding with all three of system, code and display (our checks require them)."""
    return {"system": system, "code": code, "display": display}


def is_fhir_id(text: str) -> bool:
    """Whether ``text`` may be a resource id (letters, digits, ``-`` and ``.``, at most 64)."""
    return bool(_FHIR_ID.match(text))


def stable_uuid(*parts: str) -> str:
    """A ``urn:uuid:`` that is the same every run for the same parts (so output is reproducible)."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, chr(31).join(parts))}"


def words(name: str) -> str:
    """A vocabulary name as a display text: ``back_of_thigh`` -> ``Back of thigh``."""
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]
