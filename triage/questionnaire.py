"""The interactive questionnaire of ``triage ask``, as a library that never prints.

:class:`Questionnaire` is a state machine over the questions of the knowledge
base: ``current`` is the question to ask, ``respond`` takes one line a person
typed (an answer, ``?``/``:why`` or ``:back``). :func:`parse_answer` turns
typed text into an answer. Putting questions and results into words for a
terminal is the command line's (:mod:`triage.cli.ask_words`); reading lines
from one is :func:`triage.cli.ask.converse`.

Which questions to ask is decided by the engine itself: before asking, the
session is run on the answers so far with each possible answer to the
question, under a sample of answers still to come. If no answer changes the
disposition or the ranking of likely muscles in any of them, the question is
skipped (see :meth:`Questionnaire.can_matter`).
"""

from __future__ import annotations

import copy
import enum
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .case import Case, blank_answers, case_dict, parse_case
from .conclusions import Refer, Sign
from .kb import Choice, KnowledgeBase, KnowledgeRule, Question
from .results import TriageResult
from .session import TriageSession
from .vocabulary import Disposition, did_you_mean, with_allowed

# Navigation words start with a colon, so no answer can be taken for one
# ("back" is also a place that hurts).
WHY_WORDS = ("?", ":why")
#: The rule view of why a question is asked (for clinicians and rule authors).
RULES_WORDS = ("??", ":rules")
BACK_WORDS = (":back",)
#: What takes the did-you-mean of the answer just refused.
TAKE_SUGGESTION_WORDS = ("yes", "y")
#: What a person may type meaning a navigation word; answered with a hint when no choice fits.
_NAVIGATION_HINTS = {
    "back": "To go back to the previous question type :back.",
    "why": "To see why this question is asked type :why.",
    "quit": "To stop type :quit.", "exit": "To stop type :quit.", "stop": "To stop type :quit.",
}
NONE_WORDS = ("none", "no")
#: A screen's two answers besides its choices (policy v3, principle 7): "None of
#: these" screens it (nothing found); "not sure" leaves it not screened, which refers.
NONE_OF_THESE = Choice("none", "None of these")
NOT_SURE = Choice("not_sure", "I'm not sure")
NONE_OF_THESE_WORDS = ("none", "no", "none_of_these", "nothing")
NOT_SURE_WORDS = ("not_sure", "unsure", "dont_know", "do_not_know", "unknown", "i_m_not_sure", "im_not_sure")
#: Told when a screen gets an empty answer: it is asked again, never read as none.
SCREEN_NEEDS_AN_ANSWER = ("this question needs an answer: choose what applies, "
                          f"or {NONE_OF_THESE.label!r}, or {NOT_SURE.label!r}.")

#: Skip reasons, as reported at the end.
NOT_APPLICABLE = "did not apply to your answers"
CANNOT_MATTER = "could no longer change the result"

#: An answer as the state machine keeps it: a set for lists, else the value.
Answer = Any
#: What the engine's result is judged by when deciding whether to ask.
Signature = tuple[Disposition, tuple[str, ...]]


class InvalidAnswer(ValueError):
    """A typed answer that does not fit the question; the message says why.

    ``retry`` is the line with a typo replaced by its did-you-mean, when
    there is one: what typing ``yes`` next then answers.
    """

    def __init__(self, message: str, retry: str | None = None) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Skipped:
    """A question that was not asked, and why."""

    question: Question
    reason: str
    detail: str


class Outcome(enum.Enum):
    """What one typed line did to the questionnaire (the ``outcome`` of a :class:`Reply`)."""

    #: The answer was taken; ``current`` is the next question, or none when finished.
    ANSWERED = "answered"
    #: ``:back``: the previous answer is forgotten and its question is current again.
    WENT_BACK = "went_back"
    #: ``:back`` at the first question: nothing changed.
    NOTHING_TO_GO_BACK_TO = "nothing_to_go_back_to"
    #: ``?``/``:why``: the reply's ``why`` says why the current question is asked.
    WHY = "why"
    #: ``??``/``:rules``: as WHY, for the view of the rules that use the answer.
    RULES = "rules"
    #: The answer does not fit the question; the reply's ``reason`` says why.
    INVALID = "invalid"


