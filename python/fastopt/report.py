"""A self-contained HTML report of a comparison: figures and a results table in one directory.

By default ``report.html`` links its figures with relative ``<img>`` paths to files beside it (they
are copied there when they live elsewhere): the directory is the report, can be zipped or served
as is, and the figures stay usable on their own.  ``embed=True`` writes them into the page as base64
``data:`` URIs instead, for a single file to send around.  The page is XHTML-compatible (every tag
closed, all text escaped) so strict XML parsers read it too.
"""
from __future__ import annotations

import base64
import html
import shutil
from collections.abc import Mapping
from pathlib import Path

from . import metrics

_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; text-align: center; }
"""


def _sections(sections) -> list[tuple[str, list[Path]]]:
    pairs = sections.items() if isinstance(sections, Mapping) else sections
    result = []
    for entry in pairs:
        heading, figures = entry
        figures = [figures] if isinstance(figures, (str, Path)) else list(figures)
        result.append((str(heading), [Path(figure) for figure in figures]))
    return result


def _source(figure: Path, out_dir: Path) -> Path:
    """The figure file, looked up in ``out_dir`` first when the path is relative."""
    source = figure if figure.is_absolute() else out_dir / figure
    if not source.is_file():
        source = figure  # a relative path may also be relative to the working directory
    if not source.is_file():
        raise FileNotFoundError(f"sections: figure {str(figure)!r} not found (looked in {str(out_dir)!r} too)")
    if source.suffix.lower() not in _MIME:
        raise ValueError(f"sections: figure {str(figure)!r} must be one of {', '.join(_MIME)}")
    return source


def _place(source: Path, out_dir: Path) -> Path:
    """The figure's path relative to ``out_dir``, copying it there when it lives elsewhere."""
    try:
        return source.resolve().relative_to(out_dir.resolve())
    except ValueError:
        target = out_dir / source.name
        if target.exists() and not target.samefile(source):
            raise ValueError(f"sections: {source.name!r} already exists in {str(out_dir)!r}; rename the figure")
        shutil.copyfile(source, target)
        return Path(source.name)


def figure_html(relative: Path, out_dir: Path, embed: bool, caption: str | None = None) -> str:
    """A ``<figure>`` of ``out_dir / relative``: linked by its relative path, or embedded as a base64 ``data:`` URI;
    captioned by ``caption`` (default: the file's name, underscores as spaces)."""
    if embed:
        data = base64.b64encode((out_dir / relative).read_bytes()).decode("ascii")
        src = f"data:{_MIME[relative.suffix.lower()]};base64,{data}"
    else:
        src = relative.as_posix()
    caption = html.escape(caption if caption is not None else relative.stem.replace("_", " "))
    return (f'<figure><img src="{html.escape(src)}" alt="{caption}" />'
            f"<figcaption>{caption}</figcaption></figure>")


def _reached(summary: dict, threshold: float) -> tuple[str, str]:
    hit = summary["reached"][threshold]
    return ("not reached", "not reached") if hit is None else (str(hit[0]), f"{hit[1]:.1f} s")


def results_table(runs: Mapping, thresholds=(0.97, 0.98)) -> list[list[str]]:
    """Header and rows of the results table, as text: one row per run (mapping label -> history).

    Parameters
    ----------
    runs : mapping
        Run label -> training history (anything :func:`fastopt.metrics.as_history` accepts, with
        ``epoch``, ``test_accuracy``, ``epoch_time`` and ``total_time``).
    thresholds : iterable of float, default (0.97, 0.98)
        Test accuracies (fractions) whose epoch and time to reach get a column each.

    Returns
    -------
    list of list of str
        The header (run, final test accuracy, epoch and time to each threshold, time per epoch),
        then one row per run in the order of ``runs``; a threshold never reached reads "not reached".

    Raises
    ------
    ValueError, TypeError
        As :func:`fastopt.metrics.run_summary`, e.g. a history without epochs or a column.
    """
    header = ["run", "final test accuracy"]
    for threshold in thresholds:
        header += [f"epoch to {threshold:.0%}", f"time to {threshold:.0%}"]
    header.append("time per epoch")
    rows = [header]
    for label, history in runs.items():
        summary = metrics.run_summary(history, thresholds)
        row = [str(label), f"{summary['final_test_accuracy']:.2%}"]
        for threshold in thresholds:
            row += _reached(summary, float(threshold))
        row.append(f"{summary['time_per_epoch']:.2f} s")
        rows.append(row)
    return rows


def table_html(rows: list[list[str]]) -> str:
    """An HTML table of text cells, the first row its header (every cell escaped)."""
    header, *body = rows
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    lines = ["".join(f"<td>{html.escape(cell)}</td>" for cell in row) for row in body]
    return "<table>\n<tr>" + head + "</tr>\n" + "\n".join(f"<tr>{line}</tr>" for line in lines) + "\n</table>"


def write_report(out_dir, title: str, sections, runs: Mapping | None = None, intro: str | None = None,
                 thresholds=(0.97, 0.98), embed: bool = False, captions: Mapping | None = None) -> Path:
    """Write ``out_dir/report.html`` and return its path.

    Parameters
    ----------
    out_dir : path-like
        The report's directory, created if needed; figures living elsewhere are copied into it
        (also with ``embed=True``).
    title : str
        The page's title and top heading.
    sections : mapping or sequence of pairs
        Headings -> figure files (.png, .svg or .gif; one path or a list per heading), as a mapping
        or a sequence of (heading, figures) pairs; relative paths are looked up in ``out_dir`` first,
        then in the working directory.
    runs : mapping, optional
        Run labels -> training histories (see :func:`fastopt.metrics.as_history`) for the results
        table (:func:`results_table`): final test accuracy, epoch and time to reach each of
        ``thresholds``, time per epoch.  None or empty: no table.
    intro : str, optional
        A paragraph under the title.
    thresholds : iterable of float, default (0.97, 0.98)
        Test accuracies (fractions) of the results table.
    embed : bool, default False
        Write the figures into the page as base64 ``data:`` URIs instead of linking them.
    captions : mapping, optional
        Figure file name -> the sentence shown under it (default: the file name without its suffix).

    Returns
    -------
    pathlib.Path
        ``out_dir / "report.html"``.

    Raises
    ------
    FileNotFoundError
        If a figure is not found; raised before ``out_dir`` is created or anything copied.
    ValueError
        If a figure's suffix is not .png, .svg or .gif, another file of the same name is already in
        ``out_dir``, or as :func:`results_table`.
    """
    out_dir = Path(out_dir)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if intro:
        parts.append(f"<p>{html.escape(intro)}</p>")
    if runs:
        parts += ["<h2>Results</h2>", table_html(results_table(runs, thresholds))]
    # Find every figure before copying any, so that a missing one leaves out_dir untouched.
    found = [(heading, [_source(figure, out_dir) for figure in figures]) for heading, figures in _sections(sections)]
    out_dir.mkdir(parents=True, exist_ok=True)
    for heading, sources in found:
        placed = [_place(source, out_dir) for source in sources]
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append("<div>" + "\n".join(figure_html(relative, out_dir, embed, (captions or {}).get(relative.name))
                                         for relative in placed) + "</div>")
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
