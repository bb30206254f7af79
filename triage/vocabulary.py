"""The case vocabulary: every case field, its type and its allowed values.

This is the public contract of ``spec/case-format.md`` written as one table.
The case parser, the knowledge-base validator and compiler, and the
questionnaire all read it, so a rule cannot mention a field or value that a
case can never carry.
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass


class FieldKind(enum.Enum):
    """How a case field is typed."""

    TEXT = "text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "one value"
    MULTI = "list"


@dataclass(frozen=True)
class CaseField:
    """One field of a case, as the contract defines it."""

    name: str
    kind: FieldKind
    description: str
    required: bool = False
    values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    non_empty: bool = False

    @property
    def is_list(self) -> bool:
        return self.kind is FieldKind.MULTI

    def allowed(self) -> str:
        """Say in words what this field accepts (for error messages)."""
        if self.values:
            shape = "a list of" if self.is_list else "one of"
            return f"{shape}: {', '.join(self.values)}"
        if self.kind is FieldKind.INTEGER:
            if self.maximum is None:
                return f"a whole number >= {self.minimum}"
            return f"a whole number from {self.minimum} to {self.maximum}"
        if self.kind is FieldKind.BOOLEAN:
            return "true or false"
        return "a non-empty string"


class Disposition(str, enum.Enum):
    """What the person should do, from least to most urgent."""

    SELF_CARE = "self_care"
    SEE_DOCTOR = "see_doctor"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def urgency(self) -> int:
        return _URGENCY[self]

    @property
    def is_referral(self) -> bool:
        return self is not Disposition.SELF_CARE


_URGENCY = {d: i for i, d in enumerate(Disposition)}

MUSCLES: tuple[str, ...] = ("piriformis", "hamstrings", "quadratus_lumborum", "psoas")

PAIN_SITES = (
    "lower_back", "buttock", "hip", "groin", "flank", "back_of_thigh",
    "front_of_thigh", "knee", "below_knee", "foot",
)
PAIN_FEELS = (
    "ache", "tightness", "spasm", "locked_up", "sharp", "shooting", "burning",
    "numbness", "tingling",
)
TRIGGERS = (
    "prolonged_sitting", "driving", "desk_work", "flying", "sleeping_knees_up",
    "tennis_serve", "fall_on_buttocks", "standing_all_day", "long_walk_or_run",
    "overexertion", "heavy_lifting", "stress",
)
WORSE_WHEN = (
    "sitting", "standing_up", "bending_forward", "leaning_back", "twisting",
    "side_bending", "walking", "coughing_or_sneezing",
)
RED_FLAGS = (
    "saddle_numbness", "bladder_or_bowel_change", "sexual_dysfunction", "leg_weakness",
    "fever", "unexplained_weight_loss", "history_of_cancer", "major_trauma",
    "night_pain", "long_term_steroids", "immunosuppressed", "iv_drug_use",
)
CONDITIONS = (
    "fracture", "burns", "healing_wound", "bleeding_disorder", "blood_thinners", "dvt",
    "severe_osteoporosis", "severe_thrombocytopenia", "cancer", "herniated_disc",
)

_FIELDS = (
    CaseField("id", FieldKind.TEXT, "an identifier for the case"),
    CaseField("age", FieldKind.INTEGER, "age in years", minimum=0, maximum=120),
    CaseField("pain_sites", FieldKind.MULTI, "where it hurts", required=True,
              values=PAIN_SITES, non_empty=True),
    CaseField("pain_side", FieldKind.CHOICE, "which side hurts",
              values=("left", "right", "both", "centre")),
    CaseField("pain_feels", FieldKind.MULTI, "what the pain feels like", values=PAIN_FEELS),
    CaseField("severity", FieldKind.INTEGER, "pain from 0 (none) to 10 (worst imaginable)",
              minimum=0, maximum=10),
    CaseField("duration_days", FieldKind.INTEGER, "how long this episode has lasted, in days",
              minimum=0),
    CaseField("course", FieldKind.CHOICE, "whether it is getting better or worse",
              values=("improving", "unchanged", "worsening")),
    CaseField("triggers", FieldKind.MULTI, "what set it off", values=TRIGGERS),
    CaseField("worse_when", FieldKind.MULTI, "what makes it worse", values=WORSE_WHEN),
    CaseField("lower_back_curve", FieldKind.CHOICE, "the shape of the lower back",
              values=("flattened", "exaggerated", "normal", "unknown")),
    CaseField("can_touch_toes", FieldKind.BOOLEAN, "standing, knees straight"),
    CaseField("red_flags", FieldKind.MULTI, "warning signs ([] = screened, none found)",
              required=True, values=RED_FLAGS),
    CaseField("conditions", FieldKind.MULTI, "medical conditions ([] = screened, none found)",
              required=True, values=CONDITIONS),
)

CASE_FIELDS: dict[str, CaseField] = {f.name: f for f in _FIELDS}


def did_you_mean(word: object, choices: tuple[str, ...] | list[str]) -> str | None:
    """Return the closest allowed spelling of ``word``, if one is near enough."""
    if not isinstance(word, str):
        return None
    matches = difflib.get_close_matches(word.strip().lower(), choices, n=1, cutoff=0.75)
    return matches[0] if matches else None
