"""uvicorn's HTTP protocol with TCP_NODELAY set on every connection.

uvicorn writes a response's head and body separately. asyncio sets
TCP_NODELAY only on sockets it recognises as TCP, and the listening socket
uvicorn hands to its worker processes (``--workers`` > 1) is not recognised,
so Nagle's algorithm held every body back until the client's delayed ACK:
about 40 ms added to each keep-alive request. Setting the option here makes
one worker and many behave alike. :class:`GuardedHTTPProtocol` adds the
limits on request heads and the recycling of keep-alive connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket

if importlib.util.find_spec("httptools") is not None:  # faster, when uvicorn[standard] is installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
else:
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Base  # type: ignore[assignment]


class NoDelayHTTPProtocol(_Base):  # type: ignore[misc, valid-type]
    """The HTTP protocol uvicorn would choose, with TCP_NODELAY on its socket."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[arg-type]


#: Seconds a connection has to send a request's headers, from when it opens or its last
#: response ended (``triage serve --header-timeout``); then it is closed.
HEADER_TIMEOUT = 10.0
#: Where ``triage serve`` puts a different header timeout for its workers.
HEADER_TIMEOUT_ENV = "TRIAGE_SERVE_HEADER_TIMEOUT"
#: The request line and headers may take at most this many bytes, in at most this many lines.
MAX_HEADER_BYTES = 16_384
MAX_HEADERS = 100
#: Requests on one connection before its response says ``Connection: close``: clients
#: reconnect, and the parent spreads them again (a replaced worker gets its share back).
MAX_REQUESTS = 200
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
              b"content-length: 32\r\nconnection: close\r\nx-content-type-options: nosniff\r\n"
              b"content-security-policy: default-src 'none'\r\ncache-control: no-store\r\n\r\n"
              b"Request header fields too large\n")


def header_timeout() -> float:
    """The header timeout of this process: :data:`HEADER_TIMEOUT` unless ``triage serve`` set another."""
    return float(os.environ.get(HEADER_TIMEOUT_ENV) or HEADER_TIMEOUT)


class GuardedHTTPProtocol(NoDelayHTTPProtocol):
    """The server's HTTP protocol: slow or oversized request heads are cut off, connections recycled.

    uvicorn times a connection out only between requests, never before its
    first one nor while headers trickle in, and with httptools it takes
    headers of any size: idle connections could hold every file descriptor,
    and unfinished 50 MB headers all of the memory. The head of each request
    is counted here, as bytes arrive and before any parser sees them.
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._served = 0
        self._counted: object = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._await_head()

    def _await_head(self) -> None:
        """Expect a request's head now, within the header timeout."""
        self._head_bytes = self._head_lines = 0
        self._tail = b""
        self._head_timer = self.loop.call_later(header_timeout(), self._too_slow)

    def _head_done(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is not None:  # within a request's head
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")
            head = data if end < 0 else seen[len(self._tail):end + 4]
            self._head_bytes += len(head)
            self._head_lines += head.count(b"\n")
            if self._head_bytes > MAX_HEADER_BYTES or self._head_lines > MAX_HEADERS + 1:
                self._head_done()
                self.transport.write(_TOO_LARGE)
                self.transport.close()
                return
            if end >= 0:
                self._head_done()
            else:
                self._tail = seen[-3:]
        super().data_received(data)
        cycle = getattr(self, "cycle", None)
        if cycle is not None and cycle is not self._counted:  # a new request has begun
            self._counted = cycle
            self._served += 1
            if self._served >= MAX_REQUESTS:
                cycle.keep_alive = False  # its response says Connection: close

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = getattr(self, "cycle", None)
        idle = cycle is None or cycle.response_complete  # no pipelined request already under way
        if idle and self._head_timer is None and not self.transport.is_closing():
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        super().connection_lost(exc)
