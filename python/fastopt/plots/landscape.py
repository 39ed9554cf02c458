"""Figures of optimizers moving over 2-D test functions: contour, surface, loss curves, and their panels.

Inputs follow two contracts.  A test function has ``name``, ``value(x)``, ``grid(X, Y)`` (vectorised
over meshgrid arrays), ``minima`` (array (k, 2), maybe empty) and ``domain`` ((xmin, xmax), (ymin,
ymax)).  A trajectory result has ``path`` (steps + 1, 2), ``losses`` (steps + 1,), ``optimizer``
(name) and ``lr``; it may have ``second_order`` (True: a second-order method's few, long steps, drawn
as a dot at every iterate joined by a thin line) and ``evaluations`` (function evaluations per point).
``trajectories`` is one result, a sequence of them (labelled by optimizer) or a mapping label -> result.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.lines import Line2D

from .style import SURFACE_CMAP, color_for, new_figure, save_figure


def runs_of(trajectories) -> list[tuple[str, object]]:
    """(label, result) pairs; results of one optimizer at several rates are labelled with their lr.

    Parameters
    ----------
    trajectories : Trajectory, sequence or mapping
        One trajectory result (anything with ``path``; labelled by its optimizer), a sequence of them
        (labelled by optimizer, with `` lr=<lr>`` added where an optimizer appears more than once) or
        a mapping label -> result.

    Returns
    -------
    list of (str, object)

    Raises
    ------
    ValueError
        If there is no result, a ``path`` is not of shape (steps + 1, 2) with at least one point, or
        ``losses`` is not of shape (steps + 1,).
    """
    if isinstance(trajectories, Mapping):
        pairs = [(str(label), result) for label, result in trajectories.items()]
    elif hasattr(trajectories, "path"):
        pairs = [(trajectories.optimizer, trajectories)]
    else:
        results = list(trajectories)
        names = [result.optimizer for result in results]
        pairs = [(name if names.count(name) == 1 else f"{name} lr={result.lr:g}", result)
                 for name, result in zip(names, results)]
    check_shapes(pairs)
    return pairs


def check_shapes(pairs) -> None:
    """ValueError unless there is a run and every run's path is (steps + 1, 2) with a loss per point.

    Parameters
    ----------
    pairs : list of (str, trajectory result)
        The labelled runs, as :func:`runs_of` gives them.
    """
    if not pairs:
        raise ValueError("trajectories: expected at least one trajectory result")
    for label, result in pairs:
        path, losses = np.asarray(result.path), np.asarray(result.losses)
        if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] == 0:
            raise ValueError(f"trajectories: path of {label!r} has shape {path.shape}, expected (steps + 1, 2)")
        if losses.shape != (path.shape[0],):
            raise ValueError(f"trajectories: losses of {label!r} have shape {losses.shape}, "
                             f"expected ({path.shape[0]},) to match its path")


def colored_runs(trajectories) -> list[tuple[str, object, str]]:
    """(label, result, colour) of every run, each optimizer in its fixed colour.

    Parameters
    ----------
    trajectories : Trajectory, sequence or mapping
        As :func:`runs_of` takes them.
    """
    return [(label, result, color_for(result.optimizer)) for label, result in runs_of(trajectories)]


def is_second_order(result) -> bool:
    """Whether a trajectory result is a second-order method's (its ``second_order`` attribute, else False).

    Parameters
    ----------
    result : trajectory result
        As the module docstring describes.
    """
    return bool(getattr(result, "second_order", False))


def legend_label(label: str, result, mixed: bool) -> str:
    """A run's legend entry: a second-order method's label with its iteration count, a first-order run's
    with its learning rate (unless the label already holds it).

    Parameters
    ----------
    label : str
        The run's label.
    result : trajectory result
        The run.
    mixed : bool
        Whether the figure also shows runs of the other order (kept for the callers; every first-order
        entry now names its rate, so that two figures of the same optimizers can be compared).

    Returns
    -------
    str
    """
    if is_second_order(result):
        return f"{label} ({len(result.path) - 1} iterations)"
    lr = getattr(result, "lr", None)
    if lr is None or not np.isfinite(lr) or "lr=" in label:
        return label
    return f"{label} lr={lr:g}"


def mixes_orders(colored) -> bool:
    """Whether the runs hold both first- and second-order methods.

    Parameters
    ----------
    colored : list of (label, result, colour)
        As :func:`colored_runs` gives them.
    """
    kinds = {is_second_order(result) for _, result, _ in colored}
    return len(kinds) == 2


def _minimum_value(function) -> float | None:
    minima = np.asarray(function.minima, dtype=float).reshape(-1, 2)
    return min(float(function.value(point)) for point in minima) if len(minima) else None


def draw_landscape(ax, function, resolution: int):
    """Filled contours of ``function`` over its domain; returns the mappable for a colorbar.

    Levels are 25 quantiles of the finite values of ``f`` on the grid.  Sets the axes' limits to the
    domain, labels them and titles them with the function's name.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to draw on.
    function : TestFunction
        A 2-D test function (``name``, ``grid``, ``domain``).
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib.contour.QuadContourSet
        The filled contours.
    """
    (xmin, xmax), (ymin, ymax) = function.domain
    X, Y = np.meshgrid(np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution))
    Z = np.asarray(function.grid(X, Y), dtype=float)
    # Levels at quantiles of f follow the interesting region of any function, whatever its range
    # (rosenbrock spans 0..1e4 with its valley near 0; styblinski_tang is negative).
    levels = np.unique(np.quantile(Z[np.isfinite(Z)], np.linspace(0.0, 1.0, 25)))
    filled = ax.contourf(X, Y, Z, levels=levels, cmap=SURFACE_CMAP)
    ax.contour(X, Y, Z, levels=levels, colors="k", linewidths=0.3, alpha=0.4)
    ax.set(xlim=(xmin, xmax), ylim=(ymin, ymax), xlabel="x", ylabel="y", title=function.name)
    return filled


def draw_minima(ax, function) -> None:
    """Mark the function's global minima on ``ax`` (nothing for functions without any).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The contour axes.
    function : test function
        With ``minima`` (k, 2).
    """
    minima = np.asarray(function.minima, dtype=float).reshape(-1, 2)
    if len(minima):
        ax.plot(minima[:, 0], minima[:, 1], linestyle="none", marker="*", markersize=13, color="gold",
                markeredgecolor="k", label="global minimum", gid="minima", zorder=4)


def _draw_paths(ax, colored) -> None:
    """Each path as a line, its start as a circle and its end as a cross, in the run's colour.

    Paths often share a valley: each is drawn a little thinner than the one before, so the earlier
    ones stay visible beneath the later ones.  A second-order method's path is a dot at every iterate
    joined by a thin line, above the others: its few, long steps stay visible.
    """
    mixed = mixes_orders(colored)
    for index, (label, result, color) in enumerate(colored):
        path = np.asarray(result.path, dtype=float)
        text = legend_label(label, result, mixed)
        if is_second_order(result):
            ax.plot(path[:, 0], path[:, 1], color=color, linewidth=0.9, marker="o", markersize=4,
                    markeredgecolor="white", markeredgewidth=0.4, label=text, gid=f"path:{label}", zorder=4)
        else:
            width = max(1.0, 3.5 - 0.8 * index)
            ax.plot(path[:, 0], path[:, 1], color=color, linewidth=width, label=text, gid=f"path:{label}", zorder=3)
        finite = path[np.isfinite(path).all(axis=1)]
        ax.plot(*path[0], marker="o", markersize=7, color=color, markeredgecolor="k", zorder=5)
        if len(finite):
            ax.plot(*finite[-1], marker="X", markersize=9, color=color, markeredgecolor="k", zorder=5)


def _legend_with_markers(ax) -> None:
    """The paths' legend plus one grey entry each for the start and end markers."""
    handles, labels = ax.get_legend_handles_labels()
    for marker, label in (("o", "start"), ("X", "end")):
        handles.append(Line2D([], [], linestyle="none", marker=marker, color="0.6", markeredgecolor="k"))
        labels.append(label)
    ax.legend(handles, labels, loc="best", fontsize="small", framealpha=0.85)


