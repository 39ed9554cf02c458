"""Prodigy: Adam with a learned step size, the estimated distance to the solution."""
import math

from .base import Optimizer, native
from .registry import register
from .validation import check_hyper

__all__ = ["Prodigy"]


class Prodigy(Optimizer):
    r"""Prodigy (Mishchenko & Defazio, 2024, "Prodigy: An Expeditiously Adaptive Parameter-Free Learner"), the
    authors' ``prodigyopt``.

    Adam whose step is scaled by :math:`d`, an estimate of the distance from the start :math:`\theta_0` to
    the solution that only grows, from :math:`d_0`; leave ``lr=1``.  With :math:`k` the step (from 0):

    .. math::
        g &= \pm\nabla f(\theta) (+\lambda\theta \text{ unless decouple}), \qquad
        \eta = d\,\gamma\,\big(\sqrt{1-\beta_2^{k+1}} / (1-\beta_1^{k+1}) \text{ if use\_bias\_correction}\big) \\
        m &\leftarrow \beta_1 m + d(1-\beta_1) g, \qquad v \leftarrow \beta_2 v + d^2(1-\beta_2) g^2, \qquad
        s \leftarrow \beta_3 s + \tfrac{d}{d_0}\,(d \text{ if safeguard\_warmup else } \eta)\, g \\
        r &\leftarrow \beta_3 r + \tfrac{d}{d_0}\,\eta\,\langle g, \theta_0 - \theta\rangle, \qquad
        \hat d = c\, r / \lVert s\rVert_1, \qquad
        d \leftarrow \min\big(d_{max}, \rho\, d\big), \quad d_{max} \leftarrow \max(d_{max}, \hat d) \\
        \theta &\leftarrow \theta(1 - \lambda\eta) \text{ (if decouple)} - \eta\, \frac{m}{\sqrt v + d\epsilon}

    (at the first estimate :math:`d \leftarrow \max(d, \hat d)` before the growth bound).  The inner product
    and :math:`\lVert s\rVert_1` run over every element of the param group (both dtypes) in the same native
    call as the update: the estimate is per group (prodigyopt's is over all groups, the same for one group).
    While :math:`\lVert s\rVert_1 = 0` (all gradients zero so far) the params do not move and :math:`d` keeps
    its value, as prodigyopt returns early.  ``beta1=0`` steps by :math:`\eta d\, g` and keeps no :math:`m`.
    The carried values ``d``, ``d_max``, ``d_numerator`` and ``k`` are in ``opt.state[i].carry``.
    A step where some grads are None steps the other params as one batch, whose estimate sums over them only.

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning-rate multiplier :math:`\gamma` (1: the estimate is the step size).
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2)` of the running averages of the gradient and its square.
    beta3 : float
        Decay :math:`\beta_3` of the estimate's sums; 0 means :math:`\sqrt{\beta_2}` (prodigyopt's None).
    eps : float
        Term added to the denominator (scaled by :math:`d`).
    weight_decay : float
        Weight decay :math:`\lambda`.
    decouple : bool
        Decoupled (AdamW-style) weight decay instead of an L2 term.
    use_bias_correction : bool
        Scale the step by Adam's bias correction.
    safeguard_warmup : bool
        Leave the learning rate out of :math:`s` (for warmup schedules).
    d0 : float
        Initial estimate :math:`d_0` (> 0).
    d_coef : float
        Coefficient :math:`c` of the estimate (> 0).
    growth_rate : float
        Largest factor :math:`\rho` by which :math:`d` grows per step (inf: unbounded).
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = native("prodigy")

    def __init__(self, params, lr=1.0, betas=(0.9, 0.999), beta3=0.0, eps=1e-8, weight_decay=0.0, decouple=True,
                 use_bias_correction=False, safeguard_warmup=False, d0=1e-6, d_coef=1.0, growth_rate=math.inf, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, beta3=beta3, eps=eps, weight_decay=weight_decay,
                                      decouple=decouple, use_bias_correction=use_bias_correction,
                                      safeguard_warmup=safeguard_warmup, d0=d0, d_coef=d_coef,
                                      growth_rate=growth_rate, maximize=maximize))

    def _check(self, g):
        check_hyper(0 <= g["beta3"] < 1, "beta3", g["beta3"], "must be in [0, 1) (0: sqrt(beta2))")
        check_hyper(g["d0"] > 0, "d0", g["d0"], "must be > 0")
        check_hyper(g["d_coef"] > 0, "d_coef", g["d_coef"], "must be > 0")
        check_hyper(g["growth_rate"] >= 1, "growth_rate", g["growth_rate"], "must be >= 1")


register("prodigy", Prodigy, mnist_lr=1.0, color="#a55194",
         landscape_lr={"rosenbrock": 0.03, "beale": 0.01, "himmelblau": 0.01, "rastrigin": 0.01,
                       "ackley": 0.01, "booth": 0.01, "goldstein_price": 0.01, "six_hump_camel": 0.1,
                       "styblinski_tang": 0.3, "saddle": 0.003, "monkey_saddle": 0.003, "quadratic": 0.01,
                       "bowl": 0.01, "extended_rosenbrock": 0.03})
