"""Load test of ``triage serve``: a bounded run against a server on loopback.

    python benchmarks/load.py                          # starts triage serve --workers 2 itself
    python benchmarks/load.py --workers 1 --requests 2000
    python benchmarks/load.py --url http://127.0.0.1:8000   # an already running server

For single-case ``POST /api/v1/triage`` at 1, 8 and 32 concurrent clients it
sends a fixed number of requests (each client on its own keep-alive
connection) and prints requests/s and p50/p99 latency; then it sends a fixed
number of 1,000-case batches and prints cases/s. Then the mixed workload:
``--walkers`` people walk the whole questionnaire (half through the pages,
``GET /`` then ``POST /question`` and its redirect per answer, the answers in the page's cookie, half through ``POST
/api/v1/next``), each thinking ``--think`` seconds (0.5 to 1.5 times, at
random) before each answer, ``--walks`` times each, while ``--mixed-clients``
single-case clients send cases without pause; it prints p50/p99 of each kind
of request. Last, single cases one at a time beside ``--audit-cases``-case
audits of the audit page sent back to back (the audits run in a process of
their own), against the same cases alone; the README's figures for it are
measured with ``--workers 1``, so that both share one server process. Every response is checked (status 200, a result per case, a
question or a result per step). It stops by itself and asserts nothing:
figures are read from the printed Markdown table (see docs/performance.md).

The client is a bare asyncio protocol speaking HTTP/1.1 (on uvloop when the
web extra installed it) so that it spends as little of the machine's CPU as
possible; it still shares the cores with the server, as a load balancer on
the same host would.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import generate_cases, questionnaire_answers  # noqa: E402

try:  # the client's own event loop: uvloop leaves more of the shared cores to the server
    from uvloop import run as run_loop
except ImportError:
    from asyncio import run as run_loop


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(workers: int, threads: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """``triage serve`` on a free loopback port; waits until /healthz answers."""
    port = free_port()
    more = ["--questionnaire-threads", str(threads)] if threads else []
    server = subprocess.Popen([sys.executable, "-m", "triage", "serve", "--port", str(port),
                               "--workers", str(workers), *more], stdout=subprocess.DEVNULL)
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
    """One keep-alive HTTP/1.1 connection that sends a request and reads the reply.

    A bare protocol rather than asyncio's streams: it does the least work per
    reply, so more of the shared cores are left to the server.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.reply: asyncio.Future[tuple[int, bytes]] | None = None
        #: The server said Connection: close (it recycles connections): open a new one.
        self.closing = False
        #: The last reply's Location header, and the cookies it set (a browser's jar, for the pages).
        self.location = ""
        self.cookies: dict[bytes, bytes] = {}

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
            elif name.strip().lower() == b"location":
                self.location = value.strip().decode()
            elif name.strip().lower() == b"set-cookie":
                pair = value.strip().split(b";", 1)[0]
                key, _, cookie = pair.partition(b"=")
                if cookie and b"max-age=0" not in value.lower():
                    self.cookies[key] = cookie
                else:
                    self.cookies.pop(key, None)
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

    async def post(self, host: str, path: str, body: bytes,
                   content_type: bytes = b"application/json") -> tuple[int, bytes]:
        assert self.transport is not None
        self.reply = asyncio.get_running_loop().create_future()
        # Origin and Sec-Fetch-Site as a browser sends them on a same-origin form post.
        self.transport.write(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nOrigin: http://%s\r\n"
                             b"Sec-Fetch-Site: same-origin\r\n%sContent-Length: %d\r\n\r\n%s"
                             % (path.encode(), host.encode(), content_type, host.encode(), self._cookie_header(),
                                len(body), body))
        return await self.reply

    async def get(self, host: str, path: str) -> tuple[int, bytes]:
        assert self.transport is not None
        self.reply = asyncio.get_running_loop().create_future()
        self.transport.write(b"GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n"
                             % (path.encode(), host.encode(), self._cookie_header()))
        return await self.reply

    def _cookie_header(self) -> bytes:
        if not self.cookies:
            return b""
        return b"Cookie: " + b"; ".join(b"%s=%s" % item for item in self.cookies.items()) + b"\r\n"

    async def follow(self, host: str, port: int, reply: tuple[int, bytes]) -> tuple[Connection, int, bytes]:
        """Follow ``reply``'s redirects (303 after a form post) as a browser does: the
        connection it ends on, and the last reply."""
        connection = self
        while reply[0] in (302, 303):
            location = "/" + connection.location.lstrip("/")
            connection = await connection.kept_open(host, port)
            reply = await connection.get(host, location)
        return (connection, *reply)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def kept_open(self, host: str, port: int) -> Connection:
        """This connection, or, once the server has said Connection: close (it recycles
        connections after a number of requests), a new one with the same cookies."""
        if not self.closing:
            return self
        self.close()
        fresh = await Connection.open(host, port)
        fresh.cookies = self.cookies
        return fresh


