"""The hazard-log skeleton: stable ids derived from the knowledge base, controls listed, risk left empty."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from triage.conclusions import Refer
from triage.kb import KnowledgeBase, load_knowledge_base
from triage.kb.checks import EMERGENCY_FLOOR
from triage.safety.hazards import GENERIC, hazard_log, hazards_document
from triage.safety.tables import to_csv, to_markdown
from safety.test_report import CLINIC_RULE


def test_every_red_flag_and_condition_has_a_failure_to_escalate_hazard(kb: KnowledgeBase) -> None:
    ids = {h.id for h in hazard_log(kb)}
    for field in ("red_flags", "conditions"):
        missing = [v for v in kb.vocabulary.fields[field].values if f"HAZ-ESC-{field}.{v}" not in ids]
        assert missing == [], field


def test_over_escalation_per_referral_disposition_and_the_generic_hazards(kb: KnowledgeBase) -> None:
    ids = [h.id for h in hazard_log(kb)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if i.startswith("HAZ-OVER-")] == ["HAZ-OVER-emergency", "HAZ-OVER-urgent",
                                                            "HAZ-OVER-see_doctor"]
    assert ids[-len(GENERIC):] == [g[0] for g in GENERIC]
    assert {"HAZ-GEN-misread-question", "HAZ-GEN-unanswered-screen", "HAZ-GEN-stale-knowledge-base",
            "HAZ-GEN-engine-failure", "HAZ-GEN-batch-misalignment", "HAZ-GEN-wrong-language"} <= set(ids)


def test_each_referral_rule_controls_some_hazard_and_the_floor_is_named(kb: KnowledgeBase) -> None:
    hazards = hazard_log(kb, {r.id: ["a-golden-case"] for r in kb.rules})
    controlling = {entry.split(" ")[0] for h in hazards for entry in h.rules}
    assert {r.id for r in kb.rules if isinstance(r.conclusion, Refer)} <= controlling
    saddle = next(h for h in hazards if h.id == f"HAZ-ESC-red_flags.{EMERGENCY_FLOOR['red_flags'][0]}")
    assert any("EMERGENCY_FLOOR" in t for t in saddle.tests)
    assert any("golden cases: a-golden-case" in t for t in saddle.tests)
    assert any(w.startswith("question ") for w in saddle.wording)


def test_ids_stay_when_a_rule_is_added(kb: KnowledgeBase, rules_copy: Path) -> None:
    (rules_copy / "zz-clinic.yaml").write_text(CLINIC_RULE)
    before = [h.id for h in hazard_log(kb)]
    after = [h.id for h in hazard_log(load_knowledge_base(rules_copy))]
    assert after == before


def test_csv_and_markdown_leave_likelihood_severity_and_residual_risk_empty(kb: KnowledgeBase) -> None:
    hazards = hazard_log(kb)
    document = hazards_document(kb, hazards)
    rows = list(csv.DictReader(io.StringIO(to_csv(document))))
    assert [r["id"] for r in rows] == [h.id for h in hazards]
    assert {(r["likelihood"], r["severity"], r["residual risk"]) for r in rows} == {("", "", "")}
    assert all(r["test controls"] for r in rows)
    text = to_markdown(document)
    assert "| id | hazard | cause | effect | rule controls | test controls | wording controls | likelihood |" in text
