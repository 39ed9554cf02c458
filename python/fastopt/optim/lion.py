"""Lion: the sign of an interpolated momentum."""
from .base import Optimizer, native
from .registry import register

__all__ = ["Lion"]


class Lion(Optimizer):
    r"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").

    .. math::
        \theta_t &= \theta_{t-1}(1-\gamma\lambda) - \gamma\,\mathrm{sign}(\beta_1 m_{t-1} + (1-\beta_1) g_t) \\
        m_t &= \beta_2 m_{t-1} + (1-\beta_2) g_t

    Use a learning rate 3-10x smaller and a weight decay 3-10x larger than for AdamW.

    ``cautious`` (Liang et al., 2024) moves an element only where the sign step agrees with the gradient
    (:math:`\mathrm{sign}(c_t) \odot \mathbb{1}[c_t \odot g_t > 0]`), with the paper's per-tensor rescaling
    :math:`n / (\mathrm{nnz} + 1)` (see :class:`~fastopt.Adam`).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`: every element moves by exactly this much (plus the decay).
    betas : tuple of float
        The first interpolates the step direction, the second updates the momentum.
    weight_decay : float
        Decoupled weight decay :math:`\lambda`.
    maximize : bool
        Ascend the gradient instead of descending it.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.
    """

    spec = native("lion")

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False, cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize,
                                      cautious=cautious))


# Registry: the MNIST rate is ten times below Adam's, as the paper advises (not tuned); landscape rates:
# tools/search_default_lr.py.
register("lion", Lion, mnist_lr=1e-4, color="#e7ba52",
         landscape_lr={"rosenbrock": 0.003, "beale": 0.003, "himmelblau": 0.003, "rastrigin": 0.0003,
                       "ackley": 0.0003, "booth": 0.01, "goldstein_price": 0.003, "six_hump_camel": 0.003,
                       "styblinski_tang": 0.03, "saddle": 0.003, "monkey_saddle": 0.003, "quadratic": 0.003,
                       "bowl": 0.003})
