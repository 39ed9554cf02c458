"""Adadelta: step sizes from the ratio of running RMS of updates and of gradients."""
from .base import Optimizer, check_hyper


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), PyTorch's semantics.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad v_t = \rho v_{t-1} + (1-\rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
        u_t = \rho u_{t-1} + (1-\rho)\Delta_t^2, \qquad \theta_t = \theta_{t-1} - \gamma \Delta_t
    """

    kernel = "adadelta"

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def validate(self, g):
        check_hyper(0.0 <= g["rho"] <= 1.0, "rho value", g["rho"], "must be in [0, 1]")

    def state_slots(self, g):
        return ("square_avg", "acc_delta")
