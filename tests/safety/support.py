"""Edits of a knowledge-base copy that a safety reviewer must be told about, found from the data."""

from __future__ import annotations

import re
from pathlib import Path

from triage.conclusions import Refer
from triage.kb import KnowledgeBase, load_knowledge_base
from triage.vocabulary import Disposition


def delete_source(rules_dir: Path) -> str:
    """Remove from sources.yaml the first source a rule cites; return its id."""
    kb = load_knowledge_base(rules_dir)
    cited = kb.rules[0].sources[0]
    path = rules_dir / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    entry = re.compile(rf"^  - id: {re.escape(cited)}\n(?:    .*\n|\s*\n)*", re.MULTILINE)
    assert entry.search(text), cited
    path.write_text(entry.sub("", text, count=1), encoding="utf-8")
    return cited


def remove_must_not_fire_examples(rules_dir: Path, kb: KnowledgeBase) -> str:
    """Empty the must-not-fire examples of the first rule whose YAML lists them on one line; return its id."""
    for rule in kb.rules:
        path = Path(rule.location.file or "")
        if not path.is_absolute():
            path = kb.directory / path
        copy = rules_dir / path.name
        lines = copy.read_text(encoding="utf-8").splitlines(keepends=True)
        start = (rule.location.line or 1) - 1
        for n in range(start + 1, len(lines)):
            if lines[n].lstrip().startswith("- id:"):
                break
            if lines[n].lstrip().startswith("does_not_fire: [") and lines[n].rstrip().endswith("]"):
                lines[n] = lines[n][: lines[n].index("does_not_fire:")] + "does_not_fire: []\n"
                copy.write_text("".join(lines), encoding="utf-8")
                return rule.id
    raise AssertionError("no rule lists its must-not-fire examples on one line")


def weaken_an_urgent_rule(rules_dir: Path) -> str:
    """Make the first urgent referral rule of red-flags.yaml refer only to see a doctor; return its id."""
    kb = load_knowledge_base(rules_dir)
    rule = next(r for r in kb.rules if isinstance(r.conclusion, Refer)
                and r.conclusion.urgency is Disposition.URGENT and Path(r.location.file or "").name == "red-flags.yaml")
    path = rules_dir / "red-flags.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for n in range((rule.location.line or 1), len(lines)):
        if "refer: urgent" in lines[n]:
            lines[n] = lines[n].replace("refer: urgent", "refer: see_doctor")
            break
    path.write_text("".join(lines), encoding="utf-8")
    return rule.id
