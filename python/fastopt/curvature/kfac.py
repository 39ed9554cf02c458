r"""K-FAC: Kronecker-factored approximate curvature (Martens & Grosse, 2015), as kfac-pytorch practises it.

The heavy work is native (``src/cpp/curvature/kfac_*.hpp``, bound in ``fastopt._core.kfac``); this module
holds the state (NumPy arrays, so the state_dict is just them) and the schedule of the work.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _core
from ..optim.registry import register
from .capture import FISHERS, LayerCapture
from .model_optimizer import ModelOptimizer, check_choice, check_int, check_real

__all__ = ["KFAC"]

COMPUTE_METHODS = ("eigen", "inverse")


class KFAC(ModelOptimizer):
    r"""K-FAC (Martens & Grosse, 2015, "Optimizing Neural Networks with Kronecker-factored Approximate
    Curvature"), preconditioning SGD with momentum as kfac-pytorch does (Pauloski et al., 2020).

    Each dense layer's Fisher block is approximated by :math:`A \otimes G` with running averages of its
    homogeneous inputs :math:`a` (bias column included) and per-example output gradients :math:`g`
    (:class:`~fastopt.curvature.LayerCapture`), every ``factor_update_steps`` steps:

    .. math::
        A \leftarrow \xi A + (1-\xi)\,\tfrac1B \textstyle\sum_i a_i a_i^\top, \qquad
        G \leftarrow \xi G + (1-\xi)\,\tfrac1B \textstyle\sum_i g_i g_i^\top

    (:math:`\xi` = ``factor_decay``; the first update takes the batch's). Every ``inv_update_steps``
    steps the factors are decomposed, then each layer's gradient :math:`M = [\nabla W, \nabla b]`
    (out x (in + 1)) is preconditioned:

    .. math::
        \text{eigen:}\quad & V = Q_G\big[(Q_G^\top M Q_A) \oslash (d_G d_A^\top + \lambda)\big]Q_A^\top
            = \mathrm{mat}\big((A \otimes G + \lambda I)^{-1}\mathrm{vec}\,M\big),\\
        \text{inverse:}\quad & V = (G + \sqrt\lambda I)^{-1} M (A + \sqrt\lambda I)^{-1}

    with :math:`A = Q_A \mathrm{diag}(d_A) Q_A^\top` (LAPACK syevd, eigenvalues clamped at 0) and
    :math:`\lambda` = ``damping``. ``factored_damping`` uses the paper's factored Tikhonov damping instead,
    :math:`(A + \pi\sqrt\lambda I) \otimes (G + \sqrt\lambda/\pi\, I)` with
    :math:`\pi = \sqrt{(\mathrm{tr}A / \dim A) / (\mathrm{tr}G / \dim G)}` (both methods). Then KL clipping
    and SGD with momentum :math:`\mu` and weight decay :math:`w` (fastopt's native SGD kernel):

    .. math::
        \nu = \min\Big(1, \sqrt{\kappa / |\eta^2 \textstyle\sum_l \langle V_l, M_l\rangle|}\Big), \qquad
        b \leftarrow \mu b + (\nu V + w\theta), \qquad \theta \leftarrow \theta - \eta b

    Train it through :func:`fastopt.train.fit` (which asks :meth:`next_capture` before every step) or::

        opt = fastopt.KFAC(model, lr=0.1)
        loss = model.forward_backward(x, y, capture=opt.next_capture())
        opt.step(model.grads)

    A step whose gradient or captured statistics hold a NaN or an infinity is skipped, nothing changed
    (:mod:`fastopt.curvature.model_optimizer`).

    Parameters
    ----------
    model : fastopt.nn.MLP
        The network (float32 or float64); its ``flat_params`` are updated in place.
    lr : float
        Learning rate :math:`\eta` of the SGD under the preconditioner.
    momentum : float
        SGD momentum :math:`\mu`, in [0, 1].
    weight_decay : float
        L2 penalty :math:`w` added to the preconditioned gradient (kfac-pytorch's order).
    damping : float
        Tikhonov damping :math:`\lambda` > 0.
    factor_decay : float
        Running-average weight :math:`\xi` of the Kronecker factors, in [0, 1).
    factor_update_steps : int
        Steps between two factor updates (each needs the layer statistics of its batch).
    inv_update_steps : int
        Steps between two eigen-decompositions (or inversions) of the factors.
    compute_method : str
        ``eigen`` (eigen-decompositions, exact Kronecker damping) or ``inverse`` (damped inverses).
    kl_clip : float
        KL-clipping bound :math:`\kappa`; 0 turns the clipping off.
    fisher : str
        ``empirical`` (the data's labels) or ``true`` (labels drawn from the model's softmax, one
        extra backward pass per factor update).
    factored_damping : bool
        The paper's factored Tikhonov damping (with pi, see above) instead of kfac-pytorch's.
    seed : int
        Seeds the drawn labels of ``fisher=true``.
    """

    def __init__(self, model, lr=0.1, momentum=0.9, weight_decay=0.0, damping=1e-3, factor_decay=0.95,
                 factor_update_steps=1, inv_update_steps=10, compute_method="eigen", kl_clip=1e-3,
                 fisher="empirical", factored_damping=False, seed=0):
        self._init(model, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, damping=damping,
                               factor_decay=factor_decay, factor_update_steps=factor_update_steps,
                               inv_update_steps=inv_update_steps, compute_method=compute_method, kl_clip=kl_clip,
                               fisher=fisher, factored_damping=factored_damping, seed=seed))

    def _init(self, model, defaults: dict) -> None:
        super().__init__(model, defaults)
        group = self.param_groups[0]
        self.capture = LayerCapture(model, group["fisher"], group["seed"])
        self.factor_updates = 0
        self.decompositions = 0
        self.state = self._allocate(group)

    # ------------------------------------------------------------------ settings
    def _check(self, g: dict) -> None:
        check_real(g["damping"], "damping", 0.0, low_open=True)
        check_real(g["factor_decay"], "factor_decay", 0.0, 1.0, high_open=True)
        check_int(g["factor_update_steps"], "factor_update_steps", 1)
        check_int(g["inv_update_steps"], "inv_update_steps", 1)
        check_choice(g.get("compute_method", "eigen"), "compute_method", COMPUTE_METHODS)
        check_real(g["kl_clip"], "kl_clip", 0.0)
        check_choice(g["fisher"], "fisher", FISHERS)
        check_choice(g.get("factored_damping", False), "factored_damping", (False, True))
        check_int(g["seed"], "seed", 0)
        if hasattr(self, "capture") and (g["fisher"], g["seed"]) != (self.capture.fisher, self.capture.seed):
            raise ValueError("fisher, seed: fixed when the optimizer is built (the layer capture draws with them)")

    @staticmethod
    def _eigen(group: dict) -> bool:
        return group.get("compute_method", "eigen") == "eigen"

    def _allocate(self, group: dict) -> dict:
        """The state arrays under ``group``'s settings, zero: factors, and eigenbases or inverses."""
        dtype = self.model.dtype
        square = [np.zeros((n, n), dtype) for n_in, n_out, _, _ in self._layers for n in (n_in + 1, n_out)]
        state = {"A": square[0::2], "G": square[1::2], "pi": [np.ones(len(self._layers))]}
        if self._eigen(group):
            state |= {"QA": [a.copy() for a in state["A"]], "QG": [g.copy() for g in state["G"]],
                      "dA": [np.zeros(len(a), dtype) for a in state["A"]],
                      "dG": [np.zeros(len(g), dtype) for g in state["G"]]}
        else:
            state |= {"A_inv": [a.copy() for a in state["A"]], "G_inv": [g.copy() for g in state["G"]]}
        return state

    # ------------------------------------------------------------------ the step
    def _needs_capture(self, t: int) -> bool:
        return (t - 1) % self.param_groups[0]["factor_update_steps"] == 0

    def _direction(self, grad: np.ndarray, t: int):
        group = self.param_groups[0]
        net = self.model._net
        if self._needs_capture(t):
            bad = self.capture.native.first_non_finite_layer()
            if bad >= 0:
                return self._skip(f"layer {bad}'s captured statistics")
        if (t - 1) % group["factor_update_steps"] == 0:
            decay = 0.0 if self.factor_updates == 0 else float(group["factor_decay"])
            _core.kfac.update_factors(net, self.capture.native, self.state["A"], self.state["G"], decay)
            self.factor_updates += 1
        if (t - 1) % group["inv_update_steps"] == 0 or self.decompositions == 0:
            self._decompose(group)
            self.decompositions += 1
        self._update_scale(t)
        direction = self._precondition(grad, group)
        kl_clip, lr = float(group["kl_clip"]), float(group["lr"])
        if kl_clip > 0.0:
            vg = lr * lr * float(np.dot(direction, grad))
            if vg != 0.0 and math.isfinite(vg):
                direction *= direction.dtype.type(min(1.0, math.sqrt(kl_clip / abs(vg))))
        return direction

    def _pi(self, group: dict) -> np.ndarray:
        """The factored damping's pi per layer (ones without factored damping)."""
        if not group.get("factored_damping", False):
            return np.ones(len(self._layers))
        pi = []
        for a, g in zip(self.state["A"], self.state["G"]):
            ta, tg = float(np.trace(a)) / len(a), float(np.trace(g)) / len(g)
            pi.append(math.sqrt(ta / tg) if ta > 0.0 and tg > 0.0 else 1.0)
        return np.array(pi)

    def _decompose(self, group: dict) -> None:
        """Eigen-decompositions or damped inverses of every factor, into new arrays (kept only on success)."""
        factors = [f for pair in zip(self.state["A"], self.state["G"]) for f in pair]
        pi = self._pi(group)
        if self._eigen(group):
            q = [np.empty_like(f) for f in factors]
            d = [np.empty(len(f), f.dtype) for f in factors]
            _core.kfac.eigen(factors, q, d)
            self.state |= {"QA": q[0::2], "QG": q[1::2], "dA": d[0::2], "dG": d[1::2], "pi": [pi]}
            return
        root = math.sqrt(float(group["damping"]))
        shifts = [s for p in pi for s in (p * root, root / p)]
        out = [np.empty_like(f) for f in factors]
        _core.kfac.damped_inverse(factors, shifts, out)
        self.state |= {"A_inv": out[0::2], "G_inv": out[1::2], "pi": [pi]}

    def _update_scale(self, t: int) -> None:
        """EKFAC's rescaling (none in K-FAC)."""

    def _precondition(self, grad: np.ndarray, group: dict) -> np.ndarray:
        out, count, s = self._direction_buffer, len(self._layers), self.state
        if not self._eigen(group):
            _core.kfac.precondition(self.model._net, grad, out, False, s["A_inv"], s["G_inv"], None, None, None, 0.0,
                                    [0.0] * count, [0.0] * count)
            return out
        damping = float(group["damping"])
        if group.get("factored_damping", False):
            root, pi = math.sqrt(damping), s["pi"][0]
            shift_a, shift_g, damping = [p * root for p in pi], [root / p for p in pi], 0.0
        else:
            shift_a = shift_g = [0.0] * count
        _core.kfac.precondition(self.model._net, grad, out, True, s["QA"], s["QG"], s["dA"], s["dG"],
                                self._scale(), damping, shift_a, shift_g)
        return out

    def _scale(self):
        """EKFAC's rescaled diagonals per layer (None: K-FAC's d_G d_A^T)."""
        return None

    # ------------------------------------------------------------------ checkpoints
    def _arrays(self) -> dict:
        return self.state

    def _arrays_for(self, group: dict) -> dict:
        return self._allocate(group)

    def _counters(self) -> dict:
        return {"factor_updates": self.factor_updates, "decompositions": self.decompositions}

    def _restore(self, group: dict, arrays: dict, counters: dict) -> None:
        super()._restore(group, arrays, counters)
        self.state = arrays
        self.factor_updates, self.decompositions = counters["factor_updates"], counters["decompositions"]


register("kfac", KFAC, takes_model=True, mnist_lr=0.1, color="#843c39")
