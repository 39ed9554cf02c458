"""NAdam: Adam with Nesterov momentum."""
from .base import Optimizer


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016, "Incorporating Nesterov Momentum into Adam"), PyTorch's semantics.

    .. math::
        \mu_t &= \beta_1 (1 - \tfrac12 0.96^{t\psi}), \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \frac{(1-\mu_t)\, g_t / (1-\prod_{i\le t}\mu_i)
                    + \mu_{t+1}\, m_t / (1-\prod_{i\le t+1}\mu_i)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}

    ``psi = momentum_decay``; with ``decoupled_weight_decay`` the decay is AdamW's.
    """

    kernel = "nadam"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, *,
                 decoupled_weight_decay=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def state_slots(self, g):
        return ("exp_avg", "exp_avg_sq")

    def initial_carry(self):
        return {"mu_product": 1.0}
