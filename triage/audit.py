"""Auditing one case: which rules fired, how each conclusion was reached, and why not.

Everything here is plain data built from a :class:`~triage.results.TriageResult`
(its ``fired_rules``) and the knowledge base (``kb.rule(id)``):

- the **trace**: every firing in order, with the rule's description, sources,
  salience and place in the knowledge base, the facts it matched and what it
  asserted;
- the **HOW** chains: for the disposition, each likely muscle and each
  recommendation, the firings that drew it and, recursively, what those rested
  on (answers, or conclusions of earlier firings such as derived facts);
- the **WHY NOT** for a muscle or a disposition: every rule that could have
  concluded it, and which of its conditions held, in plain words;
- a **Graphviz** graph: answers -> rules -> derived facts -> conclusions.

Renderers return strings; nothing here prints.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .case import Case
from .conclusions import Conclude, Derive, Recommend, Refer, Sign
from .errors import CaseError, TriageError
from .kb import Condition, KnowledgeBase, KnowledgeRule
from .kb.conditions import SET_OPERATORS
from .results import ErrorRecord, Firing, TriageResult
from .session import NO_CONCLUSION_RULE, TriageSession
from .vocabulary import Disposition, not_allowed

def why_not_targets(kb: KnowledgeBase) -> tuple[str, ...]:
    """What ``--why-not`` can explain: each muscle of the knowledge base and each disposition."""
    return kb.muscles + tuple(d.value for d in Disposition)


@dataclass(frozen=True)
class TraceStep:
    """One firing, with what the knowledge base says about its rule."""

    order: int
    rule: str
    description: str
    sources: tuple[str, ...]
    salience: int
    where: str
    conditions: tuple[str, ...]
    facts: dict[str, Any]
    asserted: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"order": self.order, "rule": self.rule, "description": self.description,
                "sources": list(self.sources), "salience": self.salience, "where": self.where,
                "conditions": list(self.conditions), "facts": self.facts,
                "asserted": list(self.asserted)}


class PremiseKind(enum.Enum):
    """What a premise is: an answer of the case, or a conclusion of earlier firings."""

    ANSWER = "answer"
    CONCLUSION = "conclusion"


@dataclass(frozen=True)
class Premise:
    """What a firing rested on: an answer, or a conclusion of earlier firings.

    ``values`` are the answers a positive test matched (empty for tests that
    hold by absence); ``because`` are the firings that drew a conclusion.
    """

    kind: PremiseKind
    subject: str
    text: str
    values: tuple[Any, ...] = ()
    because: tuple[Derivation, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "subject": self.subject, "text": self.text}
        if self.kind is PremiseKind.CONCLUSION:
            out["because"] = [d.to_dict() for d in self.because]
        return out


@dataclass(frozen=True)
class Derivation:
    """A firing that drew a conclusion, with the premises it rested on."""

    order: int
    rule: str
    concludes: str
    premises: tuple[Premise, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"order": self.order, "rule": self.rule, "concludes": self.concludes,
                "premises": [p.to_dict() for p in self.premises]}

    def paths(self) -> list[list[str]]:
        """Every chain from an answer to this conclusion, as the steps' names."""
        out = []
        for premise in self.premises:
            if premise.because:
                starts = [p for d in premise.because for p in d.paths()]
            else:
                starts = [[premise.text]]
            out.extend(start + [self.rule, self.concludes] for start in starts)
        return out


@dataclass(frozen=True)
class How:
    """How one conclusion of the result was reached."""

    conclusion: str
    because: tuple[Derivation, ...]
    note: str = ""

    def chains(self) -> list[str]:
        """Each line of reasoning as ``answer ... -> rule -> conclusion -> ...``."""
        chains = [" -> ".join(path) for d in self.because for path in d.paths()]
        return list(dict.fromkeys(chains))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"conclusion": self.conclusion,
                               "because": [d.to_dict() for d in self.because],
                               "chains": self.chains()}
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class ConditionCheck:
    """One condition of a rule, whether it held for the case, and what was there."""

    condition: str
    held: bool
    found: str

    def to_dict(self) -> dict[str, Any]:
        return {"condition": self.condition, "held": self.held, "found": self.found}


