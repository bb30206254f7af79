"""The seeded generated corpus: the same cases for the same seed, valid against the vocabulary it is given."""

from __future__ import annotations

import shutil
from pathlib import Path

from triage.case import parse_case
from triage.corpus import generate_cases
from triage.kb import KnowledgeBase, default_rules_dir, load_knowledge_base
from helpers import load_script
from kb.support import add_red_flag


def test_the_same_seed_gives_the_same_valid_cases(kb: KnowledgeBase) -> None:
    first = list(generate_cases(kb.vocabulary, 300, seed=3))
    assert first == list(generate_cases(kb.vocabulary, 300, seed=3))
    assert first != list(generate_cases(kb.vocabulary, 300, seed=4))
    assert [parse_case(raw, raw["id"], kb.vocabulary).id for raw in first] == [f"bench-{n}" for n in range(1, 301)]


def test_a_clinic_vocabulary_is_drawn_from(tmp_path: Path) -> None:
    shutil.copytree(default_rules_dir(), tmp_path / "rules")
    add_red_flag(tmp_path / "rules")
    vocabulary = load_knowledge_base(tmp_path / "rules").vocabulary
    assert any("chest_pain" in raw["red_flags"] for raw in generate_cases(vocabulary, 2000, prefix="clinic"))


def test_the_benchmarks_draw_the_same_cases_from_the_bundled_vocabulary(kb: KnowledgeBase) -> None:
    assert list(load_script("benchmarks/cases.py").generate_cases(50)) == list(generate_cases(kb.vocabulary, 50))
