"""The engine's speed-ups keep experta's semantics, and are used only where proven.

The same knowledge base is compiled twice: onto ``FastTriageEngine`` (the
overrides of ``triage.engine.fast_rete``) and onto the shipped plain
``TriageEngine`` (experta's own, unmodified matcher, strategy, ``reset()`` and
``run()``). Every golden case and 2,000 generated ones must fire the same
rules in the same order and give the same result, audit trail included.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from triage._experta import DepthStrategy, KnowledgeEngine, ReteMatcher, Rule, watchers
from triage.case import Case
from triage.compiler import build_engine
from triage.engine import PROVEN_EXPERTA_VERSION, TriageEngine, choice, engine_class
from triage.engine.fast_rete import FastTriageEngine
from triage.errors import ExpertaVersionWarning
from triage.formats import to_json
from triage.kb import KnowledgeBase
from triage.session import TriageSession
from helpers import load_script, make_case, parse

ROOT = Path(__file__).resolve().parents[1]
GOLDEN_FILES = ("cases.yaml", "policy-v2.yaml")


def _generated(count: int, seed: int) -> list[dict[str, Any]]:
    return list(load_script("benchmarks/cases.py").generate_cases(count, seed))


def _golden() -> Iterator[Case]:
    for name in GOLDEN_FILES:
        for golden in yaml.safe_load((ROOT / "tests" / "golden" / name).read_text()):
            yield parse(golden["case"], golden["name"])


@pytest.fixture(scope="module")
def plain(kb: KnowledgeBase) -> TriageSession:
    session = TriageSession(kb)
    session.engine = build_engine(kb, TriageEngine)
    return session


def _same(case: Case, fast: TriageSession, plain: TriageSession) -> None:
    expected, got = plain.triage(case), fast.triage(case)
    assert [f.rule for f in got.fired_rules] == [f.rule for f in expected.fired_rules], case.id
    assert to_json(got) == to_json(expected), case.id


def test_the_sessions_compared_run_the_fast_and_the_plain_engine(
        session: TriageSession, plain: TriageSession) -> None:
    assert isinstance(session.engine, FastTriageEngine)
    assert not isinstance(plain.engine, FastTriageEngine)
    assert type(plain.engine).__mro__[1] is TriageEngine
    assert TriageEngine.__matcher__ is ReteMatcher and TriageEngine.__strategy__ is DepthStrategy
    assert TriageEngine.run is KnowledgeEngine.run and TriageEngine.reset is KnowledgeEngine.reset


def test_fast_engine_matches_plain_experta_on_golden_cases(session: TriageSession,
                                                           plain: TriageSession) -> None:
    cases = list(_golden())
    assert len(cases) > 50
    for case in cases:
        _same(case, session, plain)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_fast_engine_matches_plain_experta(seed: int, session: TriageSession,
                                           plain: TriageSession) -> None:
    for n, raw in enumerate(_generated(400, seed), start=1):
        _same(parse(raw, f"gen#{n}"), session, plain)


@pytest.fixture
def fresh_choice() -> Iterator[None]:
    """Forget the engine this process chose, before and after the test."""
    engine_class.cache_clear()
    yield
    engine_class.cache_clear()


def test_the_proven_experta_selects_the_fast_engine(fresh_choice: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(choice, "installed_experta_version", lambda: PROVEN_EXPERTA_VERSION)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert engine_class() is FastTriageEngine


def test_the_installed_experta_is_the_proven_one() -> None:
    assert choice.installed_experta_version() == PROVEN_EXPERTA_VERSION == "1.9.4"


@pytest.mark.parametrize("version", ["1.9.5", "2.0.0", None])
def test_another_experta_selects_the_plain_engine_and_warns_once(
        version: str | None, fresh_choice: None, kb: KnowledgeBase,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(choice, "installed_experta_version", lambda: version)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engines = [build_engine(kb), build_engine(kb)]
    assert all(type(e).__mro__[1] is TriageEngine for e in engines)
    assert [w.category for w in caught] == [ExpertaVersionWarning]
    message = str(caught[0].message)
    assert "\n" not in message and "1.9.4" in message and "plain engine" in message
    assert (version or "version unknown") in message


def test_every_rule_is_an_experta_rule_and_fires_through_the_agenda(
        session: TriageSession) -> None:
    engine = session.engine
    assert isinstance(engine.matcher, ReteMatcher)
    assert isinstance(engine.strategy, DepthStrategy)
    rules = engine.get_rules()
    assert len(rules) == len(session.kb.rules) and all(isinstance(r, Rule) for r in rules)
    result = session.triage(make_case(pain_sites=["buttock"], triggers=["tennis_serve"], worse_when=["sitting"]))
    assert [f.rule for f in result.fired_rules][:3] == [
        "derive.back_pain.back_site", "muscle.piriformis.tennis_serve", "muscle.piriformis.worse_sitting"]


def test_experta_fire_log_still_written_when_watched(session: TriageSession,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    watchers.watch("RULES", level=logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger=watchers.RULES.name):
            result = session.triage(make_case(pain_sites=["buttock"], triggers=["tennis_serve"]))
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
