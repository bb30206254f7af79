"""The Python API: triage from a notebook or another program, in plain dicts.

``kb = triage.load()`` loads the knowledge base once; then

* ``kb.triage(case)`` -> the contract's result (raises :class:`~triage.errors.CaseError`);
* ``kb.triage_many(cases)`` -> results streamed in input order, error records in place
  (a list of dicts, any iterable, or a pandas DataFrame);
* ``kb.triage_file(path)`` / ``kb.read_cases(path)`` -> a case file's results / cases;
* ``kb.next_question(answers)`` -> ``{"question": ...}`` or ``{"result": ...}``: the
  questionnaire of ``triage ask``, driven by its own state machine
  (:class:`~triage.questionnaire.Questionnaire`), never a copy of its logic;
* ``kb.questions()``, ``kb.audit(case)``, ``kb.knowledge_base()``.

Everything goes in and comes out as JSON-ready data (dicts, lists, strings,
numbers), so the web server (``triage serve``) is a thin layer over this
module. A :class:`TriageKB` may be shared between threads: each thread gets
its own engine (experta's engine is not thread-safe), all on one loaded
knowledge base.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .audit import CaseAudit, audit_record
from .case import Case, marked_unfinished, parse_case
from .casefiles import CaseIds, read_cases
from .errors import CaseError, CaseFileWarning, InputWarning, Location
from .fileformats import INPUT_FORMATS
from .kb import KnowledgeBase, KnowledgeRule, Question, load_knowledge_base
from .questionnaire import NONE_OF_THESE, NOT_SURE, InvalidAnswer, Questionnaire, parse_answer, rules_using_answer
from .results import ErrorRecord, Outcome
from .session import TriageSession
from .vocabulary import NOT_SCREENED_WORDS, with_allowed

#: The case id given to a questionnaire's answers (as ``triage ask`` does).
QUESTIONNAIRE_ID = "ask"


#: Questionnaire states kept by default (about 8 kB each, 16 MB in all): a step of each of about
#: 140 people on a 14-question path.
STEP_CACHE_SIZE = 2048
#: A questionnaire path: (question id, answer as typed) in the order asked.
AnswerPath = tuple[tuple[str, str], ...]


class StepCache:
    """Questionnaire states by case id and path, least recently used dropped first; thread-safe.

    A kept state is never changed (it is forked before it moves on), so
    several threads may resume it at once.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._states: OrderedDict[tuple[str, AnswerPath], Questionnaire] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, AnswerPath]) -> Questionnaire | None:
        """The state kept at ``key``, if any (it becomes the most recently used)."""
        with self._lock:
            state = self._states.get(key)
            if state is not None:
                self._states.move_to_end(key)
            return state

    def put(self, key: tuple[str, AnswerPath], state: Questionnaire) -> None:
        """Keep ``state`` at ``key``, dropping the least recently used beyond :attr:`size`."""
        if self.size < 1:
            return
        with self._lock:
            self._states[key] = state
            self._states.move_to_end(key)
            while len(self._states) > self.size:
                self._states.popitem(last=False)