@dataclass(frozen=True)
class WhyAsked:
    """Why a question is asked: its help, and the rules that use its answer and could still apply."""

    question: Question
    rules: tuple[KnowledgeRule, ...]

    @property
    def help(self) -> str:
        """The question's own explanation (``help`` in rules/questions.yaml)."""
        return self.question.help


@dataclass(frozen=True)
class Reply:
    """What one typed line did, as data; putting it into words is the caller's."""

    outcome: Outcome
    #: With :attr:`Outcome.WHY`: why the question is asked.
    why: WhyAsked | None = None
    #: With :attr:`Outcome.INVALID`: why the answer does not fit (the :class:`InvalidAnswer` message).
    reason: str | None = None
    #: With :attr:`Outcome.INVALID`: the answer ``yes`` now gives (the typo corrected), if any.
    retry: str | None = None

    @property
    def accepted(self) -> bool:
        """True when the line moved the questionnaire: an answer taken, or back to the previous one."""
        return self.outcome in (Outcome.ANSWERED, Outcome.WENT_BACK)


class Questionnaire:
    """Ask the questions of ``session``'s knowledge base, only as many as matter."""

    def __init__(self, session: TriageSession, case_id: str = "ask") -> None:
        if not session.kb.questions:
            raise ValueError(f"the knowledge base in {session.kb.directory} has no questions")
        self.session = session
        self.kb: KnowledgeBase = session.kb
        self.case_id = case_id
        self.questions: tuple[Question, ...] = session.kb.questions
        self.answers: dict[str, Answer] = {}
        self.asked: list[str] = []
        self.skipped: tuple[Skipped, ...] = ()
        self.current: Question | None = None
        self.emergency = False
        self._signatures: dict[tuple[Any, ...], Signature] = {}
        self._decisions: dict[tuple[str, tuple[Any, ...]], bool] = {}
        self._retry: str | None = None
        self._advance()

    def fork(self, session: TriageSession | None = None) -> Questionnaire:
        """A copy at the same step that moves on its own, on ``session``'s engine (default: this one's).

        What a step decided (answers, asked, skipped, current, emergency) is
        copied, not recomputed: continuing a fork costs one step's work
        whatever came before, which is how :meth:`triage.api.TriageKB.questionnaire`
        resumes a path it has seen. The engine-result memos start empty (they
        only save work within a step) so a kept state stays small.
        """
        twin = copy.copy(self)
        twin.session = session if session is not None else self.session
        twin.answers = dict(self.answers)
        twin.asked = list(self.asked)
        twin._signatures = {}
        twin._decisions = {}
        return twin

    # -- state ----------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """True when there is nothing more to ask (or an emergency stopped it)."""
        return self.current is None

    @property
    def position(self) -> int:
        """The number of the current question among those asked (1-based)."""
        return len(self.asked) + 1

    def respond(self, text: str) -> Reply:
        """Take one typed line: an answer, ``?``/``:why`` or ``:back``; say what it did."""
        if self.current is None:
            raise RuntimeError("the questionnaire has finished")
        word = text.strip().lower()
        retry, self._retry = self._retry, None
        if retry is not None and word in TAKE_SUGGESTION_WORDS:
            text = retry  # "did you mean 'fever'?" - "yes"
        if word in WHY_WORDS or word in RULES_WORDS:
            rules = rules_using_answer(self.current, self.kb, self.value_of)
            self._retry = retry  # asking why keeps the suggestion open
            outcome = Outcome.WHY if word in WHY_WORDS else Outcome.RULES
            return Reply(outcome, why=WhyAsked(self.current, tuple(rules)))
        if word in BACK_WORDS:
            if not self.asked:
                return Reply(Outcome.NOTHING_TO_GO_BACK_TO)
            del self.answers[self.asked.pop()]
            self._advance()
            return Reply(Outcome.WENT_BACK)
        try:
            answer = parse_answer(self.current, text)
        except InvalidAnswer as exc:
            # A yes/no question's own "yes" must never mean "take the suggestion".
            self._retry = exc.retry if self.current.answer != "yes_no" else None
            return Reply(Outcome.INVALID, reason=str(exc), retry=self._retry)
        self.answers[self.current.id] = answer
        self.asked.append(self.current.id)
        self._advance()
        return Reply(Outcome.ANSWERED)

    def value_of(self, field: str) -> Any:
        """A field's value from the answers so far (a set for lists, else a value or None)."""
        return _field_value(field, self.questions, self.answers)

    def case(self) -> Case:
        """The answers as a validated case (only once finished without an emergency)."""
        return parse_case(self.case_dict(), self.case_id, self.kb.vocabulary)

    def case_dict(self) -> dict[str, Any]:
        """The answers so far in the contract's shape (what ``--save`` writes)."""
        answered = {q.field for q in self.questions if q.id in self.answers}
        return case_dict(self.case_id, {name: self.value_of(name) for name in answered},
                         self.kb.vocabulary)

    def unanswered(self) -> list[Question]:
        """Questions neither answered nor skipped (the rest, when the input stops)."""
        skipped = {s.question.id for s in self.skipped}
        return [q for q in self.questions if q.id not in self.answers and q.id not in skipped]

    def result(self) -> TriageResult:
        """The engine's result for the answers: the final one once finished."""
        if self.finished and not self.emergency:
            return self.session.triage(self.case())
        return self.session.triage(self._case(self.answers))

    # -- deciding what to ask ---------------------------------------------------
    def _advance(self) -> None:
        """Find the next question to ask, recording the ones skipped on the way."""
        skipped: list[Skipped] = []
        self.current = None
        self.emergency = self._signature(self.answers)[0] is Disposition.EMERGENCY
        if not self.emergency:
            for question in self.questions:
                if question.id in self.answers:
                    continue
                if not question.applies(self.value_of):
                    tests = "; ".join(c.describe() for c in question.when)
                    skipped.append(Skipped(question, NOT_APPLICABLE, f"only asked if {tests}"))
                    continue
                if not question.required and not self.can_matter(question):
                    skipped.append(Skipped(question, CANNOT_MATTER,
                                           "no answer would change the outcome or the likely muscle"))
                    continue
                self.current = question
                break
        self.skipped = tuple(skipped)

    def can_matter(self, question: Question) -> bool:
        """Whether some answer to ``question`` could still change the result.

        The engine is run on the answers so far plus each candidate answer
        (see :func:`candidate_answers`), first with nothing more answered,
        then with each candidate answer to each later question, then with
        each pair of later answers that would each make a muscle likely (two
        likely muscles are what a supporting sign can reorder). The question
        matters if, under any of these, two of its answers give a different
        disposition or ranking of likely muscles.
        """
        key = (question.id, _freeze(self.answers))
        if key not in self._decisions:
            self._decisions[key] = self._silence_refers(question) or (
                self._may_matter(question) and self.search_says_it_matters(question))
        return self._decisions[key]

    def _silence_refers(self, question: Question) -> bool:
        """Whether leaving ``question`` unanswered would itself refer more urgently than the
        answers so far already do (policy v3, principle 8: age, severity and duration).

        Self-care then needs several later answers at once (the muscle sign and
        the other facts), more than the engine search of :meth:`can_matter`
        samples, so such a question is asked rather than left to refer by silence.
        """
        floor, possible, _, _ = self._pinned(question)
        return any(isinstance(rule.conclusion, Refer) and rule.conclusion.urgency.urgency > floor
                   and any(c.subject == question.field and c.operator == "unknown" and c.operand
                           for c in rule.conditions)
                   for rule in possible)

    def search_says_it_matters(self, question: Question) -> bool:
        """The engine search of :meth:`can_matter`, without the cheap check first."""
        return any(len({self._signature({**future, **answer}) for answer in
                        self._with_candidates(question, future)}) > 1
                   for future in self._futures(question))

    def _may_matter(self, question: Question) -> bool:
        """A cheap test before the search: could any rule that ``question`` reaches change the result?

        Only rules still possible count: those whose tests of the answers
        already given (which cannot change) hold. Referrals whose rules depend
        only on given answers hold whatever comes next, so the disposition
        can be no lower than the most urgent of them; the question can then
        matter only through a possible rule it reaches (testing its field,
        directly or through the engine's conclusions) that adds a muscle sign
        or refers more urgently. False means it cannot matter; True means the
        engine must be asked (see :meth:`can_matter`).
        """
        floor, possible, depends_on, open_fields = self._pinned(question)

        def could_change_result(rule: KnowledgeRule) -> bool:
            if floor < 0 or isinstance(rule.conclusion, Sign):
                return True
            return isinstance(rule.conclusion, Refer) and rule.conclusion.urgency.urgency > floor

        return any(question.field in depends_on[rule.id] and could_change_result(rule)
                   for rule in possible)

    def _pinned(self, question: Question) -> tuple[int, list[KnowledgeRule], dict[str, frozenset[str]],
                                                  frozenset[str]]:
        """What no later answer can change, before ``question``: the urgency of the referrals
        resting only on answers given (-1 if none), the rules still possible, what each
        depends on, and the fields still open."""
        later = [q for q in self.questions[self.questions.index(question):] if q.id not in self.answers]

        def may_be_asked(q: Question) -> bool:
            # A `when` test of a field no other open question asks cannot come true later.
            return all(c.holds(self.value_of(c.subject)) for c in q.when
                       if not any(o.field == c.subject for o in later if o is not q))

        open_fields = frozenset(q.field for q in later if q is question or may_be_asked(q))
        possible = [rule for rule in self.kb.rules
                    if all(c.holds(self.value_of(c.subject)) for c in rule.conditions
                           if c.on_case and c.subject not in open_fields)]
        depends_on = rule_dependencies(possible)
        result = self.session.triage(self._case(self.answers))
        pinned = [r.urgency.urgency for r in (result.referral.reasons if result.referral else ())
                  if r.rule in depends_on and not depends_on[r.rule] & open_fields]
        return max(pinned, default=-1), possible, depends_on, open_fields

    def _with_candidates(self, question: Question, future: dict[str, Answer]) -> Iterator[dict[str, Answer]]:
        for candidate in candidate_answers(question, self.kb):
            answers = {**self.answers, **future}
            if candidate is not None:
                answers[question.id] = candidate
            yield answers

    def _futures(self, question: Question) -> Iterator[dict[str, Answer]]:
        yield {}
        later = [q for q in self.questions[self.questions.index(question) + 1:] if q.id not in self.answers]
        singles = [{q.id: answer} for q in later for answer in candidate_answers(q, self.kb)
                   if answer is not None]
        yield from singles
        likely_now = set(self._signature(self.answers)[1])
        strong = [s for s in singles
                  if set(self._signature({**self.answers, **s})[1]) - likely_now]
        for i, first in enumerate(strong):
            for second in strong[i + 1:]:
                if set(first).isdisjoint(second):
                    yield {**first, **second}

    def _signature(self, answers: dict[str, Answer]) -> Signature:
        key = _freeze(answers)
        if key not in self._signatures:
            result = self.session.triage(self._case(answers))
            self._signatures[key] = (result.disposition,
                                     tuple(m.muscle for m in result.likely_muscles))
        return self._signatures[key]

    def _case(self, answers: dict[str, Answer]) -> Case:
        """Answers as a case for the engine, without validation (may lack pain sites)."""
        values = blank_answers(self.kb.vocabulary)
        values.update({q.field: _field_value(q.field, self.questions, answers) for q in self.questions})
        return Case(self.case_id, values, self.kb.vocabulary)


