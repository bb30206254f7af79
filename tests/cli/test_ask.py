"""``triage ask`` sessions, scripted through CliRunner and in a real pseudo-terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from triage.cli import main

#: A person with a tight piriformis after a tennis serve, one answer a line, in question order
#: (the side question is skipped: it can change nothing for buttock and thigh pain).
SELF_CARE_LINES = [
    "", "", "",                 # no warning signs, no conditions
    "buttock, back_of_thigh",   # where
    "",                         # not below the knee
    "40", "4", "5", "1",        # age, severity, days, improving
    "ache",                     # feels
    "tennis",                   # trigger (prefix)
    "sit",                      # worse when sitting
    "normal", "y",              # curve, can touch toes
]


def ask(lines: list[str], *args: str) -> Result:
    return CliRunner().invoke(main, ["ask", *args], input="\n".join(lines) + "\n")


def test_a_full_self_care_path(tmp_path: Path) -> None:
    result = ask(SELF_CARE_LINES)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "RESULT: SELF-CARE" in out
    assert "Likely tight muscle: piriformis" in out
    assert "A tennis serve can strain the piriformis." in out
    assert "1. Warm the area first (hold: 10-15 minutes" in out
    assert "Caution:" in out
    assert "This is not a diagnosis. When in doubt, see a doctor." in out
    assert "How this was reached:" in out and "[muscle.piriformis.tennis_serve]" in out
    assert "Which side hurts?" not in out.split("1 question was skipped")[0]


def test_an_emergency_stops_after_the_first_question() -> None:
    result = ask(["4"])
    assert result.exit_code == 0, result.output
    assert "STOP: this needs emergency care." in result.output
    assert "Call emergency services" in result.output
    assert "Leg weakness can mean a nerve is being damaged" in result.output
    assert "Do you have any of these conditions?" not in result.output
    assert "Where does it hurt?" not in result.output


def test_why_explains_the_question_in_plain_words() -> None:
    result = ask(["", "why", "", ""])
    assert "Why this question:" in result.output
    assert "Fever with back pain may be a spinal infection." in result.output
    assert "see a doctor today" in result.output
    assert "[refer.urgent.fever]" in result.output


def test_back_changes_the_previous_answer() -> None:
    # Say "none" to the emergency signs, go back, and report leg weakness instead.
    result = ask(["", "back", "leg_weakness"])
    assert "Going back to the previous question." in result.output
    assert "STOP: this needs emergency care." in result.output
    assert result.output.count("1. First, do you have any of these?") == 2


def test_invalid_answers_are_re_prompted_without_a_traceback() -> None:
    result = ask(["", "", "", "elbow", "b", "buttock, back_of_thigh", *SELF_CARE_LINES[4:]])
    out = result.output
    assert "Sorry, 'elbow' is not one of the choices" in out
    assert "Sorry, 'b' could be buttock, back_of_thigh; type more letters or the number." in out
    assert "Traceback" not in out
    assert result.exit_code == 0


def test_skipped_questions_are_counted_with_their_reason() -> None:
    result = ask(["", "", "", "lower_back", "40", "9", "1", *SELF_CARE_LINES[9:]])
    out = result.output
    assert result.exit_code == 0, out
    assert "RESULT: SEE A DOCTOR" in out
    assert "How many days has this bout of pain lasted" not in out.split("RESULT")[0]
    assert "3 questions were skipped:" in out
    assert "2 could no longer change the result:" in out
    assert "1 did not apply to your answers:" in out
    assert "Does the pain go further down the leg?" in out.split("RESULT")[1]


def test_save_round_trips_through_triage_run_to_the_same_result(tmp_path: Path) -> None:
    saved = tmp_path / "me.yaml"
    asked = ask(SELF_CARE_LINES, "--save", str(saved), "--format", "json", "--id", "me")
    assert asked.exit_code == 0, asked.output
    from_ask = json.loads(asked.stdout)
    assert from_ask["disposition"] == "self_care" and from_ask["id"] == "me"
    ran = CliRunner().invoke(main, ["run", str(saved), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    [from_run] = json.loads(ran.stdout)
    assert from_run == from_ask


def test_end_of_input_exits_130_and_keeps_the_answers_marked_incomplete(tmp_path: Path) -> None:
    saved = tmp_path / "partial.yaml"
    result = ask(["", "fever", "", "lower_back"], "--save", str(saved))
    assert result.exit_code == 130
    assert "Traceback" not in result.output
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# INCOMPLETE:")
    assert "Not answered: pain_side, pain_feels" in text
    ran = CliRunner().invoke(main, ["run", str(saved), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    [record] = json.loads(ran.stdout)
    assert record["disposition"] == "urgent"


def test_a_session_in_a_real_terminal(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    saved = tmp_path / "tty.yaml"
    child = pexpect.spawn(sys.executable, ["-m", "triage", "ask", "--save", str(saved)],
                          encoding="utf-8", timeout=30, dimensions=(50, 200))
    try:
        for expected, typed in [
            ("First, do you have any of these", ""),
            ("Do any of these apply to you", "none"),
            ("Do you have any of these conditions", ""),
            ("Where does it hurt", "1"),
            ("How old are you", "44"),
            ("How bad is the pain now", "7"),
            ("How many days", "3"),
            ("is the pain", "?"),
            ("Why this question", "unch"),
            ("Which side hurts", "right"),
            ("What does the pain feel like", "4, 3"),
        ]:
            child.expect_exact(expected)
            child.expect_exact("> ")
            child.sendline(typed)
        child.expect_exact("What might have set it off")
        child.sendcontrol("c")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 130
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# INCOMPLETE:")
    assert "pain_feels: [spasm, locked_up]" in text
    assert "pain_side: right" in text


def test_piped_answers_are_echoed_with_control_characters_escaped() -> None:
    result = ask(["\x1b[2J\u202e", "", "", "", *SELF_CARE_LINES[3:]])
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "\\x1b[2J\\u202e" in result.output
