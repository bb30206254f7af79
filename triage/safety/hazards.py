"""The hazard-log skeleton, generated from the knowledge base (``triage rules hazards``).

Three kinds of hazard, each with an id that stays the same as long as what
it names stays in the knowledge base:

- ``HAZ-ESC-<finding>``: *failure to escalate*, one per referring finding: each
  value a referral rule needs (``red_flags: fever``, ``triggers:
  fall_on_buttocks``, a derived fact). A rule that needs no such value (only a
  number, an unknown answer or an absence) gives its own finding
  (``severity at_least 7``, ``likely_muscles empty``);
- ``HAZ-OVER-<disposition>``: *over-escalation*, one per referral disposition;
- ``HAZ-GEN-<name>``: the generic hazards of the program around the rules.

Each row lists its controls (rules, tests, wording); likelihood, severity and
residual risk are left empty for the clinical safety reviewer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..conclusions import ENGINE_SUBJECTS, Refer
from ..kb import Condition, KnowledgeBase, KnowledgeRule
from ..kb.checks import EMERGENCY_FLOOR
from ..vocabulary import Disposition, FieldKind
from .tables import Document, Table

COLUMNS = ("id", "hazard", "cause", "effect", "rule controls", "test controls", "wording controls",
           "likelihood", "severity", "residual risk")

#: The tests that hold every referral rule, whatever the finding.
_EVERY_RULE_TESTS = ("tests/safety/test_mutation.py: every mutant of every referral rule is killed",)

#: The hazards of the program around the rules: id, hazard, cause, effect, controls (tests, wording).
GENERIC: tuple[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("HAZ-GEN-misread-question", "A question is misread",
     "the person answers a different question than the one meant",
     "a warning sign goes unreported; no referral",
     ("tests/kb/test_questions.py: every value is offered by exactly one question",
      "tests/cli/test_ask.py, tests/web/test_browser.py: the questionnaire end to end"),
     ("question texts, help and choice labels in rules/questions.yaml",)),
    ("HAZ-GEN-unanswered-screen", "A warning-sign screen is left unanswered",
     "a case without red_flags or conditions, or with an answer not given",
     "silence read as 'no warning sign'",
     ("tests/test_case.py: the screens are required fields; a case without them is invalid",
      "tests/golden/: unknown ages and answers refer"),
     ("the required screen questions in rules/questions.yaml",)),
    ("HAZ-GEN-stale-knowledge-base", "A stale or edited knowledge base is used",
     "an old rules/ folder, or a clinic's copy edited without review",
     "results follow rules no one signed off",
     ("every result carries kb_version (tests/kb/test_loader.py)",
      "triage rules diff: any case that becomes less urgent fails (exit 1)",
      "the safety floor refuses a knowledge base that lets a red flag go unreferred"),
     ("docs/knowledge-base.md: A clinic's own knowledge base",)),
    ("HAZ-GEN-engine-failure", "The engine fails or reaches no conclusion",
     "a bug, an unsupported experta, a rule set with a hole",
     "no result, or a result no rule supports",
     ("no conclusion refers (see_doctor, triage.no_conclusion): tests/test_session.py",
      "tests/test_performance_semantics.py: fast and plain engines fire the same rules",
      "tests/test_experta_compat.py: experta imports on every supported Python"),
     ("reason triage.no_conclusion: 'see a doctor'",)),
    ("HAZ-GEN-batch-misalignment", "Batch results are matched to the wrong person",
     "results out of order, duplicate or missing case ids, an invalid row dropped",
     "one person gets another's disposition",
     ("tests/test_parallel.py: results keep the input order with any number of workers",
      "tests/test_casefiles.py, tests/cli/test_run_errors.py: invalid rows keep their place; duplicate ids warned"),
     ("every result and error record carries its case id",)),
    ("HAZ-GEN-wrong-language", "The person cannot read the language of the questions or advice",
     "the questions and advice exist in English only",
     "answers guessed, advice not followed",
     ("none in software: the deployment must check its users read English",),
     ("plain-English questions and advice in rules/",)),
)


@dataclass(frozen=True)
class Hazard:
    """One row of the hazard log."""

    id: str
    hazard: str
    cause: str
    effect: str
    rules: tuple[str, ...]
    tests: tuple[str, ...]
    wording: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "hazard": self.hazard, "cause": self.cause, "effect": self.effect,
                "controls": {"rules": list(self.rules), "tests": list(self.tests), "wording": list(self.wording)},
                "likelihood": "", "severity": "", "residual_risk": ""}


def findings(rule: KnowledgeRule) -> list[Condition]:
    """The conditions of a referral rule that name what it refers on (see the module docstring)."""
    valued = [c for c in rule.conditions if not c.is_negative and c.operator in (
        "has", "has_any", "has_all", "is", "is_any")]
    if valued:
        return valued
    return [c for c in rule.conditions if c.subject not in ("referred", "self_care")] or list(rule.conditions)


def _keys(condition: Condition) -> list[tuple[str, str]]:
    """(stable id part, words) for each finding of ``condition``: one per value it names."""
    if condition.operator in ("has", "has_any", "has_all", "is", "is_any"):
        return [(f"{condition.subject}.{str(v).lower()}", f"{condition.subject}: {v}") for v in condition.values()]
    operand = "-".join(str(v).lower() for v in condition.values())
    return [(f"{condition.subject}.{condition.operator}.{operand}", condition.describe())]


def hazard_log(kb: KnowledgeBase, golden_fired: Mapping[str, list[str]] | None = None) -> list[Hazard]:
    """The hazard log of ``kb``: escalation hazards (by finding), over-escalation (by disposition), generic.

    ``golden_fired`` (rule id -> golden case names) adds the golden cases to
    each hazard's test controls.
    """
    golden_fired = golden_fired or {}
    referring = [r for r in kb.rules if isinstance(r.conclusion, Refer)]
    by_finding: dict[str, tuple[str, list[KnowledgeRule]]] = {}
    for rule in referring:
        for condition in findings(rule):
            for key, words in _keys(condition):
                by_finding.setdefault(key, (words, []))[1].append(rule)
    hazards = [_escalation(kb, key, words, rules, golden_fired) for key, (words, rules) in by_finding.items()]
    for disposition in sorted((d for d in Disposition if d.is_referral), key=lambda d: -d.urgency):
        hazards.append(_over_escalation(kb, disposition, referring, golden_fired))
    for ident, hazard, cause, effect, tests, wording in GENERIC:
        hazards.append(Hazard(ident, hazard, cause, effect, (), tests, wording))
    return hazards


def _escalation(kb: KnowledgeBase, key: str, words: str, rules: list[KnowledgeRule],
                golden_fired: Mapping[str, list[str]]) -> Hazard:
    most = max((r.conclusion.urgency for r in rules if isinstance(r.conclusion, Refer)), key=lambda d: d.urgency)
    subject, _, value = key.partition(".")
    tests = [f"{r.id}: {len(r.examples_fire)} must-fire, {len(r.examples_not_fire)} must-not-fire examples"
             for r in rules]
    golden = sorted({name for r in rules for name in golden_fired.get(r.id, ())})
    if golden:
        tests.append("golden cases: " + ", ".join(golden))
    field = kb.vocabulary.fields.get(subject)
    if field is not None and field.kind is FieldKind.MULTI and subject in ("red_flags", "conditions"):
        tests.append(f"safety floor: {subject} {value} alone must reach a referral rule (load check)")
    if value in EMERGENCY_FLOOR.get(subject, ()):
        tests.append(f"safety floor: {value} alone must reach an emergency rule (EMERGENCY_FLOOR)")
    tests += _EVERY_RULE_TESTS
    wording = [f"{r.id}: {r.conclusion.reason}" for r in rules if isinstance(r.conclusion, Refer)]
    wording += [f"question {q.id}: {c.label}" for q in kb.questions if q.field == subject
                for c in q.choices if str(c.value).lower() == value]
    meaning = field.meanings.get(value, "") if field is not None else ""
    if subject in ENGINE_SUBJECTS:
        meaning = kb.derived_facts.get(value, "") if subject == "derived" else ""
    shown = f"{words} ({meaning})" if meaning else words
    return Hazard(f"HAZ-ESC-{key}", f"Failure to escalate: {shown}",
                  "the finding is not asked, not recorded, or no rule refers on it",
                  f"a person who needs care ({most.value} or sooner) is sent to self-care or referred too late",
                  tuple(f"{r.id} ({r.conclusion.describe()}; when: {'; '.join(c.describe() for c in r.conditions)})"
                        for r in rules),
                  tuple(tests), tuple(wording))


def _over_escalation(kb: KnowledgeBase, disposition: Disposition, referring: list[KnowledgeRule],
                     golden_fired: Mapping[str, list[str]]) -> Hazard:
    rules = [r for r in referring if isinstance(r.conclusion, Refer) and r.conclusion.urgency is disposition]
    tests = [f"{len(rules)} rules: {sum(len(r.examples_not_fire) for r in rules)} must-not-fire examples",
             "golden cases expecting a less urgent disposition, on both sides of every threshold (tests/golden/)"]
    advice = kb.dispositions.get(disposition)
    wording = [f"headline: {advice.headline}", *(f"advice: {a}" for a in advice.advice)] if advice else []
    return Hazard(f"HAZ-OVER-{disposition.value}", f"Over-escalation: told '{disposition.value}' when less urgent care fits",
                  "a rule refers too widely (a missing condition, a threshold too low)",
                  "needless emergency or doctor visits, alarm, lost trust in the advice",
                  tuple(r.id for r in rules), tuple(tests), tuple(wording))


def hazards_document(kb: KnowledgeBase, hazards: list[Hazard]) -> Document:
    """The hazard log as a titled table (Markdown, CSV)."""
    rows = [(h.id, h.hazard, h.cause, h.effect, list(h.rules), list(h.tests), list(h.wording), "", "", "")
            for h in hazards]
    note = "Likelihood, severity and residual risk are for the clinical safety reviewer to fill in."
    return Document("Hazard log (skeleton)", (("knowledge base", f"{kb.directory} ({kb.version})"),
                                               ("hazards", str(len(hazards)))),
                    (Table("Hazards", COLUMNS, [*rows], note),))


__all__ = ["COLUMNS", "GENERIC", "Hazard", "findings", "hazard_log", "hazards_document"]