@dataclass(frozen=True)
class Candidate:
    """A rule that could have drawn the conclusion asked about."""

    rule: str
    concludes: str
    fired: int | None
    checks: tuple[ConditionCheck, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "concludes": self.concludes, "fired": self.fired,
                "conditions": [c.to_dict() for c in self.checks]}


@dataclass(frozen=True)
class WhyNot:
    """Why a muscle is (not) likely or a disposition was (not) reached."""

    target: str
    concluded: bool
    summary: str
    candidates: tuple[Candidate, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "concluded": self.concluded, "summary": self.summary,
                "rules": [c.to_dict() for c in self.candidates]}


@dataclass(frozen=True)
class CaseAudit:
    """Everything the audit says about one case."""

    case: Case
    result: TriageResult
    trace: tuple[TraceStep, ...]
    how: tuple[How, ...]
    derivations: dict[int, Derivation] = field(compare=False, repr=False)
    kb: KnowledgeBase = field(compare=False, repr=False)
    why_nots: tuple[WhyNot, ...] = ()

    @property
    def why_not(self) -> WhyNot | None:
        """The first WHY NOT asked for, if any."""
        return self.why_nots[0] if self.why_nots else None

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "id": r.id,
            "disposition": r.disposition.value,
            "likely_muscles": [m.to_dict() for m in r.likely_muscles],
            "kb_version": r.kb_version,
            "case": self.case.to_dict(),
            "trace": [s.to_dict() for s in self.trace],
            "how": [h.to_dict() for h in self.how],
            "why_not": [w.to_dict() for w in self.why_nots],
            **({"errors": [e["error"] for e in _problems(self.result)]} if self.result.errors else {}),
        }


def _problems(result: TriageResult) -> list[dict[str, Any]]:
    """The result's problems in the error record's shape (one ``error`` each)."""
    return [ErrorRecord(result.id, error).to_dict() for error in result.errors]


def audit_record(session: TriageSession, record: Case | ErrorRecord,
                 why_not: str | Sequence[str] | None = None) -> CaseAudit | ErrorRecord:
    """Audit a record of a batch: a case, or an invalid case that is still triaged on
    the fields that parsed (policy v3, principle 9), whose audit then carries its
    errors; any other invalid case stays its error record."""
    if isinstance(record, Case):
        return audit_case(session, record, why_not)
    outcome = session.triage_invalid(record)
    if isinstance(outcome, ErrorRecord):
        return outcome
    return audit_case(session, record.error.partial, why_not, errors=record.error.all)


def audit_case(session: TriageSession, case: Case,
               why_not: str | Sequence[str] | None = None, errors: tuple[CaseError, ...] = ()) -> CaseAudit:
    """Triage ``case`` and explain the result: trace, HOW and, if asked, WHY NOT.

    ``why_not`` is one target (a muscle or a disposition) or several, each
    explained in the order given (a repeated one once). ``errors`` are the
    problems of the input ``case`` was parsed from, kept on the result.
    """
    targets = [why_not] if isinstance(why_not, str) else list(dict.fromkeys(why_not or ()))
    result = dataclasses.replace(session.triage(case), errors=errors)
    kb = session.kb
    derivations = derive_all(kb, case, result.fired_rules)
    return CaseAudit(
        case=case,
        result=result,
        trace=trace(kb, result),
        how=how(kb, result, derivations),
        derivations=derivations,
        kb=kb,
        why_nots=tuple(explain_why_not(kb, case, result, target) for target in targets),
    )


# -- trace -------------------------------------------------------------------

def trace(kb: KnowledgeBase, result: TriageResult) -> tuple[TraceStep, ...]:
    """The firings of ``result`` in order, each with its rule's description and sources."""
    steps = []
    for firing in result.fired_rules:
        rule = kb.rule(firing.rule)
        steps.append(TraceStep(
            order=firing.order, rule=rule.id, description=rule.description,
            sources=rule.sources, salience=rule.salience, where=rule_location(rule),
            conditions=tuple(c.describe() for c in rule.conditions),
            facts=firing.facts, asserted=firing.asserted))
    return tuple(steps)


