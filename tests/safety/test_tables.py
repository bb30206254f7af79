"""One table, four forms: Markdown, CSV, HTML and JSON carry the same cells, safely escaped."""

from __future__ import annotations

import csv
import io
import json

from triage.safety.tables import Document, Table, render

DOC = Document("Report <1>", (("knowledge base", "rules (sha256:abc)"),), (
    Table("Rules", ("rule", "sources", "gaps"), [
        ("a|b", [("nice-ng59: NG59", "https://www.nice.org.uk/guidance/ng59"), ("article-001: A", "")], ["no source"]),
        ("c", [], []),
    ]),
))


def test_markdown_escapes_pipes_and_links_sources() -> None:
    text = render(DOC, {}, "md")
    assert "| a\\|b | [nice-ng59: NG59](https://www.nice.org.uk/guidance/ng59); article-001: A | no source |" in text
    assert text.startswith("# Report <1>\n\n- knowledge base: rules (sha256:abc)\n")


def test_csv_has_one_header_and_a_row_per_entry() -> None:
    rows = list(csv.reader(io.StringIO(render(DOC, {}, "csv"))))
    assert rows == [["rule", "sources", "gaps"],
                    ["a|b", "nice-ng59: NG59 <https://www.nice.org.uk/guidance/ng59>; article-001: A", "no source"],
                    ["c", "", ""]]


def test_html_is_escaped_links_sources_and_marks_gap_rows() -> None:
    page = render(DOC, {}, "html")
    assert "<title>Report &lt;1&gt;</title>" in page
    assert '<a href="https://www.nice.org.uk/guidance/ng59">nice-ng59: NG59</a><br>article-001: A' in page
    assert page.count('<tr class="gap">') == 1
    assert "<script" not in page


def test_json_is_the_data_not_the_table() -> None:
    assert json.loads(render(DOC, {"rules": 2}, "json")) == {"rules": 2}
