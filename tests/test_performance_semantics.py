"""The engine's speed-ups keep experta's semantics.

The same knowledge base is compiled twice: onto ``TriageEngine`` (with the
performance overrides of ``triage.compiler``) and onto experta's own,
unmodified matcher, strategy, ``reset()`` and ``run()``. Every generated case
must give the same result, audit trail included.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import pytest

from triage._experta import DepthStrategy, KnowledgeEngine, ReteMatcher, Rule, watchers
from triage.compiler import TriageEngine, build_engine
from triage.formats import to_json
from triage.knowledge import KnowledgeBase
from triage.session import TriageSession
from helpers import make_case, parse

ROOT = Path(__file__).resolve().parents[1]


class PlainExpertaEngine(TriageEngine):
    """The compiled rules on experta's own machinery, none of our overrides."""

    __matcher__ = ReteMatcher
    __strategy__ = DepthStrategy
    reset = KnowledgeEngine.reset
    run = KnowledgeEngine.run


def _generated(count: int, seed: int) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("bench_cases", ROOT / "benchmarks" / "cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.generate_cases(count, seed))


@pytest.fixture(scope="module")
def plain(kb: KnowledgeBase) -> TriageSession:
    session = TriageSession(kb)
    session.engine = build_engine(kb, PlainExpertaEngine)
    return session


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_engine_matches_plain_experta(seed: int, session: TriageSession,
                                           plain: TriageSession) -> None:
    for n, raw in enumerate(_generated(400, seed), start=1):
        case = parse(raw, f"gen#{n}")
        assert to_json(session.triage(case)) == to_json(plain.triage(case)), case.id


def test_every_rule_is_an_experta_rule_and_fires_through_the_agenda(
        session: TriageSession) -> None:
    engine = session.engine
    assert isinstance(engine.matcher, ReteMatcher)
    assert isinstance(engine.strategy, DepthStrategy)
    rules = engine.get_rules()
    assert len(rules) == len(session.kb.rules) and all(isinstance(r, Rule) for r in rules)
    result = session.triage(make_case(triggers=["tennis_serve"], worse_when=["sitting"]))
    assert [f.rule for f in result.fired_rules][:3] == [
        "derive.back_pain.back_site", "muscle.piriformis.tennis_serve", "muscle.piriformis.worse_sitting"]


def test_experta_fire_log_still_written_when_watched(session: TriageSession,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    watchers.watch("RULES", level=logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger=watchers.RULES.name):
            result = session.triage(make_case(triggers=["tennis_serve"]))
    finally:
        watchers.unwatch("RULES")
    fired = [r.getMessage() for r in caplog.records if r.getMessage().startswith("FIRE")]
    assert len(fired) == len(result.fired_rules)
    assert fired[0].startswith("FIRE 1 derive.back_pain.back_site")


def test_no_state_leaks_between_cases(session: TriageSession) -> None:
    emergency = make_case("a", red_flags=["saddle_numbness"])
    calm = make_case("b", triggers=["tennis_serve"])
    alone = to_json(session.triage(calm))
    session.triage(emergency)
    assert to_json(session.triage(calm)) == alone
