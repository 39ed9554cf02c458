"""NAdam: Adam with Nesterov momentum."""
from .base import Optimizer, check_betas, check_hyper


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

    def validate(self, g):
        check_hyper(g["lr"] >= 0.0, "learning rate", g["lr"], "must be >= 0")
        check_hyper(g["eps"] >= 0.0, "epsilon value", g["eps"], "must be >= 0")
        check_betas(g["betas"])
        check_hyper(g["weight_decay"] >= 0.0, "weight_decay value", g["weight_decay"], "must be >= 0")
        check_hyper(g["momentum_decay"] >= 0.0, "momentum_decay value", g["momentum_decay"], "must be >= 0")

    def state_slots(self, g):
        return ("exp_avg", "exp_avg_sq")

    def _mu(self, g, step):
        return g["betas"][0] * (1.0 - 0.5 * 0.96 ** (step * g["momentum_decay"]))

    def scalars(self, g, state, step):
        beta1, beta2 = g["betas"]
        lr, wd, decoupled = g["lr"], g["weight_decay"], g["decoupled_weight_decay"]
        mu, mu_next = self._mu(g, step), self._mu(g, step + 1)
        mu_product = state.get("mu_product", 1.0) * mu
        return dict(sign=-1.0 if g["maximize"] else 1.0, decay=1.0 - lr * wd if decoupled else 1.0,
                    l2=0.0 if decoupled else wd, beta1=beta1, beta2=beta2, eps=g["eps"],
                    bc2=1.0 - beta2 ** step, c_grad=lr * (1.0 - mu) / (1.0 - mu_product),
                    c_avg=lr * mu_next / (1.0 - mu_product * mu_next))

    def after_step(self, g, state):
        state["mu_product"] = state.get("mu_product", 1.0) * self._mu(g, state["step"])
