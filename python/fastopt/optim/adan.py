"""Adan: adaptive Nesterov momentum from the gradient and its difference."""
from .base import Optimizer, native
from .registry import register

__all__ = ["Adan"]


class Adan(Optimizer):
    r"""Adan (Xie, Zhou, Li, Lin & Yan, 2022, "Adan: Adaptive Nesterov Momentum Algorithm for Faster Optimizing
    Deep Models"), optax's ``adan``.

    Nesterov momentum without the extra gradient: the gradient difference :math:`d_t = g_t - g_{t-1}`
    (0 at the first step) has its own moment, which extrapolates the momentum; the previous gradient is
    kept as state.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}), \qquad m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) d_t \\
        n_t &= \beta_3 n_{t-1} + (1-\beta_3)\,(g_t + (1-\beta_2) d_t)^2, \qquad
        \theta_t = \theta_{t-1}(1-\gamma\lambda) - \gamma\,
            \frac{m_t/(1-\beta_1^t) + (1-\beta_2)\, v_t/(1-\beta_2^t)}{\sqrt{n_t/(1-\beta_3^t)} + \epsilon}

    optax weighs the difference terms by :math:`1-\beta_2` (0.08 at the defaults); the paper's Algorithm 1
    and the authors' PyTorch code weigh them by :math:`\beta_2` (0.92), and by default divide by
    :math:`1+\gamma\lambda` (proximal decay) where optax and fastopt shrink by :math:`1-\gamma\lambda`.
    ``cautious``: see :class:`~fastopt.Adam` (the mask is applied to the whole update).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma` (the authors' 1e-3).
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2, \beta_3)` of the gradient, difference and squared moments (optax's).
    eps : float
        Term added to the denominator for numerical stability.
    weight_decay : float
        Decoupled weight decay :math:`\lambda`.
    maximize : bool
        Ascend the gradient instead of descending it.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.
    """

    spec = native("adan")

    def __init__(self, params, lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, *, maximize=False,
                 cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, cautious=cautious))


# Registry.  MNIST rate: the class default, 97.5% test accuracy after 3 epochs (constant rate, batches of 128,
# MLP 784-512-256-10, seed 0; 3e-3: 97.6%).  Landscape rates: tools/search_default_lr.py adan.
register("adan", Adan, mnist_lr=1e-3, color="#c5b0d5",
         landscape_lr={"rosenbrock": 0.01, "beale": 0.003, "himmelblau": 0.003, "rastrigin": 0.001,
                       "ackley": 0.0003, "booth": 0.01, "goldstein_price": 0.003, "six_hump_camel": 0.03,
                       "styblinski_tang": 1, "saddle": 0.003, "monkey_saddle": 0.003, "quadratic": 0.003,
                       "bowl": 0.003, "extended_rosenbrock": 0.01})
