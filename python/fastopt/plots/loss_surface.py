"""Figures of a network's loss surface (fastopt.curvature.surface): contour and 3-D views of a 2-D
grid (with a training path on it), and 1-D lines of loss and accuracy.

The loss is the mean softmax cross-entropy in nats; coordinates are steps along the view's
directions (for filter-normalised directions, a step of 1 moves every filter by its own norm).
"""
from __future__ import annotations

import numpy as np

from .style import SURFACE_CMAP, new_figure, save_figure

LOSS_LABEL = "mean cross-entropy loss (nats)"


def _levels(loss: np.ndarray, count: int) -> np.ndarray:
    """Contour levels spaced evenly in log(loss) from the lowest value to the highest finite one.

    The loss grows by orders of magnitude away from a minimum, so even spacing in the log keeps the
    basin's rings visible.
    """
    finite = loss[np.isfinite(loss)]
    low = max(float(finite.min()), 1e-6)
    high = max(float(finite.max()), low * 1.01)
    return np.geomspace(low, high, count)


def loss_contour(grid, path=None, labels=("d1", "d2"), title: str | None = None, levels: int = 30,
                 save=None, dpi: float = 120):
    """Filled contours of a :class:`fastopt.curvature.surface.SurfaceGrid`, with an optional path drawn on it.

    Parameters
    ----------
    grid : SurfaceGrid
        ``loss[i, j]`` at ``(alphas[i], betas[j])``.
    path : array_like, shape (n, 2), optional
        A training path in the grid's coordinates (e.g. ``TrajectoryPlane.path``), first point first.
    labels : (str, str)
        Names of the two directions, for the axis labels.
    title : str, optional
    levels : int
        Number of contour levels (log-spaced).
    save : path-like or list, optional
        .png / .svg files to write.
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.colors import LogNorm
    figure = new_figure(6.4, 5.2, dpi)
    ax = figure.add_subplot()
    steps = _levels(grid.loss, levels)
    a, b = np.meshgrid(grid.alphas, grid.betas, indexing="ij")
    loss = np.clip(np.nan_to_num(grid.loss, nan=steps[-1], posinf=steps[-1]), steps[0], steps[-1])
    filled = ax.contourf(a, b, loss, levels=steps, cmap=SURFACE_CMAP, norm=LogNorm(steps[0], steps[-1]))
    ax.contour(a, b, loss, levels=steps[::3], colors="k", linewidths=0.4, alpha=0.5)
    figure.colorbar(filled, ax=ax, label=LOSS_LABEL, format="%.3g")
    centre = ax.plot([0], [0], marker="*", color="#d62728", markersize=12, linestyle="none",
                     label="centre (the model)")[0]
    handles = [centre]
    if path is not None:
        path = np.asarray(path, dtype=np.float64)
        handles += ax.plot(path[:, 0], path[:, 1], "-o", color="#1f77b4", markersize=3, linewidth=1.5,
                           label=f"training path ({len(path)} checkpoints)")
        handles += ax.plot(path[0, 0], path[0, 1], "s", color="#2ca02c", markersize=7, linestyle="none",
                           label="first checkpoint")
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    ax.set(xlabel=f"step along {labels[0]}", ylabel=f"step along {labels[1]}")
    ax.set_title(title or f"loss surface, {grid.loss.shape[0]} x {grid.loss.shape[1]} grid on {grid.samples} samples")
    return save_figure(figure, save)


def loss_surface_3d(grid, labels=("d1", "d2"), title: str | None = None, log: bool = True, save=None,
                    dpi: float = 120):
    """The loss of a :class:`fastopt.curvature.surface.SurfaceGrid` as a 3-D surface.

    Parameters
    ----------
    grid : SurfaceGrid
    labels : (str, str)
        Names of the two directions.
    title : str, optional
    log : bool
        Plot log10 of the loss (the height of a basin's walls spans decades).
    save : path-like or list, optional
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = new_figure(6.8, 5.4, dpi)
    ax = figure.add_subplot(projection="3d")
    a, b = np.meshgrid(grid.alphas, grid.betas, indexing="ij")
    finite = grid.loss[np.isfinite(grid.loss)]
    loss = np.clip(np.nan_to_num(grid.loss, nan=finite.max(), posinf=finite.max()), max(finite.min(), 1e-6), None)
    height = np.log10(loss) if log else loss
    ax.plot_surface(a, b, height, cmap=SURFACE_CMAP, linewidth=0, antialiased=True, rcount=60, ccount=60)
    ax.set(xlabel=f"step along {labels[0]}", ylabel=f"step along {labels[1]}",
           zlabel=f"log10 {LOSS_LABEL}" if log else LOSS_LABEL)
    ax.set_title(title or f"loss surface on {grid.samples} samples")
    return save_figure(figure, save)


def loss_line(line, xlabel: str, title: str | None = None, marks=None, save=None, dpi: float = 120):
    """Loss (left axis, log scale) and accuracy (right axis, %) along a :class:`SurfaceLine`.

    Parameters
    ----------
    line : SurfaceLine
        A 1-D slice or an interpolation.
    xlabel : str
        What the coordinate is, e.g. "t (0: initial weights, 1: trained weights)".
    title : str, optional
    marks : dict of str -> float, optional
        Vertical lines at named coordinates (e.g. ``{"initial": 0, "trained": 1}``).
    save : path-like or list, optional
    dpi : float

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = new_figure(6.4, 4.2, dpi)
    ax = figure.add_subplot()
    handles = ax.plot(line.coords, line.loss, "-", color="#1f77b4", linewidth=2, label="loss")
    ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=LOSS_LABEL + ", log scale")
    ax.grid(True, alpha=0.3)
    right = ax.twinx()
    handles += right.plot(line.coords, 100 * line.accuracy, "--", color="#d62728", linewidth=1.5, label="accuracy")
    right.set(ylabel="accuracy (%)", ylim=(0, 100))
    for name, at in (marks or {}).items():
        ax.axvline(at, color="0.4", linewidth=0.8, linestyle=":")
        ax.annotate(name, (at, 1.0), xycoords=("data", "axes fraction"), ha="center", va="bottom", fontsize=8)
    ax.legend(handles=handles, loc="center right", fontsize=8)
    ax.set_title(title or f"loss and accuracy on {line.samples} samples", pad=16 if marks else None)
    return save_figure(figure, save)


__all__ = ["loss_contour", "loss_surface_3d", "loss_line"]