async def send_case(connection: Connection, host: str, port: int, body: bytes,
                    latencies: list[float]) -> tuple[Connection, bytes]:
    """POST ``body`` to /api/v1/triage, its latency into ``latencies``; the connection to use
    next (a new one once the server recycles this one) and the reply, which must be a 200."""
    start = time.perf_counter()
    status, reply = await connection.post(host, "/api/v1/triage", body)
    latencies.append(time.perf_counter() - start)
    if status != 200:
        raise SystemExit(f"HTTP {status}: {reply[:200]!r}")
    return await connection.kept_open(host, port), reply


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
                connection, reply = await send_case(connection, host, port, queue.pop(), latencies)
                got = json.loads(reply)
                if (len(got) if isinstance(got, list) else 1) != expect:
                    raise SystemExit(f"expected {expect} results, got {len(got)}")
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start, latencies


_CURRENT = re.compile(rb'name="current" value="([^"]*)"')
_ACTION = re.compile(rb'<form method="post" action="([^"]*)" class="question"')


def _form_answer(question: dict[str, Any], value: Any) -> list[tuple[str, str]]:
    """An answer as the question page's form sends it."""
    if question["kind"] == "many":
        if not value and question["screen"]:  # a screen is answered "None of these", never left empty
            return [("answer", "none" if value is not None else "not_sure")]
        return [("answer", v) for v in value or []]
    if value is None:
        return [("answer", "" if question["kind"] == "number" else "unknown")]
    if isinstance(value, bool):
        return [("answer", "true" if value else "false")]
    return [("answer", str(value))]


