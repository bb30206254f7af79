"""Golden cases: full cases with what their result must show, and the check of a result against them.

A golden file (``tests/golden/*.yaml``) is a YAML list of ``{name, case,
expect}``; ``expect`` names what the result must show, each key optional
(see :data:`EXPECT_KEYS`). The golden tests, the traceability report and the
knowledge-base mutation test all judge a result with :func:`unmet`, so a
golden case means the same thing to each of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .case import Case, parse_case
from .errors import InputFileError, Location
from .kb import KnowledgeBase
from .results import LikelyMuscle, TriageResult
from .vocabulary import Vocabulary
from .yamlio import YamlList, YamlMap, load_yaml

#: Each ``expect`` key and what it checks.
EXPECT_KEYS: dict[str, str] = {
    "disposition": "the disposition, exactly",
    "no_self_care": "true: a referral, and no technique given",
    "likely_muscles": "the likely muscles, exactly, in rank order",
    "top_muscles": "the muscles tied at the top, order-free ([] = none)",
    "referral_rules": "the referral reasons' rule ids, exactly, most urgent first",
    "referral_includes": "rule ids that must be among the referral reasons",
    "referral_excludes": "rule ids that must not be among them",
    "recommendations": "the technique ids, exactly, in order",
    "techniques_for": "the likely muscles the techniques are for, order-free",
    "fired_includes": "rule ids that must appear in fired_rules",
}


@dataclass(frozen=True)
class GoldenCase:
    """One golden case: its name, the case, what its result must show, and where it was written."""

    name: str
    case: Case
    expect: Mapping[str, Any]
    location: Location


def read_golden(paths: Iterable[str | Path], vocabulary: Vocabulary) -> list[GoldenCase]:
    """Every golden case of ``paths``, in order; each case read against ``vocabulary``.

    Raises :class:`~triage.errors.InputFileError` for a file that is not a list
    of ``{name, case, expect}`` or uses an unknown ``expect`` key, and
    :class:`~triage.errors.CaseError` for an invalid case.
    """
    found = []
    for path in paths:
        name = str(path)
        try:
            entries = load_yaml(Path(path).read_text(encoding="utf-8-sig"), name)
        except OSError as exc:
            raise InputFileError(f"cannot read the golden file: {exc.strerror or exc}", Location(name)) from None
        if not isinstance(entries, YamlList):
            raise InputFileError("a golden file must be a list of {name, case, expect}", Location(name))
        for n, entry in enumerate(entries):
            where = Location(name, entries.line_of(n))
            if not (isinstance(entry, YamlMap) and isinstance(entry.get("name"), str)
                    and isinstance(entry.get("expect"), Mapping)):
                raise InputFileError("a golden case needs a name, a case and an expect mapping", where)
            unknown = sorted(set(entry["expect"]) - set(EXPECT_KEYS))
            if unknown:
                raise InputFileError(f"unknown expect key {unknown[0]!r} in golden case {entry['name']!r} "
                                     f"(known: {', '.join(EXPECT_KEYS)})", where)
            case = parse_case(entry.get("case"), entry["name"], vocabulary, file=name, line=where.line)
            found.append(GoldenCase(entry["name"], case, entry["expect"], where))
    return found


def unmet(expect: Mapping[str, Any], result: TriageResult, kb: KnowledgeBase) -> list[str]:
    """Each expectation of ``expect`` that ``result`` does not meet, in words ([] when all are met)."""
    fired = [f.rule for f in result.fired_rules]
    reasons = [r.rule for r in result.referral.reasons] if result.referral else []
    muscles = [m.muscle for m in result.likely_muscles]
    techniques = [r.technique for r in result.recommendations]
    failed = []

    def check(key: str, holds: bool, got: Any) -> None:
        if not holds:
            failed.append(f"{key}: expected {expect[key]!r}, got {got!r}")

    if "disposition" in expect:
        check("disposition", result.disposition.value == expect["disposition"], result.disposition.value)
    if expect.get("no_self_care"):
        check("no_self_care", result.disposition.value != "self_care" and not techniques,
              (result.disposition.value, techniques))
    if "likely_muscles" in expect:
        check("likely_muscles", muscles == list(expect["likely_muscles"]), muscles)
    if "top_muscles" in expect:
        top = _top_muscles(result.likely_muscles, kb)
        check("top_muscles", top == set(expect["top_muscles"]), sorted(top))
    if "referral_rules" in expect:
        check("referral_rules", reasons == list(expect["referral_rules"]), reasons)
    if "referral_includes" in expect:
        check("referral_includes", set(expect["referral_includes"]) <= set(reasons), reasons)
    if "referral_excludes" in expect:
        check("referral_excludes", not set(expect["referral_excludes"]) & set(reasons), reasons)
    if "recommendations" in expect:
        check("recommendations", techniques == list(expect["recommendations"]), techniques)
    if "techniques_for" in expect:
        # A technique shared by two muscles counts only for the likely ones.
        targets = {m for r in result.recommendations for m in r.for_muscles if m in muscles}
        check("techniques_for", targets == set(expect["techniques_for"]), sorted(targets))
    if "fired_includes" in expect:
        check("fired_includes", set(expect["fired_includes"]) <= set(fired), fired)
    return failed


def _top_muscles(muscles: tuple[LikelyMuscle, ...], kb: KnowledgeBase) -> set[str]:
    """The muscles tied with the first one: same confidence and same number of strong signs."""
    strong = {r.id for r in kb.rules if r.conclusion.draws("likely_muscles")}

    def rank(m: LikelyMuscle) -> tuple[float, int]:
        return m.confidence, sum(1 for rule in m.evidence if rule in strong)

    return {m.muscle for m in muscles if rank(m) == rank(muscles[0])} if muscles else set()


__all__ = ["EXPECT_KEYS", "GoldenCase", "read_golden", "unmet"]
