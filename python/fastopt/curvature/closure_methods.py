"""The closure-style methods: ``LBFGS``, ``BFGS``, ``ConjugateGradient`` and ``Newton``, each a thin
:class:`~fastopt.curvature.closure.ClosureOptimizer` naming its native method, its own hyperparameters
and the layout of its native state (for ``load_state_dict``'s checks)."""
from __future__ import annotations

import math

import numpy as np

from ..optim.validation import check_hyper
from .closure import ClosureOptimizer, check_integer, is_integer

def _integer_in(scalars: dict, name: str, lo: int, hi: float = math.inf) -> list:
    v = scalars[name]
    return [] if v == int(v) and lo <= v <= hi else [f"scalar '{name}' must be an integer in [{lo}, {hi}], got {v!r}"]


def _common(lr, max_iter, max_eval, tolerance_grad, tolerance_change, line_search_fn) -> dict:
    if max_eval is None and is_integer(max_iter):
        max_eval = max_iter * 5 // 4  # torch's default
    return {"lr": lr, "max_iter": max_iter, "max_eval": max_eval, "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change, "line_search_fn": line_search_fn}


_PARAMETERS = """
    Parameters
    ----------
    params : list of numpy.ndarray
        float32 or float64 arrays of any shapes, updated in place (or a list holding one param-group dict).
    lr : float
        The first trial step of the line search, or the fixed step without one.
    max_iter : int
        Iterations per ``step``.
    max_eval : int, optional
        Closure calls per ``step``, counting the call that starts it; default ``max_iter * 5 // 4``.
    tolerance_grad : float
        Stop when ``max |g_i| <= tolerance_grad``.
    tolerance_change : float
        Stop when ``|t d|_inf <= tolerance_change`` or ``|f_k - f_k+1| < tolerance_change``; also the
        shortest bracket of the strong Wolfe line search.
    line_search_fn : None, "strong_wolfe" or "armijo"
        None takes the step ``lr`` as it is.
    grads : list of numpy.ndarray, optional
        Arrays shaped like the params that the closure fills when it returns only the loss."""


class LBFGS(ClosureOptimizer):
    __doc__ = r"""Limited-memory BFGS with ``torch.optim.LBFGS``'s arguments, defaults and iterates.

    With the last m pairs ``s_i = x_i+1 - x_i``, ``y_i = g_i+1 - g_i`` (kept when ``y.s > 1e-10``), the
    direction ``d = -H g`` comes from the two-loop recursion (Nocedal & Wright, Algorithm 7.4)::

        q = g;  a_i = rho_i s_i.q,  q -= a_i y_i        (newest to oldest, rho_i = 1 / y_i.s_i)
        r = gamma q,  gamma = y.s / y.y of the newest pair
        b_i = rho_i y_i.r,  r += (a_i - b_i) s_i         (oldest to newest);   d = -r

    then ``x <- x + t d`` with t from the line search (first trial ``min(1, 1/|g|_1) lr`` on the first
    iteration, ``lr`` after).  The recursion runs natively (fused axpy/dot passes, threaded for large n).

    Torch's semantics, mapped one to one: ``max_iter`` iterations per step; ``max_eval`` closure calls per
    step, counting the call that starts it (each line search may spend what is left of that budget,
    torch's ``max_ls = max_eval - current_evals``); stop when ``max |g_i| <= tolerance_grad``, or when
    ``|t d|_inf <= tolerance_change``, ``|f_k - f_k+1| < tolerance_change`` or ``g.d > -tolerance_change``;
    ``line_search_fn=None`` takes the fixed step ``lr`` (``min(1, 1/|g|_1) lr`` on the very first
    iteration).  Where the two differ:

    * When the direction is not a descent direction (``g.d >= 0``, possible after a curvature pair torch
      keeps but rounding spoils), fastopt forgets the curvature and tries steepest descent; torch stops.
    * Without a line search torch skips the closure call at the last iteration of a step (the next
      step's first call evaluates that point anyway); fastopt makes it, so a step calls the closure
      ``max_iter + 1`` times against torch's ``max_iter``.  The iterates are the same.
    * After a step the params hold the last accepted iterate: a trial point whose value or gradient is
      NaN/Inf is never kept (torch's fixed step keeps it).
    * fastopt's L-BFGS stores ``s = x_k+1 - x_k`` where torch stores ``t d``, and its dot products sum
      in another order: the two agree to rounding.  With the same f and g the iterates agree to 4e-11 or
      better over 40-60 iterations on the 2-D Rosenbrock function and 20-D convex problems
      (tests/test_closure_optimizers.py).  Where the iteration amplifies rounding the paths separate: on
      the chained 40-D Rosenbrock function they differ by 7e-12 after 40 iterations, 7e-8 after 60 and
      8e-2 after 100 (both reach the minimum), as two runs of torch with different BLAS would.
    """ + _PARAMETERS + """
    history_size : int
        m, the pairs kept (torch's default 100).
    """
    method = "lbfgs"
    structural = ("history_size",)

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None, grads=None):
        defaults = _common(lr, max_iter, max_eval, tolerance_grad, tolerance_change, line_search_fn)
        super().__init__(params, {**defaults, "history_size": history_size}, grads)

    def _check_group(self, group):
        super()._check_group(group)
        check_integer("history_size", group["history_size"], 1)

    def _settings(self, group):
        s = super()._settings(group)
        s.history_size = group["history_size"]
        return s

    def _state_sizes(self, n, group):
        # m + 1 slots: the m pairs kept, and the free one the next step writes its s and y into.
        slots = group["history_size"] + 1
        return {**super()._state_sizes(n, group), "s": slots * n, "y": slots * n, "rho": slots}

    def _check_state(self, arrays, scalars, n, group):
        m = group["history_size"]
        problems = super()._check_state(arrays, scalars, n, group) + _integer_in(scalars, "count", 0, m) + \
            _integer_in(scalars, "head", 0, m) + _integer_in(scalars, "since_reset", 0)
        if scalars["count"] > 0 and (scalars["n"] != n or arrays["s"].size != (m + 1) * n
                                     or arrays["rho"].size != m + 1):
            problems.append(f"{scalars['count']} pairs are stored, but 'n' or the sizes of 's', 'y', 'rho' do not fit")
        return problems


