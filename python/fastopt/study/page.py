"""The study's single HTML page: every section's text, figures embedded as base64 ``data:`` URIs (so the file
can be moved or mailed alone) with their captions, and tables."""
from __future__ import annotations

import base64
import html
from pathlib import Path

from ..atomic import atomic_write
from ..report import table_html

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; line-height: 1.45; }
nav ol { columns: 2; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
figure { display: inline-block; margin: 0.6em; vertical-align: top; max-width: 100%; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; max-width: 60em; }
.meta { color: #666; font-size: 0.9em; }
"""


def _figure(out: Path, relative: str, caption: str) -> str:
    path = out / relative
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:{_MIME[path.suffix.lower()]};base64,{data}" alt="{html.escape(caption)}" />'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def write_page(out: Path, title: str, intro: str, sections) -> Path:
    """Write ``out/report.html`` (atomically) from the finished sections and return its path.

    Parameters
    ----------
    out : Path
        The study's folder; the sections' figures are read from it.
    title : str
        The page's title.
    intro : str
        A paragraph under it (settings, machine, total time).
    sections : sequence of fastopt.study.record.Section

    Returns
    -------
    Path
    """
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="meta">{html.escape(intro)}</p>', "<nav><ol>"]
    parts += [f'<li><a href="#{s.key}">{html.escape(s.title)}</a></li>' for s in sections]
    parts.append("</ol></nav>")
    for s in sections:
        parts.append(f'<h2 id="{s.key}">{html.escape(s.title)}</h2>')
        parts += [f"<p>{html.escape(p)}</p>" for p in s.text]
        if s.table:
            parts.append(table_html(s.table))
        parts.append("<div>" + "\n".join(_figure(out, f, c) for f, c in s.figures) + "</div>")
        parts.append(f'<p class="meta">computed in {s.seconds:.0f} s</p>')
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
    path = out / "report.html"
    with atomic_write(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
