"""AdEMAMix: Adam's fast momentum mixed with a slow one."""
from .base import Optimizer, native
from .registry import register
from .validation import check_hyper

__all__ = ["AdEMAMix"]


class AdEMAMix(Optimizer):
    r"""AdEMAMix (Pagliardini, Ablin & Grangier, 2024, "The AdEMAMix Optimizer: Better, Faster, Older"), as the
    authors' PyTorch code (apple/ml-ademamix).

    AdamW whose numerator adds a slow EMA of the gradient (:math:`\beta_3` close to 1, weight :math:`\alpha`)
    to the fast, bias-corrected one, so gradients thousands of steps old still count.

    .. math::
        g_t &= \pm\nabla f(\theta_{t-1}), \qquad m^{(1)}_t = \beta_1 m^{(1)}_{t-1} + (1-\beta_1) g_t, \qquad
        m^{(2)}_t = \beta_{3,t} m^{(2)}_{t-1} + (1-\beta_{3,t}) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \theta_t &= \theta_{t-1}(1-\gamma\lambda) - \gamma\,
            \frac{m^{(1)}_t/(1-\beta_1^t) + \alpha_t m^{(2)}_t}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}

    The schedulers of the paper: :math:`\alpha_t = \alpha\, t/T_\alpha` for :math:`t < T_\alpha` (``alpha_warmup``),
    and :math:`\beta_{3,t}` moves from :math:`\beta_1` to :math:`\beta_3` over :math:`T_{\beta_3}` steps
    (``beta3_warmup``) linearly in half-life space, :math:`f(\beta) = \ln(1/2)/\ln\beta - 1`,
    :math:`\beta_{3,t} = f^{-1}((1-t/T)f(\beta_1) + (t/T) f(\beta_3))`.  Both are off at 0 (the authors' None).
    ``cautious``: see :class:`~fastopt.Adam` (the mask is applied to the whole update).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`.
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2, \beta_3)` of the fast EMA, the second moment and the slow EMA.
    alpha : float
        Weight :math:`\alpha` of the slow EMA (the authors' default 2, the paper's runs 4 to 10).
    beta3_warmup : int
        Steps of the half-life warmup of beta3 (0: none).
    alpha_warmup : int
        Steps of the linear warmup of alpha (0: none).
    eps : float
        Term added to the denominator for numerical stability.
    weight_decay : float
        Decoupled weight decay :math:`\lambda` (as AdamW).
    maximize : bool
        Ascend the gradient instead of descending it.
    cautious : bool
        Mask the update components whose sign disagrees with the gradient's, rescaling the rest per tensor.
    """

    spec = native("ademamix")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999, 0.9999), alpha=2.0, beta3_warmup=0, alpha_warmup=0,
                 eps=1e-8, weight_decay=0.0, *, maximize=False, cautious=False):
        super().__init__(params, dict(lr=lr, betas=betas, alpha=alpha, beta3_warmup=beta3_warmup,
                                      alpha_warmup=alpha_warmup, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, cautious=cautious))

    def _check(self, g):
        for key in ("alpha", "beta3_warmup", "alpha_warmup"):
            check_hyper(g[key] >= 0, f"{key} value", g[key], "must be >= 0")


# Registry.  MNIST rate: the class default, 97.9% test accuracy after 3 epochs (constant rate, batches of 128,
# MLP 784-512-256-10, seed 0; 3e-4: 97.3%).  Landscape rates: tools/search_default_lr.py ademamix.
register("ademamix", AdEMAMix, mnist_lr=1e-3, color="#9edae5",
         landscape_lr={"rosenbrock": 0.03, "beale": 0.01, "himmelblau": 0.003, "rastrigin": 0.001,
                       "ackley": 0.0003, "booth": 0.03, "goldstein_price": 0.01, "six_hump_camel": 0.1,
                       "styblinski_tang": 3, "saddle": 0.001, "monkey_saddle": 0.001, "quadratic": 0.003,
                       "bowl": 0.003, "extended_rosenbrock": 0.03})
