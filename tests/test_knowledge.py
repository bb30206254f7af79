"""Loading and validating the knowledge base: every problem, with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.errors import KnowledgeBaseError
from triage.knowledge import default_rules_dir, load_knowledge_base
from triage.vocabulary import Disposition
from helpers import VOCABULARY


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge base."""
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def _problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(directory)
    return [str(p) for p in caught.value.problems]


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def test_bundled_knowledge_base_covers_the_policy(kb) -> None:
    kinds = {r.conclusion.kind for r in kb.rules}
    assert kinds == {"derive", "refer", "sign", "conclude", "recommend"}
    assert {r.conclusion.urgency for r in kb.rules if r.conclusion.kind == "refer"} == {
        d for d in Disposition if d.is_referral}
    strong = {r.conclusion.muscle for r in kb.rules
              if r.conclusion.kind == "sign" and r.conclusion.strength == "strong"}
    assert strong == set(VOCABULARY.muscles)
    derived_from = {c.operand for r in kb.rules if r.conclusion.derived == "prolonged_sitting"
                    for c in r.conditions}
    assert {"driving", "desk_work", "flying"} <= derived_from


def test_every_rule_and_technique_names_known_sources(kb) -> None:
    for item in [*kb.rules, *kb.techniques.values()]:
        assert item.sources and set(item.sources) <= set(kb.sources)
    for rule in kb.rules:
        assert rule.description and rule.location.line


def test_version_is_a_sha256(kb) -> None:
    assert kb.version.startswith("sha256:") and len(kb.version) == len("sha256:") + 64


def test_every_problem_is_reported_with_file_and_line_in_one_run(rules_copy: Path) -> None:
    bad = _write(rules_copy, "zz-bad.yaml", """\
rules:
  - id: muscle.piriformis.tennis_serve
    description: Duplicate id.
    sources: [article-001]
    when: {triggers: {has: tennis_serve}}
    then: {sign: piriformis, strength: strong}
  - id: bad.unknown_value
    description: A misspelt trigger and a made-up source.
    sources: [article-999]
    when:
      triggers: {has: tenis_serve}
    then: {sign: piriformis, strength: strong}
  - id: bad.unknown_field
    description: A field no case has.
    sources: [article-001]
    when:
      trigger: {has: tennis_serve}
    then: {recommend: [no_such_technique]}
""")
    problems = _problems(rules_copy)
    text = "\n".join(problems)
    assert f"{bad}:2" in text and "duplicate id 'muscle.piriformis.tennis_serve'" in text
    assert f"{bad}:11" in text and "did you mean 'tennis_serve'" in text
    assert f"{bad}:9" in text and "unknown source 'article-999'" in text
    assert f"{bad}:17" in text and "unknown condition subject 'trigger'" in text
    assert "unknown technique 'no_such_technique'" in text
    assert "must require self_care: true" in text
    assert len(problems) >= 6


def test_duplicate_yaml_keys_are_refused(rules_copy: Path) -> None:
    bad = _write(rules_copy, "zz-dup.yaml", "rules:\n  - id: a.b\n    id: a.c\n")
    assert any(f"{bad}:3" in p and "duplicate key 'id'" in p for p in _problems(rules_copy))


def test_yaml_syntax_error_names_the_line(rules_copy: Path) -> None:
    bad = _write(rules_copy, "zz-syntax.yaml", "rules:\n  - id: a.b\n    when: {triggers: [\n")
    assert any(p.startswith(f"{bad}:") and "invalid YAML" in p for p in _problems(rules_copy))


def test_examples_must_be_valid_cases(rules_copy: Path) -> None:
    bad = _write(rules_copy, "zz-example.yaml", """\
rules:
  - id: test.example
    description: An example with a bad age.
    sources: [article-004]
    when: {age: {below: 16}}
    then: {refer: see_doctor, reason: Young.}
    examples:
      fires: [{age: 300}]
""")
    assert any(f"{bad}:8" in p and "invalid example" in p and "age" in p for p in _problems(rules_copy))


def test_a_negative_test_must_fire_after_its_producers(rules_copy: Path) -> None:
    _write(rules_copy, "zz-order.yaml", """\
rules:
  - id: test.too_early
    description: Tests for no referral before the referral rules have fired.
    sources: [article-004]
    salience: 35
    when: {referred: false}
    then: {sign: psoas, strength: supporting}
""")
    assert any("test.too_early (salience 35)" in p and "lower salience" in p for p in _problems(rules_copy))


def test_self_care_conclusion_must_require_no_referral(rules_copy: Path) -> None:
    _write(rules_copy, "zz-unsafe.yaml", """\
rules:
  - id: conclude.reckless
    description: Self-care whatever the red flags.
    sources: [article-004]
    salience: 5
    when: {likely_muscles: {empty: false}}
    then: {conclude: self_care}
""")
    assert any("must require referred: false" in p for p in _problems(rules_copy))


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    assert "does not exist" in _problems(tmp_path / "nowhere")[0]
