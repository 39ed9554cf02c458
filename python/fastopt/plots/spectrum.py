"""Figures of a network's Hessian spectrum: eigenvalue densities (stochastic Lanczos quadrature) on a log
scale, sharp against flat minima side by side, and the top eigenvalue during training against the edge
of stability 2 / lr (Cohen et al., 2021).  Inputs come from :mod:`fastopt.curvature.summary` and
:mod:`fastopt.studies.sharpness`."""
from __future__ import annotations

import numpy as np

from .style import new_figure, save_figure

# Below this fraction of the peak a smoothed density is Gaussian tail, not spectrum; the log axis stops there.
_DENSITY_FLOOR = 1e-7


def _labelled(densities) -> list:
    if hasattr(densities, "density"):
        return [("", densities)]
    items = list(densities.items())
    if not items:
        raise ValueError("densities: nothing to draw")
    return items


def _density_panel(ax, labelled, colors=None) -> None:
    """Several densities share one grid and one width (1/200 of all their nodes' range), so that they compare."""
    low = min(float(d.nodes.min()) for _, d in labelled)
    high = max(float(d.nodes.max()) for _, d in labelled)
    sigma = (high - low) / 200 if len(labelled) > 1 and high > low else labelled[0][1].sigma
    low, high = low - 5 * sigma, high + 5 * sigma
    grid = np.linspace(low, high, 2000) if len(labelled) > 1 else labelled[0][1].grid
    curves = [d.smoothed(grid, sigma) if len(labelled) > 1 else d.density for _, d in labelled]
    peak = max(float(c.max()) for c in curves)
    for i, ((label, d), curve) in enumerate(zip(labelled, curves)):
        color = None if colors is None else colors[i]
        samples = f"{d.runs} run{'s' if d.runs > 1 else ''} x {d.lanczos_steps} Lanczos steps"
        ax.plot(grid, np.maximum(curve, _DENSITY_FLOOR * peak), color=color, linewidth=1.4,
                label=f"{label} ({samples})" if label else samples)
    ax.set_yscale("log")
    ax.set_ylim(_DENSITY_FLOOR * peak, 2 * peak)
    ax.set(xlabel=f"eigenvalue lambda (Gaussian smoothing sigma = {sigma:.2g})", ylabel="density (log scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")


def spectral_density(densities, title: str | None = None, save=None, dpi: float = 120):
    """The smoothed eigenvalue density of one or several operators, on a log density axis: the bulk
    near zero and the few large outliers of a trained network's Hessian show together.

    Parameters
    ----------
    densities : SpectralDensity or mapping of str to SpectralDensity
        One density, or densities by label (drawn in the mapping's order).
    title : str, optional
        The panel's title.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg.
    dpi : float, default 120

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If there is nothing to draw or a ``save`` path ends in neither .png nor .svg.
    """
    figure = new_figure(7.2, 4.4, dpi)
    ax = figure.subplots()
    _density_panel(ax, _labelled(densities))
    ax.set_title(title or "Hessian eigenvalue density (stochastic Lanczos quadrature)")
    return save_figure(figure, save)


