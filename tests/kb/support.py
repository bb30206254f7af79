"""Helpers for the knowledge-base tests: load a broken copy, edit its files, add a red flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import KnowledgeBaseError
from triage.kb import load_knowledge_base


def problems_of(directory: Path) -> list[str]:
    """Every problem loading ``directory`` reports, as printed (the load must fail)."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(directory)
    return [str(p) for p in caught.value.problems]


def write_file(directory: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``directory/name`` and return the path."""
    path = directory / name
    path.write_text(text)
    return path


def replace_in(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in the file at ``path`` (which must contain it) with ``new``."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


#: "Adding a red flag" (docs/knowledge-base.md): the value, and the question choice that offers it.
ADDED_RED_FLAG = {
    "vocabulary.yaml": ("        inflammatory_pattern:", "        chest_pain: pain or tightness in the chest\n"
                        "        inflammatory_pattern:"),
    "questions.yaml": ("      major_trauma: The pain began", "      chest_pain: Pain or tightness in your chest\n"
                       "      major_trauma: The pain began"),
}
#: ... and the rule that refers it.
CHEST_PAIN_RULE = """
  - id: refer.emergency.chest_pain
    description: Back pain with chest pain can come from the heart or the aorta.
    sources: [nice-cks-back-pain]
    when:
      red_flags: {has: chest_pain}
    then:
      refer: emergency
      reason: Back pain with pain or tightness in the chest can come from the heart or a main blood vessel; call an ambulance now.
    examples:
      fires: [{red_flags: [chest_pain]}]
      does_not_fire: [{red_flags: []}]
"""


def add_red_flag(rules_dir: Path, with_rule: bool = True) -> None:
    """Add the red flag ``chest_pain`` to the knowledge base in ``rules_dir``, with its rule or without."""
    for name, (anchor, added) in ADDED_RED_FLAG.items():
        replace_in(rules_dir / name, anchor, added)
    if with_rule:
        path = rules_dir / "red-flags.yaml"
        path.write_text(path.read_text(encoding="utf-8") + CHEST_PAIN_RULE, encoding="utf-8")
