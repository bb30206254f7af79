"""``triage schema``: print the JSON Schema of a case or of a result."""

from __future__ import annotations

import json

import click


@click.command("schema")
@click.argument("which", type=click.Choice(("case", "result")), default="case")
def schema_command(which: str) -> None:
    """Print the JSON Schema (draft 2020-12) of a case (default) or of a result.

    Generated from the case vocabulary, so it always matches what triage
    accepts; use it to validate case files in other tools.
    """
    from ..schema import schemas

    click.echo(json.dumps(schemas()[which], indent=2, ensure_ascii=False))
