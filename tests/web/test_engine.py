"""Where the web server runs the engine: warm threads beside the event loop."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator

import pytest
from helpers import BASE_CASE

from triage.api import TriageKB
from triage.kb import KnowledgeBase
from triage.session import TriageSession
from triage.web import app as web_app
from triage.web.engine import SWITCH_INTERVAL, EnginePool


class CountingKB(TriageKB):
    """A TriageKB that notes which threads asked for their engine session."""

    def __init__(self, kb: KnowledgeBase) -> None:
        super().__init__(kb)
        self.asked_by: list[str] = []

    @property
    def session(self) -> TriageSession:
        self.asked_by.append(threading.current_thread().name)
        return super().session


def test_starting_the_pool_builds_every_threads_engine_before_any_request(kb: KnowledgeBase) -> None:
    counting = CountingKB(kb)
    pool = EnginePool(counting, threads=2, questionnaire_threads=3)
    try:
        pool.start()
        names = set(counting.asked_by)
        assert len({n for n in names if n.startswith("triage-engine")}) == 2
        assert len({n for n in names if n.startswith("triage-questionnaire")}) == 3
        result = asyncio.run(pool.run(counting.triage, {**BASE_CASE, "id": "after-start"}))
        assert result["id"] == "after-start"
    finally:
        pool.close()


def test_a_single_case_is_answered_while_every_questionnaire_thread_is_busy(kb: KnowledgeBase) -> None:
    """Questionnaire steps have their own threads: a single case never queues behind them."""
    pool = EnginePool(TriageKB(kb), questionnaire_threads=1)
    release = threading.Event()

    async def both() -> dict[str, object]:
        stuck = asyncio.ensure_future(pool.step(release.wait, 60))
        try:
            return await asyncio.wait_for(pool.run(pool.kb.triage, {**BASE_CASE, "id": "beside"}), 60)
        finally:
            release.set()
            await stuck

    try:
        assert asyncio.run(both())["id"] == "beside"
    finally:
        pool.close()


def test_a_batch_comes_back_in_order_with_error_records_in_place(kb: KnowledgeBase) -> None:
    pool = EnginePool(TriageKB(kb))
    cases = [{**BASE_CASE, "id": f"c{n}"} for n in range(45)]
    cases[21] = {**BASE_CASE, "id": "bad", "age": "old"}
    try:
        results = asyncio.run(pool.triage_many(cases))
    finally:
        pool.close()
    assert [r["id"] for r in results] == [c["id"] for c in cases]
    assert "error" in results[21] and "disposition" in results[22]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Undo what a server worker's start-up does to the whole process (this one, in a test)."""
    interval = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(interval)


def test_a_server_worker_keeps_what_it_loaded_at_start_out_of_gc_scans(
        unfrozen: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(web_app.RULES_ENV, raising=False)
    monkeypatch.delenv(web_app.CORS_ENV, raising=False)
    gc.unfreeze()
    application = web_app.app_from_environment()
    try:
        assert gc.get_freeze_count() > 10_000  # the knowledge base, its engine, the web stack
    finally:
        application.state.engine.close()


def test_serve_sizes_each_workers_questionnaire_threads_by_its_option(
        unfrozen: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`triage serve --questionnaire-threads 3` reaches every worker through the environment."""
    for name in (web_app.RULES_ENV, web_app.CORS_ENV, web_app.THREADS_ENV):
        monkeypatch.delenv(name, raising=False)
    web_app.configure_environment(None, (), 3)
    application = web_app.app_from_environment()
    try:
        assert application.state.engine.questionnaire_threads == 3
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        names = {t.name for t in threading.enumerate()}
        assert len({n for n in names if n.startswith("triage-questionnaire")}) >= 3
    finally:
        application.state.engine.close()
