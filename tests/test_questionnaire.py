"""The questionnaire as a library: answers, WHY, back, emergency stop and engine-decided skips."""

from __future__ import annotations

import pytest

from triage.kb import KnowledgeBase, Question
from triage.questionnaire import (
    CANNOT_MATTER, InvalidAnswer, Outcome, Questionnaire, candidate_answers, parse_answer, rule_dependencies,
    rules_using_answer)
from triage.session import TriageSession
from triage.vocabulary import Disposition

#: Answers by question id for a person with a tight piriformis (tennis serve).
SELF_CARE = {
    "emergency_signs": "none", "other_symptoms": "none", "warning_signs": "none", "conditions": "none",
    "pain_sites": "buttock, back_of_thigh", "pain_below_knee": "", "age": "40", "first_episode": "no",
    "age_again": "", "severity_again": "", "duration_again": "",
    "severity": "4", "duration_days": "5", "course": "improving", "pain_side": "left",
    "pain_feels": "ache", "triggers": "tennis", "worse_when": "sitting",
    "lower_back_curve": "normal", "can_touch_toes": "yes",
}


def question(kb: KnowledgeBase, ident: str) -> Question:
    return next(q for q in kb.questions if q.id == ident)


def answer_all(questionnaire: Questionnaire, answers: dict[str, str]) -> list[str]:
    """Answer whatever is asked from ``answers``; return the ids asked, in order."""
    asked = []
    while questionnaire.current is not None:
        asked.append(questionnaire.current.id)
        assert questionnaire.respond(answers[questionnaire.current.id]).accepted
    return asked


@pytest.mark.parametrize(("ident", "typed", "expected"), [
    ("pain_sites", "1,4", {"lower_back", "hip"}),
    ("pain_sites", "buttock, knee", {"buttock", "knee"}),
    ("pain_sites", "back of thigh", {"back_of_thigh"}),
    ("pain_sites", "lower", {"lower_back"}),
    ("conditions", "none", set()),
    ("conditions", "None of these", set()),
    ("conditions", "13", set()),                       # "None of these", numbered after the choices
    ("conditions", "not sure", None),                  # not screened (policy v3, principle 7)
    ("conditions", "14", None),
    ("other_symptoms", "I'm not sure", None),
    ("emergency_signs", "none", set()),
    ("course", "2", "unchanged"),
    ("course", "WORS", "worsening"),
    ("course", "", None),
    ("course", "same", "unchanged"),                   # a word of the label "About the same"
    ("course", "About the Same", "unchanged"),         # the whole label, any capitals
    ("pain_sites", "Lower Back", {"lower_back"}),
    ("pain_sites", "back of the thigh", {"back_of_thigh"}),
    ("pain_sites", "buttock, lower back", {"buttock", "lower_back"}),
    ("pain_feels", "pins", {"tingling"}),              # "Pins and needles"
    ("age", " 42 ", 42),
    ("can_touch_toes", "n", False),
    ("can_touch_toes", "1", True),
])
def test_answers_by_number_name_or_prefix(kb: KnowledgeBase, ident: str, typed: str,
                                          expected: object) -> None:
    got = parse_answer(question(kb, ident), typed)
    assert (set(got) if isinstance(got, frozenset) else got) == expected