class TriageKB:
    """One loaded knowledge base, ready to triage, question and audit."""

    def __init__(self, kb: KnowledgeBase, step_cache: int = STEP_CACHE_SIZE) -> None:
        """``step_cache``: how many questionnaire states to keep for resuming paths (0: none)."""
        self.kb = kb
        self._local = threading.local()
        self._steps = StepCache(step_cache)

    @property
    def version(self) -> str:
        """The knowledge base's version hash (``kb_version`` in every result)."""
        return self.kb.version

    @property
    def session(self) -> TriageSession:
        """This thread's engine session on the knowledge base (built on first use)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = TriageSession(self.kb)
        return session

    # -- triage -------------------------------------------------------------------
    def parse(self, case: object, default_id: str = "case#1", *, from_text: bool = False) -> Case:
        """Validate a case mapping; raises :class:`CaseError` (field, value, allowed).

        A float NaN (or pandas' ``NA``) counts as a missing answer: it is how
        pandas marks an empty cell, and no field ever takes NaN as a value.
        NumPy numbers and booleans count as Python's, tuples and arrays as lists.
        ``from_text`` reads the cells as a CSV file's (``"lower_back;buttock"``,
        ``"none"``, ``"yes"``): what a table read by ``pandas.read_csv`` holds.
        """
        if isinstance(case, Mapping):
            case = {k: plain_value(v) for k, v in case.items() if not is_missing(v)}
        return parse_case(case, default_id, self.kb.vocabulary, from_text=from_text)

    def triage(self, case: object, default_id: str = "case#1") -> dict[str, Any]:
        """Triage one case (a mapping in the contract's shape) and return the result dict.

        Invalid input raises :class:`~triage.errors.CaseError`: ``exc.location.field``
        names the field, ``exc.value`` the bad value, ``exc.allowed`` what is allowed.
        A case whose valid fields refer urgently (or whose only problem is a screen
        left out) is returned instead, its result carrying the problems in
        ``errors`` (policy v3, principle 9: an emergency is never lost to a typo).
        """
        outcome = self.outcome(case, default_id)
        if isinstance(outcome, ErrorRecord):
            raise outcome.error
        return outcome.to_dict()

    def outcome(self, case: object, default_id: str = "case#1", *, from_text: bool = False) -> Outcome:
        """The outcome of one case: its result (with ``errors`` if it was triaged on the
        fields that parsed), or its :class:`~triage.results.ErrorRecord`."""
        try:
            parsed = self.parse(case, default_id, from_text=from_text)
        except CaseError as exc:
            return self.session.triage_invalid(ErrorRecord(exc.location.case or default_id, exc))
        return self.session.triage(parsed)

    def triage_many(self, cases: Iterable[object] | Any, first: int = 1) -> Iterator[dict[str, Any]]:
        """Triage ``cases`` lazily, in input order; an invalid case yields its error record.

        ``cases`` is an iterable of case mappings, or a pandas DataFrame whose
        rows are cases (its cells read as a CSV file's, so ``pd.read_csv``'s
        frame works as it is; NaN is unanswered). Cases without an id are
        called ``case#n``, n counting from ``first``. A string or a single
        mapping is refused at once with a :class:`TypeError` saying what to
        call instead (iterating them would triage their characters or keys).
        """
        rows, from_text = _case_rows(cases)
        return self._triage_rows(rows, first, from_text)

    def _triage_rows(self, cases: Iterable[object], first: int, from_text: bool) -> Iterator[dict[str, Any]]:
        for n, raw in enumerate(cases, start=first):
            yield self.outcome(raw, f"case#{n}", from_text=from_text).to_dict()

    def read_cases(self, path: Path | str, input_format: str = "auto", *,
                   on_warning: Callable[[InputWarning], None] | None = None) -> Iterator[dict[str, Any]]:
        """The cases of a case file (YAML, JSON, JSON Lines or CSV, as ``triage run`` reads them).

        Yields each valid case in the contract's shape and an error record
        (``{"id": ..., "error": {...}}``) for each invalid one, in file order.
        What is forgiven (``'Lower back' read as 'lower_back'``, an ignored
        blank row) goes to ``on_warning``, by default a Python warning
        (:class:`~triage.errors.CaseFileWarning`). A file that cannot be read
        at all raises :class:`~triage.errors.InputFileError` with its line.
        """
        for record in self._records(path, input_format, on_warning):
            yield record.to_dict()

    def triage_file(self, path: Path | str, input_format: str = "auto", *,
                    on_warning: Callable[[InputWarning], None] | None = None) -> Iterator[dict[str, Any]]:
        """Triage every case of a case file, lazily, in file order: ``triage run`` as results.

        Invalid cases yield their error records in place, or their results with
        ``errors`` as in :meth:`triage`; ``input_format`` and ``on_warning`` are
        as for :meth:`read_cases`.
        """
        for record in self._records(path, input_format, on_warning):
            yield self.session.outcome(record).to_dict()

    def _records(self, path: Path | str, input_format: str,
                 on_warning: Callable[[InputWarning], None] | None) -> Iterator[Case | ErrorRecord]:
        if input_format != "auto" and input_format not in INPUT_FORMATS:
            raise ValueError(f"input_format must be auto or one of {', '.join(INPUT_FORMATS)}, "
                             f"got {input_format!r}")
        warn = on_warning or _python_warning
        return read_cases(str(path), self.kb.vocabulary, input_format, ids=CaseIds(warn), on_warning=warn)

    def audit(self, case: object, why_not: str | None = None, default_id: str = "case#1") -> dict[str, Any]:
        """Explain one case: the rules that fired (facts, sources), HOW, and WHY NOT if asked."""
        return self.audit_report(case, why_not, default_id).to_dict()

    def audit_report(self, case: object, why_not: str | None = None,
                     default_id: str = "case#1") -> CaseAudit:
        """The audit as :class:`~triage.audit.CaseAudit` (for the text, dot and HTML renderers).

        A case triaged on the fields that parsed (see :meth:`triage`) is audited so,
        with its ``errors``; any other invalid case raises :class:`CaseError`.
        """
        try:
            parsed: Case | ErrorRecord = self.parse(case, default_id)
        except CaseError as exc:
            parsed = ErrorRecord(exc.location.case or default_id, exc)
        audit = audit_record(self.session, parsed, why_not)
        if isinstance(audit, ErrorRecord):
            raise audit.error
        return audit

    # -- the knowledge base as data -------------------------------------------------
    def questions(self) -> list[dict[str, Any]]:
        """Every question of the knowledge base, in the order they are considered."""
        return [question_data(q) for q in self.kb.questions]

    def knowledge_base(self) -> dict[str, Any]:
        """The version, every rule (id, description, sources) and the sources cited."""
        return {
            "version": self.kb.version,
            "rules": [{"id": r.id, "description": r.description, "sources": list(r.sources),
                       "conclusion": r.conclusion.describe()} for r in self.kb.rules],
            "sources": {key: _source_data(source) for key, source in self.kb.sources.items()},
        }

    # -- the questionnaire ------------------------------------------------------------
    def questionnaire(self, answers: Mapping[str, Any],
                      case_id: str = QUESTIONNAIRE_ID) -> Questionnaire:
        """The questionnaire state after ``answers`` (question id -> answer).

        The answers are given to :class:`Questionnaire` one by one, in the
        order it asks for them, so which questions come, which are skipped and
        when an emergency stops it is decided by the state machine alone.
        Each state reached is kept (:class:`StepCache`, by the answers in the
        order given), so the next request on the same path resumes from it
        and costs one step, not a replay of every earlier one; a state not
        kept (evicted, or first seen by another process) is replayed, with
        the same result.
        Answers to questions it never asks are ignored. Answers are JSON
        values: a list of choice values (``many``), one value or ``null``
        (``one``), a whole number or ``null`` (``number``), ``true``/``false``
        or ``null`` (``yes_no``); ``null`` means "don't know" where allowed.
        Raises :class:`CaseError` naming the question, the value and what is allowed.
        """
        if not isinstance(answers, Mapping):
            raise CaseError("the answers must be a mapping of question ids to answers",
                            Location(case=case_id), value=type(answers).__name__,
                            allowed="an object such as {\"emergency_signs\": []}")
        answers = {key: None if is_missing(value) else plain_value(value) for key, value in answers.items()}
        known = {q.id for q in self.kb.questions}
        for key in answers:
            if key not in known:
                raise CaseError(f"unknown question {key!r}", Location(case=case_id, field=str(key)),
                                value=str(key)[:200], allowed="one of: " + ", ".join(sorted(known)))
        path: AnswerPath = ()
        state = self._steps.get((case_id, path))
        if state is None:
            state = Questionnaire(self.session, case_id)
            self._steps.put((case_id, path), state)
        while state.current is not None and state.current.id in answers:
            question = state.current
            text = answer_text(question, answers[question.id], case_id)
            path += ((question.id, text),)
            kept = self._steps.get((case_id, path))
            if kept is not None:
                state = kept
                continue
            state = state.fork(self.session)  # a kept state never changes: it may be resumed again
            reply = state.respond(text)
            if not reply.accepted:  # answer_text checked the answer; this cannot happen
                raise CaseError(reply.reason or f"the answer was not taken ({reply.outcome.value})",
                                Location(case=case_id, field=question.id), value=answers[question.id])
            state = state.fork(self.session)  # without the step's search memos: a kept state stays small
            self._steps.put((case_id, path), state)
        return state.fork(self.session)

    def next_question(self, answers: Mapping[str, Any],
                      case_id: str = QUESTIONNAIRE_ID) -> dict[str, Any]:
        """``{"question": {...}}`` (the next question as data) or ``{"result": {...}}``.

        Both also carry ``asked`` (question ids in the order answered),
        ``skipped`` (question id, reason, detail) and ``case`` (the answers in
        the contract's shape); a result carries ``emergency`` (true when an
        emergency sign stopped the questions early).
        """
        return self.step_data(self.questionnaire(answers, case_id))

    def step_data(self, state: Questionnaire) -> dict[str, Any]:
        """What :meth:`next_question` answers for the questionnaire ``state`` (one held live, say)."""
        out: dict[str, Any] = {}
        if state.current is not None:
            out["question"] = question_data(state.current, state)
        else:
            out["result"] = state.result().to_dict()
            out["emergency"] = state.emergency
        out["asked"] = list(state.asked)
        out["skipped"] = [{"id": s.question.id, "text": s.question.text, "reason": s.reason,
                           "detail": s.detail}
                          for s in state.skipped]
        out["case"] = state.case_dict()
        return out


def plain_value(value: Any) -> Any:
    """``value`` as the plain Python kind the case format knows.

    NumPy scalars (``numpy.int64``, ``numpy.bool_``) become Python numbers and
    booleans, tuples, sets and arrays lists. Anything else is returned as it
    is, for the case parser to accept or refuse by name.
    """
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        value = value.tolist()  # a NumPy scalar gives its Python value, an array a list
    if isinstance(value, (tuple, list, set, frozenset)):
        return [plain_value(item) for item in value]
    return value


def is_missing(value: Any) -> bool:
    """A float NaN, or pandas' ``NA`` or ``NaT``: how pandas marks an empty cell (no answer)."""
    kind = type(value)
    if kind.__module__.startswith("pandas") and kind.__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and math.isnan(value)


def _case_rows(cases: Any) -> tuple[Iterable[object], bool]:
    """(the cases one by one, whether their cells are text to read as CSV's) for ``triage_many``."""
    if isinstance(cases, (str, bytes, Path)):
        raise TypeError(f"triage_many takes an iterable of cases, got {type(cases).__name__} {_short(cases)}; "
                        "to triage a case file use kb.triage_file(path)")
    if isinstance(cases, Mapping):
        raise TypeError("triage_many takes an iterable of cases, got a single mapping; "
                        "to triage one case use kb.triage(case), or give [case]")
    if _is_data_frame(cases):
        columns = [str(column) for column in cases.columns]
        return (dict(zip(columns, row, strict=True)) for row in cases.itertuples(index=False, name=None)), True
    if not isinstance(cases, Iterable):
        raise TypeError(f"triage_many takes an iterable of cases, got {type(cases).__name__}")
    return cases, False


def _is_data_frame(value: object) -> bool:
    """A pandas DataFrame, told without importing pandas (not a dependency)."""
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pandas") and hasattr(value, "itertuples")


def _python_warning(warning: InputWarning) -> None:
    warnings.warn(str(warning), CaseFileWarning, stacklevel=4)


def load(rules_dir: Path | str | None = None) -> TriageKB:
    """Load the knowledge base (default: the bundled ``rules/``) for the Python API.

    Raises :class:`~triage.errors.KnowledgeBaseError` listing every problem.
    """
    return TriageKB(load_knowledge_base(rules_dir))


def question_data(question: Question, state: Questionnaire | None = None) -> dict[str, Any]:
    """A question as data: id, field, kind, text, help, choices and what it accepts.

    With the questionnaire ``state``, also its number among the questions
    asked and ``why``: the rules that could still use the answer, in words.
    """
    data: dict[str, Any] = {
        "id": question.id,
        "field": question.field,
        "kind": question.answer,
        "text": question.text,
        "help": question.help,
        "choices": [{"value": c.value, "label": c.label} for c in question.choices],
        "required": question.required,
        "may_be_empty": question.may_be_empty,
        "unknown_allowed": question.is_screen or (question.answer != "many" and not question.required),
        # A screen's own answers (policy v3, principle 7): [] is "None of these", null "not sure".
        "screen": question.is_screen,
    }
    if question.answer == "number":
        data["minimum"] = question.spec.minimum
        data["maximum"] = question.spec.maximum
    if state is not None:
        data["number"] = state.position
        rules = rules_using_answer(question, state.kb, state.value_of)
        data["why"] = [line for _, line in why_outline(rules, state.kb)]
    return data


def why_outline(rules: Sequence[KnowledgeRule], kb: KnowledgeBase) -> list[tuple[int, str]]:
    """Why a question is asked, in plain words: (depth, line) pairs, the one wording of WHY.

    ``rules`` are those that could still use the answer
    (:func:`~triage.questionnaire.rules_using_answer`). A heading (depth 0),
    then for each rule its description (``- ...``, depth 1) and what it needs
    and concludes (depth 2). :func:`question_data` gives the lines flat as
    ``why``; ``triage ask`` indents them by depth under the question's help.
    """
    if not rules:
        return [(0, "No rule that could still apply uses this answer.")]
    outline = [(0, "Your answer is used by these rules:")]
    for rule in rules:
        tests = "; ".join(c.describe() for c in rule.conditions)
        concludes = rule.conclusion.plain_words(kb.derived_facts, lambda d: kb.dispositions[d].headline)
        outline += [(1, f"- {rule.description}"), (2, f"needs: {tests} -> {concludes}  [{rule.id}]")]
    return outline


def answer_text(question: Question, value: Any, case_id: str = QUESTIONNAIRE_ID) -> str:
    """A JSON answer to ``question`` as the line a person would type, checked strictly.

    Only exact choice values are accepted (no abbreviations or numbers, which
    only make sense on a terminal); raises :class:`CaseError` otherwise.
    """
    values = [c.value for c in question.choices]
    if question.is_screen:
        # [] is "None of these"; null is "not sure" (not screened, which refers).
        allowed = "a list of: " + ", ".join(map(str, values)) + "; [] for none of these, or null for not sure"
        ok = value is None or (isinstance(value, list) and all(
            isinstance(v, str) and v in values for v in value))
        text = (NOT_SURE.value if value is None else ",".join(value) or NONE_OF_THESE.value) if ok else ""
    elif question.answer == "many":
        allowed = "a list of: " + ", ".join(map(str, values))
        ok = value is None or (isinstance(value, list) and all(
            isinstance(v, str) and v in values for v in value))
        text = ",".join(value) if ok and value else ""
    elif question.answer == "number":
        allowed = question.spec.allowed()
        # 40.0 is the whole number 40 in JSON (and in JSON Schema's "integer").
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
        text = "" if value is None else str(int(value)) if ok else ""
    elif question.answer == "yes_no":
        allowed = "true or false"
        ok = value is None or isinstance(value, bool)
        text = "" if value is None else ("yes" if value else "no")
    else:
        allowed = "one of: " + ", ".join(map(str, values))
        ok = value is None or (isinstance(value, str) and value in values)
        text = value if ok and value is not None else ""
    if question.answer != "many" and not question.required:
        allowed += ", or null for don't know"
    where = Location(case=case_id, field=question.id)
    shown = value if isinstance(value, (str, int, float, bool, list)) or value is None else str(value)
    if isinstance(shown, str):
        shown = shown[:200]
    if not ok:
        raise CaseError(with_allowed(f"{_short(value)} is not an answer to {question.id!r}", allowed),
                        where, value=shown, allowed=allowed)
    try:
        parse_answer(question, text)
    except InvalidAnswer as exc:
        message = str(exc)
        raise CaseError(message[:1].upper() + message[1:], where, value=shown, allowed=allowed) from None
    return text


def answers_yaml(case: Mapping[str, Any], note: Sequence[str]) -> str:
    """A questionnaire's answers as a YAML case file, ``note`` as a comment header.

    The format of ``triage ask --save`` (which uses this function) and of the
    web questionnaire's "download your answers".
    """
    header = "".join(f"# {line}\n" for line in note)
    body = yaml.safe_dump(dict(case), sort_keys=False, allow_unicode=True, default_flow_style=None)
    return header + body


def incomplete_note(state: Questionnaire, why: str = "interrupted") -> list[str]:
    """The header of an answers file saved before every question was answered."""
    left = ", ".join(q.id for q in state.unanswered()) or "none"
    return [f"INCOMPLETE: triage ask was {why} before every question was answered.",
            f"Not answered: {left}."]


def answers_file(state: Questionnaire, why: str = "not finished") -> str:
    """The YAML answers file of a questionnaire: finished, stopped early by an emergency, or
    not finished (``why``: the web page's download mid-way, ``triage ask`` interrupted).

    A file saved before the end says so twice: in its header, for a person, and as
    ``complete: false``, which refers whatever else it says (policy v3, principle 7); a
    file not finished also writes every screen not yet answered as ``unknown``.
    """
    if state.finished and not state.emergency:
        return answers_yaml(state.case_dict(), [f"Answers from triage ask ({state.kb.version})."])
    case = marked_unfinished(state.case_dict())
    if state.emergency:
        return answers_yaml(case, incomplete_note(state, "stopped early for an emergency"))
    for name, spec in state.kb.vocabulary.fields.items():
        if spec.is_screen:
            case.setdefault(name, NOT_SCREENED_WORDS[0])
    return answers_yaml(case, incomplete_note(state, why))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _source_data(source: Any) -> dict[str, Any]:
    return {key: value for key, value in vars(source).items()
            if key != "location" and not key.startswith("_")}


__all__ = ["QUESTIONNAIRE_ID", "STEP_CACHE_SIZE", "StepCache", "TriageKB", "answer_text", "answers_file",
           "answers_yaml", "incomplete_note", "is_missing", "load", "plain_value", "question_data", "why_outline"]
