r"""Sophia-G: a clipped, diagonally preconditioned momentum, with the Hessian's diagonal estimated every k steps
by the Gauss-Newton-Bartlett estimator on labels drawn from the model's own softmax."""
from __future__ import annotations

import numpy as np

from ..optim.registry import register
from ..optim.sgd import SGD
from ..optim.validation import check_betas
from .capture import LayerCapture
from .model_optimizer import ModelOptimizer, check_int, check_real

__all__ = ["SophiaG"]


class SophiaG(ModelOptimizer):
    r"""Sophia-G (Liu et al., 2023, "Sophia: A Scalable Stochastic Second-order Optimizer for Language Model
    Pre-training", Algorithm 3; the authors' ``SophiaG`` class for the defaults and the order of operations).

    Every ``update_period`` (k) steps, from step 1, the Gauss-Newton-Bartlett estimator of the Hessian's diagonal:
    labels :math:`\hat y_i \sim \mathrm{softmax}(f_\theta(x_i))` drawn per row of the step's batch, the gradient
    :math:`\hat g` of the batch-mean loss on them, and

    .. math::
        \hat h = B\,\hat g \odot \hat g, \qquad h \leftarrow \beta_2 h + (1-\beta_2)\,\hat h

    (B the batch size).  Every step, with g the data's gradient:

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) g, \qquad \theta \leftarrow \theta (1 - \eta\lambda), \qquad
        \theta \leftarrow \theta - \eta\,\mathrm{clip}\big(m / \max(\rho h, \epsilon), 1\big)

    (:math:`\mathrm{clip}(z, 1)` clips each element to [-1, 1]: :math:`\mathrm{sign}(m)\min(|m| / \max(\rho h,
    \epsilon), 1)`; :math:`\rho` is the paper's :math:`\gamma`).  The labels are drawn and back-propagated by the
    MLP's native layer capture (:class:`~fastopt.curvature.LayerCapture` with ``fisher="true"``, as K-FAC's true
    Fisher), in the same ``forward_backward`` as the data's gradient: per layer :math:`\hat g = G^\top A / B`
    from its per-example output gradients G and homogeneous inputs A, one GEMM.  The update runs as NumPy
    passes and fastopt's native SGD kernel (decoupled decay).  It takes the model, as the K-FAC family does
    (:class:`~fastopt.curvature.model_optimizer.ModelOptimizer`): train it through :func:`fastopt.train.fit`,
    or::

        opt = fastopt.SophiaG(model, lr=1e-3)
        loss = model.forward_backward(x, y, capture=opt.next_capture())
        opt.step(model.grads)

    Parameters
    ----------
    model : fastopt.nn.MLP
        The network (its flat params are updated in place).
    lr : float
        Learning rate :math:`\eta`; no element moves by more than it per step (the authors' 1e-4).
    betas : tuple of float
        :math:`(\beta_1, \beta_2)` of the momentum and of the Hessian estimate (the authors' 0.965, 0.99).
    rho : float
        The scale of the Hessian estimate in the clipped ratio, the paper's gamma (0.04).
    weight_decay : float
        Decoupled weight decay :math:`\lambda` (the authors' 0.1).
    eps : float
        Floor of :math:`\rho h` (the authors' 1e-15).
    update_period : int
        k: the steps between Hessian estimates (the authors' 10).
    seed : int
        Seeds the drawn labels.
    """

    def __init__(self, model, lr=1e-4, betas=(0.965, 0.99), rho=0.04, weight_decay=0.1, eps=1e-15, update_period=10,
                 seed=0):
        super().__init__(model, dict(lr=lr, momentum=0.0, betas=tuple(betas) if isinstance(betas, list) else betas,
                                     rho=rho, weight_decay=weight_decay, eps=eps, update_period=update_period,
                                     seed=seed))
        group = self.param_groups[0]
        self._sgd = SGD({"flat_params": model.flat_params}, lr=group["lr"], momentum=0.0,
                        weight_decay=group["weight_decay"], decoupled_weight_decay=True)
        self.capture = LayerCapture(model, "true", group["seed"])
        self.hessian_updates = 0
        self.state = self._allocate()
        self._ratio = np.empty_like(model.flat_params)

    def _check(self, g: dict) -> None:
        check_real(g["momentum"], "momentum", 0.0, 0.0)  # SophiaG has none (the base's inner SGD reads the key)
        check_betas(g["betas"])
        check_real(g["rho"], "rho", 0.0, low_open=True)
        check_real(g["eps"], "eps", 0.0)
        check_int(g["update_period"], "update_period", 1)
        check_int(g["seed"], "seed", 0)
        if hasattr(self, "capture") and g["seed"] != self.capture.seed:
            raise ValueError("seed: fixed when the optimizer is built (the layer capture draws with it)")

    def _allocate(self) -> dict:
        flat = self.model.flat_params
        return {"exp_avg": [np.zeros_like(flat)], "hessian": [np.zeros_like(flat)]}

    def _needs_capture(self, t: int) -> bool:
        return (t - 1) % self.param_groups[0]["update_period"] == 0

    def sampled_gradient(self) -> np.ndarray:
        r"""The flat gradient :math:`\hat g` of the batch-mean loss on the labels the last capture drew."""
        out = np.empty_like(self.model.flat_params)
        batch = self.capture.native.batch
        for layer, (n_in, n_out, w, b) in enumerate(self._layers):
            m = self.capture.g(layer).T @ self.capture.a(layer)  # (out, in + 1) = [sum g a^T, sum g]
            m /= batch
            out[w:w + n_out * n_in] = m[:, :n_in].reshape(-1)
            out[b:b + n_out] = m[:, n_in]
        return out

    def _direction(self, grad: np.ndarray, t: int):
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        if self._needs_capture(t):
            bad = self.capture.native.first_non_finite_layer()
            if bad >= 0:
                return self._skip(f"layer {bad}'s captured statistics")
            sampled = self.sampled_gradient()
            h = self.state["hessian"][0]
            h *= beta2
            h += (1 - beta2) * self.capture.native.batch * sampled * sampled
            self.hessian_updates += 1
        m, ratio = self.state["exp_avg"][0], self._ratio
        m *= beta1
        m += (1 - beta1) * grad
        np.multiply(self.state["hessian"][0], group["rho"], out=ratio)
        np.maximum(ratio, group["eps"], out=ratio)
        np.divide(m, ratio, out=ratio)
        return np.clip(ratio, -1.0, 1.0, out=ratio)

    def _arrays(self) -> dict:
        return self.state

    def _arrays_for(self, group: dict) -> dict:
        return self._allocate()

    def _counters(self) -> dict:
        return {"hessian_updates": self.hessian_updates}

    def _restore(self, group: dict, arrays: dict, counters: dict) -> None:
        super()._restore(group, arrays, counters)
        self.state = arrays
        self.hessian_updates = counters["hessian_updates"]


# MNIST rate: see docs/sections/muon.md (the clipped step moves each weight by at most lr).
register("sophia", SophiaG, takes_model=True, mnist_lr=1e-3, color="#756bb1")
