"""The Riemannian studies behind ``fastopt riemannian``: eigenvectors as minimisers on the sphere and on
Stiefel, and geodesic against step-then-project paths on the 3-D sphere.

::

    from fastopt.studies import riemannian
    result = riemannian.rayleigh_study(n=100, out="rayleigh.png")
    result.runs["RCG (PR+, Armijo)"]["error"][-1]       # f - f* after the last step

Each study runs its optimizers from one start, measures what the figure shows and returns it with
the files it wrote.  The matrices are random symmetric (GOE: ``(G + G^T) / sqrt(2 n)``, spectrum
near [-2, 2]), the reference eigenpairs come from ``numpy.linalg.eigh``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..curvature import Sphere, Stiefel, riemannian_minimize
from .checks import figure_path

# Learning rates of the demos (GOE spectrum in about [-2, 2]: the Rayleigh quotient's Riemannian Hessian at
# the optimum has eigenvalues 2 (lambda_1 - lambda_i) <= 8, so a fixed step must stay below 2/8).
RGD_LR = 0.2
RADAM_LR = 0.05
SPHERE_DEMO_LR = 0.35  # first step 0.81 rad along the geodesic, arctan(0.81) = 0.68 rad projected


@dataclass
class RiemannianStudy:
    """What a Riemannian study ran, measured and wrote.

    Parameters
    ----------
    runs : dict
        Label -> dict of per-iteration arrays (``error``, ``grad_norm``, and ``angle`` on Stiefel;
        ``points``, ``route``, ``distances`` for the sphere paths) and scalars (``nit``, ``nfev``, ``rate``).
    numbers : dict
        The measured numbers the command prints (final errors, reference eigenvalues).
    files : list of Path
        The files written.
    """

    runs: dict
    numbers: dict
    files: list[Path] = field(default_factory=list)


def random_symmetric(n: int, seed: int = 0) -> np.ndarray:
    """A GOE matrix ``(G + G^T) / sqrt(2 n)``, ``G`` standard normal: spectrum close to [-2, 2].

    Parameters
    ----------
    n : int
        Size.
    seed : int
        Seeds ``numpy.random.default_rng``.
    """
    g = np.random.default_rng(seed).standard_normal((n, n))
    return (g + g.T) / math.sqrt(2.0 * n)


def linear_rate(errors) -> float:
    """The measured linear convergence rate: the geometric mean of ``e_{k+1} / e_k`` over the stretch where
    the error falls from 1e-2 to 1e-10 of its start (NaN if it never gets there).

    Parameters
    ----------
    errors : array_like
        Positive errors per iteration.
    """
    e = np.maximum(np.asarray(errors, dtype=float), 1e-300)
    top, bottom = e[0] * 1e-2, e[0] * 1e-10
    start = np.argmax(e <= top) if (e <= top).any() else None
    stop = np.argmax(e <= bottom) if (e <= bottom).any() else len(e) - 1
    if start is None or stop <= start:
        return math.nan
    return float((e[stop] / e[start]) ** (1.0 / (stop - start)))


def _methods():
    """(label, method, options) of the three optimizers the convergence studies compare."""
    return [(f"RGD (lr={RGD_LR:g})", "sgd", {"lr": RGD_LR}),
            ("RCG (PR+, Armijo)", "cg", {}),
            (f"RAdam (lr={RADAM_LR:g})", "adam", {"lr": RADAM_LR})]


def _rounding_level(f_star: float) -> tuple:
    """The spacing of float64 numbers near f*: differences of f below it are rounding, not progress."""
    return float(np.spacing(abs(f_star))), "rounding level of f (spacing of float64 at f*)"


def _with_rate(label: str, run: dict) -> str:
    rate = run["rate"]
    return f"{label}: rate {rate:.3f}/step" if math.isfinite(rate) else label


def _compare_methods(fun_and_egrad, manifold, x0, methods, f_star: float, maxiter: int, gtol: float,
                     subspace=None) -> tuple[dict, dict]:
    """Run each of ``methods`` (``_methods()``'s triples) from ``x0`` and measure ``f - f*`` and its rate.

    With ``subspace`` (orthonormal columns), also the largest principal angle between span(X_k) and it,
    per iterate.  Returns ``(runs, numbers)``: the runs keyed by their legend labels (with the measured
    rate), the final numbers keyed by the method labels.
    """
    runs, numbers = {}, {}
    for label, method, options in methods:
        result = riemannian_minimize(fun_and_egrad, manifold, x0, method=method, maxiter=maxiter, gtol=gtol,
                                     keep_path=subspace is not None, **options)
        run = {"error": result.funs - f_star, "grad_norm": result.grad_norms, "nit": result.nit,
               "nfev": result.nfev, "x": result.x}
        row = {"error": float(result.fun - f_star), "steps": result.nit, "evaluations": result.nfev}
        if subspace is not None:
            run["angle"] = np.array([principal_angles(x, subspace)[-1] for x in result.path])
            row["angle"] = float(run["angle"][-1])
        run["rate"] = linear_rate(run["error"])
        runs[_with_rate(label, run)] = run
        numbers[label] = {**row, "rate": run["rate"], "grad_norm": float(result.grad_norms[-1]),
                          "stop": result.message}
    return runs, numbers


def rayleigh_study(n: int = 100, seed: int = 0, maxiter: int = 2000, gtol: float = 1e-9, out=None,
                   dpi: float = 100) -> RiemannianStudy:
    """The leading eigenvector of a random symmetric ``A`` by minimising ``f(x) = -x^T A x`` on ``Sphere(n)``.

    RGD, RCG and RAdam start from the same random point; the error is ``f(x_k) - f*`` with
    ``f* = -lambda_max`` from ``numpy.linalg.eigh``.  The figure (at ``out``) shows the error and the
    Riemannian gradient norm against the iteration; the legend names each method's learning rate and its
    measured linear rate (:func:`linear_rate`).

    Parameters
    ----------
    n : int, default 100
        Size of ``A``.
    seed : int, default 0
        Seeds ``A`` and the start.
    maxiter : int, default 2000
        Most steps per method.
    gtol : float, default 1e-9
        Stop at this Riemannian gradient norm.
    out : path-like, optional
        The figure, .png or .svg.
    dpi : float, default 100
        Resolution.

    Returns
    -------
    RiemannianStudy
        ``numbers``: ``lambda_max``, ``gap``, and per method the final error and gradient norm, steps,
        function evaluations, measured rate and why it stopped.
    """
    out = None if out is None else figure_path(out, "out")
    sphere = Sphere(n)
    a = random_symmetric(n, seed)
    eigenvalues = np.linalg.eigh(a)[0]
    f_star = -eigenvalues[-1]
    x0 = sphere.random_point(seed + 1)

    def fun_and_egrad(x):
        ax = a @ x
        return -float(x @ ax), -2.0 * ax

    runs, numbers = _compare_methods(fun_and_egrad, sphere, x0, _methods(), f_star, maxiter, gtol)
    numbers = {"lambda_max": float(eigenvalues[-1]), "gap": float(eigenvalues[-1] - eigenvalues[-2]), **numbers}
    files = []
    if out is not None:
        from ..plots.riemannian import convergence
        convergence(runs, [("error", "f(x) - f*   (f* = -lambda_max from eigh)"),
                           ("grad_norm", "Riemannian gradient norm |grad f(x)|")],
                    f"Leading eigenvector of a {n}x{n} random symmetric matrix: minimise -x^T A x on the sphere",
                    save=out, dpi=dpi, levels={"error": _rounding_level(f_star)})
        files.append(out)
    return RiemannianStudy(runs=runs, numbers=numbers, files=files)


def principal_angles(x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The principal angles (radians, ascending) between span(x) and span(u), both with orthonormal columns.

    Computed as ``arcsin`` of the singular values of ``(I - u u^T) x``, accurate for small angles
    (``arccos`` of those of ``u^T x`` loses half the digits there).

    Parameters
    ----------
    x, u : numpy.ndarray, shape (n, p)
        Orthonormal columns.
    """
    sines = np.linalg.svd(x - u @ (u.T @ x), compute_uv=False)
    return np.sort(np.arcsin(np.clip(sines, 0.0, 1.0)))


def stiefel_study(n: int = 100, p: int = 4, seed: int = 0, maxiter: int = 2000, gtol: float = 1e-9, out=None,
                  dpi: float = 100) -> RiemannianStudy:
    """The top-p eigenspace of a random symmetric ``A`` by minimising ``f(X) = -trace(X^T A X)`` on ``Stiefel(n, p)``.

    RGD, RCG (with the QR and the polar retraction) and RAdam from one random frame.  The figure shows
    ``f(X_k) - f*`` (``f* = -(sum of the p largest eigenvalues)``) and the largest principal angle between
    span(X_k) and eigh's top-p eigenvectors.

    Parameters
    ----------
    n, p : int, default 100, 4
        Size of ``A`` and of the subspace.
    seed : int, default 0
        Seeds ``A`` and the start.
    maxiter : int, default 2000
        Most steps per method.
    gtol : float, default 1e-9
        Stop at this Riemannian gradient norm.
    out : path-like, optional
        The figure, .png or .svg.
    dpi : float, default 100
        Resolution.

    Returns
    -------
    RiemannianStudy
        ``numbers``: ``lambda_top``, ``gap``, and per method the final error, largest principal angle and
        gradient norm, steps, evaluations, measured rate and why it stopped.
    """
    out = None if out is None else figure_path(out, "out")
    stiefel = Stiefel(n, p)
    if p >= n:
        raise ValueError(f"p: expected p < n (the gap to the next eigenvalue is reported), got p={p}, n={n}")
    a = random_symmetric(n, seed)
    eigenvalues, vectors = np.linalg.eigh(a)
    top = vectors[:, -p:]
    f_star = -float(eigenvalues[-p:].sum())
    x0 = stiefel.random_point(seed + 1)

    def fun_and_egrad(x):
        ax = a @ x
        return -float(np.sum(x * ax)), -2.0 * ax

    methods = _methods()
    methods.insert(2, ("RCG (PR+, Armijo, polar)", "cg", {"retraction": "polar"}))
    methods[1] = ("RCG (PR+, Armijo, QR)", "cg", {"retraction": "qr"})
    runs, numbers = _compare_methods(fun_and_egrad, stiefel, x0, methods, f_star, maxiter, gtol, subspace=top)
    numbers = {"lambda_top": [float(v) for v in eigenvalues[-p:][::-1]],
               "gap": float(eigenvalues[-p] - eigenvalues[-p - 1]), **numbers}
    files = []
    if out is not None:
        from ..plots.riemannian import convergence
        polar = [label for label in runs if "polar" in label]
        convergence(runs, [("error", "f(X) - f*   (f* = -sum of the top p eigenvalues)"),
                           ("angle", "largest principal angle to eigh's top-p subspace (rad)")],
                    f"Top-{p} eigenspace of a {n}x{n} random symmetric matrix: minimise -trace(X^T A X) on "
                    f"Stiefel({n}, {p})", save=out, dpi=dpi,
                    styles=dict.fromkeys(polar, "--"), colors=dict.fromkeys(polar, "#00441b"),
                    levels={"error": _rounding_level(f_star)})
        files.append(out)
    return RiemannianStudy(runs=runs, numbers=numbers, files=files)


SPHERE_DEMO_A = np.diag([0.0, 1.0, 2.5])
SPHERE_DEMO_START = np.array([1.0, 0.3, 0.3]) / np.linalg.norm([1.0, 0.3, 0.3])


def sphere_paths_study(lr: float = SPHERE_DEMO_LR, steps: int = 12, samples_per_step: int = 16, out=None,
                       animate=None, frames: int = 80, animate_steps: int = 6, dpi: float = 100) -> RiemannianStudy:
    """Geodesic against step-then-project: gradient descent on ``f(x) = -x^T A x`` over the 3-D sphere.

    ``A = diag(0, 1, 2.5)``: the minimiser is ``(0, 0, 1)``.  From the same start with the same large
    learning rate, one path steps with the exponential map (``x_{k+1} = Exp_x(-lr g)``: along the great
    circle, by the angle ``lr |g|``), the other steps in the tangent plane and projects back
    (``x_{k+1} = (x - lr g) / |x - lr g|``: by the angle ``arctan(lr |g|)``, shorter).

    Parameters
    ----------
    lr : float, default 0.35
        The learning rate of both (the Riemannian Hessian at the minimiser has eigenvalues 3 and 5, so
        both paths converge for lr < 0.4; far from it the steps are long).
    steps : int, default 12
        Steps of each.
    samples_per_step : int, default 16
        Points drawn per step along each route (even: half of a projected step is the tangent move).
    out : path-like, optional
        The figure, .png or .svg.
    animate : path-like, optional
        A .gif of the two paths being travelled.
    frames : int, default 80
        Most frames of the animation.
    animate_steps : int, default 6
        Steps the animation shows (the first ones, where the steps are long).
    dpi : float, default 100
        Resolution of the figure (the animation's is at most 70).

    Returns
    -------
    RiemannianStudy
        ``runs``: label -> ``points``, ``route``, ``distances`` (geodesic, to the minimiser) and
        ``error`` (``f - f*``); ``numbers``: the final distances and errors.
    """
    out = None if out is None else figure_path(out, "out")
    animate = None if animate is None else figure_path(animate, "animate", (".gif",))
    if not (isinstance(lr, (int, float)) and 0 < lr < math.inf):
        raise ValueError(f"lr: expected a positive finite learning rate, got {lr!r}")
    for name, value in (("steps", steps), ("samples_per_step", samples_per_step), ("animate_steps", animate_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a positive integer, got {value!r}")
    sphere, a = Sphere(3), SPHERE_DEMO_A
    minimizer = np.array([0.0, 0.0, 1.0])
    f_star = -2.5
    half = max(1, samples_per_step // 2)
    runs, numbers = {}, {}
    for retraction, label in (("exp", "exp map: along the geodesic"),
                              ("normalize", "step in the tangent plane, then project")):
        x = SPHERE_DEMO_START.copy()
        points, route = [x.copy()], [x.copy()]
        for _ in range(steps):
            v = -lr * sphere.egrad_to_rgrad(x, -2.0 * a @ x)
            if retraction == "exp":
                route += [sphere.exp(x, t * v) for t in np.linspace(0, 1, 2 * half + 1)[1:]]
                x = sphere.exp(x, v)
            else:
                z = x + v
                y = z / np.linalg.norm(z)
                route += [x + t * v for t in np.linspace(0, 1, half + 1)[1:]]
                route += [(1 - s) * z + s * y for s in np.linspace(0, 1, half + 1)[1:]]
                x = y
            points.append(x.copy())
        points = np.array(points)
        distances = np.array([sphere.dist(p, minimizer) for p in points])
        errors = np.array([-(p @ a @ p) - f_star for p in points])
        runs[retraction] = {"label": label, "points": points, "route": np.array(route), "distances": distances,
                            "error": errors}
        numbers[retraction] = {"distance": float(distances[-1]), "error": float(errors[-1]),
                               "first_step_angle": float(sphere.dist(points[0], points[1]))}
    files = []
    title = f"Gradient descent on the sphere, lr={lr:g}: exp map vs step-then-project"
    if out is not None:
        from ..plots.riemannian import sphere_paths
        sphere_paths(runs, minimizer, title + "\nf(x) = -x^T diag(0, 1, 2.5) x", save=out, dpi=dpi)
        files.append(out)
    if animate is not None:
        from ..plots.riemannian import animate_sphere_paths
        # The long steps come first: the animation shows those (the figure has them all).
        shown = min(steps, animate_steps)
        cut = {key: {**run, "points": run["points"][:shown + 1], "route": run["route"][:shown * 2 * half + 1],
                     "distances": run["distances"][:shown + 1]} for key, run in runs.items()}
        animate_sphere_paths(cut, minimizer, f"lr={lr:g}: exp map vs step-then-project", animate, frames=frames,
                             dpi=min(dpi, 70))
        files.append(animate)
    return RiemannianStudy(runs=runs, numbers=numbers, files=files)


__all__ = ["RiemannianStudy", "RGD_LR", "RADAM_LR", "SPHERE_DEMO_LR", "random_symmetric", "linear_rate",
           "principal_angles", "rayleigh_study", "stiefel_study", "sphere_paths_study"]
