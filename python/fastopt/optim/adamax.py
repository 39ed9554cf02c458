"""Adamax: Adam with the infinity norm in place of the second moment."""
from .base import Optimizer, native
from .registry import register

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7.1), PyTorch's semantics.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        u_t &= \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \qquad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\, \frac{m_t}{u_t}

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`.
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2)` of the running average and of the decaying infinity norm.
    eps : float
        Term added to the absolute gradient for numerical stability.
    weight_decay : float
        L2 penalty :math:`\lambda` added to the gradient.
    maximize : bool
        Ascend the gradient instead of descending it.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.  See :class:`~fastopt.Adam`.
    """

    spec = native("adamax")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False,
                 cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, cautious=cautious))


# Registry: the MNIST rate is Adamax's default 2e-3 (not tuned); landscape rates: tools/search_default_lr.py.
register("adamax", Adamax, mnist_lr=2e-3, color="#bcbd22",
         landscape_lr={"rosenbrock": 0.3, "beale": 0.01, "himmelblau": 0.01, "rastrigin": 0.001,
                       "ackley": 0.0003, "booth": 0.03, "goldstein_price": 0.03, "six_hump_camel": 0.3,
                       "styblinski_tang": 3, "saddle": 0.003, "monkey_saddle": 0.003, "quadratic": 0.003,
                       "bowl": 0.003})
