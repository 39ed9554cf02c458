"""Second-order and quasi-Newton paths across test functions: the methods of ``fastopt.minimize`` and
Levenberg-Marquardt (``fastopt.least_squares``, "lm") run from a start point, with every iterate kept.

One step of such a method is one iteration: a direction (Newton, quasi-Newton, conjugate gradient)
and a line search or trust region along it, so a step may cost several function evaluations, which
the path counts.  On a built-in function the whole method runs in C++
(``fastopt._core.curvature.minimize`` on the function's analytic gradient and Hessian, no Python per
iteration); on a Python function it runs through :func:`fastopt.minimize` with Python callables (the
same C++ iteration, calling back into Python for every evaluation), so both give the same path.
Levenberg-Marquardt serves the functions that are sums of squares, f = |r(x)|^2 (``fn.has_residuals``:
rosenbrock, beale, booth, himmelblau), natively on their residuals and Jacobian, or through
:func:`fastopt.least_squares` with ``fn.residuals`` and ``fn.jacobian``.
"""
from __future__ import annotations

import functools

import numpy as np

from .. import _core
from .functions import TestFunction

# The options of a landscape path unless given: run to the minimum, until the gradient's largest entry
# is at most 1e-10, with no relative-decrease test stopping it earlier (lbfgs's default ftol, scipy's,
# stops it near f = 1e-16 on rosenbrock while the others go on to 1e-25).  A method without one of
# these options keeps its own rules.
PATH_OPTIONS = {"gtol": 1e-10, "ftol": 0.0}

# The least-squares methods beside fastopt.minimize's, and their options (fastopt.least_squares's
# keywords).  A path runs them with LEAST_SQUARES_PATH_OPTIONS unless given: gtol on the cost's gradient
# J^T r (half f's), and xtol 0 so that the step-size test does not stop Gauss-Newton's last, quadratically
# convergent steps (on rosenbrock xtol 1e-8 stops it at f = 2e-17 with |grad f| = 3e-9).
LEAST_SQUARES_METHODS = ("lm",)
LEAST_SQUARES_OPTIONS = ("xtol", "ftol", "gtol", "damping", "adaptive")
LEAST_SQUARES_PATH_OPTIONS = {**PATH_OPTIONS, "xtol": 0.0}


def second_order_methods(function: TestFunction | None = None) -> list[str]:
    """The names of the native second-order and quasi-Newton methods (:func:`fastopt.curvature.methods`,
    then :data:`LEAST_SQUARES_METHODS`), which :func:`~fastopt.landscape.trajectory` accepts beside the
    first-order optimizers.

    Parameters
    ----------
    function : TestFunction, optional
        Only the methods that can run on it: a method it cannot serve ("lm" on a function that is
        not a sum of squares) fails at once, before its first iteration, and is left out.

    Returns
    -------
    list of str
    """
    names = list(_method_names())
    if function is None:
        return names
    runnable = []
    for name in names:
        try:
            second_order_path(function, name, np.asarray(function.start, dtype=np.float64), 0, None, {})
        except ValueError:
            continue
        runnable.append(name)
    return runnable


@functools.cache
def _method_names() -> tuple[str, ...]:
    # The native table is fixed at build time.
    return (*(name for name, *_ in _core.curvature.methods()), *LEAST_SQUARES_METHODS)


@functools.lru_cache(maxsize=256)
def _cached_settings(method: str, options: tuple):
    # Checking the options and filling the native Settings costs ~30 us, three times a 2-D path's run:
    # paths drawn again with the same options reuse them (the native run only reads them).
    from ..curvature.minimize import settings
    return settings(method, dict(options))


def _native_settings(method: str, options: dict):
    try:
        key = tuple(sorted(options.items()))
        hash(key)
    except TypeError:  # an unhashable value: let settings() name it
        from ..curvature.minimize import settings
        return settings(method, options)
    return _cached_settings(method, key)


def path_options(method: str, steps: int, options: dict) -> dict:
    """The options of ``method``'s path: :data:`PATH_OPTIONS` where the method has them (for "lm"
    :data:`LEAST_SQUARES_PATH_OPTIONS`), then ``options``, with ``maxiter = steps``.

    Parameters
    ----------
    method : str
        A name of :func:`second_order_methods`.
    steps : int
        The most iterations.
    options : dict
        The method's options (:data:`fastopt.curvature.METHOD_OPTIONS`, or for "lm"
        :data:`LEAST_SQUARES_OPTIONS`), over the path's defaults.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If ``options`` holds ``maxiter`` (``steps`` sets it).
    """
    # Imported here: fastopt.curvature imports fastopt.landscape.
    from ..curvature.minimize import METHOD_OPTIONS
    if "maxiter" in options:
        raise ValueError(f"maxiter: a path's iterations are its steps; pass steps={options['maxiter']} instead")
    if method in LEAST_SQUARES_METHODS:
        return {**LEAST_SQUARES_PATH_OPTIONS, **options, "maxiter": int(steps)}
    accepted = METHOD_OPTIONS.get(method, {})
    return {**{k: v for k, v in PATH_OPTIONS.items() if k in accepted}, **options, "maxiter": int(steps)}


