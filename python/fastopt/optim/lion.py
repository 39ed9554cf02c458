"""Lion: the sign of an interpolated momentum."""
from .base import Optimizer


class Lion(Optimizer):
    r"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").

    .. math::
        \theta_t &= \theta_{t-1}(1-\gamma\lambda) - \gamma\,\mathrm{sign}(\beta_1 m_{t-1} + (1-\beta_1) g_t) \\
        m_t &= \beta_2 m_{t-1} + (1-\beta_2) g_t

    Use a learning rate 3-10x smaller and a weight decay 3-10x larger than for AdamW.
    """

    kernel = "lion"

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay, maximize=maximize))

    def state_slots(self, g):
        return ("exp_avg",)
