"""The audit as HTML: the web audit page's report and ``triage audit --format html``.

:func:`audit_sections` renders the audits (:mod:`triage.audit`) as an HTML
fragment, every value escaped; :func:`render_html` wraps it into one
self-contained file (styles and the inference graph's SVG inline, a
Content-Security-Policy that lets no script run) that a clinician can open
or attach. The graph is :func:`triage.audit.render_dot`'s, drawn by
Graphviz's ``dot`` when it is installed; without it the report says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
import html
from typing import Any

from .audit import CaseAudit, render_dot
from .formats import printable
from .results import ErrorRecord

#: Shown instead of the graph when Graphviz is missing.
GRAPHVIZ_MISSING = ("The inference graph is not drawn: Graphviz (the dot program) is not installed "
                    "here. Install it (for example apt-get install graphviz) or run "
                    "triage audit --format dot and render the file elsewhere.")
#: Seconds ``dot`` may take before the graph is given up.
DOT_TIMEOUT = 30


def graph_timed_out(seconds: float) -> str:
    """What is shown instead of the graph when ``dot`` took longer than ``seconds``."""
    return (f"The inference graph is not drawn: Graphviz took longer than {seconds:g} s to draw it. "
            "Audit fewer cases at a time, or run triage audit --format dot and render the file elsewhere.")


#: Shown instead of the graph when ``dot`` fails on it.
GRAPHVIZ_FAILED = ("The inference graph is not drawn: Graphviz could not draw it. "
                   "Run triage audit --format dot and render the file elsewhere.")

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:1rem;color:#1a1a1a}
h1,h2,h3{line-height:1.2}
.case{border-top:2px solid #ccc;margin-top:2rem;padding-top:1rem}
.disposition{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;font-weight:600}
.d-emergency{background:#b00020;color:#fff}.d-urgent{background:#e65100;color:#fff}
.d-see_doctor{background:#ffe082}.d-self_care{background:#c8e6c9}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
code{font-size:.85em;word-break:break-all}
.scroll{overflow-x:auto}
.graph{overflow:auto;border:1px solid #ccc;padding:.5rem;background:#fff}
.graph svg{max-width:100%;height:auto}
.note{background:#fff8e1;border-left:4px solid #ffb300;padding:.5rem 1rem}
.invalid{color:#b00020}
"""