def second_order_path(fn: TestFunction, method: str, x0: np.ndarray, steps: int, native: bool | None,
                      options: dict) -> dict:
    """Run ``method`` on ``fn`` from ``x0`` for at most ``steps`` iterations and return its iterates.

    The path ends where the method stops: converged (the gradient's largest entry at most ``gtol``,
    or a step or decrease below its tolerance), the iteration budget spent, or a line search that
    found no decrease (at the limit of float64 precision near a minimum).  ``message`` says which.

    Parameters
    ----------
    fn : TestFunction
        The test function.
    method : str
        A name of :func:`second_order_methods`.
    x0 : numpy.ndarray, shape (dim,)
        The start, finite float64; not modified.
    steps : int
        The most iterations, >= 0.
    native : bool or None
        None runs in C++ whenever ``fn`` is built in; False runs through Python callables
        (:func:`fastopt.minimize` with ``fn.value``, ``fn.grad`` and ``fn.hessian``); True requires C++.
    options : dict
        The method's options over :data:`PATH_OPTIONS` (:func:`path_options`).

    Returns
    -------
    dict
        ``path`` (k+1, dim), ``losses`` (k+1,), ``grad_norms`` (k+1,), ``evaluations`` (k+1,) (function
        evaluations spent when each iterate was reached; the start costs one), ``message`` (why the
        method stopped) and ``native`` (whether it ran in C++), for k <= ``steps`` iterations.

    Raises
    ------
    ValueError
        For an unknown option or a bad value (as :func:`fastopt.minimize`), ``native=True`` on a
        function that is not built in, or a method the function cannot serve ("lm" on a function
        that is not a sum of squares).
    """
    from ..curvature.minimize import minimize
    options = path_options(method, steps, options)
    run_native = fn.native if native is None else bool(native)
    if run_native and not fn.native:
        raise ValueError(f"native=True: {fn.name!r} is a Python function; only built-in functions run in C++")
    if method in LEAST_SQUARES_METHODS:
        return _least_squares_path(fn, method, x0, options, run_native)
    if run_native:
        raw = _core.curvature.minimize(fn._fn, x0.copy(), _native_settings(method, options), None, True)
    else:
        raw = minimize(fn.value, x0, method=method, jac=fn.grad, hess=fn.hessian, options=options, path=True)
    path = np.asarray(raw["path"], dtype=np.float64)
    norms = np.asarray(raw["path_grad_norm"], dtype=np.float64)
    for i in np.flatnonzero(np.isnan(norms)):  # a method that tracks no gradient there
        norms[i] = np.linalg.norm(fn.grad(path[i]))
    return {"path": path, "losses": np.asarray(raw["path_fun"], dtype=np.float64), "grad_norms": norms,
            "evaluations": np.asarray(raw["path_nfev"], dtype=np.int64), "message": str(raw["message"]),
            "native": run_native}


def _least_squares_path(fn: TestFunction, method: str, x0: np.ndarray, options: dict, run_native: bool) -> dict:
    """Levenberg-Marquardt's path on f = |r(x)|^2 (:func:`second_order_path`'s arguments and result).

    :func:`fastopt.least_squares` minimises the cost F = |r|^2 / 2, so the path's losses are 2 F = f
    and its gradient norms 2 |J^T r| = |grad f|.  An iteration costs one residual evaluation (and a
    Jacobian where the step is taken); a rejected step (the gain ratio rho <= 0, the damping mu raised)
    repeats the point.  The iterations are capped by ``max_nfev = maxiter + 1``, and the path cut at
    ``maxiter`` iterations (an iteration whose J^T J + mu I failed Cholesky costs no evaluation).
    """
    from ..curvature.least_squares import least_squares
    if not getattr(fn, "has_residuals", False):
        raise ValueError(f"{method}: {fn.name!r} is not a sum of squares f = |r(x)|^2 with residuals, which "
                         "Levenberg-Marquardt needs (built-in ones: rosenbrock, beale, booth, himmelblau)")
    steps = options.pop("maxiter")
    unknown = sorted(set(options) - set(LEAST_SQUARES_OPTIONS))
    if unknown:
        raise ValueError(f"options: {method} has no option {unknown[0]!r}; it takes "
                         f"{', '.join(sorted(LEAST_SQUARES_OPTIONS))}")
    residuals, jac = (fn, None) if run_native else (fn.residuals, fn.jacobian)
    res = least_squares(residuals, x0, jac=jac, method=method, max_nfev=steps + 1, path=True, **options)
    path = np.asarray(res.path, dtype=np.float64)
    message = str(res.message)
    if len(path) > steps + 1 or res.status == 5:  # the evaluation budget is the iteration budget here
        message = "stopped: maximum number of iterations reached"
    keep = slice(0, steps + 1)
    return {"path": path[keep], "losses": 2.0 * np.asarray(res.path_fun, dtype=np.float64)[keep],
            "grad_norms": 2.0 * np.asarray(res.path_grad_norm, dtype=np.float64)[keep],
            "evaluations": np.asarray(res.path_nfev, dtype=np.int64)[keep], "message": message,
            "native": run_native}
