"""``triage fhir ...``: the questionnaire and the operations as HL7 FHIR R4 resources."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import reports_errors, rules_option


@click.group("fhir")
def fhir_group() -> None:
    """HL7 FHIR R4: the questionnaire as an SDC Questionnaire, and more.

    Answers come back as QuestionnaireResponses (triage run reads them) and
    results go out as Bundles (triage run --format fhir).
    """


@fhir_group.command("questionnaire")
@rules_option
@reports_errors
def questionnaire_command(rules_dir: Path | None) -> None:
    """Print the SDC Questionnaire generated from the knowledge base (--rules DIR for another).

    One item per question (linkId = the question id), answer codings from the
    vocabulary, skip logic as enableWhen or enableWhenExpression, version =
    the knowledge-base version. Load it into any FHIR form renderer.
    """
    from ..fhir.questionnaire import build_questionnaire
    from ..kb import load_knowledge_base

    click.echo(json.dumps(build_questionnaire(load_knowledge_base(rules_dir)), indent=2, ensure_ascii=False))


@fhir_group.command("operation")
@rules_option
@reports_errors
def operation_command(rules_dir: Path | None) -> None:
    """Print the OperationDefinition of $triage (POST /fhir/QuestionnaireResponse/$triage)."""
    from ..fhir.operations import triage_operation_definition
    from ..kb import load_knowledge_base

    click.echo(json.dumps(triage_operation_definition(load_knowledge_base(rules_dir).version), indent=2,
                          ensure_ascii=False))