def rule_location(rule: KnowledgeRule) -> str:
    """Where a rule is written, as ``file.yaml:line`` within its knowledge base."""
    name = Path(rule.location.file).name if rule.location.file else "?"
    return f"{name}:{rule.location.line}" if rule.location.line else name


# -- HOW ---------------------------------------------------------------------

def derive_all(kb: KnowledgeBase, case: Case, firings: Sequence[Firing]) -> dict[int, Derivation]:
    """A :class:`Derivation` for every firing, keyed by its order.

    A conclusion a firing rested on is credited to every earlier firing that
    could have drawn it (a derived fact may have several sources).
    """
    out: dict[int, Derivation] = {}
    for firing in sorted(firings, key=lambda f: f.order):
        rule = kb.rule(firing.rule)
        earlier = [(f, kb.rule(f.rule)) for f in firings if f.order < firing.order]
        premises: list[Premise] = []
        for condition in rule.conditions:
            if condition.on_case:
                premises.append(_answer_premise(condition, case.value(condition.subject)))
            else:
                premises.extend(_conclusion_premises(condition, earlier, out))
        out[firing.order] = Derivation(firing.order, rule.id, rule.conclusion.describe(),
                                       tuple(premises))
    return out


def _answer_premise(condition: Condition, value: Any) -> Premise:
    subject, op = condition.subject, condition.operator
    if op == "unknown":
        text = f"{subject} not given" if condition.operand else f"{subject}={_plain(value)}"
        values: tuple[Any, ...] = () if condition.operand else (value,)
    elif op == "has_none":
        text, values = f"{subject} has none of {', '.join(map(str, condition.values()))}", ()
    elif op in SET_OPERATORS:
        values = tuple(condition.relevant(value))
        text = f"{subject}={','.join(map(str, values))}"
    else:
        text, values = f"{subject}={_plain(value)}", (value,)
    return Premise(PremiseKind.ANSWER, subject, "answer " + text, values)


def _conclusion_premises(condition: Condition, earlier: list[tuple[Firing, KnowledgeRule]],
                         derivations: dict[int, Derivation]) -> list[Premise]:
    """The engine conclusions a condition relied on, each with the firings that drew them."""
    subject, op = condition.subject, condition.operator

    def by(test: Any) -> tuple[Derivation, ...]:
        return tuple(derivations[f.order] for f, r in earlier if test(r))

    def premise(text: str, test: Any = None) -> Premise:
        return Premise(PremiseKind.CONCLUSION, subject, text, because=by(test) if test else ())

    if subject == "derived":
        if op == "has_none":
            return [premise(f"no derived {', '.join(condition.values())}")]
        return [premise(f"derived {name}",
                        lambda r, n=name: r.conclusion.draws(subject, n))
                for name in condition.values()]
    if subject == "likely_muscles":
        if op == "empty":
            if condition.operand:
                return [premise("no likely muscle (no strong sign)")]
            return [premise("a likely muscle", lambda r: r.conclusion.draws(subject))]
        if op == "has_none":
            return [premise(f"no likely {', '.join(condition.values())}")]
        return [premise(f"likely muscle {m}",
                        lambda r, m=m: r.conclusion.draws(subject, m))
                for m in condition.values()]
    if subject == "referred":
        if condition.operand:
            return [premise("a referral", lambda r: r.conclusion.draws(subject))]
        return [premise("no referral")]
    if condition.operand:
        return [premise("self-care concluded", lambda r: r.conclusion.draws(subject))]
    return [premise("self-care not concluded")]


