"""Adadelta: step sizes from the ratio of running RMS of updates and of gradients."""
from .base import Optimizer, native
from .registry import register
from .validation import check_hyper

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), PyTorch's semantics.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad v_t = \rho v_{t-1} + (1-\rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
        u_t = \rho u_{t-1} + (1-\rho)\Delta_t^2, \qquad \theta_t = \theta_{t-1} - \gamma \Delta_t

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma` scaling the step :math:`\Delta_t`.
    rho : float
        Coefficient :math:`\rho` of the running averages, in [0, 1].
    eps : float
        Term added inside the square roots for numerical stability.
    weight_decay : float
        L2 penalty :math:`\lambda` added to the gradient.
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = native("adadelta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _check(self, g):
        check_hyper(0.0 <= g["rho"] <= 1.0, "rho value", g["rho"], "must be in [0, 1]")


# Registry: the MNIST rate is 1, Adadelta's published setting; landscape rates: tools/search_default_lr.py.
register("adadelta", Adadelta, mnist_lr=1.0, color="#8c564b",
         landscape_lr={"rosenbrock": 0.3, "beale": 0.3, "himmelblau": 0.3, "rastrigin": 0.1, "ackley": 0.1,
                       "booth": 3, "goldstein_price": 0.3, "six_hump_camel": 0.3, "styblinski_tang": 1,
                       "saddle": 0.03, "monkey_saddle": 0.1, "quadratic": 0.3, "bowl": 1})
