"""NAdam: Adam with Nesterov momentum."""
from .base import Optimizer, native
from .registry import register

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016, "Incorporating Nesterov Momentum into Adam"), PyTorch's semantics.

    .. math::
        \mu_t &= \beta_1 (1 - \tfrac12 0.96^{t\psi}), \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \frac{(1-\mu_t)\, g_t / (1-\prod_{i\le t}\mu_i)
                    + \mu_{t+1}\, m_t / (1-\prod_{i\le t+1}\mu_i)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}

    The product of the :math:`\mu_i` is carried from step to step (``state["mu_product"]``).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`.
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2)` of the running averages of the gradient and its square.
    eps : float
        Term added to the denominator for numerical stability.
    weight_decay : float
        Weight decay: an L2 term in the gradient, or decoupled (see ``decoupled_weight_decay``).
    momentum_decay : float
        How fast the momentum coefficient mu_t warms up to beta1 (psi in the equations).
    decoupled_weight_decay : bool
        Decay the params directly (as AdamW) instead of adding an L2 term to the gradient.
    maximize : bool
        Ascend the gradient instead of descending it.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.  See :class:`~fastopt.Adam`.
    """

    spec = native("nadam")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3, *,
                 decoupled_weight_decay=False, maximize=False, cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, cautious=cautious))


# Registry: the MNIST rate is the adaptive methods' usual 1e-3 (not tuned); landscape rates:
# tools/search_default_lr.py.
register("nadam", NAdam, mnist_lr=1e-3, color="#393b79",
         landscape_lr={"rosenbrock": 0.03, "beale": 0.01, "himmelblau": 0.003, "rastrigin": 0.001,
                       "ackley": 1, "booth": 0.03, "goldstein_price": 0.01, "six_hump_camel": 1,
                       "styblinski_tang": 1, "saddle": 0.001, "monkey_saddle": 0.001, "quadratic": 0.003,
                       "bowl": 0.003})
