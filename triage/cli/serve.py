"""``triage serve``: the web questionnaire, the audit page and the JSON API."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import click

from .common import EXIT_CANNOT_RUN, load_session, reports_errors, rules_option

#: The packages of the ``web`` extra, by import name.
WEB_MODULES = ("starlette", "uvicorn", "jinja2", "multipart")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface; mind who can reach it).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on.")
@click.option("--workers", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              metavar="N", help="Server processes (each loads the knowledge base).")
@click.option("--questionnaire-threads", type=click.IntRange(min=1), default=None, metavar="N",
              help="Engine threads per process for questionnaire steps (pages and /api/v1/next), "
                   "beside the one for single cases and batches. Default: 2.")
@click.option("--max-connections", type=click.IntRange(min=1), default=1000, show_default=True, metavar="N",
              help="Open connections per server process; more wait until one closes (kept below the "
                   "open-file limit).")
@click.option("--header-timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              metavar="SECONDS",
              help="Close a connection that has not sent a request's headers this long after it "
                   "opened or its last response.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Allow browsers on ORIGIN (e.g. https://app.example) to call the JSON API; "
                   "repeatable. Default: no CORS.")
@rules_option
@reports_errors
def serve_command(host: str, port: int, workers: int, questionnaire_threads: int | None,
                  max_connections: int, header_timeout: float,
                  cors_origins: tuple[str, ...], rules_dir: Path | None) -> None:
    """Serve the questionnaire at / and the JSON API at /api/v1/ (needs the web extra).

    Nothing a person enters is stored or logged: the answers live in the
    page. Binds to 127.0.0.1 unless --host says otherwise; put a reverse
    proxy with TLS in front of it to serve others (see docs/web.md). A
    server process that dies is replaced; the server exits 2 if the address
    is in use or a server process cannot start.
    """
    missing = [name for name in WEB_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        click.echo("triage: triage serve needs the web extra: pip install 'lbp-triage[web]'", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    import uvicorn

    from ..web import workers as worker_group
    from ..web.app import FACTORY, configure_environment
    from ..web.protocol import HEADER_TIMEOUT_ENV, GuardedHTTPProtocol

    load_session(rules_dir)  # a broken knowledge base fails here, once, with every problem listed
    # Worker processes build the app from the environment (uvicorn needs an import string).
    configure_environment(rules_dir, cors_origins, questionnaire_threads)
    os.environ[HEADER_TIMEOUT_ENV] = repr(header_timeout)
    # No access log: URLs and timings are all it would hold, but nothing a person does is kept.
    options = {"http": GuardedHTTPProtocol, "access_log": False, "log_level": "warning", "server_header": False}
    if not worker_group.SUPPORTED:  # Windows: uvicorn's own workers, which bind when they start
        click.echo(f"triage: serving on http://{_shown_host(host)}:{port}/ (Ctrl-C stops)", err=True)
        uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers,
                    limit_concurrency=max_connections, **options)
        return
    # One process or many, the same way: bound before anything is said, so a port in use is
    # one line and exit 2; a server process that dies is replaced, whichever it was.
    try:
        group = worker_group.WorkerGroup(FACTORY, host, port, workers, options, max_connections)
    except OSError as exc:
        click.echo(f"triage: cannot listen on {_shown_host(host)}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    processes = f" with {workers} processes" if workers > 1 else ""
    click.echo(f"triage: serving on http://{_shown_host(host)}:{group.port}/{processes} (Ctrl-C stops)", err=True)
    try:
        group.run()
    except worker_group.WorkerFailed as exc:
        click.echo(f"triage: {exc}", err=True)
        sys.exit(EXIT_CANNOT_RUN)


def _shown_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