async def walk(url: str, person: dict[str, Any], questions: dict[str, dict[str, Any]], pages: bool,
               think: float, rng: random.Random, steps: list[float]) -> None:
    """One person through the whole questionnaire, one request per answer; each latency into ``steps``."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    connection = await Connection.open(host, port)
    try:
        answers: dict[str, Any] = {}
        start = time.perf_counter()
        if pages:
            connection, status, reply = await connection.follow(host, port, await connection.get(host, "/"))
        else:
            status, reply = await connection.post(host, "/api/v1/next", b"{}")
        while True:
            steps.append(time.perf_counter() - start)
            if status != 200:
                raise SystemExit(f"questionnaire step: HTTP {status}: {reply[:200]!r}")
            if pages:
                found = _CURRENT.search(reply)
                if found is None:
                    return  # the result or emergency page
                current = html.unescape(found.group(1).decode())
                action = _ACTION.search(reply)
                if action is None:
                    raise SystemExit("a question page without its form")
            else:
                step = json.loads(reply)
                if "question" not in step:
                    return
                current = step["question"]["id"]
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            connection = await connection.kept_open(host, port)
            start = time.perf_counter()
            if pages:
                # The answers so far travel in the page's cookie; a step is the post and its redirect.
                form = [("current", current), *_form_answer(questions[current], person[current])]
                connection, status, reply = await connection.follow(host, port, await connection.post(
                    host, "/" + html.unescape(action.group(1).decode()), urlencode(form).encode(),
                    b"application/x-www-form-urlencoded"))
            else:
                answers[current] = person[current]
                status, reply = await connection.post(host, "/api/v1/next", json.dumps(answers).encode())
    finally:
        connection.close()


async def run_mixed(url: str, people: list[dict[str, Any]], questions: dict[str, dict[str, Any]],
                    singles: list[bytes], walkers: int, walks: int, think: float,
                    clients: int) -> tuple[list[float], list[float], list[float], float]:
    """``walkers`` people walking ``walks`` times beside ``clients`` single-case clients.

    Returns the latencies of page steps, of /next steps and of single cases,
    and the wall time.
    """
    page_steps: list[float] = []
    next_steps: list[float] = []
    latencies: list[float] = []
    done = asyncio.Event()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80

    async def walker(n: int) -> None:
        rng = random.Random(n)
        for k in range(walks):
            person = people[(n * walks + k) % len(people)]
            await walk(url, person, questions, n % 2 == 0, think, rng, page_steps if n % 2 == 0 else next_steps)

    async def single(n: int) -> None:
        connection = await Connection.open(host, port)
        try:
            k = n
            while not done.is_set():
                connection, _ = await send_case(connection, host, port, singles[k % len(singles)], latencies)
                k += clients
        finally:
            connection.close()

    async def walkers_then_stop() -> None:
        try:
            await asyncio.gather(*(walker(n) for n in range(walkers)))
        finally:
            done.set()

    start = time.perf_counter()
    await asyncio.gather(walkers_then_stop(), *(single(n) for n in range(clients)))
    return page_steps, next_steps, latencies, time.perf_counter() - start


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an already running server (default: start triage serve)")
    parser.add_argument("--workers", type=int, default=2, help="triage serve --workers (default 2)")
    parser.add_argument("--questionnaire-threads", type=int, help="triage serve --questionnaire-threads")
    parser.add_argument("--requests", type=int, default=3000, help="single-case requests per level")
    parser.add_argument("--clients", default="1,8,32", help="concurrency levels (default 1,8,32)")
    parser.add_argument("--batches", type=int, default=20, help="1,000-case batches to send (0: none)")
    parser.add_argument("--walkers", type=int, default=16,
                        help="people walking the questionnaire in the mixed workload (default 16; 0: none)")
    parser.add_argument("--walks", type=int, default=2, help="whole questionnaires each walker walks (default 2)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a walker thinks before each answer, on average (default 1)")
    parser.add_argument("--mixed-clients", type=int, default=8,
                        help="single-case clients beside the walkers (default 8)")
    parser.add_argument("--mixed-only", action="store_true", help="only the mixed workload")
    parser.add_argument("--audit-cases", type=int, default=300,
                        help="cases per audit in the audit workload (default 300, the page's cap; 0: none)")
    args = parser.parse_args()

    server = None
    url = args.url
    if url is None:
        server, url = start_server(args.workers, args.questionnaire_threads)
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
        for clients in ([] if args.mixed_only else [int(c) for c in args.clients.split(",")]):
            wall, latencies = run_loop(run_clients(url, singles, clients, 1))
            print(f"| 1 case per request, {clients} clients | {len(singles):,} | {len(singles) / wall:,.0f} "
                  f"| {percentile(latencies, .5) * 1000:.1f} | {percentile(latencies, .99) * 1000:.1f} "
                  f"| {len(singles) / wall:,.0f} |", flush=True)
        if args.batches > 0 and not args.mixed_only:
            wall, latencies = run_loop(run_clients(url, [batch] * args.batches, 2, 1000))
            print(f"| 1,000 cases per request, 2 clients | {args.batches:,} | {args.batches / wall:,.1f} "
                  f"| {percentile(latencies, .5) * 1000:.0f} | {percentile(latencies, .99) * 1000:.0f} "
                  f"| {args.batches * 1000 / wall:,.0f} |", flush=True)
        if args.walkers > 0:
            mixed(url, args, cases, singles)
        if args.audit_cases > 0 and not args.mixed_only:
            beside_audits(url, cases, singles, args.audit_cases)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


def mixed(url: str, args: argparse.Namespace, cases: list[dict[str, Any]], singles: list[bytes]) -> None:
    """The mixed workload: people walking the questionnaire beside single-case clients."""
    with urllib.request.urlopen(url + "/api/v1/questions", timeout=30) as reply:
        questions = {q["id"]: q for q in json.load(reply)["questions"]}

    class Asked:  # what questionnaire_answers reads of a question
        def __init__(self, data: dict[str, Any]) -> None:
            self.id, self.field, self.answer = data["id"], data["field"], data["kind"]
            self.choices = [argparse.Namespace(value=c["value"]) for c in data["choices"]]
            self.may_be_empty = data["may_be_empty"]

    # People with warning signs stop at once; walk the ones who answer everything that matters.
    people = [questionnaire_answers({**case, "red_flags": [], "conditions": []},
                                    [Asked(q) for q in questions.values()]) for case in cases[:200]]
    pages, nexts, latencies, wall = run_loop(run_mixed(url, people, questions, singles, args.walkers, args.walks,
                                                       args.think, args.mixed_clients))
    print()
    print(f"Mixed: {args.walkers} people walking the questionnaire {args.walks} times each (half by the "
          f"pages, half by /api/v1/next; {args.think:g} s thinking per answer on average) beside "
          f"{args.mixed_clients} single-case clients, {wall:.0f} s")
    print()
    print("| requests | count | per s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    for name, values in (("questionnaire step, pages", pages), ("questionnaire step, /api/v1/next", nexts),
                         (f"single case beside {args.walkers} walkers", latencies)):
        print(f"| {name} | {len(values):,} | {len(values) / wall:,.1f} | {percentile(values, .5) * 1000:.1f} "
              f"| {percentile(values, .99) * 1000:.1f} |", flush=True)


async def run_beside_audits(url: str, singles: list[bytes], audit: bytes) -> tuple[list[float], int, float]:
    """Single cases one at a time while audits of the audit page run back to back.

    Returns each single case's latency, the audits finished and the wall time.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    audits = 0
    auditing = asyncio.Event()

    async def auditor() -> None:
        nonlocal audits
        connection = await Connection.open(host, port)
        try:
            while len(latencies) < len(singles):
                auditing.set()
                status, reply = await connection.post(host, "/audit", audit, b"application/x-www-form-urlencoded")
                if status != 200 or b"Rules that fired" not in reply:
                    raise SystemExit(f"audit page: HTTP {status}: {reply[:200]!r}")
                audits += 1
                connection = await connection.kept_open(host, port)
        finally:
            connection.close()

    async def single() -> None:
        await auditing.wait()
        await asyncio.sleep(0.2)  # the first audit is under way
        connection = await Connection.open(host, port)
        try:
            for body in singles:
                connection, _ = await send_case(connection, host, port, body, latencies)
                await asyncio.sleep(0.005)  # a client that sends now and then, not a flood
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(auditor(), single())
    return latencies, audits, time.perf_counter() - start


def beside_audits(url: str, cases: list[dict[str, Any]], singles: list[bytes], count: int) -> None:
    """Single cases beside big audits, and the same cases alone."""
    audit = urlencode({"cases": json.dumps(cases[:count]), "format": "json"}).encode()
    some = singles[:1000]
    _, alone = run_loop(run_clients(url, some, 1, 1))
    latencies, audits, wall = run_loop(run_beside_audits(url, some, audit))
    print()
    print(f"Beside audits: {len(some):,} single cases, one at a time, alone and while {audits} audits of "
          f"{count} cases each ran on the audit page back to back ({wall:.0f} s)")
    print()
    print("| single case | p50 ms | p99 ms |")
    print("|---|---|---|")
    for name, values in (("alone", alone), (f"beside {count}-case audits", latencies)):
        print(f"| {name} | {percentile(values, .5) * 1000:.1f} | {percentile(values, .99) * 1000:.1f} |", flush=True)


if __name__ == "__main__":
    main()
