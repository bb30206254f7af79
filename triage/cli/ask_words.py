"""The words of ``triage ask``: questions, replies and results as terminal lines.

Everything a person reads in the terminal is put into words here, from the
data the library's questionnaire (:mod:`triage.questionnaire`) and session
return: the introduction, a numbered question with its choices, what is said
back to a typed line (why a question is asked, going back, a refused
answer), the result (headline, what to do now, when to get help, why),
its techniques one page each or all in a few lines, how it was reached and
which questions were skipped and why. Each ``*_lines`` function returns a list of lines;
:func:`wrap` fits them to the terminal. WHY's rules are worded once, by
:func:`triage.api.why_outline`, which the JSON API shares. The command
(:mod:`triage.cli.ask`) imports this module only when it runs, since it
loads the library.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from ..api import why_outline
from ..kb import Condition, KnowledgeBase, Question
from ..questionnaire import (
    CANNOT_MATTER,
    NOT_APPLICABLE,
    Outcome,
    Reply,
    Skipped,
    WhyAsked,
    choice_name,
    screen_choices,
)
from ..results import Recommendation, TriageResult, split_advice
from ..vocabulary import Disposition

INTRODUCTION = (
    "Lower back pain triage. This is not a diagnosis: when in doubt, see a doctor.",
    ("Answer by number, name or words of a choice; for several, separate them with commas "
     "(1,3 or buttock, knee). The first questions also offer 'None of these' and 'I'm not sure'; "
     "elsewhere press Enter for none or don't know where that is allowed."),
    ("Type ? to have a question explained (?? shows the rules behind it). Commands start with a "
     "colon, so they are never taken for an answer: :back returns to the previous question, "
     ":quit stops (as Ctrl-C does)."),
)


def wrap(text: str, width: int) -> str:
    """``text`` wrapped at word boundaries to ``width`` columns, line by line.

    A wrapped line keeps its indentation and continues under the text of a
    numbered or bulleted item (``3) ...``, ``- ...``, ``1. ...``).
    """
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        item = re.match(r"\s*(?:\d+[.)]\s+|[-*]\s+)?", line)
        indent = " " * (item.end() if item else 0)
        out.extend(textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=True,
                                 break_on_hyphens=False) or [""])
    return "\n".join(out)


def question_lines(question: Question, number: int) -> list[str]:
    """A question as shown: its text, numbered choices and how to answer."""
    lines = ["", f"{number}. {question.text}"]
    for index, choice in enumerate(question.choices, start=1):
        lines.append(f"   {index}) {choice.label} [{choice_name(choice.value)}]")
    for index, choice in enumerate(screen_choices(question), start=len(question.choices) + 1):
        lines.append(f"   {index}) {choice.label} [{choice_name(choice.value)}]")
    if question.answer == "number":
        hint = question.spec.allowed()
        if not question.required:
            hint += "; Enter if you don't know"
        lines.append(f"   ({hint})")
    elif question.answer in ("one", "yes_no") and not question.required:
        lines.append("   (Enter if you don't know)")
    return lines


def reply_lines(reply: Reply, kb: KnowledgeBase, question: Question | None = None) -> list[str]:
    """What is said back to one typed line to ``question``; nothing when an answer was taken.

    ``?`` gets the question explained in plain words and how to answer, in a
    few lines, so the question stays on the screen; ``??`` the rules that
    use the answer. A refused answer is told what to type instead.
    """
    if reply.outcome is Outcome.WHY and reply.why is not None:
        return help_lines(reply.why)
    if reply.outcome is Outcome.RULES and reply.why is not None:
        return why_lines(reply.why, kb)
    if reply.outcome is Outcome.INVALID:
        if question is None:
            return [f"Sorry, {reply.reason} Please answer again (? explains the question)."]
        hint = answer_hint(question)
        if reply.retry is not None:
            return [f"Sorry, {reply.reason}", f"Type yes for {reply.retry}, or answer again. {hint}"]
        return [f"Sorry, {reply.reason}", f"{hint} (? explains the question.)"]
    if reply.outcome is Outcome.WENT_BACK:
        return ["Going back to the previous question."]
    if reply.outcome is Outcome.NOTHING_TO_GO_BACK_TO:
        return ["This is the first question; there is nothing to go back to."]
    return []


def help_lines(why: WhyAsked) -> list[str]:
    """``?``: the question explained in plain words, how to answer it, and where the rules are."""
    return [f"About this question: {why.help}", answer_hint(why.question),
            "(Type ?? to see the rules that use your answer.)"]


def answer_hint(question: Question) -> str:
    """What to type to answer ``question``, in words (no ids): numbers, yes or no, or Enter."""
    count = len(question.choices)
    if question.is_screen:
        extra = len(question.choices)
        return ("Type the numbers of all that apply, separated by commas (for example 1,3); "
                f"{extra + 1} if none of these apply, {extra + 2} if you are not sure.")
    if question.answer == "many":
        hint = "Type the numbers of all that apply, separated by commas (for example 1,3)"
        return hint + (", or press Enter if none apply." if question.may_be_empty else "; at least one is needed.")
    if question.answer == "number":
        hint = f"Type {question.spec.allowed()}"
    elif question.answer == "yes_no":
        hint = "Type yes or no"
    else:
        hint = f"Type the number of one choice (1 to {count})"
    return hint + (", or press Enter if you don't know." if not question.required else ".")


def why_lines(why: WhyAsked, kb: KnowledgeBase) -> list[str]:
    """Why a question is asked: its help, then the rules that could still use the answer, indented."""
    return [f"Why this question: {why.help}",
            *("  " * depth + line for depth, line in why_outline(why.rules, kb))]


def first_sentence(text: str) -> str:
    """A question's text up to its first question mark (the rest is how to answer)."""
    end = text.find("?")
    return text[:end + 1] if end >= 0 else text


