"""A one-line progress display on stderr for long batches on a terminal.

Shown only when stderr is a terminal and the batch has run for more than a
second; redrawn in place a few times a second and wiped at the end, so a
finished run leaves no trace of it. Like click's progress bar, but it counts
cases whose total is only estimated (from how much of the input was read).
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from .common import is_terminal, terminal_width

if TYPE_CHECKING:
    from ..batch import ReadProgress


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Cases done, cases per second and, when the input's size is known, time left."""

    #: Seconds before anything is shown: a quick run stays silent.
    DELAY = 1.0
    #: Seconds between redraws.
    EVERY = 0.25

    def __init__(self, stream: Any, source: ReadProgress | None, enabled: bool = True) -> None:
        self._stream = stream
        self._source = source
        self._enabled = enabled and is_terminal(stream)
        self._start = time.monotonic()
        self._next = self._start + self.DELAY
        self._shown = 0

    def update(self, done: int) -> None:
        """``done`` cases are finished; redraw if it is time to."""
        if not self._enabled:
            return
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.EVERY
        self._draw(self.line(done, now - self._start))

    def line(self, done: int, elapsed: float) -> str:
        """The text shown after ``elapsed`` seconds with ``done`` cases finished."""
        rate = done / elapsed if elapsed > 0 else 0.0
        total = self._source.estimated_total() if self._source is not None else None
        if total is not None:
            total = max(total, done)
            parts = [f"{done:,} of about {total:,} cases ({100 * done // total}%)"]
        else:
            parts = [f"{done:,} cases"]
        parts.append(f"{rate:,.0f} cases/s")
        if total is not None and rate > 0:
            parts.append(f"about {_duration((total - done) / rate)} left")
        return "triage: " + ", ".join(parts)

    def _draw(self, text: str) -> None:
        width = terminal_width(self._stream) or 80
        text = text[: max(1, width - 1)]
        # Spaces rather than an erase sequence: every terminal understands them.
        self._write("\r" + text + " " * max(0, self._shown - len(text)))
        self._shown = len(text)

    def clear(self) -> None:
        """Wipe the line (before another message, and at the end)."""
        if self._shown:
            self._write("\r" + " " * self._shown + "\r")
            self._shown = 0

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
            self._stream.flush()
