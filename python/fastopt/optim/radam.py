"""RAdam: Adam with a rectified adaptive learning rate."""
from .base import Optimizer, native
from .registry import register

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam (Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and Beyond"), PyTorch's semantics.

    .. math::
        \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad \rho_t = \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t}, \qquad
        r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}} \\
        \theta_t &= \theta_{t-1} - \gamma \frac{m_t}{1-\beta_1^t}
                    \cdot \Big(\frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}\, r_t \text{ if } \rho_t > 5 \text{ else } 1\Big)

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
    decoupled_weight_decay : bool
        Decay the params directly (as AdamW) instead of adding an L2 term to the gradient.
    maximize : bool
        Ascend the gradient instead of descending it.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.  See :class:`~fastopt.Adam`.
    """

    spec = native("radam")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *,
                 decoupled_weight_decay=False, maximize=False, cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                                      cautious=cautious))


# Registry: the MNIST rate is the adaptive methods' usual 1e-3 (not tuned); landscape rates:
# tools/search_default_lr.py.
register("radam", RAdam, mnist_lr=1e-3, color="#637939",
         landscape_lr={"rosenbrock": 0.003, "beale": 0.01, "himmelblau": 0.01, "rastrigin": 0.01,
                       "ackley": 0.3, "booth": 0.01, "goldstein_price": 3e-07, "six_hump_camel": 0.03,
                       "styblinski_tang": 0.03, "saddle": 0.003, "monkey_saddle": 0.003, "quadratic": 0.01,
                       "bowl": 0.01})
