"""Rprop: a step size per element, adapted from the signs of successive gradients."""
from .base import Optimizer, native
from .registry import register
from .validation import check_hyper

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Rprop (Riedmiller & Braun, 1993, "A Direct Adaptive Method for Faster Backpropagation Learning: The RPROP
    Algorithm"), PyTorch's semantics.

    Only the sign of the gradient is used; every element has its own step size :math:`\delta`, state like
    the previous gradient, starting at ``lr``:

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}), \qquad s = g_t\, g_{t-1}, \qquad
        \delta_t = \mathrm{clip}\big(\delta_{t-1} \cdot (\eta_+ \text{ if } s > 0,\ \eta_- \text{ if } s < 0,
        \ 1 \text{ if } s = 0),\ \delta_{min}, \delta_{max}\big) \\
        g_t &\leftarrow 0 \text{ where } s < 0, \qquad \theta_t = \theta_{t-1} - \mathrm{sign}(g_t)\,\delta_t

    A full-batch method: with noisy minibatch gradients the signs flip at random and the steps shrink.
    Changing ``lr`` after the first step has no effect (it only sets the initial step sizes).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Initial step size of every element.
    etas : tuple of float
        Multiplicative decrease and increase factors (etaminus, etaplus), 0 < etaminus < 1 < etaplus.
    step_sizes : tuple of float
        Smallest and largest step size (minimum, maximum).
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = native("rprop")

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50.0), *, maximize=False):
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize))

    def _check(self, g):
        etaminus, etaplus = g["etas"]
        check_hyper(0.0 < etaminus < 1.0 < etaplus, "eta values", g["etas"], "need 0 < etaminus < 1 < etaplus")
        low, high = g["step_sizes"]
        check_hyper(0.0 <= low <= high, "step_sizes", g["step_sizes"], "need 0 <= minimum <= maximum")


# Registry.  MNIST rate: the better of 1e-3 and 1e-4 after 3 epochs (constant rate, batches of 128, MLP
# 784-512-256-10, seed 0): 87.5% (1e-3: 89% after one epoch, then 85%): Rprop is a full-batch method, and
# minibatch noise flips the signs it adapts by.  Landscape rates: tools/search_default_lr.py rprop (the
# smallest rate that arrives: the step sizes grow by 1.2 per step from it).
register("rprop", Rprop, mnist_lr=1e-4, color="#8c6d31",
         landscape_lr={"rosenbrock": 1e-07, "beale": 1e-07, "himmelblau": 1e-07, "rastrigin": 1,
                       "ackley": 1e-07, "booth": 1e-07, "goldstein_price": 1e-07, "six_hump_camel": 1,
                       "styblinski_tang": 1e-07, "quadratic": 1e-07, "bowl": 1e-07,
                       "extended_rosenbrock": 1e-07})
