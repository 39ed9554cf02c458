"""RAdam: Adam with a rectified adaptive learning rate."""
from .base import Optimizer


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and Beyond"), PyTorch's semantics.

    .. math::
        \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t}, \qquad
        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}} \\
        \theta_t &= \theta_{t-1} - \gamma \frac{m_t}{1-\beta_1^t}
                    \cdot \Big(\frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}\, r_t \text{ if } \rho_t > 5 \text{ else } 1\Big)
    """

    kernel = "radam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *,
                 decoupled_weight_decay=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def state_slots(self, g):
        return ("exp_avg", "exp_avg_sq")
