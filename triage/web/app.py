"""The ASGI application: routes, limits, security headers and error pages.

Every request is self-contained (the questionnaire's answers are carried in
a cookie of the person's browser), so any number of processes or machines can serve the same
knowledge base behind a load balancer. (Each process keeps the questionnaire
states it reached, to resume a path in one step; a request it has not seen
is replayed, with the same result.)
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import sys
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api import TriageKB, load
from . import api_routes, fhir_routes, pages
from .audits import AuditPool
from .engine import QUESTIONNAIRE_THREADS, SWITCH_INTERVAL, EnginePool
from .templating import templates

#: Request bodies larger than this get 413 (a case is under 2 KB; 1,000 fit easily).
MAX_BODY = 1_000_000
#: How ``triage serve`` hands its options to worker processes.
RULES_ENV = "TRIAGE_SERVE_RULES"
CORS_ENV = "TRIAGE_SERVE_CORS_ORIGINS"
THREADS_ENV = "TRIAGE_SERVE_QUESTIONNAIRE_THREADS"
#: The import string of the factory uvicorn calls in each worker.
FACTORY = "triage.web.app:app_from_environment"

#: No inline script or style anywhere; forms only post back here.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; form-action 'self'; base-uri 'none'; "
                           "frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    # Pages carry a person's answers: no cache may keep them.
    (b"cache-control", b"no-store"),
]


def create_app(rules_dir: Path | str | None = None, cors_origins: Sequence[str] = (),
               kb: TriageKB | None = None, questionnaire_threads: int = QUESTIONNAIRE_THREADS) -> Starlette:
    """The triage web application on the knowledge base in ``rules_dir`` (or ``kb``).

    ``cors_origins`` lists the origins whose browser scripts may call the
    JSON API; by default none may (no CORS headers at all).
    ``questionnaire_threads`` engine threads run questionnaire steps
    (see :mod:`triage.web.engine`).
    """
    api = kb if kb is not None else load(rules_dir)
    # Outermost first: every answer, a refusal or an internal error included, gets the headers.
    middleware = [Middleware(SecurityHeaders), Middleware(ErrorBoundary), Middleware(RelativeRedirects),
                  Middleware(SameOriginPosts), Middleware(BodyLimit, limit=MAX_BODY)]
    if cors_origins:
        middleware.insert(3, Middleware(CORSMiddleware, allow_origins=list(cors_origins),
                                        allow_methods=["GET", "POST"], allow_headers=["Content-Type"]))
    routes = [
        *api_routes.routes(),
        *fhir_routes.routes(),
        *pages.routes(),
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]
    engine = EnginePool(api, questionnaire_threads=questionnaire_threads)
    audits = AuditPool(api.kb)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.close()
        audits.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={HTTPException: http_error})
    app.state.kb = api
    app.state.engine = engine
    app.state.audits = audits
    return app


def configure_environment(rules_dir: Path | None, cors_origins: Sequence[str],
                          questionnaire_threads: int | None = None) -> None:
    """Put ``triage serve``'s options where :func:`app_from_environment` finds them.

    ``questionnaire_threads`` None means :data:`~triage.web.engine.QUESTIONNAIRE_THREADS`.
    """
    os.environ[RULES_ENV] = str(rules_dir.resolve()) if rules_dir is not None else ""
    os.environ[CORS_ENV] = json.dumps(list(cors_origins))
    os.environ[THREADS_ENV] = str(questionnaire_threads or "")


def app_from_environment() -> Starlette:
    """The application as configured by :func:`configure_environment` (one per worker).

    Everything a worker loads at start-up (the knowledge base, its compiled
    engines, the web stack) lives as long as the process, so it is frozen out
    of the garbage collector's scans: a full collection over it took 20 to
    50 ms, a stall for every request queued in that process. The process's
    thread switch interval is :data:`~triage.web.engine.SWITCH_INTERVAL`.
    """
    origins = json.loads(os.environ.get(CORS_ENV) or "[]")
    threads = int(os.environ.get(THREADS_ENV) or QUESTIONNAIRE_THREADS)
    sys.setswitchinterval(SWITCH_INTERVAL)
    app = create_app(os.environ.get(RULES_ENV) or None, origins, questionnaire_threads=threads)
    app.state.engine.start()
    gc.collect()
    gc.freeze()
    return app


async def healthz(request: Request) -> JSONResponse:
    """Liveness for load balancers: the knowledge base is loaded."""
    return JSONResponse({"status": "ok", "kb_version": request.app.state.kb.version})


def wants_json(request: Request) -> bool:
    """API paths answer errors in JSON; pages answer them in HTML."""
    return json_path(request.url.path)


def json_path(path: str) -> bool:
    """Whether ``path`` is one of the JSON API's (errors in JSON) rather than a page's."""
    return path.startswith(("/api/", "/fhir/")) or path in ("/healthz", "/openapi.json")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "error"
    if request.url.path.startswith("/fhir/"):
        return fhir_routes.fhir_error(exc.status_code, message, "not-found" if exc.status_code == 404 else "invalid")
    if wants_json(request):
        return error_json(exc.status_code, message, headers=exc.headers)
    return templates.TemplateResponse(request, "error.html", {"status": exc.status_code, "message": message},
                                      status_code=exc.status_code, headers=exc.headers)


def error_json(status: int, message: str, headers: Any = None, **details: Any) -> JSONResponse:
    """The JSON API's error shape: ``{"error": {"status": ..., "message": ..., ...}}``."""
    return JSONResponse({"error": {"status": status, "message": message, **details}},
                        status_code=status, headers=headers)


