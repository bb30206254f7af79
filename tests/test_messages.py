"""The one helper behind every "not allowed; did you mean; Allowed:" message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import triage
from triage.vocabulary import MAX_LISTED, not_allowed, with_allowed


def test_a_near_miss_is_suggested_and_the_names_listed_in_their_order() -> None:
    assert not_allowed("unknown field", "red_flag", ["age", "red_flags", "conditions"]) == (
        "unknown field 'red_flag'; did you mean 'red_flags'? Allowed: age, red_flags, conditions.")


def test_the_value_is_shown_with_repr_so_odd_values_stay_visible() -> None:
    assert not_allowed("unknown key", " a\n", ["b"]) == "unknown key ' a\\n'. Allowed: b."
    assert not_allowed("unknown key", 3, ["three"]) == "unknown key 3. Allowed: three."


def test_a_far_miss_gets_no_suggestion() -> None:
    assert not_allowed("unknown value", "elbow", ["lower_back", "buttock"]) == (
        "unknown value 'elbow'. Allowed: lower_back, buttock.")


def test_rest_follows_the_value_and_note_ends_the_message() -> None:
    assert not_allowed("operator", "hass", ["has", "is"], rest=" does not apply to 'triggers'",
                       note="See the README.") == (
        "operator 'hass' does not apply to 'triggers'; did you mean 'has'? Allowed: has, is. See the README.")


def test_ids_are_suggested_but_not_listed() -> None:
    assert not_allowed("no rule", "refer.urgent.fevr", ["refer.urgent.fever"], rest=" in the knowledge base",
                       listed=False) == "no rule 'refer.urgent.fevr' in the knowledge base; did you mean " \
                                        "'refer.urgent.fever'?"
    assert not_allowed("no case with id", "x", ["a"], listed=False) == "no case with id 'x'."


def test_a_long_list_is_cut_short_with_the_count_of_the_rest() -> None:
    names = [f"name{i:03d}" for i in range(MAX_LISTED + 12)]
    text = not_allowed("unknown name", "zzz", names)
    assert text.endswith(f"Allowed: {', '.join(names[:MAX_LISTED])} and 12 more.")
    assert not_allowed("unknown name", "zzz", names[:MAX_LISTED]).endswith(f"{names[MAX_LISTED - 1]}.")


def test_a_description_of_what_is_allowed_is_shown_as_it_is() -> None:
    assert with_allowed("expected a whole number", "a whole number from 0 to 120") == (
        "expected a whole number. Allowed: a whole number from 0 to 120.")
    assert with_allowed("'Buttok' is not allowed", "a list of: buttock", "buttock") == (
        "'Buttok' is not allowed; did you mean 'buttock'? Allowed: a list of: buttock.")
    assert with_allowed("empty value") == "empty value."


def test_no_module_builds_the_message_by_hand() -> None:
    package = Path(triage.__file__).parent
    by_hand = [str(path.relative_to(package)) for path in package.rglob("*.py")
               if path.name != "vocabulary.py" and ("Allowed: " in path.read_text() or
                                                    "did you mean {" in path.read_text())]
    assert by_hand == []


def test_the_helper_imports_no_engine() -> None:
    code = "import sys, triage.vocabulary; print('experta' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_several_wrong_names_are_one_message_each_with_its_suggestion() -> None:
    from triage.vocabulary import several_not_allowed

    assert several_not_allowed("unknown columns", ["Notes", "pain_site"], ["id", "pain_sites"], note="Skip them.") == (
        "2 unknown columns: 'Notes', 'pain_site' (did you mean 'pain_sites'?). Allowed: id, pain_sites. Skip them.")
