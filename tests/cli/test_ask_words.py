"""The words of ``triage ask`` (triage/cli/ask_words.py): lines built from the questionnaire's data."""

from __future__ import annotations

import dataclasses

import pytest
from test_questionnaire import SELF_CARE, question

from triage.api import question_data
from triage.cli.ask_words import reply_lines, skipped_lines, technique_page, why_lines, wrap
from triage.kb import Condition, KnowledgeBase
from triage.questionnaire import NOT_APPLICABLE, Outcome, Questionnaire, Reply, Skipped, WhyAsked
from triage.results import Recommendation
from triage.session import TriageSession


def test_why_names_the_rules_that_use_the_answer_in_plain_words(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    while questionnaire.current is not None and questionnaire.current.id != "pain_feels":
        questionnaire.respond(SELF_CARE[questionnaire.current.id])
    lines = reply_lines(questionnaire.respond(":rules"), session.kb)
    text = "\n".join(lines)
    assert lines[:2] == [f"Why this question: {questionnaire.current.help}",
                         "Your answer is used by these rules:"]
    assert "refer.see_doctor.buttock_numbness_one_side" in text  # buttock pain on the left side
    assert "  - A tight feeling at the back of the thigh points to the hamstrings." in lines
    assert "    needs: pain_feels must include any of [numbness, tingling]" in text


def test_why_says_so_when_no_rule_could_still_use_the_answer(kb: KnowledgeBase) -> None:
    asked = question(kb, "pain_side")
    assert why_lines(WhyAsked(asked, ()), kb) == [
        f"Why this question: {asked.help}", "No rule that could still apply uses this answer."]


def test_the_terminal_and_the_json_api_give_the_same_why(session: TriageSession) -> None:
    """The API's ``why`` is the terminal's lines without the help line and the indentation."""
    questionnaire = Questionnaire(session)
    while questionnaire.current is not None:
        reply = questionnaire.respond(":why")
        assert reply.why is not None
        terminal = why_lines(reply.why, session.kb)
        assert question_data(questionnaire.current, questionnaire)["why"] == [
            line.strip() for line in terminal[1:]]
        questionnaire.respond(SELF_CARE[questionnaire.current.id])


@pytest.mark.parametrize(("reply", "lines"), [
    (Reply(Outcome.ANSWERED), []),
    (Reply(Outcome.WENT_BACK), ["Going back to the previous question."]),
    (Reply(Outcome.NOTHING_TO_GO_BACK_TO), ["This is the first question; there is nothing to go back to."]),
    (Reply(Outcome.INVALID, reason="'elbow' is not one of the choices."),
     ["Sorry, 'elbow' is not one of the choices. Please answer again (? explains the question)."]),
])
def test_each_reply_in_words(kb: KnowledgeBase, reply: Reply, lines: list[str]) -> None:
    assert reply_lines(reply, kb) == lines


@pytest.mark.parametrize(("condition", "words"), [
    (Condition("age", "at_least", 60), ("only needed if your answer to 'How old are you, in years?' "
                                        "was at least 60")),
    (Condition("course", "is_any", ("worsening", "unchanged")),
     ("only needed if your answer to 'Over the last few days, is the pain...' was getting worse "
      "or about the same")),
    (Condition("conditions", "has_none", ("dvt", "burns")),
     ("only needed if your answer to 'Do you have any of these conditions?' included none of "
      "a blood clot in a deep vein (DVT) and burns on the back or legs")),
    (Condition("age", "unknown", True), ("only needed if your answer to 'How old are you, in years?' "
                                         "was left out")),
])
def test_a_skipped_question_says_in_plain_words_what_it_depends_on(
        kb: KnowledgeBase, condition: Condition, words: str) -> None:
    asked = dataclasses.replace(question(kb, "lower_back_curve"), when=(condition,))
    [_, _, _, line] = skipped_lines((Skipped(asked, NOT_APPLICABLE, "rule syntax"),), kb.questions)
    assert line == f"    - {asked.text} ({words})"


def test_question_mark_help_is_a_few_plain_lines_for_every_question(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    while questionnaire.current is not None:
        lines = reply_lines(questionnaire.respond("?"), session.kb, questionnaire.current)
        assert len(lines) <= 4 and lines[0] == f"About this question: {questionnaire.current.help}"
        assert lines[1].startswith("Type ") and "[" not in "".join(lines)  # how to answer, no rule ids
        questionnaire.respond(SELF_CARE[questionnaire.current.id])


def test_a_refusal_says_what_to_type_without_internal_ids(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    first = questionnaire.current
    lines = reply_lines(questionnaire.respond("yes"), session.kb, first)
    assert lines == ["Sorry, 'yes' is not one of the choices.",
                     "Type the numbers of all that apply, separated by commas (for example 1,3); "
                     "6 if none of these apply, 7 if you are not sure. (? explains the question.)"]
    assert not any(choice.value in " ".join(lines) for choice in first.choices)
    questionnaire.respond("none")  # the emergency signs
    questionnaire.respond("none")  # the other symptoms
    typo = reply_lines(questionnaire.respond("feverr"), session.kb, questionnaire.current)
    assert typo[0] == "Sorry, 'feverr' is not one of the choices; did you mean 'fever'?"
    assert typo[1].startswith("Type yes for fever, or answer again. Type the numbers")


def test_every_technique_page_fits_a_24_line_terminal_with_its_prompt(kb: KnowledgeBase) -> None:
    techniques = list(kb.techniques.values())
    for number, t in enumerate(techniques, start=1):
        page = technique_page(Recommendation(t.id, t.name, t.for_muscles, t.steps, t.hold, t.cautions,
                                             t.sources), number, len(techniques))
        shown = wrap("\n".join(page), 80).split("\n")
        assert len(shown) <= 23, (t.id, len(shown))  # the 24th line is the prompt for the next
        assert shown[0] == "" and shown[1].startswith(f"Technique {number} of {len(techniques)}: {t.name}")
        assert all(f"   Caution: {caution}" in page for caution in t.cautions)
