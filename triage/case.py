"""The case: one person's validated answers, as an immutable value object.

``parse_case`` turns a raw mapping (from YAML, JSON, JSON Lines or CSV) into a
:class:`Case` or raises :class:`~triage.errors.CaseError` naming the case, the
field, the bad value, what is allowed and, for near misses, a "did you mean".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import CaseError, Location
from .vocabulary import (
    NOT_SCREENED_WORDS,
    SCREENING_FIELDS,
    CaseField,
    FieldKind,
    Vocabulary,
    did_you_mean,
    with_allowed,
)
from .yamlio import line_of


@dataclass(frozen=True)
class Case:
    """One person's answers. List fields are sets: their order never matters.

    ``answers`` holds every field of the vocabulary (a frozenset for a list,
    ``None`` for an unknown scalar or a screen that was not answered), in
    vocabulary order.
    """

    id: str
    answers: Mapping[str, Any] = field(hash=False)
    vocabulary: Vocabulary = field(compare=False, hash=False, repr=False)

    def value(self, name: str) -> Any:
        """The value of the case field ``name`` (a set, a scalar or ``None``)."""
        return self.answers[name]

    def to_dict(self) -> dict[str, Any]:
        """The case in the contract's shape; lists in vocabulary order."""
        return case_dict(self.id, self.answers, self.vocabulary)


def case_dict(case_id: str, answers: Mapping[str, Any], vocabulary: Vocabulary) -> dict[str, Any]:
    """Answers (lists as sets) in the contract's shape, fields and list items in vocabulary order.

    Only the fields in ``answers`` are written: an empty optional list is left
    out, an empty screen (``red_flags: []``, screened, none found) is kept, and
    a screen not answered is written ``unknown``.
    """
    out: dict[str, Any] = {"id": case_id}
    for name, spec in vocabulary.fields.items():
        if name not in answers or name == "id":
            continue
        value = answers[name]
        if spec.is_screen and value is None:
            out[name] = NOT_SCREENED_WORDS[0]
        elif spec.is_list:
            if value or spec.is_screen:
                out[name] = [v for v in spec.values if v in value]
        elif value is not None:
            out[name] = value
    return out


def blank_answers(vocabulary: Vocabulary) -> dict[str, Any]:
    """Every field unanswered: empty sets for lists, ``None`` for the rest (screens included:
    a screen nobody answered is not screened)."""
    return {name: frozenset() if spec.is_list and not spec.is_screen else None
            for name, spec in vocabulary.fields.items() if name != "id"}


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
_EMPTY_LIST_WORDS = {"none", "[]"}
#: What clinic exports write in a list cell for "nothing": read as none where a list may be
#: empty and nothing hangs on it, never for a screen (an unasked screen is not a clear one).
_NOT_APPLICABLE_WORDS = {"n/a", "na", "-"}
#: Numbers longer than this are shown as words: no answer needs them, and
#: Python refuses to print integers of more than a few thousand digits.
_MAX_DIGITS = 30


#: Told when a value was read in its usual spelling: (field, value as given, value used).
Normalised = Callable[[str, str, str], None]


def normal_spelling(text: str) -> str:
    """A name as the vocabulary spells it: lower case, underscores for spaces and hyphens.

    ``Tennis_Serve``, ``lower back`` and ``Back-of-thigh`` become
    ``tennis_serve``, ``lower_back`` and ``back_of_thigh``.
    """
    return "_".join(text.lower().replace("-", " ").replace("_", " ").split())