def _field_value(field: str, questions: tuple[Question, ...], answers: dict[str, Answer]) -> Any:
    """A field's value: the union of its list answers, or its first answer that was given.

    A screen is "none found" only once every question of it was answered
    "None of these"; until then, or with "not sure" (``None``), it is not
    screened (``None``), unless a finding was ticked, which counts as it is.
    """
    asking = [q for q in questions if q.field == field]
    given = [answers[q.id] for q in asking if q.id in answers]
    if asking and asking[0].spec.is_screen:
        found = frozenset().union(*(g for g in given if g is not None))
        complete = len(given) == len(asking) and all(g is not None for g in given)
        return found if found or complete else None
    if asking and asking[0].spec.is_list:
        return frozenset().union(*given) if given else frozenset()
    return next((g for g in given if g is not None), None)


def screen_choices(question: Question) -> tuple[Choice, ...]:
    """What a question offers after its own choices: "None of these" and "I'm not sure"
    for a screen (numbered on from its choices at the terminal), nothing otherwise."""
    return (NONE_OF_THESE, NOT_SURE) if question.is_screen else ()


def rule_dependencies(rules: Iterable[KnowledgeRule]) -> dict[str, frozenset[str]]:
    """For each rule, every case field whose answer can decide whether it fires.

    A rule depends on the fields it tests, and, through the engine's
    conclusions it tests, on the fields of every rule that can draw them: the
    rules deriving a fact, all sign rules for ``likely_muscles``, all
    referral rules for ``referred``.
    """
    rules = list(rules)
    producers: dict[str, list[KnowledgeRule]] = {}
    for rule in rules:
        key = rule.conclusion.dependency_key()
        if key is not None:
            producers.setdefault(key, []).append(rule)
    found: dict[str, frozenset[str]] = {}

    def fields_of(rule: KnowledgeRule, visiting: frozenset[str]) -> frozenset[str]:
        if rule.id in found:
            return found[rule.id]
        fields: set[str] = set()
        for condition in rule.conditions:
            if condition.on_case:
                fields.add(condition.subject)
                continue
            keys = ([f"derived:{v}" for v in condition.values()] if condition.subject == "derived"
                    else [condition.subject])
            for key in keys:
                for producer in producers.get(key, []):
                    if producer.id not in visiting:
                        fields |= fields_of(producer, visiting | {rule.id})
        result = frozenset(fields)
        if not visiting:
            found[rule.id] = result
        return result

    for rule in rules:
        found[rule.id] = fields_of(rule, frozenset())
    return found


