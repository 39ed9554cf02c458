"""StableAdamW: AdamW with per-tensor update clipping (AdaFactor's) by the RMS of g^2 / v."""
from .base import Optimizer, native
from .registry import register
from .validation import check_hyper

__all__ = ["StableAdamW"]


class StableAdamW(Optimizer):
    r"""StableAdamW (Wortsman, Dettmers, Zettlemoyer, Morcos, Farhadi & Schmidt, 2023, "Stable and low-precision
    training for large-scale vision-language models", Algorithm 2).

    AdamW whose learning rate is lowered per tensor when the gradient outruns its second-moment estimate
    (AdaFactor's update clipping, Shazeer & Stern, 2018), which removes the need for gradient clipping.
    The betas are debiased, so the moments are their own bias correction:

    .. math::
        \hat\beta_i &= \beta_i \frac{1 - \beta_i^{t-1}}{1 - \beta_i^t}, \qquad g_t = \pm\nabla f(\theta_{t-1}),
        \qquad m_t = \hat\beta_1 m_{t-1} + (1-\hat\beta_1) g_t, \qquad
        v_t = \hat\beta_2 v_{t-1} + (1-\hat\beta_2) g_t^2 \\
        \mathrm{RMS}_t &= \sqrt{\operatorname{mean}\big(g_t^2 / \max(v_t, \epsilon^2)\big)}, \qquad
        \eta_t = \frac{\gamma}{\max(1, \mathrm{RMS}_t / d)}, \qquad
        \theta_t = \theta_{t-1}(1 - \eta_t\lambda) - \eta_t \frac{m_t}{\sqrt{v_t} + \epsilon}

    with the mean over each tensor separately.  As the paper's algorithm, the clipped rate :math:`\eta_t`
    also scales the weight decay (the authors' first gist decays with :math:`\gamma`).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma`.
    betas : tuple of float
        Coefficients :math:`(\beta_1, \beta_2)` of the running averages (the paper's 0.99 for :math:`\beta_2`).
    eps : float
        Term added to the denominator; its square floors :math:`v` in the RMS.
    weight_decay : float
        Decoupled weight decay :math:`\lambda`.
    clip_threshold : float
        The RMS :math:`d` above which the rate is lowered (the paper's 1).
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = native("stable_adamw")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2, clip_threshold=1.0, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      clip_threshold=clip_threshold, maximize=maximize))

    def _check(self, g):
        check_hyper(g["clip_threshold"] > 0, "clip_threshold", g["clip_threshold"], "must be > 0")


register("stable_adamw", StableAdamW, mnist_lr=1e-3, color="#b15928",
         landscape_lr={"rosenbrock": 0.01, "beale": 0.003, "himmelblau": 0.01, "rastrigin": 1, "ackley": 1,
                       "booth": 0.01, "goldstein_price": 0.003, "six_hump_camel": 0.1,
                       "styblinski_tang": 0.003, "saddle": 0.003, "monkey_saddle": 0.003, "quadratic": 0.003,
                       "bowl": 0.003, "extended_rosenbrock": 0.01})
