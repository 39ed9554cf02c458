"""One palette, headless figures and saving: the pieces every fastopt figure shares.

Figures are built as ``matplotlib.figure.Figure`` objects with an Agg canvas, never through
``pyplot``: they render headless whatever backend the user has chosen, and no global figure list
keeps them alive after the caller drops them.
"""
from __future__ import annotations

import zlib
from pathlib import Path

try:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
except ImportError as error:  # matplotlib belongs to the optional `plot` extra
    raise ImportError("fastopt.plots needs matplotlib and pillow: pip install 'fastopt[plot]'") from error

from ..optim.registry import REGISTRY

# Fixed colours so that an optimizer looks the same in every figure: each registry entry's own.
OPTIMIZER_COLORS = {name: e.color for name, e in REGISTRY.items()}
# The second-order methods of fastopt.minimize (fastopt.landscape.second_order_methods()), by the names
# the issue gives them, each its own colour: dark ones, away from the six first-order optimizers of the
# landscape figures (sgd blue, momentum orange, nesterov green, adagrad red, rmsprop purple, adam pink),
# as their paths are dots joined by thin lines.
SECOND_ORDER_COLORS = {"lbfgs": "#000000", "bfgs": "#01665e", "cg": "#8c6d31", "newton": "#c51b7d",
                       "saddle-free-newton": "#737373", "newton-cg": "#543005", "trust-ncg": "#40004b",
                       "lm": "#4d9221"}
# Names outside the registry get one of these, chosen by a stable hash of the name (not Python's
# randomised hash), so they too keep their colour from one figure and one run to the next.
_SPARE_COLORS = ("#843c39", "#31a354", "#3182bd", "#e6550d", "#756bb1", "#636363", "#a55194", "#8ca252")

SURFACE_CMAP = "bone_r"  # light where f is low, so the coloured paths stand out where they end
SAVE_FORMATS = (".png", ".svg")


def color_for(name: str) -> str:
    """The colour of optimizer ``name`` in every fastopt figure.

    Parameters
    ----------
    name : str
        An optimizer name, case-insensitive.

    Returns
    -------
    str
        A hex colour: the registry entry's (:data:`OPTIMIZER_COLORS`) for a registered name, a second-order
        method's (:data:`SECOND_ORDER_COLORS`), else one of eight spare colours chosen by the CRC-32 of
        the lower-cased name (stable across runs).
    """
    key = str(name).lower()
    if key in OPTIMIZER_COLORS:
        return OPTIMIZER_COLORS[key]
    if key in SECOND_ORDER_COLORS:
        return SECOND_ORDER_COLORS[key]
    return _SPARE_COLORS[zlib.crc32(key.encode()) % len(_SPARE_COLORS)]


def new_figure(width: float, height: float, dpi: float) -> Figure:
    """A figure of ``width`` x ``height`` inches drawn by Agg, with constrained layout.

    Parameters
    ----------
    width, height : float
        Size in inches.
    dpi : float
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with ``pyplot``.
    """
    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def log_panel(ax, xlabel: str, ylabel: str, title: str | None = None) -> None:
    """Label a panel whose curves fall over decades: log y axis, major grid lines.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    xlabel, ylabel : str
        Axis labels, with units.
    title : str, optional
        The panel's title.
    """
    ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)


def save_figure(figure: Figure, save) -> Figure:
    """Write ``figure`` to each path in ``save`` (one path or a list; .png or .svg) and return it.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure to write.
    save : path-like, list of path-like, or None
        Files ending in .png or .svg (case-insensitive); their folders are created if needed.
        None writes nothing.

    Returns
    -------
    matplotlib.figure.Figure
        ``figure`` itself.

    Raises
    ------
    ValueError
        If a path ends in neither .png nor .svg; checked before anything is written.
    """
    if save is None:
        return figure
    paths = [save] if isinstance(save, (str, Path)) else list(save)
    for path in map(Path, paths):
        if path.suffix.lower() not in SAVE_FORMATS:
            raise ValueError(f"save: {str(path)!r} must end in one of {', '.join(SAVE_FORMATS)}")
    for path in map(Path, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    return figure
