"""The techniques section: what each technique is for, its steps and cautions, its sources."""

from __future__ import annotations

from triage.errors import Problem
from triage.kb.techniques import parse_techniques
from triage.yamlio import load_yaml

TECHNIQUES = """\
techniques:
  - id: knee_hug
    name: Knee hug
    kind: stretch
    for: [psoas, any]
    steps: [Lie on your back., Hug one knee.]
    hold: 30 seconds
    cautions: [Stop if it hurts.]
    sources: [nice-cks]
  - id: bad_one
    name: Bad one
    kind: yoga
    for: [calf]
    steps: []
    hold: 30 seconds
    cautions: [Stop if it hurts.]
    sources: [nice-cks]
"""


def test_techniques_are_checked_against_the_muscles_and_sources() -> None:
    problems: list[Problem] = []
    entries = [(item, "t.yaml") for item in load_yaml(TECHNIQUES, "t.yaml")["techniques"]]
    techniques = parse_techniques(entries, {"nice-cks"}, ("psoas", "piriformis"), problems)
    hug = techniques["knee_hug"]
    assert (hug.name, hug.kind, hug.for_muscles, hug.steps, hug.location.line) == (
        "Knee hug", "stretch", ("psoas", "any"), ("Lie on your back.", "Hug one knee."), 2)
    assert techniques["bad_one"].for_muscles == ()
    assert [str(p) for p in problems] == [
        "t.yaml:12: [error] technique kind must be one of warming, stretch, massage, rest, got 'yoga' (load)",
        "t.yaml:13: [error] technique 'for' must list muscles (psoas, piriformis) or any, got ['calf'] (load)",
        "t.yaml:14: [error] technique steps must be a non-empty list of texts (load)",
    ]