#: Where internal errors are logged: an error id and the exception's type, nothing else.
log = logging.getLogger("triage.serve")


class ErrorBoundary:
    """Turns any exception of a route into a 500 that names an error id, and logs only that id.

    Starlette's own last resort re-raises the exception to the server, which
    logs its traceback, and a traceback shows local values: what a person
    typed. Here the log line holds the id and the exception's type; the
    person sees the same id, so the two can be matched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # noqa: BLE001 - the last resort, by design
            error_id = secrets.token_hex(4)
            log.error("triage serve: internal error %s (%s)", error_id, type(exc).__name__)
            if started:  # half a response is out: all that is left is to end the connection
                return
            if json_path(scope.get("path", "")):
                response: Response = error_json(500, f"internal error (error id {error_id})",
                                                error_id=error_id)
            else:
                response = HTMLResponse("<!doctype html><html lang=\"en\"><title>Error</title>"
                                        "<h1>Something went wrong</h1>"
                                        f"<p>Error id {error_id}. Nothing you entered was kept.</p>",
                                        status_code=500)
            await response(scope, receive, send)


class SameOriginPosts:
    """Refuses (403) a form post to a page that a browser says comes from another site.

    Browsers send ``Sec-Fetch-Site`` with every request: ``same-origin`` for
    our own forms, ``none`` for what the person typed or bookmarked. Older
    ones send only ``Origin``, compared with the ``Host`` the request came to
    (and ``X-Forwarded-Host`` when a proxy sets it). A post with neither
    header comes from a client that is not a modern browser (curl, a script,
    a browser of before 2020 without ``Origin`` on forms) and is served: a
    cross-site attack needs a browser to carry it, and every current browser
    says where a post comes from. The JSON API is not a form: it takes only
    ``application/json``, which no page elsewhere can send without CORS.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST" and not scope.get("path", "").startswith("/api/")
                and not same_origin(scope["headers"])):
            response = HTMLResponse("<!doctype html><html lang=\"en\"><title>Refused</title>"
                                    "<h1>Refused</h1><p>This form was sent from another site. "
                                    "Open the questionnaire from its own address and try again.</p>",
                                    status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def same_origin(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether a request's headers say it comes from this site (or do not say)."""
    fetched_from = origin = None
    hosts: set[bytes] = set()
    for name, value in headers:
        if name == b"sec-fetch-site":
            fetched_from = value.strip().lower()
        elif name == b"origin":
            origin = value.strip().lower()
        elif name in (b"host", b"x-forwarded-host"):
            hosts.update(part.strip().lower() for part in value.split(b","))
    if fetched_from is not None:
        return fetched_from in (b"same-origin", b"none")
    if origin is None:
        return True
    # "null" (a sandboxed frame, a redirect across sites) cannot be from here.
    return b"://" in origin and origin.split(b"://", 1)[1] in hosts


class RelativeRedirects:
    """Makes every redirect's ``Location`` relative to where the request was sent.

    Starlette builds redirects (``/audit/`` -> ``/audit``) from the ``Host``
    header, which a client chooses, and behind a proxy that is the upstream
    address without the proxy's path prefix. A relative reference climbs to
    the application's root and down again, so it lands right under any prefix.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message["headers"] = [(name, relative_location(scope.get("path", "/"), value))
                                      if name == b"location" else (name, value)
                                      for name, value in message.get("headers", [])]
            await send(message)

        await self.app(scope, receive, relative)


def relative_location(request_path: str, location: bytes) -> bytes:
    """``location`` (absolute or rooted) as a reference relative to ``request_path``."""
    target = location
    if b"://" in target:  # drop the scheme and host: only the path and query are ours
        rest = target.split(b"://", 1)[1]
        target = rest[rest.index(b"/"):] if b"/" in rest else b"/"
    if not target.startswith(b"/"):
        return target  # relative already
    up = request_path.count("/") - 1
    return (b"../" * up + target.lstrip(b"/")) or b"./"


class SecurityHeaders:
    """Adds the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in SECURITY_HEADERS if k not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Answers 413 to a body over ``limit`` bytes, declared or streamed, before any route reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is larger than {self.limit:,} bytes"
        path = scope.get("path", "")
        if path.startswith(("/api/", "/fhir/")):
            response: Response = error_json(413, message)
        else:
            response = HTMLResponse(f"<!doctype html><html lang=\"en\"><title>Too large</title>"
                                    f"<h1>Too large</h1><p>{message}.</p>",
                                    status_code=413)
        response.headers["connection"] = "close"
        await response(scope, receive, send)
