"""``triage ask`` sessions, scripted through CliRunner and in a real pseudo-terminal."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from triage.cli import main
from triage.cli.ask import Interrupted, converse
from triage.questionnaire import Questionnaire
from triage.session import TriageSession

#: A person with a tight piriformis after a tennis serve, one answer a line, in question order
#: (first episode is skipped at 40: it matters only from 50).
SELF_CARE_LINES = [
    "none", "none", "none", "none",  # no emergency signs, other symptoms, warning signs or conditions
    "buttock, back_of_thigh",   # where
    "",                         # not below the knee
    "40", "4", "5", "1",        # age, severity, days, improving
    "1",                        # left side (one leg or both decides the urgency of nerve pain)
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
    # v2: with thigh pain the side is asked (nerve pain in both legs is more urgent).
    assert "Which side hurts?" in out.split("RESULT")[0]


#: Advice of the self-care disposition that says when to get help (rules/knowledge-base.yaml).
SELF_CARE_SAFETY_NET = ("Get emergency help at once (call 999 or go to A&E) if you get numbness",
                        "Call 999 for chest pain, fainting, or sudden tearing pain in the belly.",
                        "See a doctor if the pain lasts beyond a few weeks")
#: A rule id as the rule trace shows it ([muscle.piriformis.tennis_serve]).
RULE_ID = re.compile(r"\[(?:derive|refer|muscle|conclude|recommend)\.[\w.]+\]")


def test_the_result_says_what_to_do_and_when_to_get_help_before_the_techniques() -> None:
    out = ask(SELF_CARE_LINES).output.split("RESULT: SELF-CARE", 1)[1]
    order = ["Self-care is reasonable", "What to do now:", "Warm the area before any stretch",
             "When to get help:", *SELF_CARE_SAFETY_NET, "Likely tight muscle: piriformis",
             "Techniques to try, in this order:", "1. Warm the area first", "7. Foam roller",
             "questions were skipped"]
    places = [out.index(text) for text in order]
    assert places == sorted(places), out
    # Each safety-netting line is said once, under "When to get help", never among the techniques.
    assert all(out.count(text) == 1 for text in SELF_CARE_SAFETY_NET)


def test_without_explain_no_rule_internals_and_one_line_says_how_to_see_them() -> None:
    out = ask(SELF_CARE_LINES).output.split("RESULT: SELF-CARE", 1)[1]
    assert not RULE_ID.search(out) and "derived:" not in out and "How this was reached" not in out
    assert out.rstrip().splitlines()[-1] == "Run with --explain to see the rules behind this."


def test_explain_adds_the_rules_behind_the_result_at_the_end() -> None:
    result = ask(SELF_CARE_LINES, "--explain")
    assert result.exit_code == 0, result.output
    out = result.output.split("RESULT: SELF-CARE", 1)[1]
    trace = out.split("How this was reached:", 1)[1]
    assert "[muscle.piriformis.tennis_serve]" in trace and "derived: leg_pain" in trace
    assert not RULE_ID.search(out.split("How this was reached:", 1)[0])
    assert "--explain" not in out


def test_piped_techniques_are_compact_and_keep_every_step_and_caution() -> None:
    out = ask(SELF_CARE_LINES).output
    techniques = out.split("Techniques to try, in this order:\n", 1)[1].split("\n\n", 1)[0]
    lines = techniques.splitlines()
    assert len(lines) <= 3 * 7  # a title, the steps and the cautions: three lines each
    assert [line for line in lines if not line.startswith(" ")][0].startswith("1. Warm the area first")
    expected = json.loads(ask(SELF_CARE_LINES, "--format", "json").stdout)["recommendations"]
    assert len(expected) == 7
    for technique in expected:
        assert all(caution in techniques for caution in technique["cautions"])
        assert all(step in techniques for step in technique["steps"])


#: Answers that end in "see a doctor today" (a fever), one a line; later lines may go unused.
URGENT_LINES = ["none", "none", "fever", "none", "lower_back", "", "40", "4", "5", "1", "ache", "sit",
                "normal", "y"]


@pytest.mark.parametrize(("lines", "title"), [(URGENT_LINES, "RESULT: SEE A DOCTOR TODAY"),
                                              (["4"], "STOP: this needs emergency care.")])
def test_an_urgent_or_emergency_headline_is_framed_so_it_stands_out_without_colour(
        lines: list[str], title: str) -> None:
    out = ask(lines).output.splitlines()
    at = out.index(title)
    assert out[at - 1] == out[at + 2] and set(out[at - 1]) == {"="} and len(out[at - 1]) >= len(title)
    assert "\x1b[" not in "\n".join(out)  # no colour codes when the output is not a terminal


def test_an_emergency_says_what_to_do_now_before_why() -> None:
    out = ask(["4"]).output.split("STOP: this needs emergency care.", 1)[1]
    assert out.index("Call 999 now.") < out.index("What to do now:") < out.index("Do not drive yourself")
    assert out.index("Do not drive yourself") < out.index("Why:") < out.index("Weakness in a leg")


def test_an_emergency_stops_after_the_first_question() -> None:
    result = ask(["4"])
    assert result.exit_code == 0, result.output
    assert "STOP: this needs emergency care." in result.output
    assert "Call 999 now." in result.output
    assert "Weakness in a leg can mean a nerve is being damaged" in result.output
    assert "Do you have any of these conditions?" not in result.output
    assert "Where does it hurt?" not in result.output


@pytest.mark.parametrize("typed", ["?", ":why"])
def test_why_explains_the_question_in_plain_words_in_a_few_lines(typed: str) -> None:
    result = ask(["none", typed, "none", "none", "none"])
    said = result.output.split(f"> {typed}\n", 1)[1].split("\n> ", 1)[0].splitlines()
    assert said[0].startswith("About this question: ")
    # The other-symptoms screen (nine choices): "None of these" is 10, "I'm not sure" 11.
    assert said[1:] == ["Type the numbers of all that apply, separated by commas (for example 1,3); "
                        "10 if none of these apply, 11 if you are not sure.",
                        "(Type ?? to see the rules that use your answer.)"]
    assert "[refer." not in result.output  # no rule ids for a patient


@pytest.mark.parametrize("typed", ["??", ":rules"])
def test_the_rules_behind_a_question_are_one_command_further(typed: str) -> None:
    result = ask(["none", "none", typed, "none", "none"])
    assert "Why this question:" in result.output
    assert "Fever with back pain may be a spinal infection." in result.output
    assert "see a doctor today" in result.output
    assert "[refer.urgent.fever]" in result.output


def test_back_changes_the_previous_answer() -> None:
    # Say "none" to the emergency signs, go back, and report leg weakness instead.
    result = ask(["none", ":back", "leg_weakness"])
    assert "Going back to the previous question." in result.output
    assert "STOP: this needs emergency care." in result.output
    assert result.output.count("1. First, do you have any of these?") == 2


@pytest.mark.parametrize(("lines", "line", "says"), [
    (["none", "none", "none", "none", "elbow"], 5, "'elbow' is not one of the choices"),
    (["none", "none", "none", "none", "buttock, back"], 5, "'back' could be any of: 1) The lower back [lower_back]; "
                                       "2) Between the shoulder blades, or the middle of the back "
                                       "[upper_back]; 7) The back of the thigh [back_of_thigh]"),
    (["none", "none", "none", ":why", "none", "lower_back", "", "forty"], 8, "'forty' is not a whole number"),
])
def test_a_piped_answer_that_does_not_fit_stops_with_exit_2_naming_question_and_line(
        tmp_path: Path, lines: list[str], line: int, says: str) -> None:
    saved = tmp_path / "partial.yaml"
    result = ask([*lines, *SELF_CARE_LINES[5:]], "--save", str(saved))
    assert result.exit_code == 2, result.output
    [message, kept, verdict] = result.stderr.splitlines()[-3:]
    assert message.startswith(f"triage: stdin:{line}, field ")
    assert f"the answer on line {line} does not fit question " in message
    assert says in message
    assert kept == f"triage: answers so far saved to {saved} (marked incomplete)"
    assert verdict == "triage: piped answers must each fit their question; no result"
    assert "Traceback" not in result.output and "RESULT" not in result.output
    # The next line was not taken for the next question.
    assert saved.read_text(encoding="utf-8").startswith("# INCOMPLETE:")


def test_the_refusal_names_the_question_by_its_words() -> None:
    result = ask(["none", "none", "none", "none", "elbow"])
    assert ('the answer on line 5 does not fit question 5 ("Where does it hurt?", pain_sites)'
            in result.stderr)


def test_a_plain_navigation_word_gets_a_hint_and_colon_words_navigate() -> None:
    refused = ask(["none", "none", "none", "none", "lower_back", "", "40", "9", "5", "back"])  # at "Which side hurts?"
    assert refused.exit_code == 2
    assert "'back' is not one of the choices" in refused.stderr
    assert "To go back to the previous question type :back." in refused.stderr
    quit_ = ask(["none", ":quit"])
    assert quit_.exit_code == 130
    assert "triage: stopped before the end; no result" in quit_.stderr


def test_answers_saved_on_quit_are_marked_unfinished_and_triage_run_refers_them(tmp_path: Path) -> None:
    """Issue 19: a file saved before the end says complete: false, and is never self-care."""
    saved = tmp_path / "quit.yaml"
    ask(["none", "none", "none", "none", "buttock", "", "40", "3", "5", ":quit"], "--save", str(saved))
    case = yaml.safe_load(saved.read_text(encoding="utf-8"))
    assert case["complete"] is False and case["pain_sites"] == ["buttock"]
    ran = CliRunner().invoke(main, ["run", str(saved), "--format", "json"])
    [record] = json.loads(ran.stdout)
    assert record["disposition"] == "see_doctor"
    assert "saved before the questionnaire was finished" in record["referral"]["reasons"][0]["text"]


def test_skipped_questions_are_counted_with_their_reason_in_plain_words() -> None:
    result = ask(["none", "none", "none", "none", "lower_back", "", "40", "9", "5", "1", "ache", "sit",
                  "normal", "y"])
    out = result.output
    assert result.exit_code == 0, out
    assert "RESULT: SEE A DOCTOR" in out
    # v3: with lower back pain alone a tennis serve is no muscle sign (principle 10).
    assert "What might have set it off?" not in out.split("RESULT")[0]
    assert "6 questions were skipped:" in out
    assert "3 could no longer change the result:" in out
    assert "3 did not apply to your answers:" in out
    assert "Is this the first time you have had back pain like this?" in out.split("RESULT")[1]
    # v2: the leg question is asked whatever pain site was chosen.
    assert "Does the pain go further down the leg?" in out.split("RESULT")[0]
    # Why the age question was not asked again, in words, not rule syntax.
    assert "(only needed if your answer to 'How old are you, in years?' was left out)" in out
    skipped = out.split("questions were skipped:")[1].split("How this was reached")[0]
    assert "must include" not in skipped and "must be" not in skipped and "has_any" not in skipped
    assert "unknown: true" not in skipped


def test_saved_answers_get_unique_ids_so_one_run_of_both_warns_of_nothing(tmp_path: Path) -> None:
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    assert ask(SELF_CARE_LINES, "--save", str(first)).exit_code == 0
    assert ask(SELF_CARE_LINES, "--save", str(second)).exit_code == 0
    ids = [yaml.safe_load(path.read_text(encoding="utf-8"))["id"] for path in (first, second)]
    assert all(re.fullmatch(r"ask-\d{8}T\d{6}\.\d{3}Z", i) for i in ids) and ids[0] != ids[1]
    ran = CliRunner().invoke(main, ["run", str(first), str(second), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    assert "warning" not in ran.stderr
    assert [r["id"] for r in json.loads(ran.stdout)] == ids


def test_the_default_id_is_the_utc_time_to_the_millisecond() -> None:
    from datetime import datetime, timedelta, timezone

    from triage.cli.ask import default_case_id

    moment = datetime(2026, 3, 1, 23, 30, 5, 123456, tzinfo=timezone(timedelta(hours=-2)))
    assert default_case_id(moment) == "ask-20260302T013005.123Z"


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
    result = ask(["none", "none", "fever", "none", "lower_back"], "--save", str(saved))
    assert result.exit_code == 130
    assert "Traceback" not in result.output
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# INCOMPLETE:")
    assert "Not answered: pain_below_knee, age, first_episode" in text
    ran = CliRunner().invoke(main, ["run", str(saved), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    [record] = json.loads(ran.stdout)
    assert record["disposition"] == "urgent"


def test_converse_reads_any_stream_and_stops_cleanly_at_its_end(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    stream = io.StringIO("none\nnone\nnone\nblood_thinners\n")
    written: list[str] = []

    def read(prompt: str) -> str | None:
        written.append(prompt)
        line = stream.readline()
        return line.rstrip("\n") if line else None

    with pytest.raises(Interrupted):
        converse(questionnaire, read, written.append)
    assert questionnaire.asked == ["emergency_signs", "other_symptoms", "warning_signs", "conditions"]
    assert questionnaire.case_dict() == {"id": "ask", "red_flags": [], "other_symptoms": [],
                                         "conditions": ["blood_thinners"]}
    assert any("Where does it hurt?" in text for text in written)


def _interrupt(child: Any) -> None:
    """Ctrl-C at the prompt, and the end of the process.

    Pressed again if the first was lost: CPython's readline misses a SIGINT
    that lands after its last check for signals and before it starts waiting
    for a key (a person then presses Ctrl-C again); a loaded machine hits it.
    """
    pexpect = pytest.importorskip("pexpect")
    child.sendcontrol("c")
    if child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10) == 1:
        child.sendcontrol("c")
        child.expect(pexpect.EOF)


def _ctrl_c_reaches() -> None:
    """In the child: a shell may start background jobs (this suite too) with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_a_session_in_a_real_terminal(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    saved = tmp_path / "tty.yaml"
    child = pexpect.spawn(sys.executable, ["-m", "triage", "ask", "--save", str(saved)],
                          encoding="utf-8", timeout=30, dimensions=(50, 200),
                          preexec_fn=_ctrl_c_reaches)
    try:
        for expected, typed in [
            ("First, do you have any of these", "none"),
            ("Do you also have any of these", "None of these"),
            ("Do any of these apply to you", "none"),
            ("Do you have any of these conditions", "none"),
            ("Where does it hurt", "1"),
            ("Does the pain go further down the leg", ""),
            ("How old are you", "44"),
            ("How bad is the pain now", "6"),
            ("How many days", "3"),
            ("is the pain", "?"),
            ("About this question", "unch"),
            ("Which side hurts", "right"),
            ("What does the pain feel like", "4, 3"),
        ]:
            child.expect_exact(expected)
            child.expect_exact("> ")
            child.sendline(typed)
        child.expect_exact("What might have set it off")
        child.expect_exact("> ")
        _interrupt(child)
    finally:
        child.close()
    assert child.exitstatus == 130
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("# INCOMPLETE:")
    assert "pain_feels: [spasm, locked_up]" in text
    assert "pain_side: right" in text


def _terminal_session(tmp_path: Path, answers: dict[str, str]) -> tuple[str, str, list[str]]:
    """Drive ``triage ask --save`` in a real pseudo-terminal until its result.

    Each question whose text contains a key of ``answers`` (the first key
    that fits) gets that answer; a screen gets "none" (None of these), any
    other question Enter (none, or don't know). Returns the screen (unwrapped), the saved file and each
    question's text, in the order asked.
    """
    pexpect = pytest.importorskip("pexpect")
    saved = tmp_path / "answers.yaml"
    child = pexpect.spawn(sys.executable, ["-m", "triage", "ask", "--save", str(saved)],
                          encoding="utf-8", timeout=30, dimensions=(50, 200))
    screen, asked = [], []
    try:
        while child.expect_exact(["> ", pexpect.EOF]) == 0:
            question = child.before  # what was shown since the last prompt
            screen.append(question)
            asked.append(question)
            default = "none" if "None of these" in question else ""
            child.sendline(next((a for key, a in answers.items() if key in question), default))
            assert len(asked) < 40, "the questionnaire does not end"
        screen.append(child.before)
    finally:
        child.close()
    assert child.exitstatus == 0, "".join(screen)
    # Lines wrap at the terminal's width: compare the text with every break as one space.
    return " ".join("".join(screen).split()), saved.read_text(encoding="utf-8"), asked


def test_terminal_records_calf_pain_after_only_the_lower_back_was_ticked(tmp_path: Path) -> None:
    shown, saved, asked = _terminal_session(tmp_path, {
        "Where does it hurt": "lower_back",
        "Does the pain go further down the leg": "below_knee",
        "How old are you": "40",
    })
    assert any("Does the pain go further down the leg" in q for q in asked)
    assert "pain_sites: [lower_back, below_knee]" in saved
    assert "RESULT: SEE A DOCTOR" in shown
    assert "below the knee" in shown.split("RESULT")[1]


def test_terminal_asks_a_skipped_age_again_after_a_fall(tmp_path: Path) -> None:
    shown, saved, asked = _terminal_session(tmp_path, {
        "You did not give your age": "67",        # asked once more, saying why
        "Where does it hurt": "buttock",
        "How bad is the pain": "3",
        "What might have set it off": "fall",
    })                                            # the first age question: Enter (skipped)
    again = [q for q in asked if "You did not give your age" in q]
    assert len(again) == 1
    assert "Self-care advice is only given when we know it" in shown  # v3, principle 8
    assert "age: 67" in saved
    assert "RESULT: SEE A DOCTOR" in shown
    assert "After a fall, a doctor should check for an injury such as a broken bone" in shown


def test_an_emergency_stop_saves_a_case_that_triage_run_triages_as_an_emergency(tmp_path: Path) -> None:
    """The most urgent person never drops out of a batch as INVALID."""
    saved = tmp_path / "stopped.yaml"
    asked = ask(["4"], "--save", str(saved))
    assert asked.exit_code == 0, asked.output
    assert "\npain_sites:" not in saved.read_text(encoding="utf-8")
    ran = CliRunner().invoke(main, ["run", str(saved), "--format", "json"])
    assert ran.exit_code == 0, ran.output
    [record] = json.loads(ran.stdout)
    assert record["disposition"] == "emergency"
    assert [r["rule"] for r in record["referral"]["reasons"]][0] == "refer.emergency.leg_weakness"


def _words(text: str) -> str:
    """A pattern for ``text`` that allows a line break (wrapping) between any two words."""
    return r"\s+".join(re.escape(word) for word in text.split())


def _spawn(tmp_path: Path, *args: str, columns: int = 200) -> Any:
    pexpect = pytest.importorskip("pexpect")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm"
    child = pexpect.spawn(sys.executable, ["-m", "triage", "ask", *args], encoding="utf-8",
                          timeout=30, dimensions=(40, columns), env=env, cwd=str(tmp_path),
                          preexec_fn=_ctrl_c_reaches)
    child.logfile_read = io.StringIO()
    return child


def test_in_a_terminal_ambiguous_answers_typos_arrow_keys_and_label_words(tmp_path: Path) -> None:
    pytest.importorskip("pexpect")
    saved = tmp_path / "tty.yaml"
    child = _spawn(tmp_path, "--save", str(saved), columns=60)
    try:
        child.expect_exact("> ")
        child.sendline("sadle")  # a typo gets the batch mode's suggestion, and is asked again
        child.expect(_words("is not one of the choices; did you mean 'saddle_numbness'"))
        for _ in range(4):  # the emergency signs, other symptoms, warning signs, conditions
            child.expect_exact("> ")
            child.sendline("none")
        child.expect_exact("Where does it hurt?")
        child.expect_exact("> ")
        child.sendline("back")  # lower back or back of thigh? Asked again, never guessed
        child.expect(_words("'back' could be any of: 1) The lower back [lower_back]; 2) Between the "
                            "shoulder blades, or the middle of the back [upper_back]; 7) The back "
                            "of the thigh [back_of_thigh]. Type more of the one you mean, or its number."))
        child.expect_exact("> ")
        # Arrow keys edit the line (readline) instead of arriving as text:
        # "buttok", left, "c", right -> "buttock".
        child.send("buttok")
        child.send("\x1b[D")
        child.send("c")
        child.send("\x1b[C")
        child.sendline(", back of thigh")
        child.expect_exact("Does the pain go further down the leg?")
        for typed in ("", "40", "4", "5"):
            child.expect_exact("> ")
            child.sendline(typed)
        child.expect_exact("Over the last few days, is the pain...")
        child.expect_exact("> ")
        child.sendline("same")  # a word of the label "About the same"
        child.expect_exact("> ")
        _interrupt(child)
    finally:
        child.close()
    assert child.exitstatus == 130
    transcript = child.logfile_read.getvalue()
    assert "control characters" not in transcript and "\x1b[D" not in transcript.split("buttok")[0]
    assert transcript.count("Sorry") == 2  # the typo and "back"; nothing after the arrow keys
    text = saved.read_text(encoding="utf-8")
    assert "pain_sites: [buttock, back_of_thigh]" in text
    assert "course: unchanged" in text


def test_in_a_terminal_long_lines_wrap_at_word_boundaries(tmp_path: Path) -> None:
    pytest.importorskip("pexpect")
    child = _spawn(tmp_path, columns=60)
    try:
        child.expect_exact("> ")
        _interrupt(child)
    finally:
        child.close()
    lines = child.logfile_read.getvalue().replace("\r\n", "\n").split("\n")
    assert max(len(line) for line in lines) <= 60
    assert "1. First, do you have any of these? Choose all that apply." in lines
    # A long choice breaks at a word and goes on under its text.
    assert "   5) The pain began after a serious accident (a fall from a" in lines
    assert "      height, a road collision) [major_trauma]" in lines


def test_piped_answers_are_echoed_with_control_characters_escaped() -> None:
    result = ask(["\x1b[2J\u202e", "none", "none", "none", "none", *SELF_CARE_LINES[4:]])
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "\\x1b[2J\\u202e" in result.output


def test_in_a_terminal_yes_takes_the_did_you_mean_and_help_keeps_the_question_in_view(tmp_path: Path) -> None:
    pytest.importorskip("pexpect")
    child = _spawn(tmp_path, columns=100)
    try:
        for _ in range(2):  # the emergency signs and the other symptoms
            child.expect_exact("> ")
            child.sendline("none")
        child.expect_exact("Do any of these apply to you?")
        child.expect_exact("> ")
        child.sendline("?")
        child.expect_exact("About this question:")
        child.expect(_words("(Type ?? to see the rules that use your answer.)"))
        child.expect_exact("> ")
        child.sendline("feverr")
        child.expect(_words("Sorry, 'feverr' is not one of the choices; did you mean 'fever'?"))
        child.expect(_words("Type yes for fever, or answer again."))
        child.expect_exact("> ")
        child.sendline("yes")
        child.expect_exact("Do you have any of these conditions?")  # taken: the next question
        help_and_prompt = child.logfile_read.getvalue().split("> ?", 1)[1].split("> feverr", 1)[0]
        # A few lines (wrapped at 100 columns), so the question and its choices stay on screen.
        assert "[refer." not in help_and_prompt and len(help_and_prompt.strip().splitlines()) <= 6
        _interrupt(child)
    finally:
        child.close()


def test_terminal_asks_a_skipped_severity_and_duration_again_saying_why(tmp_path: Path) -> None:
    """Policy v3, principle 8: each is asked once more; left empty again, the result names it."""
    shown, saved, asked = _terminal_session(tmp_path, {
        "You did not say how bad the pain is": "3",  # given when asked again
        "You did not say how long the pain has lasted": "",  # still not said
        "Where does it hurt": "lower_back",
        "How old are you": "40",
        "Looking at your side in a mirror": "flattened",
    })                                            # the first severity and duration questions: Enter
    assert len([q for q in asked if "You did not say how bad the pain is" in q]) == 1
    assert len([q for q in asked if "You did not say how long the pain has lasted" in q]) == 1
    assert "Self-care advice is only given for milder pain" in shown
    assert "severity: 3" in saved and "duration_days" not in saved
    assert "RESULT: SEE A DOCTOR" in shown
    assert "How long the pain has lasted was not given" in shown


#: What a terminal is sent besides text: colours, and readline's switches (bracketed paste).
_TERMINAL_CODES = re.compile(r"\x1b\[[?0-9;]*[A-Za-z]")


def _at_80x24(tmp_path: Path, *args: str, pages: tuple[str, ...] = ("q",),
              env: dict[str, str] | None = None) -> str:
    """The self-care session in a real 80x24 terminal; ``pages`` are typed at the technique prompts.

    Returns what the terminal showed, one line per screen line, without its control codes.
    """
    pexpect = pytest.importorskip("pexpect")
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    child = pexpect.spawn(sys.executable, ["-m", "triage", "ask", *args], encoding="utf-8", timeout=30,
                          dimensions=(24, 80), env={**environment, "TERM": "xterm", **(env or {})},
                          cwd=str(tmp_path), preexec_fn=_ctrl_c_reaches)
    child.logfile_read = io.StringIO()
    try:
        for typed in SELF_CARE_LINES:
            child.expect_exact("> ")
            child.sendline(typed)
        for number, typed in enumerate(pages, start=1):
            child.expect_exact(f"Technique {number} of 7:")
            child.expect_exact("Press Enter for the next technique, q to stop > ")
            child.sendline(typed)
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    return _TERMINAL_CODES.sub("", child.logfile_read.getvalue()).replace("\r\n", "\n")


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The self-care result at 80x24 without --explain: Enter at the first technique, q at the second."""
    return _at_80x24(tmp_path_factory.mktemp("paged"), pages=("", "q"))


def test_in_a_terminal_the_techniques_come_one_page_at_a_time_and_enter_shows_the_next(paged: str) -> None:
    after = paged.split("RESULT: SELF-CARE", 1)[1]
    first, rest = after.split("Technique 1 of 7: Warm the area first", 1)
    assert "Technique" not in first  # no technique before the first page
    page, rest = rest.split("Press Enter for the next technique, q to stop > ", 1)
    assert "Never put heat on skin that feels numb" in page and "Seated spinal twist" not in page
    assert len(page.split("\n")) <= 24  # the page fits the screen with its prompt
    # Enter: the second page; q there: the rest are not shown, and the result ends.
    assert rest.lstrip("\n").startswith("Technique 2 of 7: Seated spinal twist")
    assert "Technique 3 of 7" not in rest and "(5 more not shown.)" in rest
    assert rest.rstrip().endswith("Run with --explain to see the rules behind this.")


def test_at_80x24_when_to_get_help_is_on_the_first_screen_and_rule_ids_only_with_explain(
        paged: str, tmp_path: Path) -> None:
    screen = paged.split("\n")
    start = next(n for n, line in enumerate(screen) if "RESULT: SELF-CARE" in line)
    result = screen[start:]
    for text in ("When to get help:", *SELF_CARE_SAFETY_NET):
        at = next(n for n, line in enumerate(result) if line.lstrip(" -").startswith(text[:30]))
        assert at < 24, (text, at)
    assert all(len(line) <= 80 for line in result)
    assert not RULE_ID.search("\n".join(result)) and "derived:" not in "\n".join(result)
    explained = _at_80x24(tmp_path, "--explain").split("RESULT: SELF-CARE", 1)[1]
    trace = explained.split("How this was reached:", 1)[1]
    assert "[muscle.piriformis.tennis_serve]" in trace and "derived: leg_pain" in trace


@pytest.mark.parametrize(("env", "coloured"), [({}, True), ({"NO_COLOR": "1"}, False)])
def test_in_a_terminal_an_emergency_headline_is_red_and_framed_without_colour_too(
        tmp_path: Path, env: dict[str, str], coloured: bool) -> None:
    pexpect = pytest.importorskip("pexpect")
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    child = pexpect.spawn(sys.executable, ["-m", "triage", "ask"], encoding="utf-8", timeout=30,
                          dimensions=(24, 80), env={**environment, "TERM": "xterm", **env},
                          cwd=str(tmp_path), preexec_fn=_ctrl_c_reaches)
    child.logfile_read = io.StringIO()
    try:
        child.expect_exact("> ")
        child.sendline("4")  # weakness in a leg
        child.expect(pexpect.EOF)
    finally:
        child.close()
    shown = child.logfile_read.getvalue().replace("\r\n", "\n")
    before, headline = shown.split("STOP: this needs emergency care.", 1)
    assert ("\x1b[31m" in before.rsplit("\n\n", 1)[1]) == coloured  # red from the frame on
    lines = _TERMINAL_CODES.sub("", shown).split("\n")
    at = lines.index("STOP: this needs emergency care.")
    assert lines[at - 1] == lines[at + 2] == "=" * 72
