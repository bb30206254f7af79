"""The checks that go beyond one entry's shape: what keeps the knowledge base safe and sound.

- :func:`check_safety`: a rule that gives techniques or self-care must test
  that the case was not referred (run on each rule as it is read);
- :func:`check_salience_order`: a rule that tests for an absent conclusion
  fires after every rule that could draw it;
- :func:`check_safety_floor`: every red flag and condition, reported alone,
  makes a referral rule hold, and the signs of :data:`EMERGENCY_FLOOR` an
  emergency one. The floor holds for every knowledge base, bundled or not.

Each appends its problems (with the file and line to fix) instead of raising.
"""

from __future__ import annotations

from typing import Any

from ..case import blank_answers
from ..conclusions import Conclusion, Refer, before_any_firing
from ..errors import Location, Problem
from ..vocabulary import SCREENING_FIELDS, Disposition, Vocabulary
from .conditions import Condition
from .model import KnowledgeRule

#: Emergency signs that every knowledge base must keep and send to emergency
#: care (possible cauda equina syndrome, progressive neurological deficit,
#: spinal fracture). A floor under the data, not a copy of it.
EMERGENCY_FLOOR: dict[str, tuple[str, ...]] = {
    "red_flags": ("saddle_numbness", "bladder_or_bowel_change", "sexual_dysfunction",
                  "leg_weakness", "major_trauma"),
    # Policy v3: pain that may not come from the back (aorta, heart, sepsis,
    # meningitis, pregnancy).
    "other_symptoms": ("tearing_pain_to_belly_or_chest", "chest_pain_or_breathless",
                       "fainted_or_collapsed", "confused_or_very_unwell",
                       "headache_stiff_neck_or_rash", "pregnant_bleeding_or_contractions"),
}
#: The answers self-care depends on (policy v3, principle 8): each, unknown,
#: must refer on its own, as must each screen left unanswered (principle 7).
SELF_CARE_NEEDS: tuple[str, ...] = ("age", "severity", "duration_days")


def check_safety(ident: str, conditions: list[Condition], conclusion: Conclusion, where: Location,
                 problems: list[Problem]) -> None:
    """Refuse a rule (``ident``, at ``where``) that could give techniques or self-care to a referred case."""
    required = conclusion.required_test()
    if required is None:
        return
    test, reason = required
    if test not in {(c.subject, c.operator, c.operand) for c in conditions}:
        problems.append(Problem(where, f"{ident}: {reason}"))


def check_salience_order(rules: list[KnowledgeRule], problems: list[Problem]) -> None:
    """A rule that tests for an absent conclusion must fire after all its producers."""
    producers: dict[str, list[KnowledgeRule]] = {}
    for rule in rules:
        subject = rule.conclusion.draws_subject
        if subject:
            producers.setdefault(subject, []).append(rule)
    for rule in rules:
        for condition in rule.conditions:
            if not condition.is_negative:
                continue
            late = [p for p in producers.get(condition.subject, [])
                    if p.salience <= rule.salience and p is not rule]
            for producer in late:
                problems.append(Problem(rule.location,
                                        f"{rule.id} (salience {rule.salience}) tests that {condition.subject} "
                                        f"lacks a conclusion that {producer.id} (salience {producer.salience}) "
                                        f"can still draw; give {rule.id} a lower salience"))


