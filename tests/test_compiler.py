"""The knowledge base compiled into real experta rules, run by experta's agenda."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import make_case

from triage._experta import KnowledgeEngine, Rule
from triage.compiler import build_engine
from triage.kb import default_rules_dir, load_knowledge_base
from triage.session import TriageSession


def test_every_rule_becomes_an_experta_rule_named_by_its_id(kb) -> None:
    engine = build_engine(kb)
    assert isinstance(engine, KnowledgeEngine)
    rules = engine.get_rules()
    assert all(isinstance(rule, Rule) for rule in rules)
    assert sorted(rule.__name__ for rule in rules) == sorted(r.id for r in kb.rules)
    by_name = {rule.__name__: rule for rule in rules}
    for rule in kb.rules:
        assert by_name[rule.id].salience[0] == rule.salience


def test_firings_record_rule_matched_facts_and_assertions(session: TriageSession) -> None:
    result = session.triage(make_case(pain_sites=["buttock", "back_of_thigh", "knee"],
                                      triggers=["tennis_serve", "stress"]))
    firing = next(f for f in result.fired_rules if f.rule == "muscle.piriformis.buttock_to_knee")
    assert firing.facts == {"pain_sites": ["back_of_thigh", "buttock"]}
    assert firing.asserted == ("sign: piriformis (strong)",)
    assert [f.order for f in result.fired_rules] == list(range(1, len(result.fired_rules) + 1))


def test_derived_facts_are_chained_by_the_engine(session: TriageSession) -> None:
    result = session.triage(make_case(triggers=["driving"], lower_back_curve="flattened"))
    order = [f.rule for f in result.fired_rules]
    derive = order.index("derive.prolonged_sitting.driving")
    use = order.index("muscle.hamstrings.prolonged_sitting")
    assert derive < use
    firing = result.fired_rules[use]
    assert firing.facts == {"derived": ["prolonged_sitting"]}


def test_salience_from_the_data_decides_the_order(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    text = (rules / "muscles.yaml").read_text()
    # Give the last psoas sign the highest salience: it must now fire first.
    text = text.replace("  - id: muscle.psoas.prolonged_sitting\n",
                        "  - id: muscle.psoas.prolonged_sitting\n    salience: 99\n")
    (rules / "muscles.yaml").write_text(text)
    result = TriageSession(load_knowledge_base(rules)).triage(make_case(triggers=["desk_work"]))
    assert [f.rule for f in result.fired_rules][:2] == ["derive.prolonged_sitting.desk_work",
                                                         "muscle.psoas.prolonged_sitting"]


def test_firing_order_does_not_depend_on_hash_seeds() -> None:
    code = (
        "import json\n"
        "from triage.session import TriageSession\n"
        "from triage.case import parse_case\n"
        "session = TriageSession()\n"
        "case = parse_case({'pain_sites': ['lower_back', 'buttock', 'back_of_thigh'],"
        " 'triggers': ['desk_work', 'tennis_serve', 'heavy_lifting'], 'pain_feels': ['locked_up', 'spasm'],"
        " 'red_flags': ['night_pain', 'fever'], 'conditions': ['dvt', 'burns']}, 'x', session.kb.vocabulary)\n"
        "print(json.dumps(session.triage(case).to_dict()))\n"
    )
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop())["disposition"] == "urgent"


def test_a_rule_testing_referred_fires_once_however_many_referrals(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), rules)
    (rules / "zz-referred.yaml").write_text(
        "rules:\n  - id: muscle.psoas.when_referred\n    description: A test rule.\n"
        "    sources: [article-002]\n    when:\n      referred: true\n"
        "    then: {sign: psoas, strength: supporting}\n")
    kb = load_knowledge_base(rules)
    result = TriageSession(kb).triage(make_case(red_flags=["fever", "night_pain"], age=75))
    assert len(result.referral.reasons) > 1 if result.referral else False
    assert [f.rule for f in result.fired_rules].count("muscle.psoas.when_referred") == 1
