"""The study's single HTML page: every section's text, figures embedded as base64 ``data:`` URIs (so the file
can be moved or mailed alone) with their captions, and tables."""
from __future__ import annotations

import html
from pathlib import Path

from ..atomic import atomic_write
from ..report import STYLE, figure_html, table_html

_STYLE = STYLE + """
body { line-height: 1.45; }
nav ol { columns: 2; }
figcaption { max-width: 60em; text-align: left; }
.meta { color: #666; font-size: 0.9em; }
"""


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
        parts.append("<div>" + "\n".join(figure_html(Path(f), out, embed=True, caption=c) for f, c in s.figures)
                     + "</div>")
        parts.append(f'<p class="meta">computed in {s.seconds:.0f} s</p>')
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
    path = out / "report.html"
    with atomic_write(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
