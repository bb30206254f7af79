"""``triage serve``: the web questionnaire, the audit page and the JSON API."""

from __future__ import annotations

import importlib.util
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
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Allow browsers on ORIGIN (e.g. https://app.example) to call the JSON API; "
                   "repeatable. Default: no CORS.")
@rules_option
@reports_errors
def serve_command(host: str, port: int, workers: int, cors_origins: tuple[str, ...],
                  rules_dir: Path | None) -> None:
    """Serve the questionnaire at / and the JSON API at /api/v1/ (needs the web extra).

    Nothing a person enters is stored or logged: the answers live in the
    page. Binds to 127.0.0.1 unless --host says otherwise; put a reverse
    proxy with TLS in front of it to serve others (see the README).
    """
    missing = [name for name in WEB_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        click.echo("triage: triage serve needs the web extra: pip install 'lbp-triage[web]'", err=True)
        sys.exit(EXIT_CANNOT_RUN)
    import uvicorn

    from ..web import workers as worker_group
    from ..web.app import FACTORY, configure_environment
    from ..web.protocol import NoDelayHTTPProtocol

    load_session(rules_dir)  # a broken knowledge base fails here, once, with every problem listed
    # Worker processes build the app from the environment (uvicorn needs an import string).
    configure_environment(rules_dir, cors_origins)
    # No access log: URLs and timings are all it would hold, but nothing a person does is kept.
    options = {"http": NoDelayHTTPProtocol, "access_log": False, "log_level": "warning", "server_header": False}
    if workers > 1 and worker_group.SUPPORTED:
        try:
            group = worker_group.WorkerGroup(FACTORY, host, port, workers, options)
        except OSError as exc:
            click.echo(f"triage: cannot listen on {_shown_host(host)}:{port}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_CANNOT_RUN)
        click.echo(f"triage: serving on http://{_shown_host(host)}:{group.port}/ with {workers} processes "
                   "(Ctrl-C stops)", err=True)
        try:
            group.run()
        except worker_group.WorkerFailed as exc:
            click.echo(f"triage: {exc}", err=True)
            sys.exit(EXIT_CANNOT_RUN)
        return
    click.echo(f"triage: serving on http://{_shown_host(host)}:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers, **options)


def _shown_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