def contour_panel(figure, ax, function, colored, resolution: int) -> None:
    """The contour map with its colour bar, the minima and the coloured paths, on ``ax``.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        Holds the colour bar.
    ax : matplotlib.axes.Axes
        The panel.
    function : test function
        The landscape.
    colored : list of (label, result, colour)
        As :func:`colored_runs` gives them.
    resolution : int
        Grid points per axis.
    """
    filled = draw_landscape(ax, function, resolution)
    figure.colorbar(filled, ax=ax, label="f(x, y)")
    _draw_paths(ax, colored)
    draw_minima(ax, function)
    _legend_with_markers(ax)


DIVERGED = 1e30  # losses beyond this are treated as a diverged run


def loss_panel(ax, colored, function=None) -> None:
    """Losses against step on a log axis: f - f* when the function's minimum is known.

    A second-order method's losses are dots at its iterates joined by a thin line.  Where the runs
    mix first- and second-order methods (tens of iterations against thousands of steps), the step
    axis is symmetric-log, so both are readable.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The panel.
    colored : list of (label, result, colour)
        As :func:`colored_runs` gives them.
    function : test function, optional
        Its ``min_value`` (or value at its first minimum) is f*; None plots f itself.
    """
    f_star = None if function is None else _minimum_value(function)
    mixed = mixes_orders(colored)
    for label, result, color in colored:
        losses = np.asarray(result.losses, dtype=float)
        text = legend_label(label, result, mixed)
        # A diverged run (inf/NaN, or beyond what a log axis can draw) ends its curve and says so.
        diverged = ~np.isfinite(losses) | (np.abs(losses) > DIVERGED)
        if diverged.any():
            losses = np.where(np.maximum.accumulate(diverged), np.nan, losses)
            text = f"{text} (diverged)"
        if f_star is not None:
            # Floor at rounding level: a run sitting exactly on the minimum stays visible.
            losses = np.maximum(losses - f_star, np.finfo(float).eps * max(1.0, abs(f_star)))
        style = {"linewidth": 0.9, "marker": "o", "markersize": 3} if is_second_order(result) else {}
        ax.plot(np.arange(len(losses)), losses, color=color, label=text, gid=f"loss:{label}", **style)
    all_losses = np.concatenate([np.asarray(result.losses, dtype=float) for _, result, _ in colored])
    drawn = all_losses[np.isfinite(all_losses) & (np.abs(all_losses) <= DIVERGED)]
    positive = f_star is not None or np.all(drawn > 0)
    ax.set_yscale("log" if positive else "symlog")
    if mixed:
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)
    ax.set(xlabel="step (iteration of a second-order method)" if mixed else "step",
           ylabel="f(x) - f*" if f_star is not None else "f(x)",
           title="loss" if function is None else f"loss on {function.name}")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")


