"""The kinds of conclusion a rule can draw, one class each.

A rule's ``then:`` names exactly one kind (``derive``, ``sign``, ``refer``,
``conclude``, ``recommend``). Each class here owns everything about its kind:
its YAML keys and their validation, its description in words, the fact it
asserts in the engine (as plain data: the compiler turns it into an experta
fact, so this module never imports experta and lint or audit text does not
need the engine), which engine subject it draws and when it makes a later
rule redundant. Adding a kind means adding a class here and listing it in
:data:`KINDS`.

The engine's own subjects (``derived``, ``likely_muscles``, ``referred``,
``self_care``), which later rules test, are in one table,
:data:`ENGINE_SUBJECTS`, each with the kind that draws it; that class also
says which operators test the subject, which values they may name and its
value before any rule fires.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import Location, Problem
from .vocabulary import Disposition, not_allowed

#: The strengths of a sign, strongest first.
STRENGTHS = ("strong", "supporting")


@dataclass(frozen=True)
class Assertion:
    """A fact a firing asserts: the name of its class in :mod:`triage.engine.facts`, its
    fields (in the order the fact is built with) and its text in the trace."""

    fact: str
    fields: tuple[tuple[str, Any], ...]
    text: str


@dataclass(frozen=True)
class Names:
    """What a conclusion may name, for validation: declared derived facts, muscles, techniques."""

    derived: Collection[str]
    muscles: tuple[str, ...]
    techniques: Collection[str]


class Conclusion:
    """What a rule asserts when it fires; one subclass per kind."""

    #: The key of ``then:`` that names this kind (also its salience key).
    kind: ClassVar[str]
    #: Every key ``then:`` may have for this kind.
    keys: ClassVar[tuple[str, ...]]
    #: The engine subject this kind draws (tested by later rules), if any.
    draws_subject: ClassVar[str | None] = None
    #: True when that subject is a yes/no flag rather than a set of names.
    flag: ClassVar[bool] = False
    #: The value of ``draws_subject`` before any conclusion is drawn.
    nothing_drawn: ClassVar[Any] = None
    #: The conclusion as a noun, for a flag subject ("there must be a referral").
    noun: ClassVar[str] = ""
    #: The operators a rule may test ``draws_subject`` with. ``has_any`` is left out:
    #: it would compile to an OR, which experta fires once per alternative that holds.
    operators: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def parse(cls, then: Mapping[str, Any], where: Location, names: Names,
              problems: list[Problem]) -> Conclusion | None:
        """The conclusion ``then`` describes, appending a problem for each mistake.

        Returns ``None`` when nothing usable can be built.
        """
        raise NotImplementedError

    def describe(self) -> str:
        """The conclusion in words, e.g. ``sign: piriformis (strong)``."""
        raise NotImplementedError

    def plain_words(self, derived_facts: Mapping[str, str],
                    headline: Callable[[Disposition], str]) -> str:
        """The conclusion for a person answering questions (the "why we ask" text)."""
        return self.describe()

    def asserts(self, rule_id: str) -> tuple[Assertion, ...]:
        """The facts a firing of rule ``rule_id`` asserts."""
        raise NotImplementedError

    def draws(self, subject: str, name: Any = None) -> bool:
        """True when this conclusion makes a positive test of ``subject`` hold.

        ``name`` narrows it to one derived fact or one muscle (``None``: any).
        """
        return False

    def dependency_key(self) -> str | None:
        """What later rules test to see this conclusion (an engine subject, or one derived
        fact as ``derived:name``); ``None`` when no rule can test it."""
        return self.draws_subject

    def redundant_with(self, general: Conclusion) -> str | None:
        """Why this conclusion adds nothing when ``general`` is always drawn with it, or None."""
        return None

    def required_test(self) -> tuple[tuple[str, str, Any], str] | None:
        """A test every rule drawing this kind must make, and the reason, for safety."""
        return None

    def details(self) -> dict[str, str]:
        """Extra words about the conclusion shown by ``rules show`` (e.g. a referral's reason)."""
        return {}

    def graph_nodes(self) -> list[tuple[tuple[str, ...], str, str]]:
        """The audit graph's nodes for this conclusion: (key, label, style) each."""
        raise NotImplementedError

    @classmethod
    def needed(cls, name: Any) -> str:
        """Words for what a test of this kind's subject needs (``name`` as in :meth:`draws`)."""
        raise NotImplementedError

    @classmethod
    def domain(cls, names: Names) -> tuple[Any, ...]:
        """Every value a test of this kind's subject may name (true and false for a flag)."""
        return (True, False) if cls.flag else ()


@dataclass(frozen=True)
class Derive(Conclusion):
    """``derive: long_sitting``: an intermediate fact that later rules test."""

    derived: str
    kind: ClassVar[str] = "derive"
    keys: ClassVar[tuple[str, ...]] = ("derive",)
    draws_subject: ClassVar[str | None] = "derived"
    nothing_drawn: ClassVar[Any] = frozenset()
    operators: ClassVar[tuple[str, ...]] = ("has", "has_all", "has_none")

    @classmethod
    def parse(cls, then: Mapping[str, Any], where: Location, names: Names,
              problems: list[Problem]) -> Conclusion | None:
        value = then["derive"]
        if value not in names.derived:
            problems.append(Problem(where, not_allowed(
                "derive names an undeclared derived fact", value, names.derived,
                note="Declare it under derived_facts.")))
        return cls(value)

    def describe(self) -> str:
        return f"derived: {self.derived}"

    def plain_words(self, derived_facts: Mapping[str, str],
                    headline: Callable[[Disposition], str]) -> str:
        return f"{derived_facts.get(self.derived or '', self.derived)}".rstrip(".").lower()

    def asserts(self, rule_id: str) -> tuple[Assertion, ...]:
        return (Assertion("Derived", (("name", self.derived),), self.describe()),)

    def draws(self, subject: str, name: Any = None) -> bool:
        return subject == self.draws_subject and self.derived == name

    def dependency_key(self) -> str | None:
        # A test of one derived fact depends only on the rules deriving it.
        return f"derived:{self.derived}"

    def redundant_with(self, general: Conclusion) -> str | None:
        if isinstance(general, Derive) and general.derived == self.derived:
            return f"it derives {self.derived}, which that rule already derives"
        return None

    def graph_nodes(self) -> list[tuple[tuple[str, ...], str, str]]:
        return [(("derived", self.derived), f"derived: {self.derived}", "derived")]

    @classmethod
    def needed(cls, name: Any) -> str:
        return f"derived fact {name!r}"

    @classmethod
    def domain(cls, names: Names) -> tuple[Any, ...]:
        return tuple(names.derived)


@dataclass(frozen=True)
class Sign(Conclusion):
    """``sign: piriformis, strength: strong``: evidence that a muscle is tight."""

    muscle: str
    strength: str | None
    kind: ClassVar[str] = "sign"
    keys: ClassVar[tuple[str, ...]] = ("sign", "strength")
    draws_subject: ClassVar[str | None] = "likely_muscles"
    nothing_drawn: ClassVar[Any] = frozenset()
    operators: ClassVar[tuple[str, ...]] = ("has", "has_all", "has_none", "empty")

    @classmethod
    def parse(cls, then: Mapping[str, Any], where: Location, names: Names,
              problems: list[Problem]) -> Conclusion | None:
        value, strength = then["sign"], then.get("strength")
        if value not in names.muscles:
            problems.append(Problem(where, not_allowed(
                "sign names an unknown muscle", value, names.muscles,
                note="A new muscle is added in the vocabulary section (rules/vocabulary.yaml).")))
        if strength not in STRENGTHS:
            problems.append(Problem(where, f"a sign needs strength {' or '.join(STRENGTHS)}, "
                                    f"got {strength!r}"))
        return cls(value, strength)

    def describe(self) -> str:
        return f"sign: {self.muscle} ({self.strength})"

    def plain_words(self, derived_facts: Mapping[str, str],
                    headline: Callable[[Disposition], str]) -> str:
        return f"a {self.strength} sign of a tight muscle: {(self.muscle or '').replace('_', ' ')}"

    def asserts(self, rule_id: str) -> tuple[Assertion, ...]:
        return (Assertion("Sign", (("muscle", self.muscle), ("strength", self.strength),
                                   ("rule", rule_id)), self.describe()),)

    def draws(self, subject: str, name: Any = None) -> bool:
        # Only a strong sign makes a muscle likely.
        return (subject == self.draws_subject and self.strength == "strong"
                and (name is None or self.muscle == name))

    def redundant_with(self, general: Conclusion) -> str | None:
        if isinstance(general, Sign) and general.muscle == self.muscle and (
                general.strength == "strong" or self.strength == "supporting"):
            return f"its sign for {self.muscle} is always counted with that rule's"
        return None

    def graph_nodes(self) -> list[tuple[tuple[str, ...], str, str]]:
        return [(("muscle", self.muscle), f"muscle: {self.muscle}", "conclusion")]

    @classmethod
    def needed(cls, name: Any) -> str:
        return "a strong sign for any muscle" if name is None else f"a strong sign for {name}"

    @classmethod
    def domain(cls, names: Names) -> tuple[Any, ...]:
        return names.muscles


@dataclass(frozen=True)
class Refer(Conclusion):
    """``refer: urgent, reason: ...``: the case needs a clinician, this soon."""

    urgency: Disposition
    reason: str
    kind: ClassVar[str] = "refer"
    keys: ClassVar[tuple[str, ...]] = ("refer", "reason")
    draws_subject: ClassVar[str | None] = "referred"
    flag: ClassVar[bool] = True
    nothing_drawn: ClassVar[Any] = False
    noun: ClassVar[str] = "referral"
    operators: ClassVar[tuple[str, ...]] = ("is",)

    @classmethod
    def parse(cls, then: Mapping[str, Any], where: Location, names: Names,
              problems: list[Problem]) -> Conclusion | None:
        value = then["refer"]
        urgencies = [d.value for d in Disposition if d.is_referral]
        if value not in urgencies:
            problems.append(Problem(where, not_allowed("refer names an unknown urgency", value, urgencies)))
            return None
        reason = then.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            problems.append(Problem(where, "a referral needs a reason in plain words"))
        return cls(Disposition(value), str(reason or "").strip())

    def describe(self) -> str:
        return f"referral: {self.urgency.value}"

    def plain_words(self, derived_facts: Mapping[str, str],
                    headline: Callable[[Disposition], str]) -> str:
        return headline(self.urgency).rstrip(".").lower()

    def asserts(self, rule_id: str) -> tuple[Assertion, ...]:
        return (Assertion("Referral", (("urgency", self.urgency.value), ("rule", rule_id),
                                       ("reason", self.reason)), self.describe()),)

    def draws(self, subject: str, name: Any = None) -> bool:
        return subject == self.draws_subject

    def redundant_with(self, general: Conclusion) -> str | None:
        if isinstance(general, Refer) and general.urgency.urgency >= self.urgency.urgency:
            return (f"its {self.urgency.value} referral never decides the disposition "
                    f"(that rule refers {general.urgency.value})")
        return None

    def details(self) -> dict[str, str]:
        return {"reason": self.reason} if self.reason else {}

    def graph_nodes(self) -> list[tuple[tuple[str, ...], str, str]]:
        urgency = self.urgency.value
        return [(("referral", urgency), f"referral: {urgency}", "referral")]

    @classmethod
    def needed(cls, name: Any) -> str:
        return "a referral"


@dataclass(frozen=True)
class Conclude(Conclusion):
    """``conclude: self_care``: nothing needs a clinician; self-care is advised."""

    kind: ClassVar[str] = "conclude"
    keys: ClassVar[tuple[str, ...]] = ("conclude",)
    draws_subject: ClassVar[str | None] = "self_care"
    flag: ClassVar[bool] = True
    nothing_drawn: ClassVar[Any] = False
    noun: ClassVar[str] = "self-care conclusion"
    operators: ClassVar[tuple[str, ...]] = ("is",)

    @classmethod
    def parse(cls, then: Mapping[str, Any], where: Location, names: Names,
              problems: list[Problem]) -> Conclusion | None:
        if then["conclude"] != Disposition.SELF_CARE.value:
            problems.append(Problem(where, "conclude can only be self_care (referrals use refer), "
                                    f"got {then['conclude']!r}"))
        return cls()

    def describe(self) -> str:
        return "conclusion: self_care"

    def asserts(self, rule_id: str) -> tuple[Assertion, ...]:
        return (Assertion("SelfCare", (), self.describe()),)

    def draws(self, subject: str, name: Any = None) -> bool:
        return subject == self.draws_subject

    def redundant_with(self, general: Conclusion) -> str | None:
        return "that rule already concludes self_care" if isinstance(general, Conclude) else None

    def required_test(self) -> tuple[tuple[str, str, Any], str] | None:
        return ("referred", "is", False), "the self_care conclusion must require referred: false"

    def graph_nodes(self) -> list[tuple[tuple[str, ...], str, str]]:
        return [(("self_care",), "self-care", "conclusion")]

    @classmethod
    def needed(cls, name: Any) -> str:
        return "the self-care conclusion"


@dataclass(frozen=True)
class Recommend(Conclusion):
    """``recommend: [technique, ...]``: self-care techniques to offer."""

    techniques: tuple[str, ...]
    kind: ClassVar[str] = "recommend"
    keys: ClassVar[tuple[str, ...]] = ("recommend",)

    @classmethod
    def parse(cls, then: Mapping[str, Any], where: Location, names: Names,
              problems: list[Problem]) -> Conclusion | None:
        value = then["recommend"]
        if not isinstance(value, list) or not value or not all(
                isinstance(v, str) and v.strip() for v in value):
            problems.append(Problem(where, "recommend must list technique ids"))
            return None
        for technique in value:
            if technique not in names.techniques:
                problems.append(Problem(where, not_allowed("unknown technique", technique, names.techniques)))
        return cls(tuple(value))

    def describe(self) -> str:
        return "recommend: " + ", ".join(self.techniques)

    def asserts(self, rule_id: str) -> tuple[Assertion, ...]:
        return tuple(Assertion("Recommendation", (("technique", t),), f"recommend: {t}")
                     for t in self.techniques)

    def redundant_with(self, general: Conclusion) -> str | None:
        if isinstance(general, Recommend) and set(self.techniques) <= set(general.techniques):
            return "that rule already recommends all of its techniques"
        return None

    def required_test(self) -> tuple[tuple[str, str, Any], str] | None:
        return (("self_care", "is", True),
                "a recommend rule must require self_care: true, so that a referral always "
                "withholds techniques")

    def graph_nodes(self) -> list[tuple[tuple[str, ...], str, str]]:
        return [(("technique", t), f"technique: {t}", "conclusion") for t in self.techniques]


#: Every kind by its ``then:`` key, in the order error messages list them.
KINDS: dict[str, type[Conclusion]] = {cls.kind: cls for cls in (Derive, Refer, Sign, Conclude, Recommend)}
CONCLUSION_KINDS = tuple(KINDS)

#: The engine's own subjects, which rules test, each with the kind that draws it.
ENGINE_SUBJECTS: dict[str, type[Conclusion]] = {
    cls.draws_subject: cls for cls in (Derive, Sign, Refer, Conclude) if cls.draws_subject}
#: Engine subjects that are yes/no flags (``referred: true``), not sets of names.
FLAG_SUBJECTS = tuple(s for s, cls in ENGINE_SUBJECTS.items() if cls.flag)


def kind_of(then: Any, where: Location, problems: list[Problem]) -> type[Conclusion] | None:
    """The kind ``then`` concludes, or ``None`` (with a problem) unless it names exactly one."""
    kinds = [cls for key, cls in KINDS.items() if isinstance(then, Mapping) and key in then]
    if len(kinds) != 1:
        problems.append(Problem(where, f"then must conclude exactly one of {', '.join(KINDS)}"))
        return None
    return kinds[0]


def before_any_firing() -> dict[str, Any]:
    """Each engine subject's value before any rule fires."""
    return {subject: cls.nothing_drawn for subject, cls in ENGINE_SUBJECTS.items()}


__all__ = [
    "CONCLUSION_KINDS", "ENGINE_SUBJECTS", "FLAG_SUBJECTS", "KINDS", "STRENGTHS", "Assertion",
    "Conclude", "Conclusion", "Derive", "Names", "Recommend", "Refer", "Sign", "before_any_firing",
    "kind_of",
]
