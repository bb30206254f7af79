"""The case vocabulary: every case field, its type and its allowed values.

The vocabulary is knowledge-base data (the ``vocabulary:`` section, bundled as
``rules/vocabulary.yaml``), so a clinician adds a red flag, a condition or a
pain site by editing YAML alone. This module keeps only what is structural:
the field types, the fields the program itself requires (no self-care without
a red-flag screen), the four dispositions, and the parser that validates the
section into a :class:`Vocabulary`. The case parser, the rule loader, the
questionnaire and the JSON Schema all read that one table.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import Location, Problem
from .yamlio import YamlMap


class FieldKind(enum.Enum):
    """How a case field is typed."""

    TEXT = "text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "one value"
    MULTI = "list"


#: The spelling of each field type in the vocabulary YAML.
TYPE_NAMES: dict[str, FieldKind] = {
    "text": FieldKind.TEXT,
    "integer": FieldKind.INTEGER,
    "boolean": FieldKind.BOOLEAN,
    "choice": FieldKind.CHOICE,
    "list": FieldKind.MULTI,
}

#: Fields the program requires, with their type: ``id`` names a case, and the
#: screens are required so that an unscreened case can never reach self-care.
REQUIRED_FIELDS: dict[str, FieldKind] = {
    "pain_sites": FieldKind.MULTI,
    "red_flags": FieldKind.MULTI,
    "conditions": FieldKind.MULTI,
}
#: The screening fields: a case that reports any of these values is referred
#: whatever else it says (the knowledge base's safety floor checks this). A
#: screen that was not answered (missing, ``null``, "not sure") is *not
#: screened*, which is never "none found" (policy v3, principle 7): the case
#: holds ``None`` for it, and the knowledge base must refer such a case.
#: ``other_symptoms`` (v3) is not required in a case file, so version 1 and 2
#: files stay readable: they are read as not screened for it.
SCREENING_FIELDS: tuple[str, ...] = ("red_flags", "other_symptoms", "conditions")
#: Fields about the case file rather than the person's answers, which no question
#: asks: ``id`` names the case, and ``complete: false`` marks answers saved before
#: the questionnaire finished, which must refer rather than guess (policy v3, principle 7).
RECORD_FIELDS: dict[str, FieldKind] = {"id": FieldKind.TEXT, "complete": FieldKind.BOOLEAN}
STRUCTURAL_FIELDS: dict[str, FieldKind] = {
    **RECORD_FIELDS, **REQUIRED_FIELDS, "other_symptoms": FieldKind.MULTI}
#: How a case file says a screen was asked but the person was not sure (or it was
#: not asked): the whole field written as one of these words, or ``null``.
NOT_SCREENED_WORDS: tuple[str, ...] = ("unknown", "not_sure", "dont_know")


@dataclass(frozen=True)
class CaseField:
    """One field of a case, as the vocabulary defines it."""

    name: str
    kind: FieldKind
    description: str
    required: bool = False
    values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    non_empty: bool = False
    #: What each value means, in plain words.
    meanings: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    #: Values no rule needs to test, each with the reason (lint holds the rules to it).
    informational: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_list(self) -> bool:
        return self.kind is FieldKind.MULTI

    @property
    def is_screen(self) -> bool:
        """True for a screening list, whose unanswered state is "not screened", not "none"."""
        return self.name in SCREENING_FIELDS

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


@dataclass(frozen=True)
class Vocabulary:
    """The validated vocabulary of one knowledge base."""

    fields: dict[str, CaseField]
    muscles: tuple[str, ...]
    #: Where each field and value is defined, for messages that point at the YAML.
    locations: dict[tuple[str, str | None], Location] = field(
        default_factory=dict, compare=False, repr=False)

    def location(self, field_name: str, value: str | None = None) -> Location:
        """Where ``field_name`` (or one of its values) is defined."""
        return self.locations.get((field_name, value)) or self.locations.get(
            (field_name, None), Location())

    @property
    def askable(self) -> tuple[str, ...]:
        """Every field a person answers (all but the id)."""
        return tuple(name for name in self.fields if name != "id")


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


def did_you_mean(word: object, choices: Iterable[str]) -> str | None:
    """Return the closest allowed spelling of ``word``, if one is near enough."""
    if not isinstance(word, str):
        return None
    matches = difflib.get_close_matches(word.strip().lower(), list(choices), n=1, cutoff=0.75)
    return matches[0] if matches else None


#: How many allowed names a message lists before it says how many more there are.
MAX_LISTED = 30


def with_allowed(message: str, allowed: Iterable[str] | str | None = None,
                 suggestion: str | None = None, note: str = "") -> str:
    """Finish ``message`` the one way every "not allowed" message ends.

    ``message; did you mean 'x'?`` when there is a ``suggestion``, else
    ``message.``; then ``Allowed: ...`` when ``allowed`` is given (names are
    listed in their order, at most :data:`MAX_LISTED` of them; a string is a
    description such as "a whole number from 0 to 120", shown as it is);
    then ``note``, a further sentence such as where a new name is added.
    """
    text = message + (f"; did you mean {suggestion!r}?" if suggestion else ".")
    if allowed is not None:
        text += f" Allowed: {allowed if isinstance(allowed, str) else _listing(list(allowed))}."
    return text + (f" {note}" if note else "")


def not_allowed(what: str, value: object, allowed: Iterable[str], *, rest: str = "",
                listed: bool = True, note: str = "") -> str:
    """The one message for a name that is not one of ``allowed``.

    Reads ``{what} {value!r}{rest}``, then a did-you-mean when ``value`` is a
    near miss of an allowed name, then the allowed names (unless ``listed`` is
    false: case and rule ids are data, too many to list), then ``note``.
    """
    choices = list(allowed)
    head = f"{what} {value!r}" if what else repr(value)
    return with_allowed(head + rest, choices if listed else None, did_you_mean(value, choices), note)


def several_not_allowed(what: str, values: Sequence[str], allowed: Iterable[str], *, note: str = "") -> str:
    """:func:`not_allowed` for several names at once, each with its own did-you-mean.

    Reads ``{count} {what}: 'a' (did you mean 'x'?), 'b'``, then the allowed
    names and ``note``: every wrong name is fixed in one round.
    """
    choices = list(allowed)
    named = ", ".join(repr(value) + (f" (did you mean {near!r}?)" if (near := did_you_mean(value, choices)) else "")
                      for value in values)
    return with_allowed(f"{len(values)} {what}: {named}", choices, note=note)


def _listing(names: list[str]) -> str:
    """The names joined, a long list cut short with the count of the rest."""
    if len(names) <= MAX_LISTED:
        return ", ".join(names)
    return ", ".join(names[:MAX_LISTED]) + f" and {len(names) - MAX_LISTED} more"


_FIELD_KEYS = ("type", "description", "values", "minimum", "maximum", "at_least_one")
_SECTION_KEYS = ("fields", "muscles")
#: The keys of a value written as a mapping rather than as its meaning alone.
_VALUE_KEYS = ("meaning", "informational")


def parse_vocabulary(raw: Any, file: str, problems: list[Problem]) -> Vocabulary:
    """Validate the ``vocabulary:`` section ``raw`` read from ``file``.

    Every problem is appended to ``problems`` with its file and line; what
    could be read is returned, so the rest of the knowledge base can still be
    checked against it.
    """
    def problem(line: int | None, message: str, field_name: str | None = None) -> None:
        problems.append(Problem(Location(file, line, field=field_name), message))

    if not isinstance(raw, YamlMap):
        problem(getattr(raw, "line", None) or 1, "vocabulary must be a mapping with fields and muscles")
        return Vocabulary({}, ())
    for key in raw:
        if key not in _SECTION_KEYS:
            problem(raw.line_of(key), not_allowed("unknown vocabulary key", key, _SECTION_KEYS))
    locations: dict[tuple[str, str | None], Location] = {}
    muscles = _values(raw.get("muscles"), raw.line_of("muscles"), "muscles", file, problems, locations)
    table = raw.get("fields")
    fields: dict[str, CaseField] = {}
    if not isinstance(table, YamlMap) or not table:
        problem(raw.line_of("fields"), "vocabulary.fields must map each case field to its definition")
        table = YamlMap()
    for name, spec in table.items():
        line = table.line_of(name)
        locations[(str(name), None)] = Location(file, line, field=str(name))
        parsed = _field(str(name), spec, line, file, problems, locations)
        if parsed is not None:
            fields[parsed.name] = parsed
    for name, kind in STRUCTURAL_FIELDS.items():
        if name not in fields:
            problem(table.line or raw.line, f"vocabulary.fields must define {name!r} "
                    f"(type {_type_name(kind)}): the program requires it", name)
        elif fields[name].kind is not kind:
            problem(table.line_of(name), f"the field {name!r} must have type {_type_name(kind)}", name)
    return Vocabulary(fields, tuple(muscles), locations)


def _field(name: str, spec: Any, line: int, file: str, problems: list[Problem],
           locations: dict[tuple[str, str | None], Location]) -> CaseField | None:
    def problem(message: str, at: int | None = None) -> None:
        problems.append(Problem(Location(file, at or line, field=name), message))

    if not isinstance(spec, YamlMap):
        problem(f"the definition of {name!r} must be a mapping with a type")
        return None
    for key in spec:
        if key not in _FIELD_KEYS:
            problem(not_allowed("unknown field key", key, _FIELD_KEYS), spec.line_of(key))
    type_name = spec.get("type")
    kind = TYPE_NAMES.get(type_name) if isinstance(type_name, str) else None  # a list or map is no type name
    if kind is None:
        problem(not_allowed("unknown type", spec.get("type"), TYPE_NAMES), spec.line_of("type"))
        return None
    description = spec.get("description")
    if not isinstance(description, str) or not description.strip():
        problem(f"{name} needs a description in plain words", spec.line_of("description"))
        description = ""
    values: list[str] = []
    meanings: dict[str, str] = {}
    informational: dict[str, str] = {}
    if kind in (FieldKind.CHOICE, FieldKind.MULTI):
        values = _values(spec.get("values"), spec.line_of("values"), name, file, problems,
                         locations, meanings, informational)
    elif "values" in spec:
        problem(f"{name} is a {spec.get('type')} field and takes no values", spec.line_of("values"))
    bounds: dict[str, int | None] = {"minimum": None, "maximum": None}
    for key in bounds:
        value = spec.get(key)
        if value is None:
            continue
        if kind is not FieldKind.INTEGER or isinstance(value, bool) or not isinstance(value, int):
            problem(f"{key} takes a whole number and applies to integer fields only", spec.line_of(key))
        else:
            bounds[key] = value
    if kind is FieldKind.INTEGER and bounds["minimum"] is None:
        problem(f"the integer field {name!r} needs a minimum", spec.line_of("type"))
    at_least_one = spec.get("at_least_one", False)
    if not isinstance(at_least_one, bool) or (at_least_one and kind is not FieldKind.MULTI):
        problem("at_least_one takes true or false and applies to list fields only",
                spec.line_of("at_least_one"))
        at_least_one = False
    return CaseField(name, kind, str(description).strip(), required=name in REQUIRED_FIELDS,
                     values=tuple(values), minimum=bounds["minimum"], maximum=bounds["maximum"],
                     non_empty=at_least_one, meanings=meanings, informational=informational)


def _values(raw: Any, line: int, name: str, file: str, problems: list[Problem],
            locations: dict[tuple[str, str | None], Location],
            meanings: dict[str, str] | None = None,
            informational: dict[str, str] | None = None) -> list[str]:
    """The values of a mapping ``value: meaning``, each a lower-case name.

    When ``informational`` is given (case fields, not muscles), a value may
    instead map to ``{meaning: ..., informational: reason}``: the reason why
    no rule needs to test it, which is collected into ``informational``.
    """
    if not isinstance(raw, YamlMap) or not raw:
        problems.append(Problem(Location(file, line, field=name),
                                f"{name} needs its values, as a mapping of value: meaning"))
        return []
    values = []
    for value, entry in raw.items():
        where = Location(file, raw.line_of(value), field=name)
        if not isinstance(value, str) or not value.replace("_", "").isalnum() or value != value.lower():
            problems.append(Problem(where, f"a value of {name} must be a lower-case name "
                                    f"(letters, digits, _), got {value!r}"))
            continue
        meaning = entry
        if isinstance(entry, YamlMap) and informational is not None:
            meaning = entry.get("meaning")
            reason = _informational(entry, value, where, problems)
            if reason is not None:
                informational[value] = reason
        if not isinstance(meaning, str) or not meaning.strip():
            problems.append(Problem(where, f"the value {value!r} of {name} needs its meaning in plain words"))
        locations[(name, value)] = where
        values.append(value)
        if meanings is not None:
            meanings[value] = str(meaning or "").strip()
    return values


def _informational(entry: YamlMap, value: str, where: Location,
                   problems: list[Problem]) -> str | None:
    """The reason of a value written as ``{meaning: ..., informational: reason}`` at ``where``."""
    def at(line: int | None) -> Location:
        return Location(where.file, line, field=where.field)

    for key in entry:
        if key not in _VALUE_KEYS:
            problems.append(Problem(at(entry.line_of(key)), f"the value {value!r}: "
                                    + not_allowed("unknown key", key, _VALUE_KEYS)))
    reason = entry.get("informational")
    if not isinstance(reason, str) or not reason.strip():
        line = entry.line_of("informational") if "informational" in entry else where.line
        problems.append(Problem(at(line), f"the value {value!r} of {where.field} is written as a "
                                "mapping, so it needs informational: the reason, in plain words, "
                                "why no rule tests it"))
        return None
    return reason.strip()


def _type_name(kind: FieldKind) -> str:
    return next(name for name, k in TYPE_NAMES.items() if k is kind)
