"""The knowledge_base section: settings read once, every mistake a problem at its line."""

from __future__ import annotations

from pathlib import Path

from triage.errors import Problem
from triage.kb.model import DispositionAdvice, KnowledgeBase
from triage.kb.settings import Settings, parse_settings
from triage.vocabulary import Disposition
from triage.yamlio import load_yaml


def _settings(*texts: str) -> tuple[Settings, list[Problem]]:
    problems: list[Problem] = []
    found = [(load_yaml(text, f"s{n}.yaml")["knowledge_base"], f"s{n}.yaml") for n, text in enumerate(texts)]
    return parse_settings(found, Path("rules"), problems), problems


def test_the_bundled_settings(kb: KnowledgeBase) -> None:
    assert kb.evidence_weights == {"strong": 0.6, "supporting": 0.2}
    assert set(kb.dispositions) == set(Disposition)
    assert kb.dispositions[Disposition.URGENT].headline == "See a doctor today."
    assert kb.always_advice == ("This is not a diagnosis. When in doubt, see a doctor.",)


def test_no_settings_is_a_problem_at_the_folder_and_the_defaults_go_on() -> None:
    settings, problems = _settings()
    assert [str(p) for p in problems] == [
        "rules: [error] exactly one file must have a knowledge_base section, found 0 (load)"]
    assert settings.salience == {} and settings.dispositions == {}


def test_settings_in_two_files_point_at_the_second() -> None:
    text = "knowledge_base: {}\n"
    _, problems = _settings(text, text)
    assert str(problems[0]) == "s1.yaml: [error] exactly one file must have a knowledge_base section, found 2 (load)"


def test_each_bad_setting_is_reported_at_its_line() -> None:
    settings, problems = _settings("""\
knowledge_base:
  evidence_weights: {strong: 0.6}
  salience: {derive: 40, refer: 30, sign: 30, conclude: 10, recommend: 0}
  dispositions:
    emergency: {headline: Now., advice: [Go.]}
    urgent: {headline: Today., advice: [Go today.], colour: red}
    soon: {headline: Soon., advice: [Go soon.]}
  always_advice: This is not a diagnosis.
  colour: blue
""")
    # A missing disposition points at the table; disposition order, not file order.
    assert [f"{p.location.line}: {p.message}" for p in problems] == [
        "9: unknown knowledge_base field 'colour'. Allowed: name, description, evidence_weights, salience, "
        "dispositions, always_advice.",
        "2: evidence_weights needs strong and supporting, each a number between 0 and 1",
        "5: dispositions.self_care needs a headline and a list of advice",
        "5: dispositions.see_doctor needs a headline and a list of advice",
        "6: unknown disposition field 'colour'. Allowed: headline, advice.",
        "7: unknown disposition 'soon'. Allowed: self_care, see_doctor, urgent, emergency.",
        "8: always_advice must be a list of texts",
    ]
    assert settings.evidence_weights == {"strong": 0.6, "supporting": 0.2}  # the default, to go on with
    assert settings.salience["derive"] == 40
    assert settings.dispositions == {Disposition.EMERGENCY: DispositionAdvice("Now.", ("Go.",)),
                                     Disposition.URGENT: DispositionAdvice("Today.", ("Go today.",))}
