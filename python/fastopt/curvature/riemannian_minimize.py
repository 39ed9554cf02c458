"""``riemannian_minimize``: run a Riemannian optimizer from a start to a gradient tolerance, keeping the path."""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from ..optim.validation import check_hyper, check_value
from .riemannian import RiemannianAdam, RiemannianSGD, _check_manifold, evaluate
from .riemannian_cg import RiemannianCG


@dataclass
class RiemannianResult:
    """What :func:`riemannian_minimize` found and how.

    Parameters
    ----------
    x : numpy.ndarray
        The last point.
    fun : float
        ``f(x)``.
    nit : int
        Steps taken.
    nfev : int
        Calls of ``fun_and_egrad``.
    success : bool
        Whether the Riemannian gradient norm reached ``gtol``.
    message : str
        Why it stopped.
    funs : numpy.ndarray, shape (nit + 1,)
        ``f`` at the start and after every step.
    grad_norms : numpy.ndarray, shape (nit + 1,)
        The norm of the Riemannian gradient at the same points.
    path : numpy.ndarray, shape (nit + 1, *manifold.shape), or None
        The points (None with ``keep_path=False``).
    """

    x: np.ndarray
    fun: float
    nit: int
    nfev: int
    success: bool
    message: str
    funs: np.ndarray = field(repr=False)
    grad_norms: np.ndarray = field(repr=False)
    path: np.ndarray | None = field(default=None, repr=False)


METHODS = ("cg", "sgd", "adam")


def riemannian_minimize(fun_and_egrad, manifold, x0, method: str = "cg", maxiter: int = 1000, gtol: float = 1e-8,
                        callback=None, *, lr: float | None = None, retraction: str | None = None,
                        keep_path: bool = True, **options) -> RiemannianResult:
    """Minimise ``f`` over a manifold from ``x0`` with Riemannian CG, gradient descent or Adam.

    Parameters
    ----------
    fun_and_egrad : callable
        ``f, egrad = fun_and_egrad(x)``: the value and the Euclidean gradient (of any smooth extension
        of ``f`` to the ambient space) at a point ``x`` of the manifold.
    manifold : Manifold
        :class:`~fastopt.curvature.Sphere` or :class:`~fastopt.curvature.Stiefel`.
    x0 : array_like
        The start, a point of the manifold (not modified).
    method : {"cg", "sgd", "adam"}, default "cg"
        :class:`RiemannianCG`, :class:`RiemannianSGD` or :class:`RiemannianAdam`.
    maxiter : int, default 1000
        Most steps, >= 0.
    gtol : float, default 1e-8
        Stop once the Riemannian gradient norm is <= gtol.
    callback : callable, optional
        ``callback(k, x, f, grad_norm)`` after every step (``x`` is a copy); a true return value stops.
    lr : float, optional
        Learning rate of "sgd" (required) and "adam" (default 1e-3); not used by "cg".
    retraction : str, optional
        One of ``manifold.retractions``.
    keep_path : bool, default True
        Keep every point in ``result.path``.
    **options
        Further keywords of the optimizer (``momentum``, ``betas``, ``beta_rule``, ...).

    Returns
    -------
    RiemannianResult

    Raises
    ------
    TypeError, ValueError
        Naming the bad argument.
    """
    manifold = _check_manifold(manifold)
    if not callable(fun_and_egrad):
        raise TypeError(f"fun_and_egrad: expected a callable (x -> (f, egrad)), got {type(fun_and_egrad).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback: expected a callable or None, got {type(callback).__name__}")
    if not (isinstance(method, str) and method in METHODS):
        raise ValueError(f"method: expected one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if isinstance(maxiter, (bool, np.bool_)) or not isinstance(maxiter, numbers.Integral) or maxiter < 0:
        raise ValueError(f"maxiter: expected an integer >= 0, got {maxiter!r}")
    check_value("gtol", gtol, "real")
    check_hyper(gtol >= 0, "gtol", gtol, "must be >= 0")
    x = np.array(manifold.check_point(x0, "x0"), dtype=np.float64, copy=True)
    if method == "cg":
        if lr is not None:
            raise ValueError(f"lr: method 'cg' chooses its steps by line search; got lr={lr!r}")
        opt = RiemannianCG(manifold, x, retraction=retraction, **options)
    elif method == "sgd":
        if lr is None:
            raise ValueError("lr: method 'sgd' needs a learning rate")
        opt = RiemannianSGD(manifold, x, lr=lr, retraction=retraction, **options)
    else:
        opt = RiemannianAdam(manifold, x, lr=1e-3 if lr is None else lr, retraction=retraction, **options)

    nfev = 0

    def counted(y):
        nonlocal nfev
        nfev += 1
        return fun_and_egrad(y)

    f, egrad = evaluate(counted, manifold, x)
    grad = manifold.egrad_to_rgrad(x, egrad)
    gnorm = manifold.norm(x, grad)
    if method == "cg":  # CG starts from this evaluation rather than calling the function at x0 again
        opt.state = {"point": x.copy(), "fun": f, "grad": grad, "direction": -grad}
    funs, gnorms, path = [f], [gnorm], ([x.copy()] if keep_path else None)
    message = f"maxiter={maxiter} steps taken"
    for k in range(1, maxiter + 1):
        if gnorm <= gtol:
            break
        if method == "cg":
            f = opt.step(counted)
            if not opt.last_line_search["success"]:
                message = "line search found no decrease (f is at the level of rounding)"
                break
            gnorm = opt.grad_norm
        else:
            opt.step(egrad)
            f, egrad = evaluate(counted, manifold, x)
            gnorm = manifold.norm(x, manifold.egrad_to_rgrad(x, egrad))
        funs.append(f)
        gnorms.append(gnorm)
        if keep_path:
            path.append(x.copy())
        if callback is not None and callback(k, x.copy(), f, gnorm):
            message = "callback asked to stop"
            break
    success = gnorm <= gtol
    if success:
        message = f"gradient norm {gnorm:.3g} <= gtol={gtol:g}"
    return RiemannianResult(x=x, fun=f, nit=len(funs) - 1, nfev=nfev, success=success, message=message,
                            funs=np.array(funs), grad_norms=np.array(gnorms),
                            path=np.array(path) if keep_path else None)


__all__ = ["RiemannianResult", "riemannian_minimize", "METHODS"]