def _freeze(answers: dict[str, Answer]) -> tuple[Any, ...]:
    return tuple(sorted((k, v) for k, v in answers.items()))


def candidate_answers(question: Question, kb: KnowledgeBase) -> list[Answer]:
    """A sample of the answers ``question`` can get, ``None`` (no answer) first.

    Lists: each value alone, then all together (rules may need two values,
    e.g. locked up *and* spasm). Numbers: each threshold the rules test on the
    field, one either side of it, and the extremes. Others: every value.
    """
    if question.answer == "many":
        values = [c.value for c in question.choices]
        together = [frozenset(values)] if len(values) > 1 else []
        return [None, *(frozenset({v}) for v in values), *together]
    if question.answer == "number":
        spec = question.spec
        low = spec.minimum or 0
        thresholds = {c.operand for r in kb.rules for c in r.conditions
                      if c.subject == question.field and isinstance(c.operand, int)
                      and not isinstance(c.operand, bool)}
        high = spec.maximum if spec.maximum is not None else max(thresholds, default=low) + 1
        numbers = {n for t in thresholds for n in (t - 1, t, t + 1)} | {low, high}
        return [None, *sorted(n for n in numbers if low <= n <= high)]
    return [None, *(c.value for c in question.choices)]


# -- answering ------------------------------------------------------------------
def parse_answer(question: Question, text: str) -> Answer:
    """Turn what a person typed into an answer, or raise :class:`InvalidAnswer`.

    A choice is taken by its number, its value (``back_of_thigh``, spaces or
    hyphens for underscores, any capitals), its visible label, or a start or
    word of either that fits one choice only; an answer that fits several is
    refused with the candidates, never guessed. Lists take several separated
    by commas. An empty line is "none" or "don't know" where the question
    allows it.
    """
    if any(ord(char) < 32 or ord(char) == 127 for char in text.strip("\r\n")):
        raise InvalidAnswer("the answer contains control characters (arrow or function keys?); "
                            "type the answer as plain text.")
    text = text.strip()
    if question.answer == "many":
        return _parse_many(question, text)
    if not text:
        if question.required:
            raise InvalidAnswer("this question needs an answer.")
        return None
    if question.answer == "number":
        return _parse_number(question, text)
    return _pick(question, text)