def how(kb: KnowledgeBase, result: TriageResult,
        derivations: dict[int, Derivation]) -> tuple[How, ...]:
    """HOW each conclusion was reached: the disposition, each likely muscle, each recommendation."""
    firings = [(f, kb.rule(f.rule)) for f in result.fired_rules]
    out = []
    disposition = f"disposition: {result.disposition.value}"
    if result.referral is not None:
        by_urgency = {r.rule: r.urgency.urgency for r in result.referral.reasons}
        referring = sorted((f for f, r in firings if isinstance(r.conclusion, Refer)),
                           key=lambda f: (-by_urgency.get(f.rule, 0), f.order))
        note = ""
        if any(r.rule == NO_CONCLUSION_RULE for r in result.referral.reasons):
            note = (f"no rule reached a conclusion, so the case is referred by default "
                    f"({NO_CONCLUSION_RULE})")
        out.append(How(disposition, tuple(derivations[f.order] for f in referring), note))
    else:
        concluding = [f for f, r in firings if isinstance(r.conclusion, Conclude)]
        out.append(How(disposition, tuple(derivations[f.order] for f in concluding)))
    for muscle in result.likely_muscles:
        signs = [f for f, r in firings if isinstance(r.conclusion, Sign)
                 and r.conclusion.muscle == muscle.muscle]
        out.append(How(f"likely muscle: {muscle.muscle} (confidence {muscle.confidence})",
                       tuple(derivations[f.order] for f in signs)))
    if result.disposition is Disposition.SELF_CARE:
        for f, r in firings:
            if isinstance(r.conclusion, Recommend):
                out.append(How(f"recommended: {', '.join(r.conclusion.techniques)}",
                               (derivations[f.order],)))
    return tuple(out)


# -- WHY NOT -----------------------------------------------------------------

def explain_why_not(kb: KnowledgeBase, case: Case, result: TriageResult, target: str) -> WhyNot:
    """Why ``target`` (a muscle or a disposition) was or was not concluded for ``case``.

    Lists every rule that could have concluded it and, for each, which of its
    conditions held. Conditions on the engine's conclusions are judged against
    what the engine concluded by the end of the run.
    """
    targets = why_not_targets(kb)
    if target not in targets:
        raise TriageError(not_allowed("cannot explain", target, targets, rest=": name a muscle or a disposition"))
    fired = {f.rule: f.order for f in result.fired_rules}
    concluded = _engine_state(kb, result)
    if target in kb.muscles:
        rules = [r for r in kb.rules if isinstance(r.conclusion, Sign) and r.conclusion.muscle == target]
        summary, done = _muscle_summary(kb, result, target, fired)
    else:
        wanted = Disposition(target)
        rules = [r for r in kb.rules if (isinstance(r.conclusion, Conclude) if wanted is Disposition.SELF_CARE
                                         else isinstance(r.conclusion, Refer) and r.conclusion.urgency is wanted)]
        summary, done = _disposition_summary(kb, result, wanted, fired)
    candidates = tuple(
        Candidate(rule.id, rule.conclusion.describe(), fired.get(rule.id),
                  tuple(_check(c, case, concluded) for c in rule.conditions))
        for rule in rules)
    return WhyNot(target, done, summary, candidates)


def _engine_state(kb: KnowledgeBase, result: TriageResult) -> dict[str, Any]:
    """What the engine had concluded by the end of the run, per engine subject."""
    rules = [kb.rule(f.rule) for f in result.fired_rules]
    return {
        "derived": sorted({r.conclusion.derived for r in rules if isinstance(r.conclusion, Derive)}),
        "likely_muscles": [m.muscle for m in result.likely_muscles],
        "referred": sorted({r.conclusion.urgency.value for r in rules
                            if isinstance(r.conclusion, Refer)}),
        "self_care": any(isinstance(r.conclusion, Conclude) for r in rules),
    }


def _check(condition: Condition, case: Case, concluded: dict[str, Any]) -> ConditionCheck:
    subject = condition.subject
    if condition.on_case:
        value = case.value(subject)
        found = _given(value)
    elif subject == "referred":
        value = bool(concluded["referred"])
        found = f"referral: {', '.join(concluded['referred'])}" if value else "no referral"
    elif subject == "self_care":
        value = concluded["self_care"]
        found = "self-care concluded" if value else "self-care not concluded"
    else:
        value = concluded[subject]
        noun = "derived" if subject == "derived" else "likely muscles"
        empty = "nothing derived" if subject == "derived" else "no likely muscles"
        found = f"{noun}: {', '.join(value)}" if value else empty
    return ConditionCheck(condition.describe(), condition.holds(value), found)


