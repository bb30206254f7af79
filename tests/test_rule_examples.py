"""Every rule's own examples: the cases that must fire it and those that must not."""

from __future__ import annotations

import pytest

from triage.case import Case
from triage.kb import load_knowledge_base
from triage.session import TriageSession

_KB = load_knowledge_base()
_EXAMPLES = [(rule.id, case, True) for rule in _KB.rules for case in rule.examples_fire] + [
    (rule.id, case, False) for rule in _KB.rules for case in rule.examples_not_fire]


def _example_id(example: tuple[str, Case, bool]) -> str:
    rule_id, case, fires = example
    return f"{rule_id}:{'fires' if fires else 'does-not-fire'}:{case.id.rsplit('#', 1)[-1]}"


@pytest.mark.parametrize("example", _EXAMPLES, ids=[_example_id(e) for e in _EXAMPLES])
def test_rule_example(example: tuple[str, Case, bool], session: TriageSession) -> None:
    rule_id, case, must_fire = example
    fired = {firing.rule for firing in session.triage(case).fired_rules}
    assert (rule_id in fired) is must_fire


def test_every_rule_has_both_kinds_of_example() -> None:
    missing = [r.id for r in _KB.rules if not r.examples_fire or not r.examples_not_fire]
    assert missing == []