def parse_case(raw: object, default_id: str, vocabulary: Vocabulary, *, file: str | None = None,
               line: int | None = None, from_text: bool = False,
               normalised: Normalised | None = None) -> Case:
    """Validate ``raw`` against ``vocabulary`` and build a :class:`Case`.

    ``default_id`` is used when the case has no valid id. ``from_text`` is set
    for CSV, where every cell is a string: numbers and booleans are then
    parsed from text, list cells are split on ``;``, and ``none`` or ``[]``
    in a list cell means an empty list.

    A value of a list or one-value field is also taken in other capitals or
    with spaces or hyphens for underscores (``Lower back``); ``normalised``
    is then told, so the caller can say so. A value that matches nothing is
    an error. Every problem of the case is found: the :class:`CaseError`
    raised describes the first and carries the others in ``more``.

    The required fields may be left out only when the screen already found a
    red flag or a condition: such a case is referred whatever else it says
    (the knowledge base's safety floor guarantees it), and the questionnaire
    stops on an emergency sign before asking the rest.
    """
    fields = vocabulary.fields
    where = Location(file, line, default_id)
    if isinstance(raw, str):
        # The text may be a whole file that was not read as a table (patient notes included):
        # never echoed, only described.
        raise CaseError(f"a case must be a mapping of field names to answers, got {len(raw):,} characters "
                        "of plain text; a table needs a header of field names (--input-format csv)", where)
    if not isinstance(raw, Mapping):
        raise CaseError(f"a case must be a mapping of field names to answers, "
                        f"got {_kind(raw)}", where, value=_shown(raw))
    case_id = _case_id(raw, default_id, where)
    where = Location(file, line, case_id)

    def fail(name: str, message: str, value: object, spec: CaseField | None = None,
             suggestion: str | None = None) -> CaseError:
        at = Location(file, line_of(raw, name) or line, case_id, name)
        allowed = spec.allowed() if spec else None
        return CaseError(with_allowed(message, allowed or None, suggestion), at, value=_shown(value),
                         allowed=allowed, suggestion=suggestion)

    errors = [fail(str(name), f"unknown field {name!r}", name, None, did_you_mean(name, list(fields)))
              for name in raw if name not in fields]

    def spelled(name: str, given: str, read_as: str | None = None) -> str | None:
        """The vocabulary's spelling of ``given`` for field ``name`` (or ``read_as``), reporting any change."""
        usual = read_as or normal_spelling(given)
        if read_as is None and usual not in fields[name].values:
            return None
        if normalised is not None:
            normalised(name, given, usual)
        return usual

    values = blank_answers(vocabulary)
    missing: list[str] = []
    for name, spec in fields.items():
        if name == "id":
            continue
        present = name in raw and raw[name] is not None and not (from_text and raw[name] == "")
        if spec.is_screen and name in raw and (raw[name] is None or _says_not_screened(raw[name])):
            continue  # null or "not sure": not screened (stays None), which refers by itself
        if not present:
            if spec.required:
                missing.append(name)
            continue
        try:
            values[name] = _parse_value(spec, raw[name], from_text, fail, spelled)
        except CaseError as exc:
            errors.extend(exc.all)
            if spec.is_list and (exc.kept or not spec.is_screen):
                # The values that did parse still count (a red flag beside a typo
                # still refers); a screen with nothing usable stays not screened.
                values[name] = exc.kept
    # A red flag or condition already refers whatever else is said (the safety
    # floor guarantees it), so the answers an emergency stop never asked may be left out.
    referred_by_screen = any(values[f] for f in SCREENING_FIELDS if f in values)
    unscreened: list[CaseError] = []
    for name in missing:
        if referred_by_screen:
            continue
        spec = fields[name]
        if spec.is_screen:
            found = "warning signs" if name == "red_flags" else name.replace("_", " ")
            how = (f"list the {found} found, [] if they were asked about and none was found, "
                   f"or {NOT_SCREENED_WORDS[0]} if the person was not sure")
            unscreened.append(fail(name, f"missing required field {name!r}: {how}", None, spec))
        else:
            errors.append(fail(name, f"missing required field {name!r}: give at least one value", None, spec))
    if errors or unscreened:
        error = _together(errors + unscreened)
        # What parsed is still triaged (policy v3, principle 9): the caller gives it a
        # result when it refers urgently, or when all that is wrong is a missing screen
        # (read as not screened, which refers by itself; principle 7).
        error.partial = Case(case_id, values, vocabulary)
        error.blocking = bool(errors)
        raise error
    return Case(case_id, values, vocabulary)


