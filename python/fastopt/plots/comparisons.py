"""The landscape studies' figures: one optimizer at several learning rates, momentum against plain
gradient descent, the same optimizers on a convex and a non-convex function.  Built from the panels of
:mod:`fastopt.plots.landscape`, with its input contracts."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib import colormaps

from .landscape import check_shapes, colored_runs, contour_panel, loss_panel
from .style import new_figure, save_figure


def _paths_and_losses(function, colored, title: str, resolution: int, save, dpi: float):
    figure = new_figure(11.5, 4.8, dpi)
    figure.get_layout_engine().set(wspace=0.08)  # room between the colorbar and the loss axis label
    contour_ax, loss_ax = figure.subplots(1, 2, width_ratios=(1.15, 1.0))
    contour_panel(figure, contour_ax, function, colored, resolution)
    loss_panel(loss_ax, colored, function)
    figure.suptitle(title)
    return save_figure(figure, save)


def lr_sensitivity(function, trajectories, resolution: int = 200, save=None, dpi: float = 100):
    """One optimizer at several learning rates: paths on the contour map and their loss curves.

    Rates are coloured along a sequential colour map (low to high) instead of the optimizer palette.

    Parameters
    ----------
    function : TestFunction
        A 2-D test function (``name``, ``value``, ``grid``, ``minima``, ``domain``; see the module docstring).
    trajectories : sequence or mapping
        Runs of one optimizer (a mapping's labels are ignored); labelled ``lr=<lr>`` and sorted by lr.
    resolution : int, default 200
        Grid points per axis of the contour map.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg to write the figure to (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the runs are empty or malformed, are of more than one optimizer, or a ``save`` path ends in
        neither .png nor .svg.
    """
    results = list(trajectories.values()) if isinstance(trajectories, Mapping) else list(trajectories)
    check_shapes([(f"lr={result.lr:g}", result) for result in results])
    optimizers = sorted({result.optimizer for result in results})
    if len(optimizers) != 1:
        raise ValueError(f"trajectories: expected runs of one optimizer at several learning rates, got {optimizers}")
    results.sort(key=lambda result: result.lr)
    shades = colormaps["plasma"](np.linspace(0.0, 0.85, len(results)))
    colored = [(f"lr={result.lr:g}", result, shade) for result, shade in zip(results, shades)]
    return _paths_and_losses(function, colored, f"{optimizers[0]}: learning-rate sensitivity", resolution, save, dpi)


def momentum_vs_gd(function, trajectories, resolution: int = 200, save=None, dpi: float = 100):
    """Plain gradient descent against its momentum variants on one function: paths and losses.

    Parameters
    ----------
    function : TestFunction
        A 2-D test function (``name``, ``value``, ``grid``, ``minima``, ``domain``; see the module docstring).
    trajectories : Trajectory, sequence or mapping
        The runs (as :func:`~fastopt.plots.landscape.runs_of` takes them): an ``sgd`` run and at least one of
        another optimizer (``momentum``, ``nesterov``); optimizer names are compared case-insensitively.
    resolution : int, default 200
        Grid points per axis of the contour map.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg to write the figure to (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If there is no ``sgd`` run or no other optimizer's, the runs are malformed, or a ``save`` path
        ends in neither .png nor .svg.
    """
    colored = colored_runs(trajectories)
    names = [result.optimizer.lower() for _, result, _ in colored]
    if "sgd" not in names or len(set(names)) < 2:
        raise ValueError(f"trajectories: expected an 'sgd' run and a momentum run, got {names}")
    return _paths_and_losses(function, colored, "momentum vs plain gradient descent", resolution, save, dpi)


def convex_vs_nonconvex(convex_function, convex_trajectories, nonconvex_function, nonconvex_trajectories,
                        resolution: int = 150, save=None, dpi: float = 100):
    """The same optimizers on a convex and a non-convex function: contours above, losses below.

    Parameters
    ----------
    convex_function, nonconvex_function : TestFunction
        2-D test functions for the left and the right column.
    convex_trajectories, nonconvex_trajectories : Trajectory, sequence or mapping
        Their runs, as :func:`~fastopt.plots.landscape.runs_of` takes them.
    resolution : int, default 150
        Grid points per axis of the contour maps.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg to write the figure to (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If there is no run, a run's ``path`` or ``losses`` has the wrong shape
        (:func:`~fastopt.plots.landscape.runs_of`), or a ``save`` path ends in neither .png nor .svg.
    """
    figure = new_figure(12.0, 9.0, dpi)
    axes = figure.subplots(2, 2)
    for column, (function, trajectories) in enumerate(((convex_function, convex_trajectories),
                                                       (nonconvex_function, nonconvex_trajectories))):
        colored = colored_runs(trajectories)
        contour_panel(figure, axes[0, column], function, colored, resolution)
        loss_panel(axes[1, column], colored, function)
    axes[0, 0].set_title(f"convex: {convex_function.name}")
    axes[0, 1].set_title(f"non-convex: {nonconvex_function.name}")
    return save_figure(figure, save)
