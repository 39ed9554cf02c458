"""Saddle points: gradient descent stalls near them, noise and momentum shorten the stall, and Newton's
method is attracted to them while saddle-free Newton escapes (Dauphin et al., 2014).

Near the saddle of f = x² - y² gradient descent with step size lr multiplies the downhill coordinate by
(1 + 2 lr) per step, so from y₀ it needs about log(1/y₀) / log(1 + 2 lr) steps to leave: the closer it
starts to the saddle's stable direction, the longer it stalls. Noise in the gradient kicks y off zero,
momentum compounds the growth. Newton's step -H⁻¹g jumps to the critical point whatever its kind: here the
saddle itself. Saddle-free Newton, -|H|⁻¹g (|H| with the absolute values of H's eigenvalues), goes
downhill along negative curvature and leaves in a few steps. On the monkey saddle x³ - 3xy² the Hessian
vanishes at the saddle and plain gradient descent slows down even more.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import landscape
from .result import DemoResult

FUNCTIONS = ("saddle", "monkey_saddle")
ESCAPED = -1.0  # f below this: the path has left the saddle's plateau (f = 0 there)


def newton_path(fn, x0, steps: int) -> np.ndarray:
    """Pure Newton iterations x <- x - H(x)⁻¹ g(x) (no line search, no modification), stopping early if
    the Hessian is singular.

    Parameters
    ----------
    fn : fastopt.landscape.TestFunction
    x0 : array_like, shape (2,)
    steps : int

    Returns
    -------
    numpy.ndarray, shape (n, 2)
        The iterates, x0 first.
    """
    path = [np.asarray(x0, dtype=np.float64)]
    for _ in range(steps):
        x = path[-1]
        try:
            path.append(x - np.linalg.solve(fn.hessian(x), fn.grad(x)))
        except np.linalg.LinAlgError:
            break
    return np.array(path)


def _methods(lr: float, noise: float):
    return (("gradient descent", "sgd", {"lr": lr}),
            (f"gradient descent, noise σ={noise:g}", "sgd", {"lr": lr, "noise": noise}),
            ("momentum 0.9", "momentum", {"lr": lr}),
            ("saddle-free Newton", "saddle-free-newton", {}))


def _escape_step(values) -> int | None:
    below = np.flatnonzero(np.asarray(values) < ESCAPED)
    return int(below[0]) if below.size else None


def _runs(fn, x0, steps: int, lr: float, noise: float, seed: int) -> dict:
    runs = {}
    for label, optimizer, options in _methods(lr, noise):
        path = np.asarray(landscape.trajectory(fn, optimizer, x0=x0, steps=steps, seed=seed, **options).path, float)
        runs[label] = path
    runs["Newton (pure)"] = newton_path(fn, x0, steps)
    return runs


def _figure(results: dict, x0, lr: float, out: Path, dpi: float) -> Path:
    from ..plots.style import SURFACE_CMAP, color_for, new_figure, save_figure
    figure = new_figure(12, 8, dpi)
    panels = figure.subplots(2, 2)
    colours = dict(zip(results[FUNCTIONS[0]], ("tab:blue", "tab:cyan", "tab:orange", color_for("saddle-free-newton"),
                                               color_for("newton"))))
    for (name, runs), (contour, loss) in zip(results.items(), panels):
        fn = landscape.get(name)
        (x_lo, x_hi), (y_lo, y_hi) = fn.domain
        xs, ys = np.linspace(x_lo, x_hi, 200), np.linspace(y_lo, y_hi, 200)
        grid = np.array([[fn.value(np.array([x, y])) for x in xs] for y in ys])
        contour.contourf(xs, ys, grid, levels=30, cmap=SURFACE_CMAP)
        contour.contour(xs, ys, grid, levels=[0.0], colors="k", linewidths=0.6)
        for label, path in runs.items():
            inside = np.all((path >= [x_lo, y_lo]) & (path <= [x_hi, y_hi]), axis=1)
            shown = path[:np.argmin(inside) + 1] if not inside.all() else path
            contour.plot(shown[:, 0], shown[:, 1], ".-", ms=2, lw=1, color=colours[label], label=label)
            values = np.array([fn.value(p) for p in path])
            steps = np.arange(len(values))
            keep = values > -1e6
            loss.plot(steps[keep], values[keep], color=colours[label], label=label)
        contour.plot(*x0, "k*", ms=10, label="start")
        contour.plot(0, 0, "rx", ms=9, mew=2, label="saddle")
        contour.set(xlim=(x_lo, x_hi), ylim=(y_lo, y_hi), xlabel="x", ylabel="y",
                    title=f"{name.replace('_', ' ')}: paths from ({x0[0]:g}, {x0[1]:g})")
        loss.axhline(ESCAPED, color="0.5", ls="--", lw=0.8)
        loss.set(xlabel="step", ylabel="f(x, y)", ylim=(-5, 1.5), title=f"{name.replace('_', ' ')}: f along the path "
                 f"(escaped below {ESCAPED:g})")
        loss.grid(True, alpha=0.3)
    panels[0, 0].legend(fontsize=8, loc="upper left")
    figure.suptitle(f"Escaping saddle points (first-order methods at lr {lr:g})")
    path = out / "saddle_points.png"
    save_figure(figure, path)
    return path


def saddle_point_demo(out, quick: bool = False, seed: int = 0, start=(1.0, 1e-6), lr: float = 0.05,
                      noise: float = 0.01, dpi: float = 100) -> DemoResult:
    """Gradient descent, noisy gradient descent, momentum, pure Newton and saddle-free Newton started next to
    the saddles of x² - y² and the monkey saddle x³ - 3xy².

    Parameters
    ----------
    out : path-like
        The folder of the figure and summary.
    quick : bool
        Fewer steps.
    seed : int
        Seeds the gradient noise.
    start : tuple of float
        The start, near the saddle at the origin: a tiny y puts it next to the stable direction.
    lr : float
        The first-order methods' step size.
    noise : float
        The noisy run's gradient noise (standard deviation).
    dpi : float
        Resolution of the figure.

    Returns
    -------
    DemoResult
        ``numbers``: per function and method, the first step with f < -1 (None: still stuck at the end,
        or, for pure Newton, converged onto the saddle).
    """
    out = Path(out)
    steps = 150 if quick else 400
    results = {name: _runs(landscape.get(name), start, steps, lr, noise, seed) for name in FUNCTIONS}
    figure = _figure(results, start, lr, out, dpi)
    numbers = {name: {label: _escape_step([landscape.get(name).value(p) for p in path])
                      for label, path in runs.items()} for name, runs in results.items()}
    numbers["newton_distance_to_saddle"] = {name: float(np.linalg.norm(runs["Newton (pure)"][-1]))
                                            for name, runs in results.items()}
    lines = []
    for name in FUNCTIONS:
        parts = [f"{label} {'stuck' if step is None else f'{step} steps'}" for label, step in numbers[name].items()
                 if label != "Newton (pure)"]
        lines.append(f"- **{name.replace('_', ' ')}**: steps to escape (f < {ESCAPED:g}) in {steps}: "
                     + "; ".join(parts) + f". Pure Newton ends {numbers['newton_distance_to_saddle'][name]:.1e} "
                     "from the saddle.")
    text = ("Started at (%g, %g), next to the saddle at the origin. Gradient descent stalls on the plateau "
            "f ≈ 0 for a long time, noise and momentum shorten the stall, pure Newton converges onto the saddle "
            "(it seeks any critical point), and saddle-free Newton leaves at once.\n\n" % tuple(start)) + "\n".join(lines)
    return DemoResult("saddle-point", "Saddle points (Dauphin et al., 2014)", text, numbers, [figure]).write(out)
