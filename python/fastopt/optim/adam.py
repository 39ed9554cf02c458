"""The Adam family: Adam, AdamW and AMSGrad in one fused rule, and Yogi's additive second moment."""
from .base import Optimizer, native
from .registry import register

__all__ = ["Adam", "AdamW", "Yogi"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), with AMSGrad (Reddi, Kale & Kumar, 2018); PyTorch's semantics.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ (amsgrad) or } v_t, \qquad
        \theta_t = \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
                   \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    With ``decoupled_weight_decay`` the params are first shrunk, :math:`\theta \leftarrow \theta(1 - \gamma\lambda)`,
    and no L2 term enters the gradient (AdamW).

    ``cautious`` (Liang et al., 2024, "Cautious Optimizers: Improving Training with One Line of Code") keeps
    only the components of the update that point the way of the gradient: :math:`m_t` is replaced by
    :math:`m_t \odot \phi_t \, n / (\mathrm{nnz}(\phi_t) + 1)` with :math:`\phi_t = \mathbb{1}[m_t \odot g_t > 0]`
    and :math:`n` the tensor's size: the kept components are rescaled per tensor, as the authors' code does
    (``mask * mask.numel() / (mask.sum() + 1)``), so the update's average size survives the mask.  The count
    is a per-tensor reduction: a cautious step makes two passes over the arrays (the first counts the mask,
    writing nothing).

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
        Weight decay :math:`\lambda`: an L2 term in the gradient, or decoupled (see ``decoupled_weight_decay``).
    amsgrad : bool
        Divide by the running maximum of the second moment (AMSGrad).
    maximize : bool
        Ascend the gradient instead of descending it.
    decoupled_weight_decay : bool
        Decay the params directly (as AdamW) instead of adding an L2 term to the gradient.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.
    """

    spec = native("adam")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False, cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay, cautious=cautious))


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    The params are first shrunk, :math:`\theta \leftarrow \theta (1 - \gamma\lambda)`, then updated by Adam
    without the L2 term (``Adam(..., decoupled_weight_decay=True)``).  PyTorch's default ``weight_decay=1e-2``.

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
        Decoupled weight decay :math:`\lambda`.
    amsgrad : bool
        Divide by the running maximum of the second moment (AMSGrad).
    maximize : bool
        Ascend the gradient instead of descending it.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.  See :class:`Adam`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, cautious=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True, cautious=cautious)


class Yogi(Optimizer):
    r"""Yogi (Zaheer, Reddi, Sachan, Kale & Kumar, 2018, "Adaptive Methods for Nonconvex Optimization").

    Adam with an additive second-moment update: :math:`v` moves by at most :math:`(1-\beta_2) g^2` per step,
    towards :math:`g^2`, so one large gradient cannot inflate it (and shrink the steps) at once.  As in
    the paper and optax's ``yogi``, no bias correction.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        v_t &= v_{t-1} - (1-\beta_2)\,\mathrm{sign}(v_{t-1} - g_t^2)\, g_t^2, \qquad
        \theta_t = \theta_{t-1} - \gamma\, \frac{m_t}{\sqrt{v_t} + \epsilon}

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma` (optax's default 1e-2).
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2)` of the first moment and of the second-moment update.
    eps : float
        Term added to the denominator; the paper's 1e-3 (larger than Adam's) keeps early steps small.
    initial_accumulator_value : float
        Starting value :math:`v_0` of the second moment (optax's 1e-6).
    weight_decay : float
        L2 penalty :math:`\lambda` added to the gradient.
    maximize : bool
        Ascend the gradient instead of descending it.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.  See :class:`Adam`.
    """

    spec = native("yogi")

    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-3, initial_accumulator_value=1e-6,
                 weight_decay=0.0, *, maximize=False, cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      initial_accumulator_value=initial_accumulator_value, weight_decay=weight_decay,
                                      maximize=maximize, cautious=cautious))


# Registry.  MNIST rates (batches of 128, constant rate; fastopt.studies): the adaptive methods' usual
# 1e-3, not tuned (adam 97.7-97.8% after 3 epochs in docs/mnist/).  Landscape rates:
# tools/search_default_lr.py.
register("adam", Adam, mnist_lr=1e-3, color="#e377c2",
         landscape_lr={"rosenbrock": 0.05, "beale": 0.02, "himmelblau": 0.005, "rastrigin": 0.001, "ackley": 0.5,
                       "booth": 0.02, "goldstein_price": 0.05, "six_hump_camel": 0.1, "styblinski_tang": 0.005,
                       "saddle": 0.001, "monkey_saddle": 0.001, "quadratic": 0.005, "bowl": 0.005,
                       "extended_rosenbrock": 0.05})
register("adamw", AdamW, mnist_lr=1e-3, color="#17becf",
         landscape_lr={"rosenbrock": 0.03, "beale": 0.01, "himmelblau": 0.003, "rastrigin": 0.001,
                       "ackley": 0.0003, "booth": 0.03, "goldstein_price": 0.01, "six_hump_camel": 0.1,
                       "styblinski_tang": 0.003, "saddle": 0.001, "monkey_saddle": 0.001, "quadratic": 0.003,
                       "bowl": 0.003})
# Yogi's MNIST rate: the best of {1e-3, 3e-3, 1e-2} on 20,000 MNIST samples, 2 epochs, MLP 784-512-256-10
# (93.4%, 94.2%, 93.3% test accuracy; adam at 1e-3: 94.1%).
register("yogi", Yogi, mnist_lr=3e-3, color="#ad494a",
         landscape_lr={"rosenbrock": 0.03, "beale": 0.003, "himmelblau": 0.003, "rastrigin": 0.0003,
                       "ackley": 0.3, "booth": 0.01, "goldstein_price": 0.01, "six_hump_camel": 0.01,
                       "styblinski_tang": 0.3, "saddle": 0.001, "monkey_saddle": 0.001, "quadratic": 0.003,
                       "bowl": 0.003})
