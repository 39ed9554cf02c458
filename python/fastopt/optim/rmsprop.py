"""RMSprop: gradients scaled by a running RMS of their history."""
from .base import Optimizer, check_hyper


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012; centered as in Graves, 2013), PyTorch's semantics.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad v_t = \alpha v_{t-1} + (1-\alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1-\alpha) g_t, \qquad
        d_t = \sqrt{v_t - \bar g_t^2 \text{ (centered) or } v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t/d_t, \qquad \theta_t = \theta_{t-1} - \gamma\,(b_t \text{ if } \mu > 0 \text{ else } g_t/d_t)
    """

    kernel = "rmsprop"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def validate(self, g):
        check_hyper(0.0 <= g["alpha"] <= 1.0, "alpha value", g["alpha"], "must be in [0, 1]")

    def state_slots(self, g):
        return ("square_avg",) + (("grad_avg",) if g["centered"] else ()) + \
            (("momentum_buffer",) if g["momentum"] > 0 else ())