def sharp_vs_flat(minima, save=None, dpi: float = 120):
    """Sharp against flat minima: the densities of each run's Hessian at its trained weights (left),
    and its top eigenvalue and trace beside its test accuracy (right).

    Parameters
    ----------
    minima : sequence of fastopt.studies.sharpness.MinimumCurvature
        The runs, each with a summary holding the top eigenvalue, trace and density.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg.
    dpi : float, default 120

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``minima`` is empty, a summary lacks its trace or density, or a path is not .png/.svg.
    """
    minima = list(minima)
    if not minima:
        raise ValueError("minima: nothing to draw")
    if any(m.summary.trace is None or m.summary.density is None for m in minima):
        raise ValueError("minima: every summary needs its trace and density (trace_samples > 0, runs > 0)")
    colors = [m.color for m in minima]
    figure = new_figure(12.0, 4.6, dpi)
    left, top_axis, trace_axis = figure.subplots(1, 3, width_ratios=[2.2, 1, 1])
    _density_panel(left, [(m.label, m.summary.density) for m in minima], colors)
    samples = minima[0].samples
    left.set_title(f"Hessian eigenvalue density at each minimum ({samples} training samples)")
    positions = np.arange(len(minima))
    names = [m.label.replace(", ", "\n") for m in minima]
    tops = [float(m.summary.eigenvalues[0]) for m in minima]
    top_axis.bar(positions, tops, color=colors)
    top_axis.set(ylabel="top eigenvalue lambda_max", title="sharpness")
    traces = [m.summary.trace.value for m in minima]
    errors = [2 * m.summary.trace.stderr for m in minima]
    trace_axis.bar(positions, traces, yerr=errors, color=colors, capsize=3)
    trace_axis.set(ylabel="trace of the Hessian (+- 2 std. err.)", title="total curvature")
    for ax, values, above in ((top_axis, tops, [0.0] * len(tops)), (trace_axis, traces, errors)):
        ax.set_xticks(positions, names, fontsize="x-small")
        ax.grid(True, axis="y", alpha=0.3)
        ax.set_ylim(0, 1.25 * max(v + a for v, a in zip(values, above)))
        for x, value, extra, m in zip(positions, values, above, minima):
            ax.annotate(f"{100 * m.test_accuracy:.2f}%\ntest acc.", (x, value + extra), ha="center", va="bottom",
                        fontsize="x-small", xytext=(0, 2), textcoords="offset points")
    return save_figure(figure, save)


def sharpness_during_training(runs, save=None, dpi: float = 120):
    """The top Hessian eigenvalue during full-batch gradient descent, against 2 / lr: the largest
    curvature along which a step of lr is stable on a quadratic.  Cohen et al. (2021) found that it
    rises until it reaches 2 / lr (progressive sharpening), then hovers there while the loss keeps
    falling, non-monotonically (the edge of stability).

    Parameters
    ----------
    runs : sequence of fastopt.studies.sharpness.SharpnessTrace
        One run per learning rate.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg.
    dpi : float, default 120

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``runs`` is empty or a path is not .png/.svg.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("runs: nothing to draw")
    figure = new_figure(11.0, 4.4, dpi)
    sharp_axis, loss_axis = figure.subplots(1, 2)
    for run in runs:
        line, = sharp_axis.plot(run.steps, run.sharpness, linewidth=1.5, label=f"lr = {run.lr:g}: top eigenvalue")
        sharp_axis.axhline(2.0 / run.lr, color=line.get_color(), linestyle="--", linewidth=1.0,
                           label=f"2 / lr = {2.0 / run.lr:g}")
        loss_axis.plot(np.arange(len(run.loss)), run.loss, color=line.get_color(), linewidth=1.2,
                       label=f"lr = {run.lr:g}")
    samples = runs[0].samples
    sharp_axis.set(xlabel="step of full-batch gradient descent", ylabel="top Hessian eigenvalue lambda_max",
                   title=f"sharpness against the edge of stability ({samples} samples)")
    sharp_axis.grid(True, alpha=0.3)
    edges = [2.0 / run.lr for run in runs]
    highest = max(max(edges), max(float(np.max(run.sharpness, initial=0.0)) for run in runs))
    sharp_axis.set_ylim(0, 1.35 * highest)  # room above the highest edge for the legend
    sharp_axis.legend(fontsize="x-small", ncol=len(runs), loc="upper center")
    loss_axis.set(xlabel="step of full-batch gradient descent", ylabel="training loss (cross-entropy, log scale)",
                  yscale="log", title="training loss")
    loss_axis.grid(True, which="major", alpha=0.3)
    loss_axis.legend(fontsize="small")
    return save_figure(figure, save)
