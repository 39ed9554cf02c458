"""``fastopt.minimize``: quasi-Newton, conjugate-gradient and Newton methods, shaped like
``scipy.optimize.minimize``.

The methods are C++ (``src/cpp/curvature``): the line search, the two-loop recursion, the BFGS
update, the CG direction and every dot product and axpy run natively with the GIL released.  A Python
``fun`` is called back for values and gradients; a built-in landscape function
(``fastopt.landscape.get(...)``) runs the whole method in C++.
"""
from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable

import numpy as np

from .. import _core
from ..landscape.functions import BuiltinFunction, TestFunction
from .result import OptimizeResult

_NATIVE = _core.curvature

# The options every line-search method takes, with their defaults (scipy's names where scipy has one):
#   maxiter  iterations;  maxfev  function evaluations (0: no limit)
#   gtol     stop when max |g_i| <= gtol;   ftol  stop when (f_k - f_k+1) <= ftol max(|f_k|, |f_k+1|, 1)
#   xtol     stop when max |s_i| <= xtol or |f_k - f_k+1| < xtol (torch's tolerance_change; 0: off)
#   line_search  "strong_wolfe" | "armijo" | "none";  c1, c2  its constants;  max_ls  its trials
_LINE_SEARCH = {"maxiter": 1000, "maxfev": 0, "gtol": 1e-5, "ftol": 0.0, "xtol": 0.0, "line_search": "strong_wolfe",
                "c1": 1e-4, "c2": 0.9, "max_ls": 25}

# Each method's options and defaults.  lbfgs's ftol is scipy L-BFGS-B's (factr 1e7 times machine
# epsilon); CG's c2 = 0.1 keeps Fletcher-Reeves directions descent directions.
METHOD_OPTIONS: dict[str, dict] = {
    "lbfgs": {**_LINE_SEARCH, "ftol": 1e7 * np.finfo(float).eps, "history_size": 10},
    "bfgs": dict(_LINE_SEARCH),
    "cg": {**_LINE_SEARCH, "c2": 0.1, "variant": "PR+", "restart_every": 0},
    # The Newton family (newton.hpp, newton_cg.hpp, trust_region.hpp): damping floors |lambda| in
    # saddle-free Newton; cg_maxiter bounds Newton-CG's inner CG (0: scipy's 20 n); the trust-region
    # options are scipy trust-ncg's, with the same defaults.
    "newton": dict(_LINE_SEARCH),
    "saddle-free-newton": {**_LINE_SEARCH, "damping": 1e-8},
    "newton-cg": {**_LINE_SEARCH, "cg_maxiter": 0},
    "trust-ncg": {"maxiter": 1000, "maxfev": 0, "gtol": 1e-5, "initial_trust_radius": 1.0, "max_trust_radius": 1000.0,
                  "eta": 0.15},
}

# Option name -> the native Settings field, where they differ.
_FIELD = {"maxiter": "max_iter", "maxfev": "max_eval", "variant": "cg_variant"}
_CHOICES = {"line_search": ("strong_wolfe", "armijo", "none"), "variant": ("FR", "PR+", "HS")}
_INTEGERS = {"maxiter": 0, "maxfev": 0, "max_ls": 1, "history_size": 1, "restart_every": 0,
             "cg_maxiter": 0}  # name -> minimum
_POSITIVE = {"damping", "initial_trust_radius", "max_trust_radius"}  # real options that must be > 0


def methods() -> dict[str, str]:
    """The native methods by name, with a one-line summary each."""
    return {name: summary for name, summary, *_ in _NATIVE.methods()}