class BFGS(ClosureOptimizer):
    __doc__ = r"""BFGS with a dense inverse Hessian H (n x n float64: for small problems), stepped by closure.

    ``d = -H g``; after each step, with ``rho = 1 / y.s`` (skipped when ``y.s <= eps |y| |s|``)::

        H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T      (Nocedal & Wright 6.17)

    starting from ``H = I`` (as scipy's BFGS); one BLAS ``dsyr2`` per update.
    The same iteration as ``fastopt.minimize(method="bfgs")``; a strong Wolfe line search by default
    (the closure-style default of torch, None, suits L-BFGS only).
    """ + _PARAMETERS + "\n    "
    method = "bfgs"

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 line_search_fn="strong_wolfe", grads=None):
        super().__init__(params, _common(lr, max_iter, max_eval, tolerance_grad, tolerance_change, line_search_fn),
                         grads)

    def _state_sizes(self, n, group):
        return {**super()._state_sizes(n, group), "H": n * n, "Hg": n}

    def _check_state(self, arrays, scalars, n, group):
        problems = super()._check_state(arrays, scalars, n, group) + _integer_in(scalars, "updates", 0) + \
            _integer_in(scalars, "since_reset", 0) + _integer_in(scalars, "Hg_valid", 0, 1)
        if scalars["Hg_valid"] == 1 and (arrays["H"].size != n * n or arrays["Hg"].size != n):
            problems.append("'Hg_valid' is set, but 'H' or 'Hg' is empty")
        return problems


