"""Adafactor: a second moment factored into row and column means for matrices, and a relative step size."""
from __future__ import annotations

import math
import numbers

from .. import _core
from .base import Optimizer
from .matrix_spec import MatrixSpec
from .registry import register
from .validation import check_hyper

__all__ = ["Adafactor"]


def _row_shape(p):
    return p.shape[:-1] + (1,) if p.ndim >= 2 else p.shape


def _col_shape(p):
    return p.shape[:-2] + (1, p.shape[-1]) if p.ndim >= 2 else (0,)


def _adafactor_step(params, grads, slots, names, group, step, grad_scale, grad_limit, check_only):
    eps1, eps2 = group["eps"]
    _core.matrix_optim.adafactor_step(
        params, grads, slots["row_var"], slots["col_var"], names, step, lr=group["lr"],
        beta2_decay=group["beta2_decay"], eps1=-1.0 if eps1 is None else eps1, eps2=eps2, d=group["d"],
        weight_decay=group["weight_decay"], maximize=bool(group["maximize"]), grad_scale=grad_scale,
        grad_limit=grad_limit, check_only=check_only)


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer & Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost"), torch
    2.13's ``torch.optim.Adafactor`` variant.

    The second moment of a matrix (the last two dimensions of a param of two or more; the others index a
    batch of matrices) is kept as its row means :math:`R` and column means :math:`C` only (n + m numbers for
    an n x m matrix); a vector keeps it whole.  At step :math:`t`, with :math:`G_t` the gradient (negated
    under ``maximize``):

    .. math::
        \hat\beta_{2,t} &= 1 - t^{\tau}, \qquad \rho_t = \min(\gamma, 1/\sqrt{t}), \qquad
        \alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\,\rho_t, \qquad
        \theta \leftarrow \theta(1 - \gamma\lambda) \\
        R_t &= \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_{\text{cols}}(G_t^2), \qquad
        C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\,\mathrm{mean}_{\text{rows}}(G_t^2), \qquad
        \hat V_t = \frac{R_t C_t}{\max(\mathrm{mean}(R_t), \epsilon_1)} \\
        \hat V_t &= \hat\beta_{2,t} \hat V_{t-1} + (1-\hat\beta_{2,t})\,G_t^2 \quad \text{(vectors)} \\
        U_t &= G_t / \sqrt{\max(\hat V_t, \epsilon_1^2)}, \qquad
        \theta_t = \theta - \alpha_t\,U_t / \max(1, \mathrm{RMS}(U_t)/d)

    As torch (and unlike the paper's constant 0.01), the relative step is capped by ``lr``.  Every reduction
    (the RMS of the param and of the update, the row and column means) is native, inside the one call per
    param group.  State: ``row_var`` (shape ``(..., n, 1)``; the whole second moment of a vector) and
    ``col_var`` (``(..., 1, m)``; empty for a vector), torch's names and shapes.

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`, the cap of the relative step (torch's 1e-2).
    beta2_decay : float
        The exponent :math:`\tau` of the second moment's decay :math:`1 - t^\tau` (-0.8; must be <= 0).
    eps : tuple
        :math:`(\epsilon_1, \epsilon_2)`: the floor of the second moment's root (None: the dtype's machine
        epsilon) and of the param's RMS in the step size (1e-3).
    d : float
        The update's RMS is clipped to d (1.0; must be >= 1).
    weight_decay : float
        Decoupled weight decay :math:`\lambda`.
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = MatrixSpec("adafactor", {"lr": "real", "beta2_decay": "real", "eps": "custom", "d": "real",
                                    "weight_decay": "real", "maximize": "flag"},
                      {"row_var": _row_shape, "col_var": _col_shape}, _adafactor_step)

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      maximize=maximize))

    def _check(self, group: dict) -> None:
        check_hyper(group["beta2_decay"] <= 0.0, "beta2_decay", group["beta2_decay"], "must be <= 0")
        check_hyper(group["d"] >= 1.0, "d (clipping threshold)", group["d"], "must be >= 1")
        eps = group["eps"]
        check_hyper(isinstance(eps, (tuple, list)) and len(eps) == 2, "eps", eps,
                    "expected a pair (eps1 or None, eps2)")
        for i, e in enumerate(eps):
            if e is None and i == 0:
                continue
            if isinstance(e, bool) or not isinstance(e, numbers.Real):
                raise TypeError(f"eps: expected real numbers (eps1 may be None), got {type(e).__name__} {e!r}")
            check_hyper(math.isfinite(e) and e >= 0.0, f"epsilon{i + 1}", e, "must be finite and >= 0")
        group["eps"] = tuple(eps)

    def kernel_calls(self):
        """None: an Adafactor step is one native call of its own (``fastopt._core.matrix_optim``), with
        per-tensor reductions, so loops outside Python run it through :meth:`step`."""
        return None


# Registry.  MNIST rate: torch's default (the cap of the relative step); see docs/sections/muon.md.
register("adafactor", Adafactor, mnist_lr=1e-2, color="#6baed6")
