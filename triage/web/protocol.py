"""uvicorn's HTTP protocol with TCP_NODELAY set on every connection.

uvicorn writes a response's head and body separately. asyncio sets
TCP_NODELAY only on sockets it recognises as TCP, and the listening socket
uvicorn hands to its worker processes (``--workers`` > 1) is not recognised,
so Nagle's algorithm held every body back until the client's delayed ACK:
about 40 ms added to each keep-alive request. Setting the option here makes
one worker and many behave alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
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