def dot_to_svg(dot_text: str, timeout: float = DOT_TIMEOUT) -> tuple[str | None, str]:
    """The graph drawn as SVG by Graphviz, or None and why not (missing, too slow, failed).

    ``dot`` is killed after ``timeout`` seconds: a graph of hundreds of cases
    can take minutes, and the reason then says so (it is not "not installed").
    """
    dot = shutil.which("dot")
    if dot is None:
        return None, GRAPHVIZ_MISSING
    try:
        done = subprocess.run([dot, "-Tsvg"], input=dot_text, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, graph_timed_out(timeout)
    except OSError:
        return None, GRAPHVIZ_FAILED
    if done.returncode != 0 or "<svg" not in done.stdout:
        return None, GRAPHVIZ_FAILED
    # Drop the XML prolog and doctype: the SVG goes inside an HTML page.
    return done.stdout[done.stdout.index("<svg"):], ""


def _escape(text: str) -> str:
    """``text`` for HTML: markup characters escaped, and control and bidi characters shown as
    escapes as on the terminal (a U+202E in a case id cannot reorder the report around it)."""
    return html.escape(printable(text, keep="\n\t"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) if value else "none"
    return "unknown" if value is None else str(value)


def _facts(facts: dict[str, Any]) -> str:
    return "; ".join(f"{_escape(k)} = {_escape(_text(v))}" for k, v in facts.items()) or "(nothing)"


def audit_sections(audits: Iterable[CaseAudit], errors: Sequence[ErrorRecord] = ()) -> str:
    """Every case's disposition, fired rules (facts, sources) and HOW, as escaped HTML."""
    parts: list[str] = []
    for audit in audits:
        r = audit.result
        muscles = ", ".join(f"{m.muscle.replace('_', ' ')} ({round(m.confidence * 100)}%)"
                            for m in r.likely_muscles) or "none"
        parts += [f'<section class="case"><h2>Case <code>{_escape(r.id)}</code>: '
                  f'<span class="disposition d-{_escape(r.disposition.value)}">'
                  f'{_escape(r.disposition.value.replace("_", " "))}</span></h2>',
                  f"<p>{_escape(r.headline)}</p><p>Likely muscles: {_escape(muscles)}</p>",
                  "<h3>Rules that fired, in order</h3>"]
        if audit.trace:
            # A wide table scrolls sideways in its own region, which the keyboard can reach (WCAG 2.1.1).
            parts.append(f'<div class="scroll" tabindex="0" role="region" '
                         f'aria-label="Rules that fired for case {_escape(r.id)}">'
                         "<table><thead><tr><th>#</th><th>Rule</th><th>Matched facts</th>"
                         "<th>Asserted</th><th>Sources</th></tr></thead><tbody>")
            for step in audit.trace:
                parts.append(
                    f"<tr><td>{step.order}</td><td>{_escape(step.description)}<br>"
                    f"<code>{_escape(step.rule)}</code> ({_escape(step.where)})</td>"
                    f"<td>{_facts(step.facts)}</td>"
                    f"<td>{_escape(', '.join(step.asserted) or '(nothing new)')}</td>"
                    f"<td>{_escape(', '.join(step.sources))}</td></tr>")
            parts.append("</tbody></table></div>")
        else:
            parts.append("<p>No rule fired.</p>")
        parts.append("<h3>How each conclusion was reached</h3><ul>")
        for item in audit.how:
            chains = "".join(f"<li><code>{_escape(chain)}</code></li>" for chain in item.chains())
            note = f"<p>{_escape(item.note)}</p>" if item.note else ""
            parts.append(f"<li>{_escape(item.conclusion)}{note}<ul>{chains}</ul></li>")
        parts.append("</ul></section>")
    if errors:
        parts.append('<section class="case"><h2>Invalid cases</h2><ul class="invalid">')
        parts += [f"<li><code>{_escape(e.id)}</code>: {_escape(str(e.error))}</li>" for e in errors]
        parts.append("</ul></section>")
    return "\n".join(parts)


def graph_section(svg: str | None, why_not: str = GRAPHVIZ_MISSING) -> str:
    """The inference graph inline, or the note saying why it is missing."""
    if svg is None:
        return f'<p class="note">{_escape(why_not)}</p>'
    return (f'<div class="graph" tabindex="0" role="region" aria-label="Inference graph">'
            f'{_without_scripts(svg)}</div>')


def _without_scripts(svg: str) -> str:
    """Graphviz escapes every label; this is a second lock should a label ever get through."""
    return re.sub(r"<\s*(script|foreignObject)\b.*?<\s*/\s*\1\s*>", "", svg, flags=re.I | re.S)


def render_html(audits: Sequence[CaseAudit], errors: Sequence[ErrorRecord] = ()) -> str:
    """One self-contained HTML report: styles and the graph's SVG inline, no script."""
    svg, why_not = dot_to_svg(render_dot(audits)) if audits else (None, "")
    count = f"{len(audits)} case{'s' if len(audits) != 1 else ''} audited"
    if errors:
        count += f", {len(errors)} invalid"
    return "\n".join([
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        "<title>triage audit</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>triage audit</h1>",
        f"<p>{_escape(count)}. Knowledge base "
        f"<code>{_escape(audits[0].result.kb_version if audits else '')}</code>.</p>",
        "<h2>Inference graph</h2>",
        graph_section(svg, why_not) if audits else "",
        audit_sections(audits, errors),
        "<p><small>Not a diagnosis. When in doubt, see a doctor.</small></p>",
        "</body></html>",
        "",
    ])


__all__ = ["DOT_TIMEOUT", "GRAPHVIZ_FAILED", "GRAPHVIZ_MISSING", "STYLE", "audit_sections", "dot_to_svg", "graph_section",
           "graph_timed_out", "render_html"]
