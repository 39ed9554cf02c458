"""ADOPT: Adam with the gradient normalised by the second moment of the steps before it."""
from .base import Optimizer, native
from .registry import register

__all__ = ["ADOPT"]


class ADOPT(Optimizer):
    r"""ADOPT (Taniguchi et al., 2024, "ADOPT: Modified Adam Can Converge with Any :math:`\beta_2` with the
    Optimal Rate"), optax's ``contrib.adopt`` with the authors' PyTorch weight decay.

    The gradient is divided by the second moment *before* it is updated with that gradient, and enters the
    momentum only then, so the step does not correlate with its own normaliser.  The first step only
    records :math:`v_0 = g_1^2` and leaves the params where they are (but for decoupled decay).

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad v_1 = g_1^2, \qquad \text{for } t \ge 2: \\
        u_t &= \mathrm{clip}\Big(\frac{g_t}{\max(\sqrt{v_{t-1}}, \epsilon)}, c_t\Big), \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) u_t \\
        \theta_t &= \theta_{t-1} - \gamma\,(m_t \text{, or } \beta_1 m_t + (1-\beta_1) u_t \text{ with Nesterov}),
        \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2

    The clip bound :math:`c_t = (t-1)^{1/4}` is the paper's :math:`t^{1/4}` counted from the first update, as
    optax's ``clip_value_fn(count)``; ``use_clipping=False`` divides without clipping (the paper's Algorithm 1).
    ``cautious``: see :class:`~fastopt.Adam`.

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma` (the authors' 1e-3).
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2)` of the momentum and of the second moment (optax's 0.9, 0.9999).
    eps : float
        Floor of sqrt(v) in the normalisation (optax's 1e-6).
    weight_decay : float
        Weight decay :math:`\lambda`: an L2 term in the gradient, or decoupled (see ``decoupled_weight_decay``).
    use_clipping : bool
        Clip the normalised gradient to plus or minus (t-1)^(1/4), as optax does by default.
    nesterov : bool
        Nesterov momentum, as optax's ``nesterov``.
    maximize : bool
        Ascend the gradient instead of descending it.
    decoupled_weight_decay : bool
        Decay the params directly (the authors' ``decouple``) instead of adding an L2 term to the gradient.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.
    """

    spec = native("adopt")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.9999), eps=1e-6, weight_decay=0.0, use_clipping=True,
                 nesterov=False, *, maximize=False, decoupled_weight_decay=False, cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      use_clipping=use_clipping, nesterov=nesterov, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay, cautious=cautious))


# Registry.  MNIST rate: the class default, 98.0% test accuracy after 3 epochs (constant rate, batches of 128,
# MLP 784-512-256-10, seed 0; 3e-3: 97.7%).  Landscape rates: tools/search_default_lr.py adopt.
register("adopt", ADOPT, mnist_lr=1e-3, color="#dbdb8d",
         landscape_lr={"rosenbrock": 0.3, "beale": 0.03, "himmelblau": 0.003, "rastrigin": 0.001,
                       "ackley": 0.0003, "booth": 0.03, "goldstein_price": 0.03, "six_hump_camel": 0.3,
                       "styblinski_tang": 0.01, "saddle": 0.0003, "monkey_saddle": 0.0003, "quadratic": 0.01,
                       "bowl": 0.01, "extended_rosenbrock": 0.3})
