r"""EKFAC: K-FAC's eigenbasis with its diagonal re-estimated from per-example gradients (George et al., 2018)."""
from __future__ import annotations

import numpy as np

from .. import _core
from ..optim.registry import register
from .kfac import KFAC
from .model_optimizer import check_int

__all__ = ["EKFAC"]


class EKFAC(KFAC):
    r"""EKFAC (George, Laurent, Bouthillier, Ballas & Vincent, 2018, "Fast Approximate Natural Gradient
    Descent in a Kronecker-factored Eigenbasis").

    K-FAC's eigenbases :math:`Q_A, Q_G` (:class:`KFAC`, ``compute_method="eigen"``), with the Kronecker
    eigenvalues :math:`d_G d_A^\top` replaced by a running average of the per-example squared gradients
    in that basis. A dense layer's per-example gradient is :math:`g_i a_i^\top`, so its projection is
    :math:`(Q_G^\top g_i)(Q_A^\top a_i)^\top` and, every ``scale_update_steps`` steps,

    .. math::
        S \leftarrow \xi S + (1-\xi)\,\tfrac1B \textstyle\sum_i (Q_G^\top g_i)^{2} \big((Q_A^\top a_i)^{2}\big)^\top,
        \qquad V = Q_G\big[(Q_G^\top M Q_A) \oslash (S + \lambda)\big]Q_A^\top

    (squares elementwise: three GEMMs per layer, no per-example matrix). When the eigenbases are
    recomputed (every ``inv_update_steps`` steps), :math:`S` restarts from K-FAC's :math:`d_G d_A^\top` in
    the new basis and the next scale update takes its batch whole (as the first factor update does), so
    :math:`S` is always the running average of squared projections in the current basis. Then KL
    clipping and SGD with momentum and weight decay, as :class:`KFAC`.

    Parameters
    ----------
    model : fastopt.nn.MLP
        The network (float32 or float64); its ``flat_params`` are updated in place.
    lr : float
        Learning rate of the SGD under the preconditioner.
    momentum : float
        SGD momentum, in [0, 1].
    weight_decay : float
        L2 penalty added to the preconditioned gradient.
    damping : float
        Damping :math:`\lambda` > 0 added to the rescaled diagonal.
    factor_decay : float
        Running-average weight :math:`\xi` of the Kronecker factors, in [0, 1) (and of the rescaled diagonal).
    factor_update_steps : int
        Steps between two factor updates (each needs the layer statistics of its batch).
    inv_update_steps : int
        Steps between two eigen-decompositions (or inversions) of the factors.
    scale_update_steps : int
        Steps between two updates of the rescaled diagonal.
    kl_clip : float
        KL-clipping bound; 0 turns the clipping off.
    fisher : str
        ``empirical`` (the data's labels) or ``true`` (labels drawn from the model's softmax).
    seed : int
        Seeds the drawn labels of ``fisher=true``.
    """

    def __init__(self, model, lr=0.1, momentum=0.9, weight_decay=0.0, damping=1e-3, factor_decay=0.95,
                 factor_update_steps=1, inv_update_steps=10, scale_update_steps=1, kl_clip=1e-3,
                 fisher="empirical", seed=0):
        self._init(model, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, damping=damping,
                               factor_decay=factor_decay, factor_update_steps=factor_update_steps,
                               inv_update_steps=inv_update_steps, scale_update_steps=scale_update_steps,
                               kl_clip=kl_clip, fisher=fisher, seed=seed))
        self.scale_updates = 0

    def _check(self, g: dict) -> None:
        super()._check(g)
        check_int(g["scale_update_steps"], "scale_update_steps", 1)

    def _allocate(self, group: dict) -> dict:
        state = super()._allocate(group)
        state["scale"] = [np.zeros((n_out, n_in + 1), self.model.dtype) for n_in, n_out, _, _ in self._layers]
        return state

    def _needs_capture(self, t: int) -> bool:
        return super()._needs_capture(t) or (t - 1) % self.param_groups[0]["scale_update_steps"] == 0

    def _decompose(self, group: dict) -> None:
        super()._decompose(group)
        self.state["scale"] = [np.outer(dg, da) for da, dg in zip(self.state["dA"], self.state["dG"])]
        self.scale_updates = 0

    def _update_scale(self, t: int) -> None:
        group = self.param_groups[0]
        if (t - 1) % group["scale_update_steps"] != 0:
            return
        decay = 0.0 if self.scale_updates == 0 else float(group["factor_decay"])
        _core.kfac.update_eigen_scale(self.model._net, self.capture.native, self.state["QA"], self.state["QG"],
                                      self.state["scale"], decay)
        self.scale_updates += 1

    def _scale(self):
        return self.state["scale"]

    def _counters(self) -> dict:
        return {**super()._counters(), "scale_updates": self.scale_updates}

    def _restore(self, group: dict, arrays: dict, counters: dict) -> None:
        super()._restore(group, arrays, counters)
        self.scale_updates = counters["scale_updates"]


register("ekfac", EKFAC, takes_model=True, mnist_lr=0.1, color="#e6550d")
