"""Diffing two knowledge bases: rule and wording changes, and every case whose result changes."""

from __future__ import annotations

from pathlib import Path

from triage.kb import KnowledgeBase, load_knowledge_base
from triage.safety.kbdiff import diff_cases, diff_document, diff_knowledge, generated_pairs
from triage.safety.tables import to_markdown
from triage.session import TriageSession
from kb.support import add_red_flag, replace_in
from safety.support import weaken_an_urgent_rule


def _diff(old: KnowledgeBase, new: KnowledgeBase, count: int = 800):
    cases = diff_cases(TriageSession(old), TriageSession(new), generated_pairs(old, new, count, 6))
    return diff_knowledge(old, new), cases


def test_identical_knowledge_bases_change_nothing(kb: KnowledgeBase, rules_copy: Path) -> None:
    kb_diff, cases = _diff(kb, load_knowledge_base(rules_copy), 300)
    assert kb_diff.to_dict() == {"rules": {"added": [], "removed": [], "changed": []},
                                 "techniques": {"added": [], "removed": [], "changed": []}, "wording": []}
    assert cases.cases == 300 and cases.changes == []


def test_a_weakened_rule_shows_the_cases_that_become_less_urgent_first(kb: KnowledgeBase,
                                                                      rules_copy: Path) -> None:
    weakened = weaken_an_urgent_rule(rules_copy)
    kb_diff, cases = _diff(kb, load_knowledge_base(rules_copy))
    assert [(c.rule, c.changes) for c in kb_diff.changed] == [
        (weakened, ("conclusion: referral: urgent -> referral: see_doctor",))]
    assert cases.less_urgent, "the generated corpus holds no case this rule decides"
    assert all(c.old == "urgent" and c.new == "see_doctor" and weakened in c.old_reasons
               for c in cases.less_urgent)
    assert cases.changes[: len(cases.less_urgent)] == cases.less_urgent
    assert cases.transitions()["urgent -> see_doctor"] == len(cases.less_urgent)
    text = to_markdown(diff_document(kb, load_knowledge_base(rules_copy), kb_diff, cases))
    assert text.index("## Cases that become less urgent") < text.index("## Disposition transitions")
    assert f"| {cases.less_urgent[0].id} | urgent | see_doctor |" in text


def test_a_new_red_flag_rule_and_changed_wording_are_listed(kb: KnowledgeBase, rules_copy: Path) -> None:
    add_red_flag(rules_copy)
    replace_in(rules_copy / "knowledge-base.yaml", "headline: See a doctor today.", "headline: See a doctor today, please.")
    new = load_knowledge_base(rules_copy)
    kb_diff, cases = _diff(kb, new, 200)
    assert kb_diff.added == ("refer.emergency.chest_pain",) and kb_diff.removed == ()
    assert "advice for urgent: 'See a doctor today.' -> 'See a doctor today, please.'" in kb_diff.wording
    assert any(w.startswith("question ") and w.endswith("choices changed") for w in kb_diff.wording)
    # Cases drawn from the old vocabulary never report the new red flag: nothing changes for them.
    assert cases.changes == []


def test_a_case_one_side_refuses_shows_as_invalid(kb: KnowledgeBase, rules_copy: Path) -> None:
    replace_in(rules_copy / "vocabulary.yaml", "        inflammatory_pattern:", "        chest_pain: pain in the chest\n"
               "        inflammatory_pattern:")
    replace_in(rules_copy / "questions.yaml", "      major_trauma: The pain began",
               "      chest_pain: Pain in your chest\n      major_trauma: The pain began")
    path = rules_copy / "red-flags.yaml"
    path.write_text(path.read_text() + "\n  - id: refer.urgent.chest_pain\n    description: Chest pain.\n"
                    "    sources: [nice-cks-back-pain]\n    when:\n      red_flags: {has: chest_pain}\n"
                    "    then: {refer: urgent, reason: Chest pain needs a doctor today.}\n")
    new = load_knowledge_base(rules_copy)
    # Cases drawn from the new vocabulary, read by the old one: any with chest_pain is invalid there.
    pairs = [(old_side, new_side) for new_side, old_side in generated_pairs(new, kb, 1500, 6)]
    cases = diff_cases(TriageSession(kb), TriageSession(new), pairs)
    invalid = [c for c in cases.changes if c.old == "invalid"]
    assert invalid and all(not c.less_urgent for c in invalid)