@pytest.mark.parametrize(("ident", "typed", "says"), [
    ("pain_sites", "", "at least one"),
    ("conditions", "", "needs an answer: choose what applies, or 'None of these'"),
    ("warning_signs", "fever, none", "each go alone"),
    ("pain_sites", "b", "could be any of: 1\\) The lower back \\[lower_back\\]; 2\\) .* "
                        "\\[upper_back\\]; 3\\) A buttock \\[buttock\\]; 7\\) The back of the thigh"),
    ("pain_sites", "back", "'back' could be any of: 1\\) The lower back \\[lower_back\\]; "
                           "2\\) Between the shoulder blades, or the middle of the back \\[upper_back\\]; "
                           "7\\) The back of the thigh \\[back_of_thigh\\]\\. Type more"),
    ("pain_sites", "buttock, back", "'back' could be any of"),
    ("pain_sites", "thigh", "back_of_thigh.*front_of_thigh"),
    ("emergency_signs", "sadle", "did you mean 'saddle_numbness'"),
    ("triggers", "tenis", "did you mean 'tennis_serve'"),
    ("course", "back", "To go back to the previous question type :back"),
    ("pain_sites", "\x1b[C", "control characters"),
    ("pain_sites", "10", "not one of the numbers 1 to 9"),
    ("pain_sites", "elbow", "not one of the choices"),
    ("pain_sites", "buttock,,knee", "empty item"),
    ("age", "forty", "not a whole number"),
    ("severity", "11", "out of range"),
    ("course", "sideways", "not one of the choices"),
])
def test_invalid_answers_say_what_is_wrong(kb: KnowledgeBase, ident: str, typed: str, says: str) -> None:
    with pytest.raises(InvalidAnswer, match=says):
        parse_answer(question(kb, ident), typed)


