"""Where audits run: a thread of their own, beside the engine threads that answer people.

An audit of many cases (and Graphviz drawing its graph) takes seconds; on
the engine thread, every questionnaire step and single case queued behind
it waited that long (a 1,000-case audit held a single case for 45 s). Here
audits queue only behind audits. The thread builds its own engine on its
first audit, so a server nobody audits on pays nothing for it.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.requests import Request

T = TypeVar("T")


class AuditPool:
    """One thread that runs audits, one at a time, in the order they came."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-audit")

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the audit thread; the event loop and the engine threads stay free."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(function, *args))

    def close(self) -> None:
        """Stop the thread (audits not started are dropped)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def let_others_run() -> None:
    """Called between the cases of an audit: hand the interpreter to a waiting thread now.

    Otherwise an engine thread with a single case to answer would wait for
    the interpreter's switch interval (5 ms) at each turn.
    """
    time.sleep(0)


def audits_of(request: Request) -> AuditPool:
    """The application's audit thread."""
    pool: AuditPool = request.app.state.audits
    return pool