def _parse_many(question: Question, text: str) -> frozenset[str] | None:
    if question.is_screen:
        return _parse_screen(question, text)
    if not text or text.lower() in NONE_WORDS:
        if not question.may_be_empty:
            raise InvalidAnswer("please choose at least one; this question cannot be left empty.")
        return frozenset()
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    if any(not p for p in parts):
        raise InvalidAnswer(f"{text!r} has an empty item; separate choices with commas, e.g. 1,3.")
    picked = []
    for index, part in enumerate(parts):
        try:
            picked.append(_pick(question, part))
        except InvalidAnswer as exc:
            retry = None if exc.retry is None else ", ".join([*parts[:index], exc.retry, *parts[index + 1:]])
            raise InvalidAnswer(str(exc), retry) from None
    return frozenset(picked)


def _parse_screen(question: Question, text: str) -> frozenset[str] | None:
    """A screen's answer: its findings, "None of these" (an empty set) or "not sure" (``None``).

    An empty line is refused, never read as none (policy v3, principle 7).
    """
    if not text:
        raise InvalidAnswer(SCREEN_NEEDS_AN_ANSWER)
    extra = len(question.choices)
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    if any(not p for p in parts):
        raise InvalidAnswer(f"{text!r} has an empty item; separate choices with commas, e.g. 1,3.")
    picked: set[str] = set()
    alone = []
    for part in parts:
        word = "_".join(_words(part.replace("'", "")))
        if word in NONE_OF_THESE_WORDS or part == str(extra + 1):
            alone.append(NONE_OF_THESE)
        elif word in NOT_SURE_WORDS or part == str(extra + 2):
            alone.append(NOT_SURE)
        else:
            picked.add(str(_pick(question, part)))
    if alone and (picked or len(alone) > 1):
        raise InvalidAnswer(f"{NONE_OF_THESE.label!r} and {NOT_SURE.label!r} each go alone; "
                            "choose them, or the signs that apply.")
    if alone:
        return frozenset() if alone[0] is NONE_OF_THESE else None
    return frozenset(picked)


