"""The Jinja2 environment: templates beside this module, autoescaping always on."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.templating import Jinja2Templates

_environment = jinja2.Environment(
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