def marked_unfinished(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The raw case ``raw`` marked ``complete: false`` (answers saved before the end), right after its id."""
    return {"id": raw["id"], "complete": False, **{k: v for k, v in raw.items() if k != "id"}}


def _says_not_screened(value: Any) -> bool:
    """True when a screen's answer is one of the words for "not sure" (``unknown``...)."""
    return isinstance(value, str) and normal_spelling(value.replace("'", "")) in NOT_SCREENED_WORDS


def _together(errors: list[CaseError]) -> CaseError:
    """One error for several: the first, carrying the others in ``more``."""
    first = errors[0]
    return CaseError(first.message, first.location, value=first.value, allowed=first.allowed,
                     suggestion=first.suggestion, more=tuple(errors[1:]))


def _case_id(raw: Mapping[Any, Any], default_id: str, where: Location) -> str:
    if "id" not in raw or raw["id"] is None or raw["id"] == "":
        return default_id
    value = raw["id"]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CaseError(f"'id' must be a string, got {_kind(value)}",
                        Location(where.file, line_of(raw, "id") or where.line, default_id, "id"),
                        value=_shown(value), allowed="a non-empty string")
    text = str(value).strip()
    return text or default_id


def _parse_value(spec: CaseField, value: Any, from_text: bool, fail: Any, spelled: Any) -> Any:
    if spec.is_list:
        return _parse_list(spec, value, from_text, fail, spelled)
    if spec.kind is FieldKind.INTEGER:
        return _parse_integer(spec, value, from_text, fail)
    if spec.kind is FieldKind.BOOLEAN:
        if isinstance(value, bool):
            return value
        if from_text and isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise fail(spec.name, f"{_shown(value)!r} is not true or false", value, spec)
    return _parse_choice(spec, value, fail, spelled)


def _parse_choice(spec: CaseField, value: Any, fail: Any, spelled: Any) -> str:
    if isinstance(value, bool):
        raise fail(spec.name, f"expected one value, got the yes/no answer {str(value).lower()}",
                   value, spec)
    if not isinstance(value, str):
        raise fail(spec.name, f"expected one value, got {_kind(value)}", value, spec)
    text = value.strip()
    if not text:
        raise fail(spec.name, "empty value", value, spec)
    if text not in spec.values:
        usual = spelled(spec.name, text)
        if usual is None:
            raise fail(spec.name, f"{text!r} is not allowed", text, spec, did_you_mean(text, spec.values))
        return usual
    return text


def _parse_list(spec: CaseField, value: Any, from_text: bool, fail: Any, spelled: Any) -> frozenset[str]:
    if from_text and isinstance(value, str):
        text = value.strip()
        if text.lower() in _TRUE | _FALSE:
            raise fail(spec.name, f"expected a list, got the yes/no answer {text!r}; "
                       "name the values separated by ';', or write none", text, spec)
        if text.lower() in _NOT_APPLICABLE_WORDS:
            return _not_applicable(spec, text, fail, spelled)
        items: list[Any] = [] if text.lower() in _EMPTY_LIST_WORDS else [
            part.strip() for part in text.split(";") if part.strip()]
    elif isinstance(value, list):
        items = value
    elif isinstance(value, bool):
        raise fail(spec.name, f"expected a list, got the yes/no answer {str(value).lower()}; "
                   "write the values as a list, e.g. [] for none", value, spec)
    else:
        hint = ""
        if isinstance(value, str) and value.strip() in spec.values:
            hint = f"; write [{value.strip()}]"
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            hint = "; write the values as a list, e.g. [] for none"
        raise fail(spec.name, f"expected a list, got {_kind(value)}{hint}", value, spec)
    result = []
    wrong = []  # every bad item of the list, not only the first
    for item in items:
        if not isinstance(item, str) or isinstance(item, bool):
            wrong.append(fail(spec.name, f"list items must be names, got {_kind(item)}", item, spec))
            continue
        text = item.strip()
        if text not in spec.values:
            usual = spelled(spec.name, text) if text else None
            if usual is None:
                wrong.append(fail(spec.name, f"{text!r} is not allowed" if text else "empty value in list",
                                  text, spec, did_you_mean(text, spec.values)))
                continue
            text = usual
        result.append(text)
    if wrong:
        error = _together(wrong)
        error.kept = frozenset(result)
        raise error
    if spec.non_empty and not result:
        raise fail(spec.name, f"{spec.name!r} needs at least one value", value, spec)
    return frozenset(result)


def _not_applicable(spec: CaseField, text: str, fail: Any, spelled: Any) -> frozenset[str]:
    """``N/A`` or ``-`` in a list cell: none (said through ``spelled``), or an error that says what to write."""
    if spec.name in SCREENING_FIELDS:
        raise fail(spec.name, f"{text!r} does not say whether this was screened: write none if it was "
                   "asked and nothing was found, or leave the cell empty if it was not asked", text, spec)
    if spec.non_empty:
        raise fail(spec.name, f"{text!r} is not allowed: {spec.name!r} needs at least one value, "
                   "separated by ';'", text, spec)
    spelled(spec.name, text, "none")
    return frozenset()


def _parse_integer(spec: CaseField, value: Any, from_text: bool, fail: Any) -> int:
    number: Any = value
    if from_text and isinstance(value, str):
        number = _number_from_text(value)
        if number is None:
            raise fail(spec.name, f"{_shown(value)!r} is not a whole number", value, spec)
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int):
        hint = ""
        if isinstance(value, str) and _number_from_text(value) is not None:
            hint = f"; write {value.strip()} without quotes"
        raise fail(spec.name, f"expected a whole number, got {_kind(value)}{hint}", value, spec)
    too_low = spec.minimum is not None and number < spec.minimum
    too_high = spec.maximum is not None and number > spec.maximum
    if too_low or too_high or abs(number) >= 10 ** _MAX_DIGITS:
        shown = _shown(number)
        raise fail(spec.name, f"{shown if isinstance(shown, int) else 'the number'} is out of range",
                   number, spec)
    return number


def _number_from_text(text: str) -> int | None:
    """A whole number written as text (``40``, or ``40.0`` as spreadsheets export it)."""
    text = text.strip()
    if len(text) > _MAX_DIGITS:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {_shown(value)}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


def _shown(value: object) -> object:
    """The bad value as plain data, short enough for an error record."""
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinity have no JSON spelling
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** _MAX_DIGITS:
        return "a number too large to show"
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return _kind(value)

