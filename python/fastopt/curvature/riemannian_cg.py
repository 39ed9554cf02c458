"""Riemannian conjugate gradients with an Armijo backtracking line search on the retraction.

References
----------
P.-A. Absil, R. Mahony and R. Sepulchre, *Optimization Algorithms on Matrix Manifolds*, 2008 (Sec. 4.2:
Armijo's rule on a retraction; Sec. 8.3: Riemannian conjugate gradients).
N. Boumal, *An Introduction to Optimization on Smooth Manifolds*, 2023 (Sec. 4.3, 10.5).
J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., 2006 (Sec. 3.5: initial step, interpolation).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..optim.validation import check_hyper
from .riemannian import RiemannianOptimizer, _flag, _real, evaluate


class RiemannianCG(RiemannianOptimizer):
    """Riemannian nonlinear conjugate gradients with an Armijo backtracking line search on the retraction.

    From ``x_k`` with Riemannian gradient ``g_k`` and direction ``d_k`` (``d_0 = -g_0``):

    - line search: the first ``alpha`` of ``alpha_0, shrink alpha_0, shrink^2 alpha_0, ...`` with
      ``f(R_{x_k}(alpha d_k)) <= f(x_k) + c1 alpha <g_k, d_k>`` (Armijo; Absil et al. 2008, Def. 4.2.2);
      ``alpha_0 = initial_step / |d_0|`` at first, then ``4 (f_k - f_{k-1}) / <g_k, d_k>`` (twice the
      minimiser of the quadratic through the last decrease; Nocedal & Wright 2006, eq. (3.60));
    - ``x_{k+1} = R_{x_k}(alpha d_k)``;
    - ``beta_{k+1}``: Fletcher-Reeves ``<g_{k+1}, g_{k+1}> / <g_k, g_k>``, or Polak-Ribiere+
      ``max(0, <g_{k+1}, g_{k+1} - T(g_k)> / <g_k, g_k>)``, with ``T`` the transport to ``x_{k+1}``
      (projection) (Absil et al. 2008, Sec. 8.3; Boumal 2023, Sec. 10.5);
    - ``d_{k+1} = -g_{k+1} + beta_{k+1} T(d_k)``, reset to ``-g_{k+1}`` if that is not a descent direction.

    ``step(fun_and_egrad)`` evaluates the function at trial points, so it takes the function itself
    rather than a gradient.  If no step length in ``max_backtracks`` halvings decreases ``f`` (at the
    level of rounding, near a minimum), the point stays, the direction resets to ``-g`` and
    ``last_line_search["success"]`` is False.

    Parameters
    ----------
    manifold : Manifold
        :class:`~fastopt.curvature.Sphere` or :class:`~fastopt.curvature.Stiefel`.
    x : numpy.ndarray
        A float64 point of the manifold, updated in place.
    beta_rule : {"pr+", "fr"}, default "pr+"
        Polak-Ribiere+ or Fletcher-Reeves.
    c1 : float, default 1e-4
        Armijo's sufficient-decrease constant, in (0, 1).
    shrink : float, default 0.5
        Backtracking factor, in (0, 1).
    initial_step : float, default 1.0
        Length of the first trial step, > 0.
    max_backtracks : int, default 60
        Most step-length reductions per step, >= 1.
    retraction : str, optional
        One of ``manifold.retractions`` (default: the first).

    Attributes
    ----------
    last_line_search : dict
        ``{"alpha", "evaluations", "success"}`` of the last step.
    evaluations : int
        Calls of the function so far.
    """

    _state_kinds = {"point": "point", "fun": "scalar", "grad": "point", "direction": "point",
                    "previous_fun": "scalar"}
    BETA_RULES = ("pr+", "fr")

    def __init__(self, manifold, x, beta_rule: str = "pr+", c1: float = 1e-4, shrink: float = 0.5,
                 initial_step: float = 1.0, max_backtracks: int = 60, refine: bool = True,
                 retraction: str | None = None):
        super().__init__(manifold, x, retraction, {"beta_rule": beta_rule, "c1": c1, "shrink": shrink,
                                                   "initial_step": initial_step, "max_backtracks": max_backtracks,
                                                   "refine": refine})
        self.last_line_search: dict = {}
        self.evaluations = 0

    def _check_hyperparameters(self, hyper):
        rule = hyper["beta_rule"]
        if not (isinstance(rule, str) and rule in self.BETA_RULES):
            raise ValueError(f"Invalid beta_rule: {rule!r} (expected one of {', '.join(map(repr, self.BETA_RULES))})")
        _real(hyper, "c1", "must be in (0, 1)", lambda v: 0 < v < 1)
        _real(hyper, "shrink", "must be in (0, 1)", lambda v: 0 < v < 1)
        _real(hyper, "initial_step", "must be > 0", lambda v: v > 0)
        n = hyper["max_backtracks"]
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
            raise TypeError(f"max_backtracks: expected an integer, got {type(n).__name__} {n!r}")
        check_hyper(n >= 1, "max_backtracks", n, "must be >= 1")
        _flag(hyper, "refine")

    def _check_state(self, state):
        if state and not {"point", "fun", "grad", "direction"} <= set(state):
            raise ValueError(f"state_dict: an incomplete RiemannianCG state {sorted(state)}")

    @property
    def grad_norm(self) -> float:
        """The norm of the Riemannian gradient at the current point (NaN before the first step)."""
        return self.manifold.norm(self.x, self.state["grad"]) if "grad" in self.state else math.nan

    def step(self, fun_and_egrad) -> float:
        """One conjugate-gradient step with its line search.

        Parameters
        ----------
        fun_and_egrad : callable
            ``f, egrad = fun_and_egrad(y)`` at any point ``y`` of the manifold (it gets a copy).

        Returns
        -------
        float
            ``f`` at the new point (at the old one if the line search failed).

        Raises
        ------
        TypeError, ValueError
            Naming ``fun_and_egrad``, ``egrad``, ``x`` or a hyperparameter; nothing is modified then.
        """
        if not callable(fun_and_egrad):
            raise TypeError(f"fun_and_egrad: expected a callable (y -> (f, egrad)), got {type(fun_and_egrad).__name__}")
        x = self._begin_step()
        hyper, m = self.hyperparameters, self.manifold
        calls = 0

        def call(y):
            nonlocal calls
            calls += 1
            return evaluate(fun_and_egrad, m, y)

        old = self.state
        if old and np.array_equal(old["point"], x):
            f, g, d = old["fun"], old["grad"], old["direction"]
            previous_fun = old.get("previous_fun")
        else:  # first step, or x was changed by the caller: start afresh at x
            f, egrad = call(x)
            g = m.egrad_to_rgrad(x, egrad)
            d, previous_fun = -g, None
        gg = m.inner(x, g, g)
        slope = m.inner(x, g, d)
        if not slope < 0:
            d, slope = -g, -gg
        if gg == 0.0:  # a critical point: nothing to do
            self.evaluations += calls
            self.last_line_search = {"alpha": 0.0, "evaluations": calls, "success": True}
            self._commit(x, {"point": x, "fun": f, "grad": g, "direction": d})
            return f

        alpha = math.nan
        if previous_fun is not None:
            alpha = 2.0 * (f - previous_fun) / slope
        if not (math.isfinite(alpha) and alpha > 0):
            alpha = float(hyper["initial_step"]) / m.norm(x, d)
        c1, shrink = float(hyper["c1"]), float(hyper["shrink"])
        accepted = None
        for _ in range(int(hyper["max_backtracks"]) + 1):
            y = m.retract(x, alpha * d, self.retraction)
            fy, egrad_y = call(y)
            # The parabola q(a) = f + slope a + c a^2 through fy at alpha: c alpha^2 = excess; its minimiser, if c > 0.
            excess = fy - f - slope * alpha
            best = -slope * alpha * alpha / (2.0 * excess) if excess > 0 else math.nan
            if fy < f and fy <= f + c1 * alpha * slope:  # fy < f: c1 alpha slope may be below f's rounding
                accepted = y
                break
            alpha = min(max(best, 0.1 * alpha), shrink * alpha) if math.isfinite(best) else shrink * alpha
        if accepted is not None and hyper["refine"] and math.isfinite(best) and abs(best - alpha) > 0.05 * alpha:
            # Try the parabola's minimiser too: CG's directions stay conjugate only under near-exact line searches.
            y2 = m.retract(x, best * d, self.retraction)
            f2, egrad_2 = call(y2)
            if f2 < fy and f2 <= f + c1 * best * slope:
                accepted, fy, egrad_y, alpha = y2, f2, egrad_2, best
        self.evaluations += calls
        if accepted is None:
            self.last_line_search = {"alpha": 0.0, "evaluations": calls, "success": False}
            self._commit(x, {"point": x, "fun": f, "grad": g, "direction": -g})
            return f

        y = accepted
        g_new = m.egrad_to_rgrad(y, egrad_y)
        g_new_sq = m.inner(y, g_new, g_new)
        if hyper["beta_rule"] == "fr":
            beta = g_new_sq / gg
        else:
            beta = max(0.0, (g_new_sq - m.inner(y, g_new, m.transport(x, y, g))) / gg)
        d_new = -g_new + beta * m.transport(x, y, d)
        if not m.inner(y, g_new, d_new) < 0:
            d_new = -g_new
        self.last_line_search = {"alpha": alpha, "evaluations": calls, "success": True}
        self._commit(y, {"point": y, "fun": fy, "grad": g_new, "direction": d_new, "previous_fun": f})
        return fy


__all__ = ["RiemannianCG"]
