"""Stochastic gradient descent with momentum and Nesterov momentum, and SGDW (decoupled weight decay)."""
from .base import Optimizer, native
from .registry import register
from .validation import check_hyper

__all__ = ["SGD", "SGDW"]


class SGD(Optimizer):
    r"""SGD with optional momentum, dampening, Nesterov momentum and L2 weight decay (PyTorch's semantics).

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1} \\
        b_t &= \mu b_{t-1} + (1-\tau) g_t \quad (b_1 = g_1) \\
        \theta_t &= \theta_{t-1} - \gamma\,(g_t + \mu b_t \text{ if nesterov else } b_t)

    Nesterov momentum follows Sutskever et al. (2013), "On the importance of initialization and momentum".
    With ``decoupled_weight_decay`` the params are first shrunk, :math:`\theta \leftarrow \theta(1 - \gamma\lambda)`,
    and no L2 term enters the gradient (SGDW, Loshchilov & Hutter, 2019).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`.
    momentum : float
        Momentum factor :math:`\mu`; 0 for plain gradient descent.
    dampening : float
        Dampening :math:`\tau` of the momentum (the fraction of each gradient left out of the buffer).
    weight_decay : float
        L2 penalty :math:`\lambda` added to the gradient.
    nesterov : bool
        Nesterov momentum (needs a momentum and zero dampening).
    maximize : bool
        Ascend the gradient instead of descending it.
    decoupled_weight_decay : bool
        Decay the params directly (as SGDW) instead of adding an L2 term to the gradient.
    """

    spec = native("sgd")

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False, decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check(self, g):
        check_hyper(not g["nesterov"] or (g["momentum"] > 0 and g["dampening"] == 0), "nesterov", g["nesterov"],
                    "Nesterov momentum requires a momentum and zero dampening")


class SGDW(SGD):
    r"""SGDW (Loshchilov & Hutter, 2019, "Decoupled Weight Decay Regularization"): SGD with decoupled weight decay.

    The params are first shrunk, then moved by PyTorch's SGD without an L2 term
    (``SGD(..., decoupled_weight_decay=True)``):

    .. math::
        \theta &\leftarrow \theta_{t-1}(1 - \gamma\lambda), \qquad g_t = \pm\nabla f(\theta_{t-1}), \qquad
        b_t = \mu b_{t-1} + (1-\tau) g_t \quad (b_1 = g_1) \\
        \theta_t &= \theta - \gamma\,(g_t + \mu b_t \text{ if nesterov else } b_t)

    As in PyTorch's AdamW (and pytorch-optimizer's SGDW) the decay is scaled by the learning rate; the
    paper scales it by the schedule multiplier alone.  The default ``weight_decay=1e-2`` is AdamW's.

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`.
    momentum : float
        Momentum factor :math:`\mu`; 0 for plain gradient descent.
    dampening : float
        Dampening :math:`\tau` of the momentum (the fraction of each gradient left out of the buffer).
    weight_decay : float
        Decoupled weight decay :math:`\lambda`.
    nesterov : bool
        Nesterov momentum (needs a momentum and zero dampening).
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=1e-2, nesterov=False, *,
                 maximize=False):
        super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                         nesterov=nesterov, maximize=maximize, decoupled_weight_decay=True)


# Registry.  MNIST rates (batches of 128, constant rate; fastopt.studies): the values commonly used on
# this problem, not tuned by a search: SGD 0.1, heavy-ball momentum 0.9 at half that rate (an effective
# step of 0.5).  In docs/mnist/ (fastopt compare, 3 epochs, MLP 784-512-256-10) sgd reaches 96.5% and
# momentum 97.7-97.8%.  Landscape rates: tools/search_default_lr.py.
register("sgd", SGD, mnist_lr=0.1, color="#1f77b4",
         landscape_lr={"rosenbrock": 0.002, "beale": 0.002, "himmelblau": 0.0002, "rastrigin": 1e-05,
                       "ackley": 0.1, "booth": 0.0002, "goldstein_price": 5e-07, "six_hump_camel": 5e-05,
                       "styblinski_tang": 0.0002, "saddle": 0.001, "monkey_saddle": 0.0001, "quadratic": 0.005,
                       "bowl": 0.002, "extended_rosenbrock": 0.002})
register("momentum", SGD, preset={"momentum": 0.9}, mnist_lr=0.05, color="#ff7f0e",
         landscape_lr={"rosenbrock": 0.0005, "beale": 0.0002, "himmelblau": 2e-05, "rastrigin": 1e-06,
                       "ackley": 0.05, "booth": 2e-05, "goldstein_price": 1e-07, "six_hump_camel": 0.005,
                       "styblinski_tang": 0.005, "saddle": 0.0001, "monkey_saddle": 1e-05, "quadratic": 0.0005,
                       "bowl": 0.0002, "extended_rosenbrock": 0.0005})
register("nesterov", SGD, preset={"momentum": 0.9, "nesterov": True}, mnist_lr=0.05, color="#2ca02c",
         landscape_lr={"rosenbrock": 0.0005, "beale": 0.0002, "himmelblau": 2e-05, "rastrigin": 1e-06,
                       "ackley": 1e-05, "booth": 2e-05, "goldstein_price": 1e-07, "six_hump_camel": 0.001,
                       "styblinski_tang": 2e-05, "saddle": 0.0001, "monkey_saddle": 1e-05, "quadratic": 0.0005,
                       "bowl": 0.0002, "extended_rosenbrock": 0.0005})
# SGDW with heavy-ball momentum 0.9, as the paper runs it, at momentum's MNIST rate: 97.6% after 3 epochs
# (constant rate, weight_decay 1e-2, batches of 128, MLP 784-512-256-10, seed 0).  Landscape rates:
# tools/search_default_lr.py sgdw.
register("sgdw", SGDW, preset={"momentum": 0.9}, mnist_lr=0.05, color="#c49c94",
         landscape_lr={"rosenbrock": 0.0003, "beale": 0.0001, "himmelblau": 1e-05, "rastrigin": 1e-06,
                       "ackley": 1e-05, "booth": 3e-05, "goldstein_price": 1e-07, "six_hump_camel": 0.01,
                       "styblinski_tang": 0.01, "saddle": 0.0001, "monkey_saddle": 3e-05, "quadratic": 0.0003,
                       "bowl": 0.0003, "extended_rosenbrock": 0.0003})
