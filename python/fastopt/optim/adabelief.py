"""AdaBelief: Adam's step scaled by the belief in the observed gradient."""
from .base import Optimizer, native
from .registry import register

__all__ = ["AdaBelief"]


class AdaBelief(Optimizer):
    r"""AdaBelief (Zhuang et al., 2020, "AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed
    Gradients"), optax's ``adabelief`` (torch has none).

    Adam whose second moment tracks the squared prediction error :math:`(g_t - m_t)^2` rather than
    :math:`g_t^2`: a gradient close to the momentum's prediction earns a large step, a surprising one a
    small step.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}) + \lambda\theta_{t-1}, \qquad m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t \\
        s_t &= \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon_{root} \\
        \hat m_t &= \frac{m_t}{1-\beta_1^t} \text{, or with Nesterov }
            \beta_1\frac{m_t}{1-\beta_1^{t+1}} + (1-\beta_1)\frac{g_t}{1-\beta_1^t}, \qquad
        \theta_t = \theta_{t-1} - \gamma\,\frac{\hat m_t}{\sqrt{s_t/(1-\beta_2^t)} + \epsilon}

    With ``decoupled_weight_decay`` the params are first shrunk, :math:`\theta \leftarrow \theta(1-\gamma\lambda)`,
    and no L2 term enters the gradient (the AdaBelief authors' ``weight_decouple``).  ``cautious``: see
    :class:`~fastopt.Adam` (the mask is applied to the whole update).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma` (the authors' 1e-3).
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2)` of the running averages of the gradient and of the squared
        prediction error.
    eps : float
        Term added to the denominator (optax's and the authors' 1e-16).
    eps_root : float
        Term added to the second moment at every step, inside the square root (optax's 1e-16).
    weight_decay : float
        Weight decay :math:`\lambda`: an L2 term in the gradient, or decoupled (see ``decoupled_weight_decay``).
    nesterov : bool
        Nesterov momentum, as optax's ``nesterov``.
    maximize : bool
        Ascend the gradient instead of descending it.
    decoupled_weight_decay : bool
        Decay the params directly (as AdamW) instead of adding an L2 term to the gradient.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.
    """

    spec = native("adabelief")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16, eps_root=1e-16, weight_decay=0.0,
                 nesterov=False, *, maximize=False, decoupled_weight_decay=False, cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, eps_root=eps_root, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay, cautious=cautious))


# Registry.  MNIST rate: the class default, 97.9% test accuracy after 3 epochs (constant rate, batches of 128,
# MLP 784-512-256-10, seed 0; 3e-3: 97.8%).  Landscape rates: tools/search_default_lr.py adabelief.
register("adabelief", AdaBelief, mnist_lr=1e-3, color="#f7b6d2",
         landscape_lr={"rosenbrock": 0.03, "beale": 0.003, "himmelblau": 0.0003, "rastrigin": 0.0001,
                       "ackley": 3e-05, "booth": 0.003, "goldstein_price": 0.003, "six_hump_camel": 0.1,
                       "styblinski_tang": 3, "saddle": 3e-05, "monkey_saddle": 0.0001, "quadratic": 0.001,
                       "bowl": 0.001, "extended_rosenbrock": 0.03})