class ConjugateGradient(ClosureOptimizer):
    __doc__ = r"""Nonlinear conjugate gradient, stepped by closure.

    ``d_k+1 = -g_k+1 + beta d_k`` with, for ``y = g_k+1 - g_k``::

        FR   beta = g_k+1.g_k+1 / g_k.g_k                 (Fletcher-Reeves)
        PR+  beta = max(0, g_k+1.y / g_k.g_k)            (Polak-Ribiere, clipped)
        HS   beta = g_k+1.y / d_k.y                       (Hestenes-Stiefel)

    restarted with ``d = -g`` every ``restart_every`` iterations (0: n) and when successive gradients
    are far from orthogonal (``|g_k+1.g_k| >= 0.2 |g_k+1|^2``, Powell).  The first trial step is
    ``min(1, 2.02 (f_k-1 - f_k) / -g.d) lr``; the strong Wolfe search uses ``c2 = 0.1``, which keeps
    FR directions descent directions.  The same iteration as ``fastopt.minimize(method="cg")``.
    Armijo steps are far from minimising f along d, so CG loses what conjugacy gives it and crawls
    (2-D Rosenbrock: |x - x*| ~ 1e-4 after 1,500 iterations); use the strong Wolfe search.
    """ + _PARAMETERS + """
    variant : "PR+", "FR" or "HS"
        The formula for beta.
    restart_every : int
        Steepest-descent restart period in iterations (0: n, the number of elements).
    """
    method = "cg"
    structural = ("variant", "restart_every")

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 line_search_fn="strong_wolfe", variant="PR+", restart_every=0, grads=None):
        defaults = _common(lr, max_iter, max_eval, tolerance_grad, tolerance_change, line_search_fn)
        super().__init__(params, {**defaults, "variant": variant, "restart_every": restart_every}, grads)

    def _check_group(self, group):
        super()._check_group(group)
        variant = group["variant"]
        check_hyper(variant in ("PR+", "FR", "HS"), "variant", variant, "expected 'PR+', 'FR' or 'HS'")
        check_integer("restart_every", group["restart_every"], 0)

    def _settings(self, group):
        s = super()._settings(group)
        s.cg_variant, s.restart_every = group["variant"], group["restart_every"]
        return s

    def _check_state(self, arrays, scalars, n, group):
        return super()._check_state(arrays, scalars, n, group) + _integer_in(scalars, "since_reset", 0) + \
            _integer_in(scalars, "restart", 0, 1)


__all__ = ["LBFGS", "BFGS", "ConjugateGradient"]


class Newton(ClosureOptimizer):
    __doc__ = r"""Newton's method with a Hessian modification, stepped by closure (small problems: a dense
    n x n Hessian and its Cholesky factor each iteration).

    ``d = -(H + tau I)^-1 g`` with the smallest ``tau`` of the sequence 0 (or ``beta - min H_ii``),
    ``max(2 tau, beta)``, ... (``beta = 1e-3``) for which Cholesky succeeds (Nocedal & Wright,
    Algorithm 3.3); or, with ``saddle_free=True``, ``d = -V |Lambda|^-1 V^T g`` from the
    eigendecomposition ``H = V Lambda V^T`` with ``|lambda|`` floored at ``damping`` (Dauphin et al.
    2014), which moves away from saddle points instead of towards them.  Then ``x <- x + t d``, t from
    the line search starting at ``lr`` (1: the full Newton step).  The same iteration as
    ``fastopt.minimize(method="newton" | "saddle-free-newton")``.
    """ + _PARAMETERS + """
    hessian : callable
        ``hessian() -> (n, n)``: the Hessian of the loss at the current params (the closure's point) with
        respect to the flattened params, in the order and C layout of ``params`` (n = their total size).
    saddle_free : bool
        Use ``|H|`` instead of the shifted ``H``.
    damping : float
        The floor on ``|lambda|`` of the saddle-free step (> 0).
    """
    method = "newton"
    structural = ("saddle_free",)

    def __init__(self, params, hessian, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, line_search_fn="strong_wolfe", saddle_free=False, damping=1e-8, grads=None):
        if not callable(hessian):
            raise TypeError(f"hessian: expected a callable returning the (n, n) Hessian, got {type(hessian).__name__}")
        self._hessian_fn = hessian
        defaults = _common(lr, max_iter, max_eval, tolerance_grad, tolerance_change, line_search_fn)
        super().__init__(params, {**defaults, "saddle_free": saddle_free, "damping": damping}, grads)

    def _check_group(self, group):
        super()._check_group(group)
        if not isinstance(group["saddle_free"], bool):
            raise TypeError(f"saddle_free: expected a bool, got {type(group['saddle_free']).__name__}")
        d = group["damping"]
        check_hyper(isinstance(d, (int, float)) and not isinstance(d, bool) and math.isfinite(d) and d > 0,
                    "damping", d, "a finite number > 0")

    def _settings(self, group):
        s = super()._settings(group)
        s.method = "saddle-free-newton" if group["saddle_free"] else "newton"
        s.damping = float(group["damping"])
        return s

    def _hessian(self):
        n = self._offsets[-1]

        def hessian_at(x):
            self._scatter(x)
            h = np.asarray(self._hessian_fn(), dtype=np.float64)
            if h.shape != (n, n):
                raise ValueError(f"hessian: returned shape {h.shape}, expected ({n}, {n})")
            return h

        return hessian_at
