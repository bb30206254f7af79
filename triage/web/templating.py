"""The Jinja2 environment: templates beside this module, autoescaping always on."""

from __future__ import annotations

from pathlib import Path

import jinja2
from markupsafe import Markup
from starlette.templating import Jinja2Templates

from ..formats import printable


def shown(value: object) -> object:
    """Every value a page shows, with control and bidi characters escaped as the terminal does.

    A right-to-left override (U+202E) in a case id would otherwise reorder
    the text after it on the page. Newlines and tabs (of a pasted case file)
    are kept. HTML fragments (:class:`Markup`, the audit report) are left
    alone: they are built by :mod:`triage.audit_html`, which escapes the same
    way, and scanning megabytes of report again would stall the event loop.
    """
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value, keep="\n\r\t")
    return value


_environment = jinja2.Environment(
    finalize=shown,
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # every template, whatever its name: case data is always escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_environment)


def words(value: object) -> str:
    """A vocabulary name in words: ``back_of_thigh`` -> ``back of thigh``."""
    return str(value).replace("_", " ")


_environment.filters["words"] = words
