"""``triage schema``: print the JSON Schema of a case or of a result."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import reports_errors, rules_option


@click.command("schema")
@click.argument("which", type=click.Choice(("case", "result")), default="case")
@rules_option
@reports_errors
def schema_command(which: str, rules_dir: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of a case (default) or of a result.

    Generated from the knowledge base's case vocabulary (--rules DIR for another), so it always matches what triage
    accepts; use it to validate case files in other tools.
    """
    from ..kb import load_knowledge_base
    from ..schema import schemas

    vocabulary = load_knowledge_base(rules_dir).vocabulary
    click.echo(json.dumps(schemas(vocabulary)[which], indent=2, ensure_ascii=False))