#: The first line of the result for each disposition, in plain words.
TITLES = {Disposition.EMERGENCY: "STOP: this needs emergency care.",
          Disposition.URGENT: "RESULT: SEE A DOCTOR TODAY",
          Disposition.SEE_DOCTOR: "RESULT: SEE A DOCTOR", Disposition.SELF_CARE: "RESULT: SELF-CARE"}
#: Dispositions whose headline is framed (and coloured, where the terminal can) to stand out.
STAND_OUT = (Disposition.EMERGENCY, Disposition.URGENT)
#: The frame's width: it fits an 80-column terminal.
FRAME_WIDTH = 72
#: The last line of a result shown without its rule trace.
EXPLAIN_HINT = "Run with --explain to see the rules behind this."


def headline_lines(result: TriageResult, width: int = 0) -> list[str]:
    """The disposition in plain words and the headline; framed for an emergency or urgent result.

    The frame (a rule of ``=`` above and below) keeps the headline obvious
    on a terminal without colour; ``width`` (0 for none) narrows it to fit.
    """
    lines = [TITLES[result.disposition], result.headline]
    if result.disposition not in STAND_OUT:
        return ["", *lines]
    rule = "=" * (min(FRAME_WIDTH, width) if width else FRAME_WIDTH)
    return ["", rule, *lines, rule]


def emergency_lines(result: TriageResult) -> list[str]:
    """What to do now, and why, when an answer means an emergency (after the headline)."""
    lines = ["", "What to do now:"] + [f"  - {a}" for a in result.advice] + ["", "Why:"]
    if result.referral is not None:
        lines += [f"  - {r.text}" for r in result.referral.reasons
                  if r.urgency is Disposition.EMERGENCY]
    return lines


def result_lines(result: TriageResult, kb: KnowledgeBase) -> list[str]:
    """The result after its headline, in the order a person needs it: what to do now, when to
    get help, every reason for a referral and the likely muscle (the techniques come after)."""
    now, later = split_advice(result.advice)
    lines = ["", "What to do now:"] + [f"  - {a}" for a in now]
    if later:
        lines += ["", "When to get help:"] + [f"  - {a}" for a in later]
    if result.referral is not None:
        lines += ["", "Why:"] + [f"  - {r.text} ({r.urgency.value.replace('_', ' ')})"
                                 for r in result.referral.reasons]
    if result.likely_muscles:
        top = result.likely_muscles[0]
        lines += ["", (f"Likely tight muscle: {_muscle(top.muscle)} "
                       f"(confidence {round(top.confidence * 100)}%), because:")]
        lines += [f"  - {kb.rule(rule_id).description}" for rule_id in top.evidence]
        others = [f"{_muscle(m.muscle)} ({round(m.confidence * 100)}%)" for m in result.likely_muscles[1:]]
        if others:
            lines.append(f"Also possible: {', '.join(others)}.")
        if result.referral is not None:
            lines.append("(Reported for the doctor; no self-treatment until they have seen you.)")
    return lines


def technique_page(technique: Recommendation, number: int, total: int) -> list[str]:
    """One technique as a page of its own: the name and hold, numbered steps, each caution."""
    lines = ["", f"Technique {number} of {total}: {technique.name} (hold: {technique.hold})"]
    lines += [f"   {n}. {step}" for n, step in enumerate(technique.steps, start=1)]
    return lines + [f"   Caution: {caution}" for caution in technique.cautions]


