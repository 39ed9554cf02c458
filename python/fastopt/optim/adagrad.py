"""Adagrad: per-coordinate learning rates from the accumulated squared gradients."""
from .base import Optimizer, native
from .registry import register

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011), PyTorch's semantics.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        \tilde\gamma_t = \gamma / (1 + (t-1)\eta) \\
        s_t &= s_{t-1} + g_t^2, \qquad \theta_t = \theta_{t-1} - \tilde\gamma_t\, g_t / (\sqrt{s_t} + \epsilon)

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`.
    lr_decay : float
        Learning-rate decay :math:`\eta` per step.
    weight_decay : float
        L2 penalty :math:`\lambda` added to the gradient.
    initial_accumulator_value : float
        Starting value :math:`s_0` of the sums of squared gradients.
    eps : float
        Term added to the denominator for numerical stability.
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = native("adagrad")

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize))


# Registry: the MNIST rate is Adagrad's usual 1e-2 (not tuned); landscape rates: tools/search_default_lr.py.
register("adagrad", Adagrad, mnist_lr=0.01, color="#d62728",
         landscape_lr={"rosenbrock": 0.5, "beale": 0.2, "himmelblau": 0.1, "rastrigin": 2, "ackley": 2,
                       "booth": 0.5, "goldstein_price": 0.2, "six_hump_camel": 1, "styblinski_tang": 0.05,
                       "saddle": 0.01, "monkey_saddle": 0.01, "quadratic": 0.05, "bowl": 0.05,
                       "extended_rosenbrock": 0.5})