def contour(function, trajectories, resolution: int = 200, save=None, dpi: float = 100):
    """Contour map of ``function`` with every optimizer's path, start, end and the known minima.

    Parameters
    ----------
    function : TestFunction
        A 2-D test function (``name``, ``value``, ``grid``, ``minima``, ``domain``; see the module docstring).
    trajectories : Trajectory, sequence or mapping
        The runs, as :func:`runs_of` takes them.
    resolution : int, default 200
        Grid points per axis.
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
        If there is no run, a run's ``path`` or ``losses`` has the wrong shape (:func:`runs_of`), or
        a ``save`` path ends in neither .png nor .svg.
    """
    figure = new_figure(6.4, 5.2, dpi)
    contour_panel(figure, figure.add_subplot(), function, colored_runs(trajectories), resolution)
    return save_figure(figure, save)


def surface(function, trajectories, resolution: int = 80, save=None, dpi: float = 100):
    """3-D surface of ``function`` over its domain with each path lifted to its loss.

    The parts of a path outside the domain are not drawn.

    Parameters
    ----------
    function : TestFunction
        A 2-D test function (``name``, ``value``, ``grid``, ``minima``, ``domain``; see the module docstring).
    trajectories : Trajectory, sequence or mapping
        The runs, as :func:`runs_of` takes them.
    resolution : int, default 80
        Grid points per axis.
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
        If there is no run, a run's ``path`` or ``losses`` has the wrong shape (:func:`runs_of`), or
        a ``save`` path ends in neither .png nor .svg.
    """
    (xmin, xmax), (ymin, ymax) = function.domain
    X, Y = np.meshgrid(np.linspace(xmin, xmax, resolution), np.linspace(ymin, ymax, resolution))
    Z = np.asarray(function.grid(X, Y), dtype=float)
    figure = new_figure(7.0, 5.6, dpi)
    ax = figure.add_subplot(projection="3d")
    ax.plot_surface(X, Y, Z, cmap=SURFACE_CMAP, alpha=0.55, linewidth=0, antialiased=True, rcount=resolution,
                    ccount=resolution)
    for label, result, color in colored_runs(trajectories):
        path = np.asarray(result.path, dtype=float)
        height = np.asarray(result.losses, dtype=float)
        # 3-D axes do not clip lines: hide the parts of a path that leave the plotted domain.
        outside = (path[:, 0] < xmin) | (path[:, 0] > xmax) | (path[:, 1] < ymin) | (path[:, 1] > ymax)
        height = np.where(outside, np.nan, height)
        ax.plot(path[:, 0], path[:, 1], height, color=color, linewidth=2.0, label=legend_label(label, result, False),
                gid=f"path:{label}", zorder=10)
    ax.set(xlim=(xmin, xmax), ylim=(ymin, ymax), xlabel="x", ylabel="y", zlabel="f(x, y)", title=function.name)
    ax.legend(fontsize="small", loc="upper left")
    return save_figure(figure, save)


def loss_curves(trajectories, function=None, save=None, dpi: float = 100):
    """Loss against step (log scale) for several runs; with ``function``, the gap to its minimum.

    A run whose loss becomes infinite, NaN or larger than :data:`DIVERGED` in magnitude ends its
    curve there and is labelled "(diverged)".  Without a known minimum, losses are drawn as they are,
    on a symmetric-log axis if any drawn loss is <= 0.

    Parameters
    ----------
    trajectories : Trajectory, sequence or mapping
        The runs, as :func:`runs_of` takes them.
    function : TestFunction, optional
        With known ``minima``, the curves show ``f(x) - f*`` (floored at rounding level).
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
        If there is no run, a run's ``path`` or ``losses`` has the wrong shape (:func:`runs_of`), or
        a ``save`` path ends in neither .png nor .svg.
    """
    figure = new_figure(6.4, 4.4, dpi)
    loss_panel(figure.add_subplot(), colored_runs(trajectories), function)
    return save_figure(figure, save)