def _check_option(method: str, name: str, value):
    if name in _CHOICES:
        if value not in _CHOICES[name]:
            raise ValueError(f"options['{name}']: expected one of {', '.join(_CHOICES[name])}, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"options['{name}']: expected a number, got {type(value).__name__} {value!r}")
    if name in _INTEGERS:
        if int(value) != value or value < _INTEGERS[name]:
            raise ValueError(f"options['{name}']: expected an integer >= {_INTEGERS[name]}, got {value!r}")
        return int(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"options['{name}']: expected a finite number >= 0, got {value!r}")
    if name in _POSITIVE and value == 0:
        raise ValueError(f"options['{name}']: expected a finite number > 0, got {value!r}")
    return float(value)


def settings(method: str, options: dict | None = None, tol: float | None = None):
    """The native Settings for ``method`` with ``options`` over its defaults (ValueError naming an
    unknown method or option, or a bad value).  ``tol`` sets gtol unless the options do."""
    if method not in METHOD_OPTIONS:
        raise ValueError(f"method: unknown method {method!r}; choose from {', '.join(METHOD_OPTIONS)}, or lm "
                         "(a landscape sum of squares)")
    accepted = METHOD_OPTIONS[method]
    merged = dict(accepted)
    if tol is not None:
        merged["gtol"] = tol
    for name, value in (options or {}).items():
        if name not in accepted:
            raise ValueError(f"options: {method} has no option {name!r}; it takes {', '.join(sorted(accepted))}")
        merged[name] = value
    merged = {name: _check_option(method, name, value) for name, value in merged.items()}
    if "c1" in merged and not 0 < merged["c1"] < merged["c2"] < 1:
        raise ValueError(f"options: the line search needs 0 < c1 < c2 < 1, got c1={merged['c1']}, c2={merged['c2']}")
    if "eta" in merged:  # scipy's trust-region rules
        if not merged["eta"] < 0.25:
            raise ValueError(f"options['eta']: expected 0 <= eta < 0.25, got {merged['eta']}")
        if not merged["initial_trust_radius"] < merged["max_trust_radius"]:
            raise ValueError("options: initial_trust_radius must be below max_trust_radius, got "
                             f"{merged['initial_trust_radius']} and {merged['max_trust_radius']}")
    s = _NATIVE.Settings()
    s.method = method
    for name, value in merged.items():
        setattr(s, _FIELD.get(name, name), value)
    return s


def _as_x0(x0) -> np.ndarray:
    x = np.array(x0, dtype=np.float64, copy=True)
    if x.ndim > 1:
        raise ValueError(f"x0: expected a 1-D array, got shape {x.shape}")
    x = np.atleast_1d(x)
    if x.size == 0:
        raise ValueError("x0: is empty")
    if not np.all(np.isfinite(x)):
        raise ValueError("x0: must be finite (it holds NaN or Inf)")
    return x


def _scalar(value, what: str) -> float:
    a = np.asarray(value, dtype=np.float64)
    if a.size != 1:
        raise ValueError(f"{what}: must return a scalar, got shape {a.shape}")
    return float(a.reshape(()))


class _Counted:
    """fun, jac, hess and hessp of a Python problem as the native (value_grad, hess, hessp), counting
    the calls of fun itself (finite differences call it more than once per evaluation)."""

    def __init__(self, fun, args, jac, hess, hessp, n):
        self.fun, self.args, self.jac, self.n = fun, tuple(args), jac, n
        self.hess_fn, self.hessp_fn = hess, hessp
        self.calls = 0

    def f(self, x):
        self.calls += 1
        return self.fun(x, *self.args)

    def value_grad(self, x):
        if self.jac is True:
            out = self.f(x)
            if not isinstance(out, tuple) or len(out) != 2:
                raise TypeError("fun: with jac=True, fun must return (value, gradient)")
            value, grad = out
        elif callable(self.jac):
            value, grad = self.f(x), self.jac(x, *self.args)
        else:
            value = self.f(x)
            grad = self._finite_difference(x, _scalar(value, "fun"))
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != (self.n,):
            raise ValueError(f"jac: returned shape {grad.shape}, expected ({self.n},)")
        return _scalar(value, "fun"), grad

    def _finite_difference(self, x, fx):
        """Forward differences, h = sqrt(eps) max(1, |x_i|) (scipy's '2-point')."""
        grad = np.empty(self.n)
        for i in range(self.n):
            h = math.sqrt(np.finfo(float).eps) * max(1.0, abs(x[i]))
            step = x.copy()
            step[i] += h
            grad[i] = (_scalar(self.f(step), "fun") - fx) / (step[i] - x[i])
        return grad

    def hess(self, x):
        return np.asarray(self.hess_fn(x, *self.args), dtype=np.float64)

    def hessp(self, x, p):
        return np.asarray(self.hessp_fn(x, p, *self.args), dtype=np.float64)

    def native(self):
        return (self.value_grad, None if self.hess_fn is None else self.hess,
                None if self.hessp_fn is None else self.hessp)


def _observer(callback, value: str = "fun", gradient: str = "jac"):
    """The native callback(k, x, f, g, nfev) -> stop, from a scipy-style callback: callback(xk), or
    callback(intermediate_result) when its parameter has that name (f and g under the keys ``value``
    and ``gradient``); StopIteration stops the run."""
    if callback is None:
        return None
    try:
        new_style = "intermediate_result" in inspect.signature(callback).parameters
    except (TypeError, ValueError):
        new_style = False

    def observe(k, x, f, g, nfev):
        try:
            if new_style:
                callback(intermediate_result=OptimizeResult(x=x, **{value: f, gradient: g}, nit=k, nfev=nfev))
            else:
                callback(x)
        except StopIteration:
            return True
        return False

    return observe


def minimize(fun, x0, args=(), method: str = "lbfgs", jac=None, hess=None, hessp=None, tol: float | None = None,
             options: dict | None = None, callback: Callable | None = None, path: bool = False) -> OptimizeResult:
    """Minimise a scalar function of n variables (the interface of ``scipy.optimize.minimize``).

    Parameters
    ----------
    fun : callable or fastopt.landscape.TestFunction
        ``fun(x, *args) -> float`` (or ``-> (float, gradient)`` with ``jac=True``), x of shape (n,).
        A built-in landscape function (``fastopt.landscape.get("rosenbrock", dim=1000)``) or another
        native objective (a ``fastopt._core.curvature.Objective``) runs the whole method in C++ with
        its own gradient and Hessian.
    x0 : array_like, shape (n,)
        The start; finite.  Never modified.
    args : tuple
        Extra arguments for fun, jac, hess and hessp.
    method : str
        One of :func:`methods`: ``"lbfgs"``, ``"bfgs"``, ``"cg"``, ``"newton"``,
        ``"saddle-free-newton"`` (both need ``hess``), ``"newton-cg"``, ``"trust-ncg"`` (both need
        ``hessp`` or ``hess``); least squares have :func:`fastopt.least_squares`.
    jac : callable, True or None
        The gradient ``jac(x, *args) -> (n,)``; True when fun returns it; None for forward
        differences (n extra calls of fun per gradient).
    hess, hessp : callable, optional
        ``hess(x, *args) -> (n, n)``, ``hessp(x, p, *args) -> (n,)`` for the Newton methods.
    tol : float, optional
        Sets ``options["gtol"]``.
    options : dict, optional
        The method's options; ``METHOD_OPTIONS[method]`` lists them with their defaults.
    callback : callable, optional
        Called after every iteration as ``callback(xk)``, or ``callback(intermediate_result=res)``
        when its parameter has that name; raising StopIteration stops the run (status 6).
    path : bool
        Return the iterates too (``res.path``, ``res.path_fun``, ``res.path_nfev``, ``res.path_grad_norm``).

    Returns
    -------
    OptimizeResult
        x, fun, jac, nit, nfev, njev, nhev, status, success, message, method.
    """
    if method == "lm":
        return _levenberg_marquardt(fun, x0, (jac, hess, hessp), args, tol, options, callback, path)
    s = settings(method, options, tol)
    x = _as_x0(x0)
    counted = None
    if isinstance(fun, (BuiltinFunction, _NATIVE.Objective)):
        for name, given in (("jac", jac), ("hess", hess), ("hessp", hessp)):
            if given is not None:
                raise ValueError(f"{name}: a native objective brings its own derivatives; leave {name}=None")
        if args:
            raise ValueError("args: a native objective takes no extra arguments")
        objective = fun._fn if isinstance(fun, BuiltinFunction) else fun
    elif isinstance(fun, TestFunction):
        counted = _Counted(lambda x: fun.value(x), (), lambda x: fun.grad(x), lambda x: fun.hessian(x), None, x.size)
        objective = counted.native()
    elif callable(fun):
        if not (jac is None or jac is True or callable(jac)):
            raise TypeError(f"jac: expected a callable, True or None, got {type(jac).__name__}")
        for name, given in (("hess", hess), ("hessp", hessp)):
            if given is not None and not callable(given):
                raise TypeError(f"{name}: expected a callable or None, got {type(given).__name__}")
        counted = _Counted(fun, args, jac, hess, hessp, x.size)
        objective = counted.native()
    else:
        raise TypeError(f"fun: expected a callable or a fastopt.landscape function, got {type(fun).__name__}")
    raw = _NATIVE.minimize(objective, x, s, _observer(callback), path)
    res = OptimizeResult(raw)
    if counted is not None:
        res["nfev"] = counted.calls
    res["method"] = method
    return res


def _levenberg_marquardt(fun, x0, derivatives, args, tol, options, callback, path) -> OptimizeResult:
    """``minimize(method="lm")``: Levenberg-Marquardt on f = |r|^2 from the function's own residuals,
    through :func:`fastopt.least_squares`, reported as minimize reports (fun = f, jac = grad f = 2 J^T r)."""
    from .least_squares import least_squares  # least_squares imports this module

    if not (isinstance(fun, BuiltinFunction) and fun.has_residuals):
        raise ValueError("method: 'lm' minimises a sum of squares f = |r(x)|^2 from its residuals r; give a "
                         "built-in landscape function that has them (rosenbrock, beale, booth, himmelblau), or "
                         "call fastopt.least_squares(residual, x0) with the residual vector")
    if any(d is not None for d in derivatives) or args:
        raise ValueError("jac, hess, hessp, args: a native objective brings its own derivatives; leave them unset")
    accepted = ("xtol", "ftol", "gtol", "max_nfev", "damping", "adaptive")
    unknown = sorted(set(options or {}) - set(accepted))
    if unknown:
        raise ValueError(f"options: lm has no option {unknown[0]!r}; it takes {', '.join(accepted)}")
    kw = dict(options or {})
    if tol is not None:
        kw.setdefault("gtol", tol)
    res = least_squares(fun, x0, callback=callback, path=path, **kw)
    out = OptimizeResult(x=res.x, fun=2 * res.cost, jac=2 * res.grad, nit=res.nit, nfev=res.nfev, njev=res.njev,
                         nhev=0, status=res.status, success=res.success, message=res.message, method="lm")
    if path:
        out.update(path=res.path, path_fun=2 * res.path_fun, path_nfev=res.path_nfev)
    return out