def techniques_lines(recommendations: tuple[Recommendation, ...]) -> list[str]:
    """Every technique in a few lines each (for a pipe or a file): name, steps, cautions."""
    if not recommendations:
        return []
    lines = ["", "Techniques to try, in this order:"]
    for n, technique in enumerate(recommendations, start=1):
        lines.append(f"{n}. {technique.name} (hold: {technique.hold})")
        lines.append("   Steps: " + " ".join(f"{step_n}) {step}"
                                             for step_n, step in enumerate(technique.steps, start=1)))
        if technique.cautions:
            lines.append("   Caution: " + " ".join(technique.cautions))
    return lines


def _muscle(name: str | None) -> str:
    return (name or "").replace("_", " ")


def how_lines(result: TriageResult, kb: KnowledgeBase) -> list[str]:
    """How the result was reached: each rule that fired, from answers to conclusion."""
    lines = ["", "How this was reached:"]
    for firing in result.fired_rules:
        rule = kb.rule(firing.rule)
        facts = "; ".join(f"{k}: {_shown(v)}" for k, v in firing.facts.items())
        lines.append(f"  {firing.order}. {rule.description}")
        lines.append(f"     from {facts} -> {', '.join(firing.asserted) or 'nothing new'}  [{rule.id}]")
    lines.append(f"  => {result.disposition.value}: {result.headline}")
    return lines


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def skipped_lines(skipped: tuple[Skipped, ...], questions: tuple[Question, ...] = ()) -> list[str]:
    """How many questions were skipped and why, grouped by reason, in plain words.

    ``questions`` (the questionnaire's) lets a question that did not apply
    say which earlier answer it depends on, with that answer's labels.
    """
    if not skipped:
        return ["", "No question was skipped."]
    noun = "question was" if len(skipped) == 1 else "questions were"
    lines = ["", f"{len(skipped)} {noun} skipped:"]
    for reason in (CANNOT_MATTER, NOT_APPLICABLE):
        group = [s for s in skipped if s.reason == reason]
        if group:
            lines.append(f"  {len(group)} {reason}:")
            lines += [f"    - {s.question.text} ({_skip_words(s, questions)})" for s in group]
    return lines


def _skip_words(skipped: Skipped, questions: tuple[Question, ...]) -> str:
    question = skipped.question
    if skipped.reason != NOT_APPLICABLE or not (question.when or question.when_any):
        return skipped.detail
    parts = [_when_words(c, questions) for c in question.when]
    groups = [" and ".join(_when_words(c, questions) for c in group) for group in question.when_any]
    if len(groups) > 1:
        parts.append("one of these: " + "; ".join(groups))
    else:
        parts += groups
    return "only needed if " + " and ".join(parts)


#: A test on an earlier answer, in words; {v} is the values (labels) tested.
_WHEN_WORDS = {
    "has": "included {v}", "has_any": "included {v}", "has_all": "included all of {v}",
    "has_none": "included none of {v}", "is": "was {v}", "is_any": "was {v}",
    "at_least": "was at least {v}", "above": "was above {v}", "below": "was below {v}",
    "at_most": "was at most {v}",
}


def _when_words(condition: Condition, questions: tuple[Question, ...]) -> str:
    """A question's ``when`` test as plain words about the earlier question and its labels."""
    asking = [q for q in questions if q.field == condition.subject]
    # The question that offers the values tested (night pain is a warning sign, not an emergency one).
    offering = [q for q in asking if any(c.value in condition.values() for c in q.choices)] or asking
    about = (f"your answer to {first_sentence(offering[0].text)!r}" if offering
             else condition.subject.replace("_", " "))
    if condition.operator == "unknown":
        return f"{about} was {'left out' if condition.operand else 'given'}"
    labels = {c.value: c.label for q in asking for c in q.choices}
    shown = [_lower_first(labels.get(v, _shown(v))) for v in condition.values()]
    conjunction = "and" if condition.operator in ("has_all", "has_none") else "or"
    joined = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" {conjunction} {shown[-1]}"
    return f"{about} {_WHEN_WORDS[condition.operator].format(v=joined)}"


def _lower_first(label: str) -> str:
    """A label inside a sentence: "The knee" -> "the knee" (an acronym such as DVT is kept)."""
    first = label.split()[0] if label.split() else ""
    return label if len(first) > 1 and first.isupper() else label[:1].lower() + label[1:]
