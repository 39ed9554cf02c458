"""Figures of the Riemannian studies: convergence curves, and paths drawn on a 3-D sphere (PNG and GIF).

The runs come from :mod:`fastopt.studies.riemannian`; each figure function takes plain mappings of
arrays, so it can draw runs made any other way.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib import animation as mpl_animation

from .animation import frame_steps
from .style import color_for, log_panel, new_figure, save_figure

# RGD and RAdam take the colours of their Euclidean namesakes (sgd, adam) in every fastopt figure.
METHOD_COLORS = {"RGD": color_for("sgd"), "RCG": "#31a354", "RAdam": color_for("adam"), "exp": "#d62728",
                 "normalize": "#1f77b4"}
FLOOR = 1e-17  # zeros (exact hits of the optimum) are drawn here on the log axes


def method_color(label: str) -> str:
    """The colour of a run: by the method its label starts with (RGD, RCG, RAdam), else :func:`color_for`."""
    for key in sorted(METHOD_COLORS, key=len, reverse=True):
        if label.startswith(key):
            return METHOD_COLORS[key]
    return color_for(label)


def _check_runs(runs, keys) -> list:
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs: expected a non-empty mapping label -> run")
    for label, run in runs.items():
        for key in keys:
            if key not in run:
                raise ValueError(f"runs: run {label!r} has no {key!r}")
            values = np.asarray(run[key], dtype=float)
            if values.ndim != 1 or values.size == 0:
                raise ValueError(f"runs: run {label!r}: {key!r} must be a non-empty 1-D sequence, got shape "
                                 f"{values.shape}")
    return list(runs.items())


def convergence(runs, metrics, title: str, save=None, dpi: float = 100, styles=None, colors=None, levels=None):
    """One log-scale panel per metric against the iteration, one curve per run.

    Parameters
    ----------
    runs : mapping
        Label -> mapping of metric name -> 1-D sequence (one value per iterate, the start first).
        The label names the method and its settings (it is the legend's text); labels starting with
        RGD, RCG or RAdam get the colours of :data:`METHOD_COLORS`.
    metrics : sequence of (str, str)
        ``(metric name, y-axis label)`` per panel.
    title : str
        The figure's title.
    save : path-like or list of path-like, optional
        .png or .svg file(s) to write (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.
    styles : mapping, optional
        Label -> line style ("-", "--", ...), default "-".
    colors : mapping, optional
        Label -> colour, overriding :func:`method_color`.
    levels : mapping, optional
        Metric name -> (value, text): a dotted horizontal line with its text, e.g. the rounding level of
        ``f`` (below it the curves show rounding noise, not progress).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``runs`` is empty, a run lacks a metric or a metric is not a non-empty 1-D sequence.
    """
    metrics = list(metrics)
    items = _check_runs(runs, [key for key, _ in metrics])
    styles, colors, levels = dict(styles or {}), dict(colors or {}), dict(levels or {})
    figure = new_figure(5.4 * len(metrics), 4.6, dpi)
    axes = np.atleast_1d(figure.subplots(1, len(metrics)))
    for ax, (key, ylabel) in zip(axes, metrics):
        for label, run in items:
            values = np.maximum(np.abs(np.asarray(run[key], dtype=float)), FLOOR)
            ax.plot(np.arange(values.size), values, color=colors.get(label) or method_color(label),
                    linestyle=styles.get(label, "-"), linewidth=1.6, label=label)
        if key in levels:
            value, text = levels[key]
            ax.axhline(value, color="0.3", linestyle=":", linewidth=1.0)
            ax.annotate(text, (0.01, value), xycoords=("axes fraction", "data"), ha="left", va="top",
                        fontsize="x-small", color="0.3")
        log_panel(ax, "iteration (steps of the optimizer)", ylabel)
    axes[0].legend(fontsize="small", loc="upper right", framealpha=0.9)
    figure.suptitle(title)
    return save_figure(figure, save)


# ------------------------------------------------------------------------------------------- the sphere
def _check_paths(paths) -> list:
    if not isinstance(paths, Mapping) or not paths:
        raise ValueError("paths: expected a non-empty mapping label -> path")
    for label, path in paths.items():
        for key in ("points", "route", "distances"):
            if key not in path:
                raise ValueError(f"paths: path {label!r} has no {key!r}")
        if np.asarray(path["points"]).ndim != 2 or np.asarray(path["points"]).shape[1] != 3:
            raise ValueError(f"paths: path {label!r}: points must have shape (steps + 1, 3)")
        if np.asarray(path["route"]).ndim != 2 or np.asarray(path["route"]).shape[1] != 3:
            raise ValueError(f"paths: path {label!r}: route must have shape (samples, 3)")
    return list(paths.items())


def _sphere_axes(figure, position, points, zoom: float = 1.1):
    """A 3-D axes showing the cap of the unit sphere (wireframe) around ``points``, seen from the side.

    The cap is centred on the points' mean direction and reaches 0.35 rad beyond the farthest one; the
    axes are zoomed onto it (equal scales).  The view direction is mostly the normal of the plane that
    best fits the points (through the origin), tilted toward their mean: a path that follows a great
    circle is then seen near the outline, where the arcs and the excursions off the sphere show best.
    """
    ax = figure.add_subplot(*position, projection="3d")
    points = np.asarray(points, dtype=float)
    centre = points.mean(axis=0)
    centre = centre / (np.linalg.norm(centre) or 1.0)
    directions = points / np.linalg.norm(points, axis=1, keepdims=True)
    radius = min(math.pi, float(np.arccos(np.clip(directions @ centre, -1, 1)).max()) + 0.35)
    e1 = np.linalg.svd(centre[None, :])[2][1]  # two unit vectors orthogonal to the centre and to each other
    e2 = np.cross(centre, e1)
    theta, phi = np.meshgrid(np.linspace(0, radius, 9), np.linspace(0, 2 * np.pi, 25))
    cap = [np.cos(theta) * c + np.sin(theta) * (np.cos(phi) * a + np.sin(phi) * b) for c, a, b in zip(centre, e1, e2)]
    ax.plot_wireframe(*cap, color="0.6", linewidth=0.4, alpha=0.7)
    normal = np.linalg.svd(points, full_matrices=False)[2][-1]
    if normal @ np.array([0.3, 0.3, 1.0]) < 0:  # of the two sides, look from the one a little above
        normal = -normal
    view = normal + 0.5 * centre
    view = view / np.linalg.norm(view)
    ax.view_init(elev=math.degrees(math.asin(np.clip(view[2], -1, 1))), azim=math.degrees(math.atan2(view[1], view[0])))
    every = np.concatenate([points, np.stack([c.ravel() for c in cap], axis=1)])
    low, high = every.min(axis=0), every.max(axis=0)
    middle, half = (low + high) / 2, (high - low).max() / 2 * 1.02
    ax.set(xlim=(middle[0] - half, middle[0] + half), ylim=(middle[1] - half, middle[1] + half),
           zlim=(middle[2] - half, middle[2] + half), xlabel="x", ylabel="y", zlabel="z")
    ax.set_box_aspect((1, 1, 1), zoom=zoom)
    ax.tick_params(labelsize="x-small", pad=0)
    ax.locator_params(nbins=4)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_pane_color((1.0, 1.0, 1.0, 0.0))
    return ax


def _mark_minimizer(ax, minimizer, **kwargs):
    """The minimiser as a gold star on a 3-D axes, labelled for the legend; returns the line."""
    return ax.plot(*np.asarray(minimizer, dtype=float)[:, None], marker="*", markersize=14, color="gold",
                   markeredgecolor="k", linestyle="none", label="minimiser", **kwargs)[0]


def _path_label(label, path) -> str:
    return path.get("label", label)


def sphere_paths(paths, minimizer, title: str, save=None, dpi: float = 100):
    """Paths of gradient descent on the unit sphere in R^3, and their distance to the minimiser.

    Left: the sphere (wireframe) with each path's route, the way it moved from one iterate to the
    next (along a great circle for the exponential map; along the tangent plane off the sphere and
    back along the radius for step-then-project), and the iterates as dots.  Right: the geodesic
    distance from each iterate to the minimiser.

    Parameters
    ----------
    paths : mapping
        Label -> mapping with ``points`` (shape (steps + 1, 3): the iterates), ``route`` (shape
        (samples, 3): the way between them), ``distances`` (the geodesic distances to the minimiser,
        radians, one per iterate) and optionally ``label`` (the legend's text).
    minimizer : array_like, shape (3,)
        The minimiser, drawn as a star.
    title : str
        The figure's title.
    save : path-like or list of path-like, optional
        .png or .svg file(s) to write.
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``paths`` is empty or a path lacks a key or has the wrong shapes.
    """
    items = _check_paths(paths)
    figure = new_figure(11.5, 5.2, dpi)
    grid = figure.add_gridspec(1, 2, width_ratios=(1.3, 1.0))
    every = np.concatenate([np.asarray(p["route"]) for _, p in items])
    ax = _sphere_axes(figure, (grid[0, 0],), every)
    for label, path in items:
        color = method_color(label)
        route, points = np.asarray(path["route"]), np.asarray(path["points"])
        ax.plot(*route.T, color=color, linewidth=1.8, label=_path_label(label, path), zorder=5)
        ax.plot(*points.T, linestyle="none", marker="o", markersize=4, color=color, markeredgecolor="k", zorder=6)
    start = np.asarray(items[0][1]["points"])[0]
    marks = [ax.plot(*start[:, None], marker="o", markersize=8, color="white", markeredgecolor="k",
                     linestyle="none", label="start", zorder=7)[0],
             _mark_minimizer(ax, minimizer, zorder=7)]
    ax.set_title("paths on the unit sphere (dots: iterates)")

    dist_ax = figure.add_subplot(grid[0, 1])
    for label, path in items:
        distances = np.maximum(np.asarray(path["distances"], dtype=float), FLOOR)
        dist_ax.plot(np.arange(distances.size), distances, color=method_color(label), marker="o", markersize=3,
                     linewidth=1.6, label=_path_label(label, path))
    log_panel(dist_ax, "iteration (steps)", "geodesic distance to the minimiser (rad)", "distance to the minimiser")
    handles = dist_ax.get_legend_handles_labels()[0] + marks  # one legend for both panels
    dist_ax.legend(handles=handles, fontsize="small")
    figure.suptitle(title)
    return save_figure(figure, save)


def animate_sphere_paths(paths, minimizer, title: str, path, frames: int = 60, fps: int = 12, dpi: float = 70):
    """Write a GIF of the paths of :func:`sphere_paths` being travelled, step by step.

    Every route must have the same number of samples per step (``samples_per_step``), so the heads
    move in step with each other; the frames subsample the route evenly.

    Parameters
    ----------
    paths : mapping
        As :func:`sphere_paths` takes them.
    minimizer : array_like, shape (3,)
        Drawn as a star.
    title : str
        Shown above the frames with the step number.
    path : path-like
        The .gif to write (its folder is created if needed).
    frames : int, default 60
        Most frames.
    fps : int, default 12
        Frames per second.
    dpi : float, default 70
        Dots per inch of the 6 x 5.4 inch frames.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If ``path`` does not end in .gif, ``frames`` < 1, or the paths are malformed.
    """
    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ValueError(f"path: {str(path)!r} must end in .gif")
    if int(frames) < 1:
        raise ValueError(f"frames: expected a positive frame count, got {frames}")
    items = _check_paths(paths)
    routes = [np.asarray(p["route"], dtype=float) for _, p in items]
    steps = max(len(np.asarray(p["points"])) - 1 for _, p in items)
    per_step = (max(len(r) for r in routes) - 1) / max(steps, 1)
    shown = frame_steps([len(r) for r in routes], frames)

    figure = new_figure(6.0, 5.4, dpi)
    ax = _sphere_axes(figure, (1, 1, 1), np.concatenate(routes), zoom=0.95)
    _mark_minimizer(ax, minimizer)
    colors = [method_color(label) for label, _ in items]
    trails = [ax.plot([], [], [], color=c, linewidth=1.8, label=_path_label(label, p))[0]
              for (label, p), c in zip(items, colors)]
    heads = [ax.plot([], [], [], marker="o", markersize=7, color=c, markeredgecolor="k", linestyle="none")[0]
             for c in colors]
    ax.legend(fontsize="x-small", loc="upper left")
    heading = ax.set_title("")

    def draw_frame(frame: int):
        for trail, head, route, index in zip(trails, heads, routes, shown[frame]):
            trail.set_data_3d(*route[:index + 1].T)
            head.set_data_3d(*route[index:index + 1].T)
        heading.set_text(f"{title}\nstep {math.ceil(shown[frame].max() / per_step - 1e-9)} of {steps}")
        return [*trails, *heads, heading]

    draw_frame(len(shown) - 1)
    figure.canvas.draw()
    figure.set_layout_engine("none")
    path.parent.mkdir(parents=True, exist_ok=True)
    movie = mpl_animation.FuncAnimation(figure, draw_frame, frames=len(shown), blit=False, repeat=False)
    movie.save(path, writer=mpl_animation.PillowWriter(fps=fps), dpi=dpi)
    return path


__all__ = ["METHOD_COLORS", "method_color", "convergence", "sphere_paths", "animate_sphere_paths"]