def _parse_number(question: Question, text: str) -> int:
    spec = question.spec
    try:
        number = int(text)
    except ValueError:
        raise InvalidAnswer(f"{text!r} is not a whole number; {spec.allowed()} is needed.") from None
    if (spec.minimum is not None and number < spec.minimum) or (
            spec.maximum is not None and number > spec.maximum):
        raise InvalidAnswer(f"{number} is out of range; {spec.allowed()} is needed.")
    return number


def _words(text: str) -> list[str]:
    """The words of a value or label, lower-case; underscores and hyphens separate words."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("_", " "))


def _fits(typed: list[str], words: list[str]) -> bool:
    """True when the typed words start consecutive words of ``words`` (``back of th`` fits)."""
    return any(all(words[i + j].startswith(t) for j, t in enumerate(typed))
               for i in range(len(words) - len(typed) + 1))


def _pick(question: Question, text: str) -> str | bool:
    """One choice by number, value, label, or a start or word of either that fits one only.

    Exact values and labels first, then starts of the words of the values,
    then of the labels; when more than one choice fits at that step the
    answer is refused with the candidates.
    """
    choices = question.choices
    if text.isdigit():
        index = int(text)
        if 1 <= index <= len(choices):
            return choices[index - 1].value
        raise InvalidAnswer(f"{text} is not one of the numbers 1 to {len(choices)}.")
    typed = _words(text)
    exact = [c for c in choices if typed in (_words(choice_name(c.value)), _words(c.label))]
    if len(exact) == 1:
        return exact[0].value
    # The names in brackets come before the labels: "lower" is lower_back,
    # though the label of flank says "the lower ribs"; "back" fits two names.
    fitting = exact or [c for c in choices if typed and _fits(typed, _words(choice_name(c.value)))] or [
        c for c in choices if typed and _fits(typed, _words(c.label))]
    if len(fitting) == 1:
        return fitting[0].value
    if fitting:
        shown = "; ".join(f"{choices.index(c) + 1}) {c.label} [{choice_name(c.value)}]" for c in fitting)
        raise InvalidAnswer(f"{text!r} could be any of: {shown}. Type more of the one you mean, "
                            "or its number.")
    hint = _suggestion(question, text)
    # The choices are on the screen with their numbers: the refusal names no ids, only a did-you-mean.
    suggestion = choice_name(hint.value) if hint else None
    raise InvalidAnswer(with_allowed(f"{text!r} is not one of the choices", None, suggestion,
                                     _NAVIGATION_HINTS.get(text.lower(), "")), suggestion)


def _suggestion(question: Question, text: str) -> Choice | None:
    """The choice a typo was probably meant for, by the batch mode's did-you-mean.

    Compared with each choice's value and with the words of its value and
    label that belong to that choice alone.
    """
    spellings: dict[str, Choice | None] = {}
    for choice in question.choices:
        for word in {choice_name(choice.value), *_words(choice_name(choice.value)), *_words(choice.label)}:
            spellings[word] = None if spellings.get(word, choice) is not choice else choice
    unique = [word for word, choice in spellings.items() if choice is not None and len(word) > 2]
    near = did_you_mean("_".join(_words(text)), unique)
    return spellings[near] if near is not None else None


def choice_name(value: str | bool) -> str:
    """How a choice is typed: its case value, or yes/no for true/false."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


