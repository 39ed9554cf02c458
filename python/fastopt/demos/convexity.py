"""Convex against non-convex: on a convex function every descent path ends at the one minimum; on
Rastrigin's, f(x) = 10 n + Σ (xᵢ² - 10 cos 2πxᵢ), gradient descent stops in whichever of its many local
minima holds the start, so where it ends depends on where it starts.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import landscape
from ..studies import convex_study
from .result import DemoResult


def multistart(function: str, starts: np.ndarray, steps: int, lr: float) -> np.ndarray:
    """Run gradient descent from each start and return the end points.

    Parameters
    ----------
    function : str
        A name of :func:`fastopt.landscape.functions`.
    starts : numpy.ndarray, shape (k, 2)
    steps : int
    lr : float

    Returns
    -------
    numpy.ndarray, shape (k, 2)
    """
    fn = landscape.get(function)
    return np.array([landscape.trajectory(fn, "sgd", x0=s, steps=steps, lr=lr).path[-1] for s in starts])


def curvature_lr(function: str) -> float:
    """1 / (the largest Hessian eigenvalue at the global minimum): the fastest stable step size there."""
    fn = landscape.get(function)
    return 1.0 / float(np.linalg.eigvalsh(fn.hessian(np.asarray(fn.minima[0], float)))[-1])


def convex_demo(out, quick: bool = False, seed: int = 0, starts: int = 15, dpi: float = 100) -> DemoResult:
    """The six first-order optimizers on a convex quadratic and on Rastrigin (``convex_vs_nonconvex.png``),
    and gradient descent from a ``starts`` x ``starts`` grid of starts on both (``multistart.png``), each at
    the step size :func:`curvature_lr`.

    Parameters
    ----------
    out : path-like
        The folder of the figures and summary.
    quick : bool
        A coarser grid and fewer steps.
    seed : int
        Unused by the deterministic paths; kept for the demos' common signature.
    starts : int
        Starts per axis of the grid.
    dpi : float
        Resolution of the figures.

    Returns
    -------
    DemoResult
        ``numbers``: per function, the share of starts ending at the global minimum (f < 1e-3), and the
        number of distinct end points (rounded to 0.1).
    """
    from ..plots.style import SURFACE_CMAP, new_figure, save_figure
    out = Path(out)
    steps = 200 if quick else 1000
    starts = 7 if quick else starts  # odd: the grid holds the centre
    both = out / "convex_vs_nonconvex.png"
    convex_study(out=both, steps=steps, dpi=dpi)
    figure = new_figure(11, 5, dpi)
    numbers = {}
    for ax, name in zip(figure.subplots(1, 2), ("quadratic", "rastrigin")):
        fn = landscape.get(name)
        (x_lo, x_hi), (y_lo, y_hi) = fn.domain
        axis = np.linspace(x_lo * 0.95, x_hi * 0.95, starts)
        grid = np.array([(x, y) for x in axis for y in axis])
        lr = curvature_lr(name)
        ends = multistart(name, grid, steps, lr)
        values = np.array([fn.value(e) for e in ends])
        xs, ys = np.linspace(x_lo, x_hi, 200), np.linspace(y_lo, y_hi, 200)
        ax.contourf(xs, ys, [[fn.value(np.array([x, y])) for x in xs] for y in ys], levels=30, cmap=SURFACE_CMAP)
        for s, e in zip(grid, ends):
            ax.plot([s[0], e[0]], [s[1], e[1]], color="tab:blue", lw=0.4, alpha=0.5)
        ax.plot(grid[:, 0], grid[:, 1], "o", ms=2.5, color="tab:blue", label="start")
        ax.plot(ends[:, 0], ends[:, 1], "o", ms=4, color="tab:red", label="end")
        found = float(np.mean(values < 1e-3))
        distinct = len({tuple(np.round(e, 1)) for e in ends})
        numbers[name] = {"global_share": found, "distinct_ends": distinct, "starts": len(grid)}
        ax.set(xlim=(x_lo, x_hi), ylim=(y_lo, y_hi), xlabel="x", ylabel="y",
               title=f"{name} (lr {lr:.2g}): {100 * found:.0f}% of {len(grid)} starts reach the global minimum")
        ax.legend(fontsize=8, loc="upper right")
    figure.suptitle(f"Gradient descent ({steps} steps, lr = 1 / largest curvature at the minimum) from a grid of starts")
    grid_path = out / "multistart.png"
    save_figure(figure, grid_path)
    q, r = numbers["quadratic"], numbers["rastrigin"]
    text = (f"From {q['starts']} starts, gradient descent ends at the minimum of the convex quadratic from "
            f"{100 * q['global_share']:.1f}% of them, but on Rastrigin only {100 * r['global_share']:.1f}% reach the "
            f"global minimum; the rest stop in {r['distinct_ends'] - 1} other local minima. On a convex function "
            "any local minimum is global, and the start only changes how long the path is.")
    return DemoResult("convex", "Convex against non-convex", text, numbers, [both, grid_path]).write(out)
