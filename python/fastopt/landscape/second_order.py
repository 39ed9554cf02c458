"""Second-order and quasi-Newton paths across test functions: the methods of ``fastopt.minimize`` run
from a start point, with every iterate kept.

One step of such a method is one iteration: a direction (Newton, quasi-Newton, conjugate gradient)
and a line search or trust region along it, so a step may cost several function evaluations, which
the path counts.  On a built-in function the whole method runs in C++
(``fastopt._core.curvature.minimize`` on the function's analytic gradient and Hessian, no Python per
iteration); on a Python function it runs through :func:`fastopt.minimize` with Python callables (the
same C++ iteration, calling back into Python for every evaluation), so both give the same path.
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


def second_order_methods(function: TestFunction | None = None) -> list[str]:
    """The names of the native second-order and quasi-Newton methods (:func:`fastopt.curvature.methods`),
    which :func:`~fastopt.landscape.trajectory` accepts beside the first-order optimizers.

    Parameters
    ----------
    function : TestFunction, optional
        Only the methods that can run on it: a method it cannot serve (a least-squares method on a
        function without residuals, say) fails at once, before its first iteration, and is left out.

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
    return tuple(name for name, *_ in _core.curvature.methods())  # the native table is fixed at build time


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
    """The options of ``method``'s path: :data:`PATH_OPTIONS` where the method has them, then ``options``,
    with ``maxiter = steps``.

    Parameters
    ----------
    method : str
        A name of :func:`second_order_methods`.
    steps : int
        The most iterations.
    options : dict
        The method's options (:data:`fastopt.curvature.METHOD_OPTIONS`), over the path's defaults.

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
        function that is not built in, or a method the function cannot serve.
    """
    from ..curvature.minimize import minimize
    options = path_options(method, steps, options)
    run_native = fn.native if native is None else bool(native)
    if run_native and not fn.native:
        raise ValueError(f"native=True: {fn.name!r} is a Python function; only built-in functions run in C++")
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
