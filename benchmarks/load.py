"""Load test of ``triage serve``: a bounded run against a server on loopback.

    python benchmarks/load.py                          # starts triage serve --workers 2 itself
    python benchmarks/load.py --workers 1 --requests 2000
    python benchmarks/load.py --url http://127.0.0.1:8000   # an already running server

For single-case ``POST /api/v1/triage`` at 1, 8 and 32 concurrent clients it
sends a fixed number of requests (each client on its own keep-alive
connection) and prints requests/s and p50/p99 latency; then it sends a fixed
number of 1,000-case batches and prints cases/s. Every response is checked
(status 200, a result per case). It stops by itself and asserts nothing:
figures are read from the printed Markdown table (see README).

The client is a bare asyncio protocol speaking HTTP/1.1 (on uvloop when the
web extra installed it) so that it spends as little of the machine's CPU as
possible; it still shares the cores with the server, as a load balancer on
the same host would.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import generate_cases  # noqa: E402

try:  # the client's own event loop: uvloop leaves more of the shared cores to the server
    from uvloop import run as run_loop
except ImportError:
    from asyncio import run as run_loop


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``triage serve`` on a free loopback port; waits until /healthz answers."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "triage", "serve", "--port", str(port),
                               "--workers", str(workers)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("triage serve exited before answering")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return server, url
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("triage serve did not answer within 60 s")


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the reply.

    A bare protocol rather than asyncio's streams: it does the least work per
    reply, so more of the shared cores are left to the server.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.reply: asyncio.Future[tuple[int, bytes]] | None = None
        #: The server said Connection: close (it recycles connections): open a new one.
        self.closing = False

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        _, connection = await asyncio.get_running_loop().create_connection(cls, host, port)
        return connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] (uvloop's is no asyncio.Transport subclass)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self.buffer[:head_end])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                self.closing = True
        end = head_end + 4 + length
        if len(self.buffer) < end:
            return
        body = bytes(self.buffer[head_end + 4:end])
        del self.buffer[:end]
        if self.reply is not None and not self.reply.done():
            self.reply.set_result((int(head.split(b" ", 2)[1]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reply is not None and not self.reply.done():
            self.reply.set_exception(exc or ConnectionError("the server closed the connection"))

    async def post(self, host: str, path: str, body: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.reply = asyncio.get_running_loop().create_future()
        self.transport.write(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (path.encode(), host.encode(), len(body), body))
        return await self.reply

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def run_clients(url: str, bodies: list[bytes], clients: int, expect: int) -> tuple[float, list[float]]:
    """Send every body once, ``clients`` at a time; the wall time and each request's latency."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    queue = list(reversed(bodies))
    latencies: list[float] = []

    async def client() -> None:
        connection = await Connection.open(host, port)
        try:
            while queue:
                body = queue.pop()
                start = time.perf_counter()
                status, reply = await connection.post(host, "/api/v1/triage", body)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    raise SystemExit(f"HTTP {status}: {reply[:200]!r}")
                got = json.loads(reply)
                if (len(got) if isinstance(got, list) else 1) != expect:
                    raise SystemExit(f"expected {expect} results, got {len(got)}")
                if connection.closing:
                    connection.close()
                    connection = await Connection.open(host, port)
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running server (default: start triage serve)")
    parser.add_argument("--workers", type=int, default=2, help="triage serve --workers (default 2)")
    parser.add_argument("--requests", type=int, default=3000, help="single-case requests per level")
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels (default 1,8,32)")
    parser.add_argument("--batches", type=int, default=20, help="1,000-case batches to send (0: none)")
    args = parser.parse_args()

    server = None
    url = args.url
    if url is None:
        server, url = start_server(args.workers)
    try:
        cases = list(generate_cases(max(args.requests, 1000)))
        singles = [json.dumps(c).encode() for c in cases[:args.requests]]
        batch = json.dumps(cases[:1000]).encode()
        run_loop(run_clients(url, singles[:200], 8, 1))  # warm up every worker and thread
        print(f"Load test of {url}: {platform.python_implementation()} {platform.python_version()}, "
              f"{os.cpu_count()} CPUs, server workers: {args.workers if server else 'as started'}")
        print()
        print("| load | requests | requests/s | p50 ms | p99 ms | cases/s |")
        print("|---|---|---|---|---|---|")
        for clients in (int(c) for c in args.clients.split(",")):
            wall, latencies = run_loop(run_clients(url, singles, clients, 1))
            print(f"| 1 case per request, {clients} clients | {len(singles):,} | {len(singles) / wall:,.0f} "
                  f"| {percentile(latencies, .5) * 1000:.1f} | {percentile(latencies, .99) * 1000:.1f} "
                  f"| {len(singles) / wall:,.0f} |", flush=True)
        if args.batches < 1:
            return
        wall, latencies = run_loop(run_clients(url, [batch] * args.batches, 2, 1000))
        print(f"| 1,000 cases per request, 2 clients | {args.batches:,} | {args.batches / wall:,.1f} "
              f"| {percentile(latencies, .5) * 1000:.0f} | {percentile(latencies, .99) * 1000:.0f} "
              f"| {args.batches * 1000 / wall:,.0f} |")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
