"""The logistic-regression study's figure: f - f* and test accuracy against seconds or evaluations."""
from __future__ import annotations

import numpy as np

from .style import color_for, new_figure, save_figure

# The second-order methods in colours of their own (the spare palette of color_for gives some of these
# names the same colour); Adam keeps its registry colour, one line style per learning rate.
METHOD_COLORS = {"lbfgs": "#1f77b4", "bfgs": "#d62728", "cg": "#2ca02c", "newton-cg": "#9467bd"}
_ADAM_STYLES = ("-", "--", ":", "-.")

_AXIS_LABELS = {"seconds": "wall time (s)",
                "evaluations": "evaluations (value/gradient calls + Hessian-vector products; one data pass each)"}


def convergence(traces, f_star: float, x_axis: str = "seconds", title: str = "", save=None, dpi: float = 100):
    """Two panels over ``x_axis``: the training loss above its lowest value (log scale), and test accuracy.

    Parameters
    ----------
    traces : sequence of fastopt.studies.logistic.Trace
        The runs (label, method, seconds, evaluations, loss, test_accuracy).
    f_star : float
        The reference loss f*; points at or below it are left out of the log panel.
    x_axis : {"seconds", "evaluations"}
        The horizontal axis.
    title : str
        The figure's title.
    save : path-like or list, optional
        Files to write (.png or .svg).
    dpi : float
        Resolution.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if x_axis not in _AXIS_LABELS:
        raise ValueError(f"x_axis: expected 'seconds' or 'evaluations', got {x_axis!r}")
    figure = new_figure(12, 4.6, dpi)
    gap_ax, acc_ax = figure.subplots(1, 2)
    adam_runs = 0
    for t in traces:
        if t.method == "adam":
            color, style, marker = color_for("adam"), _ADAM_STYLES[adam_runs % len(_ADAM_STYLES)], None
            adam_runs += 1
        else:
            color, style, marker = METHOD_COLORS.get(t.method, color_for(t.method)), "-", "o"
        x = np.asarray(getattr(t, x_axis), dtype=float)
        gap = np.asarray(t.loss) - f_star
        shown = gap > 0
        label = f"{t.label} ({t.iterations} it.)"
        gap_ax.plot(x[shown], gap[shown], style, color=color, marker=marker, markersize=2.5, linewidth=1.4,
                    label=label)
        acc_ax.plot(x, 100 * np.asarray(t.test_accuracy), style, color=color, marker=marker, markersize=2.5,
                    linewidth=1.4, label=label)
    gap_ax.set_yscale("log")
    gap_ax.set_ylabel("training loss - f*")
    gap_ax.set_title(f"f* = {f_star:.6f}, the lowest training loss any run reached", fontsize=9)
    acc_ax.set_ylabel("test accuracy (%)")
    finals = [100 * t.test_accuracy[-1] for t in traces]
    acc_ax.set_ylim(max(0.0, min(finals) - 5), min(100.0, max(finals) + 1))
    for ax in (gap_ax, acc_ax):
        ax.set_xlabel(_AXIS_LABELS[x_axis])
        ax.grid(True, which="major", alpha=0.3)
    gap_ax.legend(fontsize=8, loc="upper right")
    figure.suptitle(title + f": loss and accuracy against {'time' if x_axis == 'seconds' else 'evaluations'}")
    return save_figure(figure, save)