def check_safety_floor(rules: list[KnowledgeRule], vocabulary: Vocabulary, problems: list[Problem]) -> None:
    """Refuse a knowledge base in which a red flag, a condition or silence could reach self-care.

    Every value of the screening fields must, reported alone by a case
    that says nothing else, make some referral rule hold; each sign of
    :data:`EMERGENCY_FLOOR` must make an emergency rule hold. This holds
    for every knowledge base, bundled or not, so deleting a rule file
    cannot silently send a red flag to self-care. Each screen left
    unanswered, each answer self-care needs left unknown, and answers saved
    unfinished (``complete: false``) must each refer on their own too.
    """
    referrals = [r for r in rules if isinstance(r.conclusion, Refer)]
    for name in SCREENING_FIELDS:
        spec = vocabulary.fields.get(name)
        for value in spec.values if spec else ():
            lone = _lone_finding(vocabulary, name, value)
            urgencies = {r.conclusion.urgency for r in referrals
                         if _tests_value(r, name, value) and _holds_alone(r, lone)}
            where = vocabulary.location(name, value)
            if not urgencies:
                problems.append(Problem(where, f"safety floor: no referral rule fires for {name} {value!r} "
                                        "reported alone; add a rule that refers it (e.g. in "
                                        "rules/red-flags.yaml or rules/referrals.yaml)"))
            elif value in EMERGENCY_FLOOR.get(name, ()) and Disposition.EMERGENCY not in urgencies:
                problems.append(Problem(where, f"safety floor: {name} {value!r} must be referred as an "
                                        "emergency; add an emergency rule for it (rules/red-flags.yaml)"))
    for name in (*SCREENING_FIELDS, *SELF_CARE_NEEDS):
        if name not in vocabulary.fields:
            continue  # a missing structural field is the vocabulary parser's error
        answers = _known_but(vocabulary, name)
        if not any(_tests_unknown(r, name) and _holds_alone(r, answers) for r in referrals):
            problems.append(Problem(vocabulary.location(name), f"safety floor: no referral rule fires when "
                                    f"{name} is not answered; add a rule with `{name}: {{unknown: true}}` "
                                    "that refers (silence is not no; see rules/unanswered.yaml)"))
    if "complete" in vocabulary.fields:
        unfinished = {**_known_but(vocabulary, "complete"), "complete": False}
        if not any(_tests_unfinished(r) and _holds_alone(r, unfinished) for r in referrals):
            problems.append(Problem(vocabulary.location("complete"), "safety floor: no referral rule fires "
                                    "for answers saved unfinished; add a rule with `complete: {is: false}` "
                                    "that refers (see rules/unanswered.yaml)"))
    for name, values in EMERGENCY_FLOOR.items():
        spec = vocabulary.fields.get(name)
        for value in values:
            if spec is not None and value not in spec.values:
                problems.append(Problem(vocabulary.location(name), f"safety floor: the vocabulary must keep "
                                        f"the emergency sign {value!r} among the values of {name}"))


def _lone_finding(vocabulary: Vocabulary, name: str, value: str) -> dict[str, Any]:
    """A case that reports only ``value`` of ``name``: screened, every other answer unknown."""
    answers = blank_answers(vocabulary)
    answers[name] = frozenset({value})
    return answers


def _known_but(vocabulary: Vocabulary, name: str) -> dict[str, Any]:
    """A case where every screen says "none found" and only ``name`` is unanswered."""
    answers = blank_answers(vocabulary)
    for screen in SCREENING_FIELDS:
        if screen in answers:
            answers[screen] = frozenset()
    answers[name] = None
    return answers


def _tests_unknown(rule: KnowledgeRule, name: str) -> bool:
    """Whether ``rule`` asks that ``name`` be unanswered."""
    return any(c.subject == name and c.operator == "unknown" and c.operand for c in rule.conditions)


def _tests_unfinished(rule: KnowledgeRule) -> bool:
    """Whether ``rule`` asks that the answers be marked unfinished (``complete: false``)."""
    return any(c.subject == "complete" and c.operator == "is" and c.operand is False for c in rule.conditions)


def _tests_value(rule: KnowledgeRule, name: str, value: str) -> bool:
    """Whether ``rule`` asks for ``value`` of the list field ``name`` (not merely allows it)."""
    return any(c.subject == name and c.operator in ("has", "has_any", "has_all")
               and value in c.values() for c in rule.conditions)


def _holds_alone(rule: KnowledgeRule, answers: dict[str, Any]) -> bool:
    """Whether every test of ``rule`` holds for ``answers`` before any conclusion is drawn."""
    before = before_any_firing()
    return all(c.holds(answers[c.subject] if c.on_case else before[c.subject])
               for c in rule.conditions)