def _given(value: Any) -> str:
    if value is None:
        return "not given"
    if isinstance(value, (set, frozenset)):
        return f"given: {', '.join(sorted(value))}" if value else "none given"
    return f"given: {_plain(value)}"


def _muscle_summary(kb: KnowledgeBase, result: TriageResult, muscle: str,
                    fired: dict[str, int]) -> tuple[str, bool]:
    likely = {m.muscle: m for m in result.likely_muscles}
    if muscle in likely:
        return f"{muscle} is a likely muscle (confidence {likely[muscle].confidence})", True
    supporting = [rid for rid in fired if isinstance(kb.rule(rid).conclusion, Sign)
                  and kb.rule(rid).conclusion.muscle == muscle]
    if supporting:
        return (f"{muscle} is not a likely muscle: only supporting signs were found "
                f"({', '.join(supporting)}), and a likely muscle needs a strong sign"), False
    return f"{muscle} is not a likely muscle: no rule found a sign of it", False


def _disposition_summary(kb: KnowledgeBase, result: TriageResult, wanted: Disposition,
                         fired: dict[str, int]) -> tuple[str, bool]:
    actual = result.disposition
    if actual is wanted:
        return f"the disposition is {wanted.value}", True
    if wanted is Disposition.SELF_CARE:
        reasons = [r.rule for r in result.referral.reasons] if result.referral else []
        return (f"the disposition is {actual.value}, not self_care: a referral always withholds "
                f"self-care ({', '.join(reasons)})"), False
    found = [rid for rid in fired if isinstance(kb.rule(rid).conclusion, Refer)
             and kb.rule(rid).conclusion.urgency is wanted]
    if found:
        return (f"the disposition is {actual.value}: {wanted.value} reasons were found "
                f"({', '.join(found)}), but the most urgent referral wins"), False
    return f"the disposition is {actual.value}: no {wanted.value} rule held", False


# -- rendering -----------------------------------------------------------------

def render_text(audits: Iterable[CaseAudit]) -> str:
    """The audits for people: the trace, the HOW trees and any WHY NOT."""
    return "\n".join(_text_one(a) for a in audits)


def render_json(audits: Iterable[CaseAudit]) -> str:
    """The audits as one JSON list."""
    return json.dumps([a.to_dict() for a in audits], indent=2, ensure_ascii=False) + "\n"


def _text_one(audit: CaseAudit) -> str:
    r = audit.result
    muscles = ", ".join(f"{m.muscle} ({m.confidence})" for m in r.likely_muscles) or "none"
    lines = [f"AUDIT {r.id}", f"  disposition: {r.disposition.value} ({r.headline})",
             f"  likely muscles: {muscles}", f"  knowledge base: {r.kb_version}", "",
             "TRACE (firing order)"]
    for step in audit.trace:
        lines += [f"  {step.order}. {step.rule}  [salience {step.salience}, {step.where}]",
                  f"     {step.description}",
                  f"     sources: {', '.join(step.sources)}",
                  f"     when: {'; '.join(step.conditions)}",
                  f"     matched: {_facts_text(step.facts)}",
                  f"     asserted: {', '.join(step.asserted) or '(nothing new)'}"]
    if not audit.trace:
        lines.append("  (no rule fired)")
    lines += ["", "HOW"]
    shown: set[int] = set()
    for item in audit.how:
        lines.append(f"  {item.conclusion}")
        if item.note:
            lines.append(f"    {item.note}")
        for derivation in item.because:
            _tree(derivation, 4, shown, lines)
    for why in audit.why_nots:
        lines += ["", *_why_not_lines(why)]
    return "\n".join(lines) + "\n"


