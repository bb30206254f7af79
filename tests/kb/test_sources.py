"""The sources section, and citing it: every id well formed, unique and known."""

from __future__ import annotations

from triage.errors import Problem
from triage.kb.model import Source
from triage.kb.sources import cited_sources, parse_sources
from triage.yamlio import load_yaml

SOURCES = """\
sources:
  - id: nice-cks
    title: NICE CKS
    kind: guideline
    note: "  Back pain, low (without radiculopathy).  "
    url: https://cks.nice.org.uk/topics/back-pain-low-without-radiculopathy/
  - id: nice-cks
    title: The same id again
  - id: Bad Id
    title: Spaces and capitals
  - id: no-title
    colour: blue
"""


def test_sources_are_read_by_id_and_mistakes_reported_at_their_line() -> None:
    problems: list[Problem] = []
    entries = [(item, "s.yaml") for item in load_yaml(SOURCES, "s.yaml")["sources"]]
    sources = parse_sources(entries, problems)
    assert sources == {"nice-cks": Source("nice-cks", "NICE CKS", "guideline", "Back pain, low (without radiculopathy).",
                                           "https://cks.nice.org.uk/topics/back-pain-low-without-radiculopathy/"),
                       "no-title": Source("no-title", "", "", "")}
    assert [str(p) for p in problems] == [
        "s.yaml:7: [error] duplicate id 'nice-cks' (first at s.yaml:2) (load)",
        "s.yaml:9: [error] sources entry needs an id matching ^[a-z0-9_-]+$, got 'Bad Id' (load)",
        "s.yaml:12: [error] unknown source field 'colour'. Allowed: id, title, kind, note, url. (load)",
        "s.yaml:11: [error] title must be a non-empty text (load)",
    ]


def test_a_citation_names_at_least_one_known_source() -> None:
    problems: list[Problem] = []
    item = load_yaml("sources: [nice-cks, nice-ckz]\n", "r.yaml")
    assert cited_sources(item, "r.yaml", {"nice-cks"}, problems) == ("nice-cks", "nice-ckz")
    assert [p.message for p in problems] == ["unknown source 'nice-ckz'; did you mean 'nice-cks'? Allowed: nice-cks."]
    problems.clear()
    assert cited_sources(load_yaml("sources: []\n", "r.yaml"), "r.yaml", {"nice-cks"}, problems) == ()
    assert [p.message for p in problems] == ["sources must list at least one source id (see sources.yaml)"]
