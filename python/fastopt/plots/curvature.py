"""The curvature a run meets on a test function: its exact Hessian's eigenvalues and condition number at
every point of each path (:func:`fastopt.landscape.curvature_along`).  Inputs follow the contracts of
:mod:`fastopt.plots.landscape`."""
from __future__ import annotations

import numpy as np

from ..landscape.curvature import curvature_along
from .landscape import colored_runs, is_second_order, mixes_orders
from .style import log_panel, new_figure, save_figure


def curvature_along_path(function, trajectories, save=None, dpi: float = 100):
    """The Hessian's eigenvalues (top, symmetric-log: both signs over decades) and its condition number
    max |lambda| / min |lambda| (bottom, log) against the step, for every run on one 2-D function.

    The largest eigenvalue is drawn solid, the smallest dashed; where the smallest is negative the run
    is in a non-convex region (a saddle, Rosenbrock's ridge far from the valley floor).  A second-order
    method's iterates are dots; the step axis is symmetric-log when first- and second-order runs mix.

    Parameters
    ----------
    function : TestFunction
        The test function (with ``hessian``), in the paths' dimension.
    trajectories : Trajectory, sequence or mapping
        The runs, as :func:`~fastopt.plots.landscape.runs_of` takes them.
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
    figure = new_figure(9.6, 6.4, dpi)
    top, bottom = figure.subplots(2, 1, sharex=True)
    largest_magnitude = 0.0
    for label, result, color in colored:
        curvature = curvature_along(function, result.path)
        steps = np.arange(len(curvature.points))
        style = {"marker": "o", "markersize": 3, "linewidth": 0.8} if is_second_order(result) else {"linewidth": 1.5}
        top.plot(steps, curvature.eigenvalues[:, -1], color=color, label=f"{label}: largest eigenvalue", **style)
        top.plot(steps, curvature.eigenvalues[:, 0], color=color, linestyle="--",
                 label=f"{label}: smallest eigenvalue", **style)
        bottom.plot(steps, curvature.condition, color=color, label=label, **style)
        finite = np.abs(curvature.eigenvalues[np.isfinite(curvature.eigenvalues)])
        largest_magnitude = max(largest_magnitude, float(finite.max()) if finite.size else 0.0)
    # Linear within 1e-3 of the largest curvature, so that sign changes near zero stay visible.
    top.set_yscale("symlog", linthresh=max(1e-3 * largest_magnitude, 1e-12))
    top.axhline(0.0, color="0.5", linewidth=0.8)
    top.set(ylabel="Hessian eigenvalue (symlog)", title=f"curvature along the paths on {function.name}")
    top.grid(True, which="major", alpha=0.3)
    top.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    log_panel(bottom, "step (iteration)", "condition number max|λ| / min|λ|")
    if mixes_orders(colored):  # tens of second-order iterations beside thousands of first-order steps
        bottom.set_xscale("symlog", linthresh=10)
    bottom.set_xlim(left=0)
    bottom.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return save_figure(figure, save)