def _tree(derivation: Derivation, indent: int, shown: set[int], lines: list[str]) -> None:
    """One derivation and, below it, what it rested on; a firing is expanded once."""
    pad = " " * indent
    head = f"{pad}<- #{derivation.order} {derivation.rule}: {derivation.concludes}"
    if derivation.order in shown:
        lines.append(head + " (see above)")
        return
    shown.add(derivation.order)
    lines.append(head)
    for premise in derivation.premises:
        lines.append(f"{pad}   {premise.text}")
        for sub in premise.because:
            _tree(sub, indent + 5, shown, lines)


def _why_not_lines(why: WhyNot) -> list[str]:
    lines = [f"WHY NOT {why.target}", f"  {why.summary}"]
    if not why.candidates:
        lines.append("  (no rule of the knowledge base can conclude it)")
    for c in why.candidates:
        status = f"fired (#{c.fired})" if c.fired else "did not fire"
        lines.append(f"  {c.rule} ({c.concludes}): {status}")
        for check in c.checks:
            mark = "held:    " if check.held else "not met: "
            lines.append(f"    {mark}{check.condition} ({check.found})")
    return lines


def _facts_text(facts: dict[str, Any]) -> str:
    parts = []
    for subject, value in facts.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else _plain(value)
        parts.append(f"{subject}={shown if shown != '' else '(none)'}")
    return "; ".join(parts) or "(nothing)"


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    return "unknown" if value is None else value


# -- Graphviz --------------------------------------------------------------------

