"""``fastopt.least_squares``: Levenberg-Marquardt, shaped like ``scipy.optimize.least_squares(method="lm")``.

The iteration is C++ (``src/cpp/curvature/levenberg_marquardt.hpp``; J^T J, J^T r and the Cholesky
solves through the linked BLAS/LAPACK) with the GIL released.  A Python residual function is called
back; a built-in landscape function that is a sum of squares (rosenbrock, beale, booth, himmelblau)
runs entirely in C++ with its analytic Jacobian.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable

from .. import _core
from ..landscape.functions import BuiltinFunction
from .minimize import _as_x0, _observer
from .result import OptimizeResult


def least_squares(fun, x0, jac=None, method: str = "lm", args=(), xtol: float = 1e-8, ftol: float = 1e-8,
                  gtol: float = 1e-8, max_nfev: int | None = None, damping: float = 1e-3, adaptive: bool = True,
                  callback: Callable | None = None, path: bool = False) -> OptimizeResult:
    """Minimise F(x) = |r(x)|^2 / 2 by Levenberg-Marquardt (Madsen, Nielsen & Tingleff 2004,
    "Methods for non-linear least squares problems", Algorithm 3.16).

    With J the Jacobian of r at x, A = J^T J and g = J^T r (the gradient of F), each iteration solves

        (A + mu I) h = -g                          (Cholesky)

    and weighs the step by the gain ratio rho = (F(x) - F(x + h)) / (L(0) - L(h)), where
    L(0) - L(h) = h.(mu h - g) / 2 is the decrease the linear model of r predicts.  rho > 0 takes the
    step and sets mu <- mu max(1/3, 1 - (2 rho - 1)^3), nu <- 2; otherwise x stays and
    mu <- mu nu, nu <- 2 nu.  The start is mu_0 = damping max_i A_ii.  Small mu is the Gauss-Newton
    step -(J^T J)^-1 J^T r, large mu a short steepest-descent step.

    Parameters
    ----------
    fun : callable or fastopt.landscape.TestFunction
        The residuals ``fun(x, *args) -> (m,)``.  A built-in landscape function that is a sum of
        squares, f = |r|^2 (``fastopt.landscape.get("rosenbrock")``: r = (10 (x2 - x1^2), 1 - x1),
        chained in n-D), runs natively with its analytic Jacobian; its cost is f / 2.
    x0 : array_like, shape (n,)
        The start; finite.  Never modified.
    jac : callable or None
        ``jac(x, *args) -> (m, n)``; None (or ``"2-point"``) for forward differences
        h_j = sqrt(eps) max(1, |x_j|), n extra residual evaluations per Jacobian, counted in nfev.
    method : str
        ``"lm"``, the only one.
    args : tuple
        Extra arguments for fun and jac.
    xtol : float
        Stop when |h|_2 <= xtol (|x|_2 + xtol).
    ftol : float
        Stop when an accepted step decreases F by at most ftol F.
    gtol : float
        Stop when |g|_inf <= gtol (scipy's gtol is a scaled cosine instead; near a solution both are small).
    max_nfev : int, optional
        Residual evaluations allowed; None for scipy's default, 100 n with a Jacobian and
        100 n (n + 1) with forward differences.
    damping : float
        tau in mu_0 = tau max_i (J^T J)_ii; > 0 (1e-3, MNT's choice for a start far from the solution).
    adaptive : bool
        True: the gain-ratio update above.  False: mu stays mu_0 and every step is taken (damped
        Gauss-Newton; with damping=0, the Gauss-Newton step).
    callback : callable, optional
        ``callback(xk)`` after every iteration, or ``callback(intermediate_result=res)`` with x, cost,
        grad, nit, nfev; raising StopIteration stops the run (status 6).
    path : bool
        Return the iterates too (``res.path``, ``res.path_fun`` (costs), ``res.path_nfev``); a
        rejected step repeats the point.

    Returns
    -------
    OptimizeResult
        x; cost = |r(x)|^2 / 2; fun, the residual vector r(x) (as scipy); jac, the Jacobian (m, n);
        grad = J^T r; optimality = |grad|_inf; nit, nfev, njev; status, success, message (the
        statuses of :class:`OptimizeResult`: 0 gtol, 4 xtol or ftol, 5 max_nfev, 3 NaN/Inf, 2 a
        singular J^T J + mu I); method.

    Raises
    ------
    ValueError
        An unknown method, a bad tolerance, damping or max_nfev, a non-finite or badly shaped x0, a
        landscape function that is not a sum of squares, or fun/jac returning the wrong shape.
    TypeError
        fun or jac of the wrong kind.
    """
    if method != "lm":
        raise ValueError(f"method: least_squares has only 'lm', got {method!r}")
    x = _as_x0(x0)
    if isinstance(jac, str) and jac == "2-point":
        jac = None
    if isinstance(fun, BuiltinFunction):
        if jac is not None:
            raise ValueError("jac: a built-in landscape function brings its own Jacobian; leave jac=None")
        if args:
            raise ValueError("args: a built-in landscape function takes no extra arguments")
        residuals, finite_differences = fun._fn, False
    elif callable(fun):
        if not (jac is None or callable(jac)):
            raise TypeError(f"jac: expected a callable, '2-point' or None, got {type(jac).__name__}")
        args = tuple(args)
        residual = (lambda z: fun(z, *args)) if args else fun
        jacobian = (lambda z: jac(z, *args)) if args and jac is not None else jac
        residuals, finite_differences = (residual, jacobian), jac is None
    else:
        raise TypeError(f"fun: expected a callable or a fastopt.landscape function, got {type(fun).__name__}")
    if max_nfev is None:
        max_nfev = 100 * x.size * (x.size + 1) if finite_differences else 100 * x.size
    if isinstance(max_nfev, bool) or not isinstance(max_nfev, numbers.Integral) or max_nfev < 1:
        raise ValueError(f"max_nfev: expected an integer >= 1 or None, got {max_nfev!r}")
    if not isinstance(adaptive, bool):
        raise TypeError(f"adaptive: expected a bool, got {type(adaptive).__name__}")
    s = _core.curvature.LeastSquaresSettings()
    for name, value in (("xtol", xtol), ("ftol", ftol), ("gtol", gtol), ("damping", damping)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name}: expected a number, got {type(value).__name__} {value!r}")
        setattr(s, name, float(value))
    s.max_nfev, s.adaptive = int(max_nfev), adaptive
    raw = _core.curvature.least_squares(residuals, x, s, _observer(callback, "cost", "grad"), path)
    res = OptimizeResult(raw)
    res["optimality"] = float(abs(res.grad).max())
    res["method"] = method
    return res
