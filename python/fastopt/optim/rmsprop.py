"""RMSprop: gradients scaled by a running RMS of their history."""
from .base import Optimizer, native
from .registry import register
from .validation import check_hyper

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012; centered as in Graves, 2013), PyTorch's semantics.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad v_t = \alpha v_{t-1} + (1-\alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1-\alpha) g_t, \qquad
        d_t = \sqrt{v_t - \bar g_t^2 \text{ (centered) or } v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t/d_t, \qquad \theta_t = \theta_{t-1} - \gamma\,(b_t \text{ if } \mu > 0 \text{ else } g_t/d_t)

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`.
    alpha : float
        Smoothing constant :math:`\alpha` of the running averages, in [0, 1].
    eps : float
        Term added to the denominator for numerical stability.
    weight_decay : float
        L2 penalty :math:`\lambda` added to the gradient.
    momentum : float
        Momentum factor :math:`\mu` of the scaled steps; 0 for none.
    centered : bool
        Divide by the running standard deviation of the gradient instead of its RMS.
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = native("rmsprop")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _check(self, g):
        check_hyper(0.0 <= g["alpha"] <= 1.0, "alpha value", g["alpha"], "must be in [0, 1]")


# Registry: the MNIST rate is the usual 1e-3 (not tuned; 97.7% after 3 epochs in docs/mnist/);
# landscape rates: tools/search_default_lr.py.
register("rmsprop", RMSprop, mnist_lr=1e-3, color="#9467bd",
         landscape_lr={"rosenbrock": 0.005, "beale": 0.005, "himmelblau": 0.005, "rastrigin": 0.1, "ackley": 0.2,
                       "booth": 0.02, "goldstein_price": 0.005, "six_hump_camel": 0.001,
                       "styblinski_tang": 0.002, "saddle": 0.001, "monkey_saddle": 0.001, "quadratic": 0.002,
                       "bowl": 0.005, "extended_rosenbrock": 0.005})