def render_dot(audits: Iterable[CaseAudit]) -> str:
    """One Graphviz digraph: per case, answers -> rules -> derived facts -> conclusions."""
    graph = _DotGraph()
    for index, audit in enumerate(audits):
        graph.case(index, audit)
    return graph.text()


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class _DotGraph:
    """Builds the dot text; node names are generated, labels carry the meaning."""

    _STYLE = {
        "answer": 'shape=ellipse, style=filled, fillcolor="#e8f1fb"',
        "absent": 'shape=plaintext, fontcolor="#555555"',
        "rule": 'shape=box, style="rounded,filled", fillcolor="#f5f5f5"',
        "derived": 'shape=hexagon, style=filled, fillcolor="#fff4d6"',
        "conclusion": 'shape=octagon, style=filled, fillcolor="#e3f5e1"',
        "referral": 'shape=octagon, style=filled, fillcolor="#fde2e1"',
        "disposition": 'shape=doubleoctagon, style="filled,bold", fillcolor="#ffffff"',
        # WHY NOT: what was asked about, the rules that did not fire and their unmet tests.
        "why_not": 'shape=octagon, style="dashed,filled", color="#b00020", fillcolor="#ffffff"',
        "unfired": 'shape=box, style="rounded,dashed", color="#b00020"',
        "unmet": 'shape=plaintext, fontcolor="#b00020"',
    }

    def __init__(self) -> None:
        self.lines = ["digraph triage_audit {", "  rankdir=LR;",
                      '  node [fontname="Helvetica", fontsize=10];',
                      '  edge [fontname="Helvetica", fontsize=9];']
        self.names: dict[tuple[Any, ...], str] = {}

    def node(self, key: tuple[Any, ...], label: str, style: str) -> str:
        if key not in self.names:
            self.names[key] = f"n{len(self.names)}"
            self.lines.append(f"    {self.names[key]} [label={_quote(label)}, {self._STYLE[style]}];")
        return self.names[key]

    def edge(self, a: str, b: str, label: str = "", dashed: bool = False, missing: bool = False) -> None:
        attrs = [f"label={_quote(label)}"] if label else []
        if dashed or missing:
            attrs.append("style=dashed")
        if missing:
            attrs.append('color="#b00020", fontcolor="#b00020"')
        line = f"    {a} -> {b}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";"
        if line not in self.lines:
            self.lines.append(line)

    def conclusion_node(self, case: int, rule_id: str, audit: CaseAudit) -> list[str]:
        """The nodes standing for what a rule concludes (one per technique for recommend)."""
        kb_rule = _rule_of(audit, rule_id)
        return [self.node((case, *key), label, style)
                for key, label, style in kb_rule.conclusion.graph_nodes()]

    def case(self, index: int, audit: CaseAudit) -> None:
        r = audit.result
        self.lines += [f"  subgraph cluster_{index} {{",
                       f"    label={_quote(f'case {r.id}: {r.disposition.value}')};"]
        for order in sorted(audit.derivations):
            d = audit.derivations[order]
            rule = self.node((index, "rule", order), f"#{order} {d.rule}", "rule")
            for premise in d.premises:
                self._premise(index, premise, rule, audit)
            concluded = _rule_of(audit, d.rule).conclusion
            strength = concluded.strength if isinstance(concluded, Sign) else None
            for target in self.conclusion_node(index, d.rule, audit):
                self.edge(rule, target, strength or "")
        final = self.node((index, "disposition"), f"disposition: {r.disposition.value}", "disposition")
        for item in audit.how[:1]:
            for d in item.because:
                # Less urgent referrals are kept as reasons but do not decide.
                concluded = _rule_of(audit, d.rule).conclusion
                urgency = concluded.urgency if isinstance(concluded, Refer) else None
                outranked = urgency is not None and urgency is not r.disposition
                for source in self.conclusion_node(index, d.rule, audit):
                    self.edge(source, final, "outranked" if outranked else "", dashed=outranked)
            if item.note:
                note = self.node((index, "absent", item.note), NO_CONCLUSION_RULE, "absent")
                self.edge(note, final, dashed=True)
        for why in audit.why_nots:
            self._why_not(index, why, audit)
        self.lines.append("  }")

    def _why_not(self, case: int, why: WhyNot, audit: CaseAudit) -> None:
        """The missing links: each rule that could have concluded the target and did not fire,
        with the tests it did not meet, drawn dashed in red; rules that fired join it too."""
        state = "concluded" if why.concluded else "not concluded"
        target = self.node((case, "why_not", why.target), f"why not {why.target}? ({state})", "why_not")
        if not why.candidates:
            none = self.node((case, "unmet", why.target, "none"), "no rule can conclude it", "unmet")
            self.edge(none, target, missing=True)
        for candidate in why.candidates:
            if candidate.fired:
                rule = self.node((case, "rule", candidate.fired), f"#{candidate.fired} {candidate.rule}",
                                 "rule")
                self.edge(rule, target, "fired")
                continue
            rule = self.node((case, "unfired", candidate.rule), f"{candidate.rule}\n(did not fire)", "unfired")
            self.edge(rule, target, missing=True)
            for check in candidate.checks:
                if not check.held:
                    unmet = self.node((case, "unmet", candidate.rule, check.condition),
                                      f"not met: {check.condition}\n({check.found})", "unmet")
                    self.edge(unmet, rule, missing=True)

    def _premise(self, case: int, premise: Premise, rule: str, audit: CaseAudit) -> None:
        if premise.kind is PremiseKind.ANSWER and premise.values:
            for value in premise.values:
                shown = _plain(value)
                source = self.node((case, "answer", premise.subject, shown),
                                   f"{premise.subject} = {shown}", "answer")
                self.edge(source, rule)
        elif premise.because:
            for d in premise.because:
                for source in self.conclusion_node(case, d.rule, audit):
                    self.edge(source, rule)
        else:
            label = premise.text.removeprefix("answer ")
            absent = self.node((case, "absent", label), label, "absent")
            self.edge(absent, rule, dashed=True)

    def text(self) -> str:
        return "\n".join(self.lines + ["}"]) + "\n"


def _rule_of(audit: CaseAudit, rule_id: str) -> KnowledgeRule:
    return audit.kb.rule(rule_id)


__all__ = [
    "why_not_targets", "CaseAudit", "Candidate", "ConditionCheck", "Derivation", "How",
    "Premise", "PremiseKind", "TraceStep", "WhyNot", "audit_case", "derive_all", "explain_why_not", "how",
    "render_dot", "render_json", "render_text", "rule_location", "trace",
]
