"""Small multiples of the landscape paths: one contour panel per optimizer, for paths that overlap."""
from __future__ import annotations

import numpy as np

from .landscape import (
    _draw_paths,
    colored_runs,
    draw_landscape,
    draw_minima,
    legend_label,
    mixes_orders,
)
from .style import new_figure, save_figure


def contour_panels(function, trajectories, columns: int = 3, resolution: int = 120, save=None, dpi: float = 100):
    """Small multiples: one contour panel per run, for paths that overlap in :func:`contour`.

    Parameters
    ----------
    function : TestFunction
        A 2-D test function.
    trajectories : Trajectory, sequence or mapping
        The runs, as :func:`runs_of` takes them.
    columns : int, default 3
        Panels per row (>= 1).
    resolution : int, default 120
        Grid points per axis of each panel.
    save : path-like or list of path-like, optional
    dpi : float, default 100

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(columns, int) or isinstance(columns, bool) or columns < 1:
        raise ValueError(f"columns: expected a positive integer, got {columns!r}")
    colored = colored_runs(trajectories)
    columns = min(columns, len(colored))
    rows = -(-len(colored) // columns)
    figure = new_figure(3.6 * columns, 3.3 * rows + 0.4, dpi)
    axes = np.asarray(figure.subplots(rows, columns, squeeze=False)).ravel()
    mixed = mixes_orders(colored)
    for ax, run in zip(axes, colored):
        draw_landscape(ax, function, resolution)
        draw_minima(ax, function)
        _draw_paths(ax, [run])
        ax.set_title(legend_label(run[0], run[1], mixed), fontsize="medium")  # the title names the run
    for ax in axes[len(colored):]:
        ax.set_visible(False)
    figure.suptitle(f"{function.name}: one panel per optimizer (o start, x end)")
    return save_figure(figure, save)
