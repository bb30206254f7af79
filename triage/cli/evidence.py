"""``triage rules report|hazards|diff|mutate``: clinical safety evidence from a knowledge base.

The golden cases and the bundled case files are a source checkout's
(``tests/golden/*.yaml``, ``examples/*``) unless ``--golden`` / ``--corpus``
name others; an installed copy without them says so on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..fileformats import INPUT_FORMATS
from .common import EXIT_INVALID_CASES, EXIT_OK, reports_errors, rules_option, say

#: The repository a source checkout of triage is in (its tests/ and examples/ sit beside triage/).
_CHECKOUT = Path(__file__).resolve().parents[2]
#: Exit status of ``rules diff`` when a case becomes less urgent (and of a report with gaps).
EXIT_UNSAFE = 1


def _checkout_files(folder: str, pattern: str) -> list[str]:
    """Files of a source checkout; none for an installed copy (whose parent is site-packages)."""
    if not (_CHECKOUT / "pyproject.toml").is_file():
        return []
    return [str(p) for p in sorted((_CHECKOUT / folder).glob(pattern)) if p.is_file()]


def golden_option(function: Any) -> Any:
    """``--golden FILE`` (repeatable): the golden case files."""
    return click.option("--golden", "golden_files", multiple=True, type=click.Path(dir_okay=False),
                        metavar="FILE",
                        help="Golden case file (repeatable; default: the checkout's tests/golden/*.yaml).")(function)


def generated_options(function: Any) -> Any:
    """``--generated N --seed S``: the seeded generated corpus."""
    from ..corpus import DEFAULT_GENERATED, DEFAULT_SEED

    function = click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
                            help="Seed of the generated corpus.")(function)
    return click.option("--generated", type=click.IntRange(min=0), default=DEFAULT_GENERATED, show_default=True,
                        metavar="N", help="Cases in the seeded generated corpus.")(function)


def _golden(files: tuple[str, ...], kb: Any) -> list[Any]:
    from ..golden import read_golden

    paths = list(files) or _checkout_files("tests/golden", "*.yaml")
    if not paths:
        say("warning: no golden cases (none in a source checkout here; name them with --golden)")
    return read_golden(paths, kb.vocabulary)


def _corpus(files: tuple[str, ...]) -> list[str]:
    return list(files) or _checkout_files("examples", "*")


def _write(text: str) -> None:
    click.echo(text, nl=False)


@click.command("report")
@click.option("--format", "-f", "output_format", type=click.Choice(("md", "json", "csv", "html")),
              default="md", show_default=True)
@golden_option
@click.option("--corpus", "corpus_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Case file counted as the bundled corpus (repeatable; default: the checkout's examples/*).")
@generated_options
@rules_option
@reports_errors
def report_command(output_format: str, golden_files: tuple[str, ...], corpus_files: tuple[str, ...],
                   generated: int, seed: int, rules_dir: Path | None) -> None:
    """The traceability matrix: per rule, its sources, examples, golden cases and firings.

    Rules with no source, no example of either kind or no golden case that
    fires them are gaps, listed first. Exit status: 1 when there are gaps or a
    golden case fails, else 0.
    """
    from ..batch import read_all
    from ..safety.evidence import gather
    from ..safety.report import traceability
    from ..safety.tables import render
    from ..session import TriageSession

    session = TriageSession(rules_dir=rules_dir)
    golden = _golden(golden_files, session.kb)
    evidence = gather(session, golden, read_all(_corpus(corpus_files), session.kb.vocabulary),
                      generated, seed)
    report = traceability(session.kb, evidence)
    _write(render(report.document(), report.to_dict(), output_format))
    for name, missed in evidence.golden_failures.items():
        say(f"golden case {name} fails: {'; '.join(missed)}")
    sys.exit(EXIT_UNSAFE if report.gaps or evidence.golden_failures else EXIT_OK)


@click.command("hazards")
@click.option("--format", "-f", "output_format", type=click.Choice(("md", "csv", "json")),
              default="md", show_default=True)
@golden_option
@rules_option
@reports_errors
def hazards_command(output_format: str, golden_files: tuple[str, ...], rules_dir: Path | None) -> None:
    """A hazard-log skeleton with stable ids: its controls listed, its risk left for the reviewer.

    One "failure to escalate" hazard per referring finding, one
    "over-escalation" per referral disposition, and the generic hazards.
    """
    from ..safety.evidence import gather
    from ..safety.hazards import hazard_log, hazards_document
    from ..safety.tables import render
    from ..session import TriageSession

    session = TriageSession(rules_dir=rules_dir)
    evidence = gather(session, _golden(golden_files, session.kb), (), generated=0)
    hazards = hazard_log(session.kb, evidence.golden_fired)
    _write(render(hazards_document(session.kb, hazards), [h.to_dict() for h in hazards], output_format))


@click.command("diff")
@click.argument("old_dir", metavar="OLD_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.argument("new_dir", metavar="NEW_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--cases", "case_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Case file to compare on (repeatable; default: the checkout's examples/* and the "
                   "generated corpus).")
@click.option("--input-format", type=click.Choice(("auto", *INPUT_FORMATS)), default="auto", show_default=True,
              help="Format of the case files.")
@generated_options
@click.option("--allow-less-urgent", is_flag=True, help="Exit 0 even when a case becomes less urgent.")
@click.option("--format", "-f", "output_format", type=click.Choice(("md", "json")), default="md",
              show_default=True)
@reports_errors
def diff_command(old_dir: Path, new_dir: Path, case_files: tuple[str, ...], input_format: str, generated: int,
                 seed: int, allow_less_urgent: bool, output_format: str) -> None:
    """What changes from the knowledge base OLD_DIR to NEW_DIR: rules, techniques, wording, and cases.

    Every case whose disposition or likely muscle changes is counted by
    transition; cases that become less urgent are listed first. With --cases,
    only those files are compared (add --generated N for the generated corpus
    too). Exit status: 1 when a case becomes less urgent (unless
    --allow-less-urgent), else 0.
    """
    from itertools import chain

    from ..batch import read_all
    from ..safety.kbdiff import diff_cases, diff_document, diff_knowledge, generated_pairs
    from ..safety.tables import render
    from ..session import TriageSession

    old, new = TriageSession(rules_dir=old_dir), TriageSession(rules_dir=new_dir)
    files = list(case_files) or _checkout_files("examples", "*")
    count = generated if not case_files or _given("generated") else 0
    pairs = chain(zip(read_all(files, old.kb.vocabulary, input_format),
                      read_all(files, new.kb.vocabulary, input_format), strict=True),
                  generated_pairs(old.kb, new.kb, count, seed))
    cases = diff_cases(old, new, pairs)
    kb_diff = diff_knowledge(old.kb, new.kb)
    _write(render(diff_document(old.kb, new.kb, kb_diff, cases),
                  {"knowledge": kb_diff.to_dict(), "cases": cases.to_dict(),
                   "old": old.kb.version, "new": new.kb.version}, output_format))
    if cases.less_urgent and not allow_less_urgent:
        say(f"{len(cases.less_urgent)} cases become less urgent (listed first); "
            "--allow-less-urgent if that is deliberate")
        sys.exit(EXIT_UNSAFE)
    sys.exit(EXIT_OK)


def _given(option: str) -> bool:
    """True when the command line set ``option`` (not its default)."""
    from click.core import ParameterSource

    return click.get_current_context().get_parameter_source(option) is ParameterSource.COMMANDLINE


@click.command("mutate")
@click.option("--format", "-f", "output_format", type=click.Choice(("text", "json")), default="text",
              show_default=True)
@click.option("--verbose", "-v", is_flag=True, help="List every mutant and what killed it.")
@click.option("--rule", "rule_ids", multiple=True, metavar="ID",
              help="Mutate only this referral rule (repeatable; default: every one).")
@golden_option
@rules_option
@reports_errors
def mutate_command(output_format: str, verbose: bool, rule_ids: tuple[str, ...], golden_files: tuple[str, ...],
                   rules_dir: Path | None) -> None:
    """Mutation testing: weaken each referral rule in turn; the examples or golden cases must notice.

    Each referral rule is deleted, lowered one urgency level and stripped of
    each condition in turn. Exit status: 1 when a mutant survives or a check
    fails on the knowledge base itself, else 0.
    """
    from ..ruletools import find_rule
    from ..safety.mutation import format_mutation_report, mutation_test
    from ..safety.tables import to_json
    from ..session import TriageSession

    session = TriageSession(rules_dir=rules_dir)
    for rule_id in rule_ids:
        find_rule(session.kb, rule_id)
    report = mutation_test(session, _golden(golden_files, session.kb), set(rule_ids) or None)
    _write(to_json(report.to_dict()) if output_format == "json" else format_mutation_report(report, verbose))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID_CASES)


COMMANDS = (report_command, hazards_command, diff_command, mutate_command)
