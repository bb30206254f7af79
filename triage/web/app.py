"""The ASGI application: routes, limits, security headers and error pages.

Every request is self-contained (the questionnaire's state is carried in
the page), so any number of processes or machines can serve the same
knowledge base behind a load balancer.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
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
from .engine import EnginePool
from .templating import templates

#: Request bodies larger than this get 413 (a case is under 2 KB; 1,000 fit easily).
MAX_BODY = 1_000_000
#: How ``triage serve`` hands its options to worker processes.
RULES_ENV = "TRIAGE_SERVE_RULES"
CORS_ENV = "TRIAGE_SERVE_CORS_ORIGINS"
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
               kb: TriageKB | None = None) -> Starlette:
    """The triage web application on the knowledge base in ``rules_dir`` (or ``kb``).

    ``cors_origins`` lists the origins whose browser scripts may call the
    JSON API; by default none may (no CORS headers at all).
    """
    api = kb if kb is not None else load(rules_dir)
    middleware = [Middleware(SecurityHeaders), Middleware(BodyLimit, limit=MAX_BODY)]
    if cors_origins:
        middleware.insert(1, Middleware(CORSMiddleware, allow_origins=list(cors_origins),
                                        allow_methods=["GET", "POST"], allow_headers=["Content-Type"]))
    routes = [
        *api_routes.routes(),
        *fhir_routes.routes(),
        *pages.routes(),
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static"),
    ]
    engine = EnginePool(api)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.close()

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={HTTPException: http_error, Exception: server_error})
    app.state.kb = api
    app.state.engine = engine
    return app


def configure_environment(rules_dir: Path | None, cors_origins: Sequence[str]) -> None:
    """Put ``triage serve``'s options where :func:`app_from_environment` finds them."""
    os.environ[RULES_ENV] = str(rules_dir.resolve()) if rules_dir is not None else ""
    os.environ[CORS_ENV] = json.dumps(list(cors_origins))


def app_from_environment() -> Starlette:
    """The application as configured by :func:`configure_environment` (one per worker).

    Everything a worker loads at start-up (the knowledge base, its compiled
    engines, the web stack) lives as long as the process, so it is frozen out
    of the garbage collector's scans: a full collection over it took 20 to
    50 ms, a stall for every request queued in that process.
    """
    origins = json.loads(os.environ.get(CORS_ENV) or "[]")
    app = create_app(os.environ.get(RULES_ENV) or None, origins)
    app.state.engine.start()
    gc.collect()
    gc.freeze()
    return app


async def healthz(request: Request) -> JSONResponse:
    """Liveness for load balancers: the knowledge base is loaded."""
    return JSONResponse({"status": "ok", "kb_version": request.app.state.kb.version})


def wants_json(request: Request) -> bool:
    """API paths answer errors in JSON; pages answer them in HTML."""
    return request.url.path.startswith(("/api/", "/fhir/")) or request.url.path in ("/healthz", "/openapi.json")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "error"
    if request.url.path.startswith("/fhir/"):
        return fhir_routes.fhir_error(exc.status_code, message, "not-found" if exc.status_code == 404 else "invalid")
    if wants_json(request):
        return error_json(exc.status_code, message, headers=exc.headers)
    return templates.TemplateResponse(request, "error.html", {"status": exc.status_code, "message": message},
                                      status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    """The last resort: one line, never a traceback (nothing about the request is logged)."""
    if wants_json(request):
        return error_json(500, "internal error")
    return HTMLResponse("<!doctype html><title>Error</title><p>Something went wrong.</p>", status_code=500)


def error_json(status: int, message: str, headers: Any = None, **details: Any) -> JSONResponse:
    """The JSON API's error shape: ``{"error": {"status": ..., "message": ..., ...}}``."""
    return JSONResponse({"error": {"status": status, "message": message, **details}},
                        status_code=status, headers=headers)


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
            response = HTMLResponse(f"<!doctype html><title>Too large</title><p>{message}.</p>",
                                    status_code=413)
        response.headers["connection"] = "close"
        await response(scope, receive, send)
