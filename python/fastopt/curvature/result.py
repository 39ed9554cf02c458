"""The record a method run returns (the shape of ``scipy.optimize.OptimizeResult``)."""
from __future__ import annotations

import numpy as np


class OptimizeResult(dict):
    """A dict with attribute access, as scipy's: ``res.x`` is ``res["x"]``.

    Keys
    ----
    x : ndarray
        The solution (the last accepted iterate).
    fun : float
        f(x).
    jac : ndarray
        The gradient at x.
    nit : int
        Iterations made.
    nfev, njev, nhev : int
        Evaluations of f, of its gradient, and of its Hessian or Hessian-vector products.
    status : int
        0 converged (gradient below gtol), 1 iteration limit, 2 line search failed, 3 NaN/Inf met,
        4 converged (step or decrease below tolerance), 5 evaluation limit, 6 stopped by the callback.
    success : bool
        Whether status is 0 or 4.
    message : str
        The status in words.
    weak_steps : list of int
        The iterations (1-based) whose strong-Wolfe line search accepted a step that decreases f
        enough but misses the curvature condition (it ran out of trials, or met the precision of f);
        every other accepted step satisfies both conditions.  Empty for other line searches.
    method : str
        The method's name.
    path, path_fun, path_nfev, path_grad_norm : ndarray
        With ``path=True``: the iterates x_0, x_1, ... (the start and every accepted iterate: nit + 1
        rows, nit where the last iteration's line search failed), their values, the function
        evaluations spent when each was reached, and the gradient's norm |g|_2 there (NaN where the
        method tracks no gradient).
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as e:
            raise AttributeError(name) from e

    def __setattr__(self, name, value):
        self[name] = value

    def __repr__(self) -> str:
        width = max(map(len, self)) + 1
        lines = []
        for key, value in self.items():
            text = np.array2string(value, threshold=8, edgeitems=3) if isinstance(value, np.ndarray) else repr(value)
            lines.append(f"{key.rjust(width)}: {text}")
        return "\n".join(lines)

    def __dir__(self):
        return list(self.keys())