def test_an_emergency_sign_stops_at_once(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    assert questionnaire.current is not None and questionnaire.current.field == "red_flags"
    questionnaire.respond("leg_weakness")
    assert questionnaire.finished and questionnaire.emergency
    assert questionnaire.result().disposition is Disposition.EMERGENCY
    assert questionnaire.asked == ["emergency_signs"]


def test_a_full_self_care_path_matches_the_engine_on_the_saved_case(session: TriageSession) -> None:
    questionnaire = Questionnaire(session, "me")
    answer_all(questionnaire, SELF_CARE)
    result = questionnaire.result()
    assert result.disposition is Disposition.SELF_CARE
    assert result.top_muscle == "piriformis"
    assert questionnaire.case().to_dict() == questionnaire.case_dict()
    assert session.triage(questionnaire.case()).to_dict() == result.to_dict()


def test_side_is_skipped_when_no_rule_could_use_it(session: TriageSession) -> None:
    # A fever already refers today. With hip pain alone, no rule the side feeds can
    # apply (buttock numbness, pain in both legs, the one-sided lower back sign), so
    # the side cannot change the result. (With buttock pain it could: v3 sends
    # numbness in both buttocks to emergency care, so the side is asked then.)
    questionnaire = Questionnaire(session)
    asked = answer_all(questionnaire, {**SELF_CARE, "warning_signs": "fever", "pain_sites": "hip"})
    assert "pain_side" not in asked
    reasons = {s.question.id: s.reason for s in questionnaire.skipped}
    assert reasons["pain_side"] == CANNOT_MATTER


def test_side_is_asked_for_one_sided_lower_back_pain(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    asked = answer_all(questionnaire, {**SELF_CARE, "pain_sites": "lower_back"})
    assert "pain_side" in asked
    # v2: pain can spread to the calf without the thigh, so the leg question
    # is asked even when only the lower back was chosen.
    assert "pain_below_knee" in asked


def test_skipped_questions_really_could_not_change_the_result(session: TriageSession) -> None:
    """Each answer a skipped question could have got leaves disposition and ranking as they are."""
    for answers in (SELF_CARE, {**SELF_CARE, "severity": "9"},
                    {**SELF_CARE, "pain_sites": "lower_back", "severity": "9", "triggers": ""}):
        questionnaire = Questionnaire(session)
        answer_all(questionnaire, answers)
        final = questionnaire.result()
        outcome = (final.disposition, [m.muscle for m in final.likely_muscles])
        skipped = [s.question for s in questionnaire.skipped if s.reason == CANNOT_MATTER]
        assert skipped
        for skipped_question in skipped:
            for candidate in candidate_answers(skipped_question, session.kb)[1:]:
                changed = questionnaire._case({**questionnaire.answers, skipped_question.id: candidate})
                result = session.triage(changed)
                assert (result.disposition, [m.muscle for m in result.likely_muscles]) == outcome


def test_after_a_referral_questions_that_only_refer_again_are_skipped(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    asked = answer_all(questionnaire, {**SELF_CARE, "severity": "9"})
    assert questionnaire.result().disposition is Disposition.SEE_DOCTOR
    # The course can only add a see-a-doctor reason, which severity 9 already gave. (The
    # duration is asked: v3 sends new nerve symptoms in both legs to emergency care.)
    assert "course" not in asked and "duration_days" in asked
    # Touching the toes can still make the hamstrings likely, for the doctor.
    assert "can_touch_toes" in asked


def test_back_returns_to_the_previous_question_and_forgets_its_answer(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    nothing_before = questionnaire.respond(":back")
    assert not nothing_before.accepted and nothing_before.outcome is Outcome.NOTHING_TO_GO_BACK_TO
    assert questionnaire.respond("none").outcome is Outcome.ANSWERED
    assert questionnaire.current is not None and questionnaire.current.id == "other_symptoms"
    back = questionnaire.respond(":back")
    assert back.accepted and back.outcome is Outcome.WENT_BACK
    assert questionnaire.current.id == "emergency_signs"
    assert "emergency_signs" not in questionnaire.answers
    questionnaire.respond("major")
    assert questionnaire.emergency


def test_why_names_the_rules_that_use_the_answer(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    while questionnaire.current is not None and questionnaire.current.id != "pain_feels":
        questionnaire.respond(SELF_CARE[questionnaire.current.id])
    reply = questionnaire.respond(":why")
    assert not reply.accepted and reply.outcome is Outcome.WHY and reply.why is not None
    assert questionnaire.current.id == "pain_feels"  # asked again
    assert reply.why.question is questionnaire.current and reply.why.help == questionnaire.current.help
    rules = {rule.id: rule for rule in reply.why.rules}
    # v3 principle 10: the locked-back sign needs lower back or flank pain, ruled out by
    # the buttock and thigh pain already given, so it is not among the reasons.
    assert "muscle.quadratus_lumborum.locked_with_spasm" not in rules
    assert "refer.see_doctor.buttock_numbness_one_side" in rules  # the side given is left
    assert "A tight feeling at the back of the thigh points to the hamstrings." in [
        rule.description for rule in reply.why.rules]
    assert "pain_feels must include any of [numbness, tingling]" in [
        c.describe() for c in rules["refer.see_doctor.buttock_numbness_one_side"].conditions]


def test_why_follows_derived_facts_and_leaves_out_ruled_out_rules(session: TriageSession) -> None:
    def young(field: str) -> object:
        return 30 if field == "age" else frozenset()

    ids = [rule.id for rule in rules_using_answer(question(session.kb, "triggers"), session.kb, young)]
    assert "muscle.piriformis.prolonged_sitting" in ids  # driving -> long sitting -> sign
    assert "refer.urgent.fall_age_70_plus" not in ids  # age 30 rules it out
    assert ids.index("muscle.piriformis.tennis_serve") < ids.index("muscle.piriformis.prolonged_sitting")


def test_why_we_ask_names_exactly_the_rules_the_skip_logic_says_depend_on_the_answer(
        kb: KnowledgeBase) -> None:
    """For every question: the rules WHY lists are those whose dependencies (the skip logic's walk,
    through every chain of conclusions) include its field, with nothing answered yet."""
    depends_on = rule_dependencies(kb.rules)
    for asked in kb.questions:
        listed = [rule.id for rule in rules_using_answer(asked, kb, lambda field: None)]
        assert len(listed) == len(set(listed)), asked.id
        assert set(listed) == {r.id for r in kb.rules if asked.field in depends_on[r.id]}, asked.id


def test_why_for_the_pain_sites_follows_the_chain_to_the_nerve_symptom_rules(kb: KnowledgeBase) -> None:
    """pain sites -> derived leg pain -> derived nerve symptoms -> the nerve-symptom referrals."""
    listed = {rule.id for rule in rules_using_answer(question(kb, "pain_sites"), kb, lambda field: None)}
    nerve = {r.id for r in kb.rules for c in r.conditions
             if c.subject == "derived" and "nerve_symptoms" in c.values()}
    assert nerve and nerve <= listed


def test_an_answer_that_does_not_fit_is_refused_with_the_reason(session: TriageSession) -> None:
    questionnaire = Questionnaire(session)
    reply = questionnaire.respond("elbow")
    assert not reply.accepted and reply.outcome is Outcome.INVALID
    with pytest.raises(InvalidAnswer) as refused:
        parse_answer(question(session.kb, "emergency_signs"), "elbow")
    assert reply.reason == str(refused.value)
    assert reply.why is None
    assert questionnaire.current is not None and questionnaire.current.id == "emergency_signs"
    assert questionnaire.asked == [] and questionnaire.answers == {}


@pytest.mark.parametrize("answers", [
    SELF_CARE,
    {**SELF_CARE, "warning_signs": "fever"},
    {**SELF_CARE, "severity": "9", "pain_sites": "lower_back"},
    {**SELF_CARE, "age": "", "triggers": "fall", "pain_sites": "buttock", "age_again": "72"},
    {**SELF_CARE, "conditions": "dvt", "age": "55", "first_episode": "yes"},
])
def test_the_cheap_check_never_skips_what_the_engine_search_would_ask(
        session: TriageSession, answers: dict[str, str]) -> None:
    """Wherever the rule check says a question cannot matter, the full search agrees."""
    questionnaire = Questionnaire(session)
    while questionnaire.current is not None:
        for question in questionnaire.unanswered():
            if not questionnaire._may_matter(question):
                assert not questionnaire.search_says_it_matters(question), question.id
        questionnaire.respond(answers[questionnaire.current.id])


def _at(session: TriageSession, ident: str) -> Questionnaire:
    """A questionnaire answered (as SELF_CARE) up to the question ``ident``."""
    questionnaire = Questionnaire(session)
    while questionnaire.current is not None and questionnaire.current.id != ident:
        questionnaire.respond(SELF_CARE[questionnaire.current.id])
    assert questionnaire.current is not None
    return questionnaire


def test_yes_after_a_did_you_mean_takes_the_suggestion(session: TriageSession) -> None:
    questionnaire = _at(session, "warning_signs")
    refused = questionnaire.respond("feverr")
    assert refused.outcome is Outcome.INVALID and refused.retry == "fever"
    assert "did you mean 'fever'?" in str(refused.reason)
    assert questionnaire.respond("yes").outcome is Outcome.ANSWERED
    assert questionnaire.answers["warning_signs"] == frozenset({"fever"})


def test_yes_corrects_only_the_typo_of_a_list_and_survives_a_question_mark(session: TriageSession) -> None:
    questionnaire = _at(session, "triggers")
    assert questionnaire.respond("tenis, driving").retry == "tennis_serve, driving"
    assert questionnaire.respond("?").outcome is Outcome.WHY
    assert questionnaire.respond("y").accepted
    assert questionnaire.answers["triggers"] == frozenset({"tennis_serve", "driving"})


def test_a_suggestion_is_taken_only_by_the_very_next_yes(session: TriageSession) -> None:
    questionnaire = _at(session, "warning_signs")
    questionnaire.respond("feverr")
    questionnaire.respond("elbow")  # another refusal, without a suggestion, forgets it
    again = questionnaire.respond("yes")
    assert again.outcome is Outcome.INVALID and "warning_signs" not in questionnaire.answers


def test_on_a_yes_no_question_yes_is_always_the_answer_yes(session: TriageSession) -> None:
    questionnaire = _at(session, "can_touch_toes")
    assert questionnaire.current.answer == "yes_no"
    assert questionnaire.respond("noo").retry is None
    questionnaire.respond("yes")
    assert questionnaire.answers["can_touch_toes"] is True


def test_rules_words_give_the_rule_view(session: TriageSession) -> None:
    questionnaire = _at(session, "pain_feels")
    for typed in ("??", ":rules"):
        reply = questionnaire.respond(typed)
        assert reply.outcome is Outcome.RULES and reply.why is not None and reply.why.rules
    assert questionnaire.current.id == "pain_feels"
