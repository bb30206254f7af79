"""The ``triage`` command line: thin commands over the library.

Each command lives in its own module and imports the library only when it
runs, so ``triage --help`` and ``triage --version`` start fast.
"""

from __future__ import annotations

import click

from .. import __version__
from .ask import ask_command
from .audit import audit_command
from .common import TriageGroup
from .fhir import fhir_group
from .rules import rules_group
from .run import run_command
from .schema import schema_command
from .serve import serve_command


@click.group(cls=TriageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="triage")
def main() -> None:
    """Triage lower back pain: likely tight muscle, self-care or a doctor.

    Not a diagnosis. When in doubt, see a doctor.
    """


main.add_command(run_command)
main.add_command(ask_command)
main.add_command(audit_command)
main.add_command(rules_group)
main.add_command(schema_command)
main.add_command(serve_command)
main.add_command(fhir_group)
