r"""Natural gradient descent with the exact Fisher of the batch, solved by conjugate gradient (Amari, 1998)."""
from __future__ import annotations

import numpy as np

from ..optim.registry import register
from .capture import FISHERS, LayerCapture
from .model_optimizer import ModelOptimizer, check_choice, check_int, check_real
from .network import fisher

__all__ = ["NaturalGradient", "conjugate_gradient"]


def conjugate_gradient(matvec, b: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, int, float]:
    r"""Solve :math:`C x = b` for a symmetric positive definite C given by ``matvec`` (Hestenes & Stiefel, 1952).

    Parameters
    ----------
    matvec : callable
        ``v -> C v`` on float64 vectors.
    b : numpy.ndarray
        The right-hand side (float64).
    tol : float
        Stop when :math:`\|b - C x\| \le \mathrm{tol}\,\|b\|`.
    max_iter : int
        At most this many products.

    Returns
    -------
    (numpy.ndarray, int, float)
        x, the products used, and the final relative residual.
    """
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rs = float(r @ r)
    norm_b = np.sqrt(rs)
    iterations = 0
    while iterations < max_iter and np.sqrt(rs) > tol * norm_b:
        cp = matvec(p)
        curvature = float(p @ cp)
        if curvature <= 0.0:  # rounding has made C look singular along p: stop with what we have
            break
        alpha = rs / curvature
        x += alpha * p
        r -= alpha * cp
        rs, previous = float(r @ r), rs
        p = r + (rs / previous) * p
        iterations += 1
    return x, iterations, float(np.sqrt(rs) / norm_b) if norm_b > 0 else 0.0


class NaturalGradient(ModelOptimizer):
    r"""Natural gradient descent (Amari, 1998, "Natural Gradient Works Efficiently in Learning") with the
    exact Fisher of each batch: for small models.

    .. math::
        (F + \lambda I)\, v = \nabla L, \qquad b \leftarrow \mu b + (v + w\theta), \qquad
        \theta \leftarrow \theta - \eta b

    :math:`F` is :func:`fastopt.curvature.fisher` of the batch the last ``forward_backward`` recorded
    (``fisher="true"``: the exact true Fisher, :math:`J^\top(\mathrm{diag}\,p - pp^\top)J`; ``empirical``:
    the mean outer product of the per-example gradients), applied by native Fisher-vector products,
    and the system is solved by conjugate gradient to a relative residual ``cg_tol`` (at most
    ``cg_max_iter`` products). The update runs fastopt's native SGD kernel. ``last_cg`` holds the last
    solve's (products, relative residual).

    Parameters
    ----------
    model : fastopt.nn.MLP
        The network; its ``flat_params`` are updated in place.
    lr : float
        Learning rate :math:`\eta`.
    damping : float
        Damping :math:`\lambda` > 0 (makes the system positive definite).
    cg_tol : float
        Relative residual at which CG stops, > 0.
    cg_max_iter : int
        Most Fisher-vector products per step.
    fisher : str
        ``true`` or ``empirical``.
    momentum : float
        SGD momentum :math:`\mu`, in [0, 1].
    weight_decay : float
        L2 penalty :math:`w` added to the natural gradient.
    """

    def __init__(self, model, lr=0.2, damping=0.3, cg_tol=1e-6, cg_max_iter=100, fisher="true", momentum=0.0,
                 weight_decay=0.0):
        super().__init__(model, dict(lr=lr, damping=damping, cg_tol=cg_tol, cg_max_iter=cg_max_iter, fisher=fisher,
                                     momentum=momentum, weight_decay=weight_decay))
        self.capture = LayerCapture(model, layers=False)
        self.last_cg = (0, 0.0)

    def _check(self, g: dict) -> None:
        check_real(g["damping"], "damping", 0.0, low_open=True)
        check_real(g["cg_tol"], "cg_tol", 0.0, low_open=True)
        check_int(g["cg_max_iter"], "cg_max_iter", 1)
        check_choice(g["fisher"], "fisher", FISHERS)

    def _needs_capture(self, t: int) -> bool:
        return True

    def _direction(self, grad: np.ndarray, t: int):
        group = self.param_groups[0]
        x, y = self.capture.x, self.capture.y
        operator = fisher(self.model, x, y, kind=group["fisher"], batch_size=len(x))
        damping, dtype = float(group["damping"]), self.model.dtype

        def damped(v):
            return operator.matvec(v.astype(dtype)).astype(np.float64) + damping * v

        v, iterations, residual = conjugate_gradient(damped, grad.astype(np.float64), float(group["cg_tol"]),
                                                     int(group["cg_max_iter"]))
        self.last_cg = (iterations, residual)
        self._direction_buffer[...] = v
        return self._direction_buffer


register("ngd", NaturalGradient, takes_model=True, mnist_lr=0.2, color="#3182bd")
