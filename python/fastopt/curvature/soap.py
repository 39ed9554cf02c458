r"""SOAP: Adam in the eigenbasis of Shampoo's preconditioner (Vyas et al., 2024).

The matrix work is native (``fastopt._core.shampoo``: statistics, eigenbases, the projections), as
Shampoo's (:mod:`fastopt.curvature.shampoo`); the Adam moments are elementwise NumPy on the blocks.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _core
from ..optim.registry import register
from .capture import LayerCapture
from .matrix_blocks import LayerBlocks
from .model_optimizer import ModelOptimizer, check_choice, check_int, check_real
from .shampoo import check_betas

__all__ = ["SOAP"]

EIGENBASIS_METHODS = ("qr", "eigen")


class SOAP(ModelOptimizer):
    r"""SOAP (Vyas, Morwani, Zhao, Kwun, Shapira, Brandfonbrener, Janson & Kakade, 2024, "SOAP: Improving
    and Stabilizing Shampoo using Adam"), following the authors' reference implementation (``soap.py``).

    Each dense layer's gradient :math:`G = [\nabla W, \nabla b]` (the bias as the appended column; blocks
    of sides at most ``max_precond_dim``, :mod:`fastopt.curvature.matrix_blocks`) keeps Shampoo's
    statistics as running averages (:math:`\beta_s` = ``shampoo_beta``, or :math:`\beta_2` when -1)

    .. math::
        L \leftarrow \beta_s L + (1-\beta_s) G G^\top, \qquad R \leftarrow \beta_s R + (1-\beta_s) G^\top G

    and their eigenbases :math:`Q_L, Q_R` (columns by decreasing eigenvalue). The first step only sets
    the statistics and their eigenbases (no update: a gradient never rotates itself, as in the reference).
    Then, with :math:`k` = the steps since, Adam runs in the rotated coordinates
    :math:`G' = Q_L^\top G Q_R`, its first moment kept in that basis:

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) G', \quad v \leftarrow \beta_2 v + (1-\beta_2) G'^2, \quad
        D = \frac{\sqrt{1-\beta_2^k}}{1-\beta_1^k}\; Q_L \frac{m}{\sqrt v + \epsilon} Q_R^\top

    (the bias correction only with ``correct_bias``), and :math:`\theta \leftarrow \theta - \eta (D + w
    \theta)` (decoupled weight decay :math:`w`, on the parameters before the step as ``torch.optim.AdamW``
    applies it; the reference applies it after). After the step the statistics take in :math:`G`, and
    every ``precondition_frequency`` steps (:math:`k` a multiple of it) the bases are refreshed:
    ``eigenbasis_method="qr"`` is the reference's one power iteration, columns ordered by the estimates
    :math:`\mathrm{diag}(Q^\top L Q)` (decreasing; :math:`v`'s rows and columns permuted alike) then
    :math:`Q \leftarrow \mathrm{qr}(L Q)`; ``"eigen"`` a full eigen-decomposition (LAPACK syevd). The
    first moment is carried over to the new basis (:math:`m \leftarrow Q_L'^\top Q_L m Q_R^\top Q_R'`).

    A step whose gradient holds a NaN or an infinity is skipped, nothing changed
    (:mod:`fastopt.curvature.model_optimizer`); a refresh that fails (statistics not finite after an overflow, LAPACK
    not converging) keeps the previous bases, with a ``RuntimeWarning``.

    Parameters
    ----------
    model : fastopt.nn.MLP
        The network (float32 or float64); its ``flat_params`` are updated in place.
    lr : float
        Learning rate :math:`\eta`.
    betas : tuple of float
        :math:`(\beta_1, \beta_2)` of Adam's moments in the eigenbasis, each in [0, 1).
    shampoo_beta : float
        Running-average weight of the statistics, in [0, 1); -1 takes betas[1].
    eps : float
        Added to the square root of Adam's second moment in the eigenbasis, > 0.
    weight_decay : float
        Decoupled weight decay :math:`w`.
    precondition_frequency : int
        Steps between two refreshes of the eigenbases.
    max_precond_dim : int
        The longest side of a block: longer sides are split into blocks of this size.
    correct_bias : bool
        Adam's bias correction.
    eigenbasis_method : str
        How the bases are refreshed: ``qr`` (power iteration and QR, the reference's) or ``eigen``.
    """

    def __init__(self, model, lr=3e-3, betas=(0.95, 0.95), shampoo_beta=-1.0, eps=1e-8, weight_decay=0.01,
                 precondition_frequency=10, max_precond_dim=10000, correct_bias=True, eigenbasis_method="qr"):
        super().__init__(model, dict(
            lr=lr, momentum=0.0, betas=tuple(betas) if isinstance(betas, list) else betas, shampoo_beta=shampoo_beta,
            eps=eps, weight_decay=weight_decay, precondition_frequency=precondition_frequency,
            max_precond_dim=max_precond_dim, correct_bias=correct_bias, eigenbasis_method=eigenbasis_method))
        self.capture = LayerCapture(model, layers=False)  # SOAP needs only the gradient
        self._blocks = LayerBlocks(self._layers, max_precond_dim)
        self.state = self._allocate(self.param_groups[0])

    # ------------------------------------------------------------------ settings
    def _check(self, g: dict) -> None:
        check_betas(g["betas"], "betas", high_inclusive=False)
        if g["shampoo_beta"] != -1:
            check_real(g["shampoo_beta"], "shampoo_beta", 0.0, 1.0, high_open=True)
        check_real(g["eps"], "eps", 0.0, low_open=True)
        check_int(g["precondition_frequency"], "precondition_frequency", 1)
        check_int(g["max_precond_dim"], "max_precond_dim", 1)
        check_choice(g["correct_bias"], "correct_bias", (False, True))
        check_choice(g["eigenbasis_method"], "eigenbasis_method", EIGENBASIS_METHODS)
        check_real(g["momentum"], "momentum", 0.0, 0.0)  # SOAP has none: Adam's beta1 is its momentum
        if hasattr(self, "_blocks") and g["max_precond_dim"] != self.param_groups[0]["max_precond_dim"]:
            raise ValueError("max_precond_dim: fixed when the optimizer is built (it sets the blocks)")

    def _allocate(self, group: dict) -> dict:
        """The state arrays, one per block: statistics and bases (zero until the first step), moments."""
        dtype, shapes = self.model.dtype, LayerBlocks(self._layers, group["max_precond_dim"]).shapes
        return {"L": [np.zeros((m, m), dtype) for m, _ in shapes], "R": [np.zeros((n, n), dtype) for _, n in shapes],
                "QL": [np.zeros((m, m), dtype) for m, _ in shapes], "QR": [np.zeros((n, n), dtype) for _, n in shapes],
                "exp_avg": [np.zeros(s, dtype) for s in shapes], "exp_avg_sq": [np.zeros(s, dtype) for s in shapes]}

    def _shampoo_beta(self) -> float:
        group = self.param_groups[0]
        return float(group["betas"][1] if group["shampoo_beta"] == -1 else group["shampoo_beta"])

    # ------------------------------------------------------------------ the step
    def _needs_capture(self, t: int) -> bool:
        return False

    def _direction(self, grad: np.ndarray, t: int):
        grads = self._blocks.gather(grad)
        if t == 1:  # the reference's first step: statistics and bases only, no update
            self.accumulate(grads)
            self.refresh_bases(t, "eigen")
            self.step_count = t  # counted, though the base applies no update for a None direction
            return None
        group = self.param_groups[0]
        k = t - 1
        direction = self.adam_in_eigenbasis(grads, k)
        self.accumulate(grads)
        if k % group["precondition_frequency"] == 0:
            self.rotate_moment(to_basis=False)
            self.refresh_bases(t, group["eigenbasis_method"])
            self.rotate_moment(to_basis=True)
        return self._blocks.scatter(direction, self._direction_buffer)

    def accumulate(self, grads: list) -> None:
        """L, R <- their running averages with G G^T, G^T G (native SYRK)."""
        beta = self._shampoo_beta()
        _core.shampoo.update_statistics(grads, self.state["L"], self.state["R"], 1.0 - beta, beta)

    def project(self, blocks: list, back: bool = False) -> list:
        """Q_L^T X Q_R for every block X, or Q_L X Q_R^T with ``back`` (native, two GEMMs a block)."""
        out = [np.empty_like(b) for b in blocks]
        _core.shampoo.sandwich(self.state["QL"], blocks, self.state["QR"], out, not back, back)
        return out

    def adam_in_eigenbasis(self, grads: list, k: int) -> list:
        """Adam's moments on the rotated gradients, and the direction rotated back (new arrays)."""
        group = self.param_groups[0]
        beta1, beta2 = (float(b) for b in group["betas"])
        rotated = self.project(grads)
        steps = []
        for m, v, g in zip(self.state["exp_avg"], self.state["exp_avg_sq"], rotated):
            m *= m.dtype.type(beta1)
            m += m.dtype.type(1.0 - beta1) * g
            v *= v.dtype.type(beta2)
            v += v.dtype.type(1.0 - beta2) * (g * g)
            steps.append(m / (np.sqrt(v) + v.dtype.type(group["eps"])))
        direction = self.project(steps, back=True)
        if group["correct_bias"]:
            scale = math.sqrt(1.0 - beta2 ** k) / (1.0 - beta1 ** k)
            for d in direction:
                d *= d.dtype.type(scale)
        return direction

    def rotate_moment(self, to_basis: bool) -> None:
        """Carry the first moment out of the current bases, or into them."""
        self.state["exp_avg"] = self.project(self.state["exp_avg"], back=not to_basis)

    def refresh_bases(self, t: int, method: str) -> None:
        """New eigenbases of L and R (native); a failed one keeps the previous basis, with a RuntimeWarning."""
        count = len(self.state["L"])
        stats = self.state["L"] + self.state["R"]
        bases = [q.copy() for q in self.state["QL"] + self.state["QR"]]
        if not all(np.isfinite(s).all() for s in stats):
            failed = 0
        elif method == "eigen":
            failed = _core.shampoo.eigenbasis(stats, bases)
        else:
            orders = [np.empty(len(q), np.int64) for q in bases]
            failed = _core.shampoo.power_qr_basis(stats, bases, orders)
            if failed < 0 and all(np.isfinite(q).all() for q in bases):
                self.state["exp_avg_sq"] = [v[orders[i]][:, orders[count + i]]
                                            for i, v in enumerate(self.state["exp_avg_sq"])]
        if failed >= 0 or not all(np.isfinite(q).all() for q in bases):
            warnings.warn(f"SOAP: step {t}: the eigenbasis refresh failed (statistics not finite?); the previous "
                          "bases are kept", RuntimeWarning, stacklevel=4)
            return
        self.state["QL"], self.state["QR"] = bases[:count], bases[count:]

    # ------------------------------------------------------------------ checkpoints
    def _arrays(self) -> dict:
        return self.state

    def _arrays_for(self, group: dict) -> dict:
        return self._allocate(group)

    def _restore(self, group: dict, arrays: dict, counters: dict) -> None:
        super()._restore(group, arrays, counters)
        self.state = arrays


register("soap", SOAP, takes_model=True, mnist_lr=3e-3, color="#9c9ede")