# -- why a question is asked -----------------------------------------------------
def rules_using_answer(question: Question, kb: KnowledgeBase,
                       value_of: Callable[[str], Any]) -> list[KnowledgeRule]:
    """The rules that use ``question``'s answer and could still apply: why it is asked.

    A rule uses the answer when its field is among the rule's dependencies
    (:func:`rule_dependencies`, the walk the skip logic uses: the fields it
    tests, and through every conclusion it tests, those of every rule that
    can draw it, however long the chain). The rules that test the field come
    first, then those reached through conclusions, each in the knowledge
    base's order. Rules that an answer already given to another field rules
    out (``value_of`` gives the answers so far) are left out.
    """
    return [rule for rule in _rules_using(question.field, kb)
            if _still_possible(rule, question.field, value_of)]


def _rules_using(field: str, kb: KnowledgeBase) -> list[KnowledgeRule]:
    """The rules whose dependencies include ``field``: those testing it first, then the rest."""
    depends_on = rule_dependencies(kb.rules)
    using = [r for r in kb.rules if field in depends_on[r.id]]
    direct = [r for r in using if any(c.subject == field for c in r.conditions)]
    return direct + [r for r in using if r not in direct]


def _still_possible(rule: KnowledgeRule, field: str, value_of: Callable[[str], Any]) -> bool:
    """False when an answer already given to another field rules ``rule`` out."""
    for condition in rule.conditions:
        if not condition.on_case or condition.subject == field:
            continue
        value = value_of(condition.subject)
        unanswered = value is None or value == frozenset()
        if not unanswered and not condition.holds(value):
            return False
    return True


__all__ = [
    "BACK_WORDS", "CANNOT_MATTER", "NONE_OF_THESE", "NOT_APPLICABLE", "NOT_SURE", "RULES_WORDS",
    "TAKE_SUGGESTION_WORDS", "WHY_WORDS", "InvalidAnswer", "Outcome", "Questionnaire", "Reply", "Skipped",
    "WhyAsked", "candidate_answers", "choice_name", "parse_answer", "rule_dependencies", "rules_using_answer",
    "screen_choices",
]
