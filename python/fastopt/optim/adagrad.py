"""Adagrad: per-coordinate learning rates from the accumulated squared gradients."""
from .base import Optimizer


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011), PyTorch's semantics.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        \tilde\gamma_t = \gamma / (1 + (t-1)\eta) \\
        s_t &= s_{t-1} + g_t^2, \qquad \theta_t = \theta_{t-1} - \tilde\gamma_t\, g_t / (\sqrt{s_t} + \epsilon)

    ``s_0 = initial_accumulator_value``.
    """

    kernel = "adagrad"

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize))

    def state_slots(self, g):
        return ("sum",)

    def state_init(self, g, slot):
        return g["initial_accumulator_value"]
