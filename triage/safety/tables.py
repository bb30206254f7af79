"""The tables of the safety evidence, and their Markdown, CSV, HTML and JSON forms.

A report is a title, a few header facts (``meta``) and tables; a table is a
title, its column names and rows of text cells. Lists in a cell are joined
with ``; `` (CSV, Markdown) or one per line (HTML), so each form carries the
same content.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass, field
from typing import Any

#: The text forms every safety report can be written in.
TABLE_FORMATS = ("md", "json", "csv", "html")


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; a cell may be a list of texts (or of ``(text, link)`` pairs)."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Document:
    """A titled report: header facts, then its tables in order."""

    title: str
    meta: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]


def _plain(cell: Any) -> list[str]:
    """A cell's texts, links written after their text."""
    items = cell if isinstance(cell, list) else [cell]
    out = []
    for item in items:
        if isinstance(item, tuple):
            text, link = item
            out.append(f"{text} <{link}>" if link else text)
        else:
            out.append("" if item is None else str(item))
    return out


def to_markdown(doc: Document) -> str:
    """The document as GitHub-flavoured Markdown."""
    lines = [f"# {doc.title}", ""]
    lines += [f"- {key}: {value}" for key, value in doc.meta]
    for table in doc.tables:
        lines += ["", f"## {table.title}", ""]
        if table.note:
            lines += [table.note, ""]
        if not table.rows:
            lines.append("(none)")
            continue
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("|" + "---|" * len(table.columns))
        for row in table.rows:
            cells = [_md_cell(cell) for cell in row]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _md_cell(cell: Any) -> str:
    items = cell if isinstance(cell, list) else [cell]
    out = []
    for item in items:
        if isinstance(item, tuple):
            text, link = item
            out.append(f"[{text}]({link})" if link else text)
        else:
            out.append("" if item is None else str(item))
    return "; ".join(out).replace("|", "\\|").replace("\n", " ")


def to_csv(doc: Document) -> str:
    """The document's tables as CSV: each table's title row, its header, its rows, a blank line.

    With one table (a traceability matrix, a hazard log) only the header and
    rows are written, so spreadsheets read it as it is.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for n, table in enumerate(doc.tables):
        if len(doc.tables) > 1:
            if n:
                writer.writerow([])
            writer.writerow([table.title])
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(["; ".join(_plain(cell)) for cell in row])
    return out.getvalue()


def to_html(doc: Document) -> str:
    """The document as one standalone HTML page (no script, no outside resource)."""
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(doc.title)}</title>",
             "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:2em}"
             "th,td{border:1px solid #999;padding:.3em .5em;vertical-align:top;text-align:left}"
             "th{background:#eee}tr.gap td{background:#fff3cd}</style>",
             f"</head><body><h1>{e(doc.title)}</h1><dl>"]
    parts += [f"<dt>{e(key)}</dt><dd>{e(value)}</dd>" for key, value in doc.meta]
    parts.append("</dl>")
    for table in doc.tables:
        parts.append(f"<h2>{e(table.title)}</h2>")
        if table.note:
            parts.append(f"<p>{e(table.note)}</p>")
        if not table.rows:
            parts.append("<p>(none)</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in table.columns)
                     + "</tr></thead><tbody>")
        gaps = table.columns.index("gaps") if "gaps" in table.columns else None
        for row in table.rows:
            marked = ' class="gap"' if gaps is not None and row[gaps] else ""
            parts.append(f"<tr{marked}>" + "".join(f"<td>{_html_cell(cell)}</td>" for cell in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_cell(cell: Any) -> str:
    items = cell if isinstance(cell, list) else [cell]
    out = []
    for item in items:
        if isinstance(item, tuple):
            text, link = item
            out.append(f'<a href="{html.escape(link)}">{html.escape(text)}</a>' if link else html.escape(text))
        else:
            out.append(html.escape("" if item is None else str(item)))
    return "<br>".join(out)


def to_json(data: Any) -> str:
    """Data as indented JSON (the JSON form is the report's own data, not its tables)."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render(doc: Document, data: Any, output_format: str) -> str:
    """``doc`` (or, for ``json``, ``data``) in ``output_format``, one of :data:`TABLE_FORMATS`."""
    if output_format == "json":
        return to_json(data)
    return {"md": to_markdown, "csv": to_csv, "html": to_html}[output_format](doc)


__all__ = ["TABLE_FORMATS", "Document", "Table", "render", "to_csv", "to_html", "to_json", "to_markdown"]
