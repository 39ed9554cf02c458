"""Second-order methods beside first-order optimizers on one test function: their paths on the contour
map, and the loss against the function evaluations each spent.  Inputs follow the contracts of
:mod:`fastopt.plots.landscape`; a result's ``evaluations`` (function evaluations when each point was
reached) defaults to one per step, the start costing one."""
from __future__ import annotations

import numpy as np

from .landscape import (DIVERGED, colored_runs, contour_panel, is_second_order, legend_label, loss_panel,
                        mixes_orders)
from .style import new_figure, save_figure


def evaluations_of(result) -> np.ndarray:
    """The function evaluations spent when each point of a run was reached.

    Parameters
    ----------
    result : trajectory result
        With ``path``, and maybe ``evaluations`` (steps + 1,).

    Returns
    -------
    numpy.ndarray of float, shape (steps + 1,)
        ``result.evaluations``, else 1, 2, ..., steps + 1 (one evaluation per first-order step).

    Raises
    ------
    ValueError
        If ``evaluations`` does not have one entry per point, or decreases.
    """
    count = len(result.path)
    given = getattr(result, "evaluations", None)
    evaluations = np.arange(1.0, count + 1) if given is None else np.asarray(given, dtype=float)
    if evaluations.shape != (count,):
        raise ValueError(f"evaluations: expected shape ({count},) to match the path, got {evaluations.shape}")
    if np.any(np.diff(evaluations) < 0):
        raise ValueError("evaluations: must not decrease along the path")
    return evaluations


def evaluations_panel(ax, colored, function) -> None:
    """f - f* (log) against function evaluations (log), every run in its colour.

    Each point of a run is placed at the evaluations spent when it was reached (:func:`evaluations_of`),
    so a first-order optimizer's curve is its loss curve and a second-order method's shows what its
    line searches or trust regions cost.  Diverged runs end where they diverge.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    colored : list of (label, result, colour)
        As :func:`~fastopt.plots.landscape.colored_runs` gives them.
    function : test function
        Its minimum value is f* (``min_value``, else its value at its first minimum).

    Raises
    ------
    ValueError
        If the function's minimum is unknown, or a run's evaluations are malformed.
    """
    minima = np.asarray(function.minima, dtype=float).reshape(-1, len(np.atleast_1d(function.start)))
    if function.min_value is not None:
        f_star = float(function.min_value)
    elif len(minima):
        f_star = float(function.value(minima[0]))
    else:
        raise ValueError(f"function: {function.name} has no known minimum to measure f - f* from")
    floor = np.finfo(float).eps * max(1.0, abs(f_star))  # a run exactly on the minimum stays visible
    mixed = mixes_orders(colored)
    for label, result, color in colored:
        losses = np.asarray(result.losses, dtype=float)
        losses = np.where(np.maximum.accumulate(~np.isfinite(losses) | (np.abs(losses) > DIVERGED)), np.nan, losses)
        gap = np.maximum(losses - f_star, floor)
        style = {"linewidth": 0.9, "marker": "o", "markersize": 3.5} if is_second_order(result) else {"linewidth": 1.8}
        ax.plot(evaluations_of(result), gap, color=color, label=legend_label(label, result, mixed),
                gid=f"evaluations:{label}", **style)
    ax.set(xscale="log", yscale="log", xlabel="function evaluations (value and gradient)", ylabel="f(x) - f*",
           title=f"loss against evaluations on {function.name}")
    ax.grid(True, which="major", alpha=0.3)
    # Beside the axes, not over them: the curves end at the bottom, where a legend inside would sit.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def evaluations_vs_loss(function, trajectories, save=None, dpi: float = 100):
    """f - f* against function evaluations for every run on one function (both axes log).

    Parameters
    ----------
    function : TestFunction
        The test function, with a known minimum.
    trajectories : Trajectory, sequence or mapping
        The runs, as :func:`~fastopt.plots.landscape.runs_of` takes them; first- and second-order.
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
        If there is no run, a run is malformed, the function's minimum is unknown, or a ``save``
        path ends in neither .png nor .svg.
    """
    figure = new_figure(9.6, 4.8, dpi)
    evaluations_panel(figure.add_subplot(), colored_runs(trajectories), function)
    return save_figure(figure, save)


def first_vs_second_order(function, trajectories, resolution: int = 200, save=None, dpi: float = 100):
    """First-order against second-order paths: the contour map with every path (a second-order method's
    as a dot at every iterate, so its few, long steps show) beside the losses against step (symmetric-log:
    tens of iterations against thousands of steps).  One legend below both panels names every run (a
    second-order method with its iterations) and the markers, so that none hides the paths.

    Parameters
    ----------
    function : TestFunction
        A 2-D test function (``name``, ``value``, ``grid``, ``minima``, ``domain``).
    trajectories : Trajectory, sequence or mapping
        The runs, as :func:`~fastopt.plots.landscape.runs_of` takes them.
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
        If there is no run, a run is malformed, or a ``save`` path ends in neither .png nor .svg.
    """
    colored = colored_runs(trajectories)
    figure = new_figure(13.0, 6.2, dpi)
    figure.get_layout_engine().set(wspace=0.08)  # room between the colorbar and the loss axis label
    contour_ax, loss_ax = figure.subplots(1, 2, width_ratios=(1.15, 1.0))
    contour_panel(figure, contour_ax, function, colored, resolution)
    loss_panel(loss_ax, colored, function)
    # The contour legend holds every run and the markers; the loss panel's repeats the runs.
    legend = contour_ax.get_legend()
    handles, labels = legend.legend_handles, [text.get_text() for text in legend.get_texts()]
    legend.remove()
    loss_ax.get_legend().remove()
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5), fontsize="small")
    figure.suptitle(f"first-order against second-order methods on {function.name}")
    return save_figure(figure, save)
