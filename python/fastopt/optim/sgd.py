"""Stochastic gradient descent with momentum and Nesterov momentum."""
from .base import Optimizer, check_hyper


class SGD(Optimizer):
    r"""SGD with optional momentum, dampening, Nesterov momentum and L2 weight decay (PyTorch's semantics).

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1} \\
        b_t &= \mu b_{t-1} + (1-\tau) g_t \quad (b_1 = g_1) \\
        \theta_t &= \theta_{t-1} - \gamma\,(g_t + \mu b_t \text{ if nesterov else } b_t)

    Nesterov momentum follows Sutskever et al. (2013), "On the importance of initialization and momentum".
    """

    kernel = "sgd"

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def validate(self, g):
        check_hyper(not g["nesterov"] or (g["momentum"] > 0 and g["dampening"] == 0), "nesterov", g["nesterov"],
                    "Nesterov momentum requires a momentum and zero dampening")

    def state_slots(self, g):
        return ("momentum_buffer",) if g["momentum"] != 0 else ()

    def initial_carry(self):
        return {"momentum_steps": 0.0}  # the first step with momentum starts the buffer at the gradient
