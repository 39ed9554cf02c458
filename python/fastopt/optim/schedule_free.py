"""Schedule-Free SGD and AdamW: averaging instead of a learning-rate schedule, with a train/eval switch."""
from __future__ import annotations

from .base import Optimizer, native
from .registry import register
from .validation import check_hyper

__all__ = ["ScheduleFreeAdamW", "ScheduleFreeSGD"]

_EQUATIONS = r"""
    Three sequences: :math:`z` (the base method's iterates), :math:`x` (their weighted average: the
    point to evaluate) and :math:`y = (1-\beta)z + \beta x` (the point gradients are taken at).  The
    params hold :math:`y` while training; :meth:`eval` turns them into :math:`x` and :meth:`train` back.
    With :math:`k` the step (from 0):

    .. math::
        \gamma_k &= \gamma \min(1, (k+1)/\text{warmup\_steps}), \qquad
        \gamma_{max} = \max_{j \le k} \gamma_j, \qquad
        w_k = (k+1)^r \gamma_{max}^{p}, \qquad c_k = w_k / \textstyle\sum_{j\le k} w_j \\
        y &\leftarrow (1-c_k)\, y + c_k z + \gamma_k (\beta(1-c_k) - 1)\, d_k, \qquad
        z \leftarrow z - \gamma_k d_k
"""


class _ScheduleFree(Optimizer):
    """The train/eval switch both share (the params hold y while training, x while evaluating); a subclass names
    its interpolation coefficient in ``_beta(group)``."""

    training = True

    def _switch(self, training: bool) -> None:
        with self._lock:
            if self.training == training:
                return
            for group, state in zip(self.param_groups, self.state):
                beta = self._beta(group)
                weight = 1 - beta if training else 1 - 1 / beta  # y = lerp(x, z, 1-b); x = lerp(y, z, 1-1/b)
                for p, z in zip(group["params"], state.slots.get("z", ())):
                    p += weight * (z - p)
            self.training = training

    def train(self) -> None:
        """Make the params hold y, where gradients are taken (after :meth:`eval`; a no-op in train mode)."""
        self._switch(True)

    def eval(self) -> None:
        """Make the params hold x, the average to evaluate and to keep (a no-op in eval mode)."""
        self._switch(False)

    def step(self, grads, **options):
        """As :meth:`Optimizer.step`; RuntimeError in eval mode (call :meth:`train` first)."""
        if not self.training:
            raise RuntimeError(f"{type(self).__name__}.step: the optimizer is in eval mode (the params hold the "
                               "average x); call opt.train() before stepping")
        return super().step(grads, **options)

    def kernel_calls(self):
        """As :meth:`Optimizer.kernel_calls` (one native call per step, in train mode)."""
        if not self.training or len(self.param_groups) != 1 or self.state[0].step:
            return None
        from .state import KernelCall
        group = self.param_groups[0]
        self._validate(group)
        return [KernelCall(self.spec, {k: group[k] for k in self.defaults}, dict(self.state[0].carry))]

    def state_dict(self) -> dict:
        """As :meth:`Optimizer.state_dict`, with the mode (``"training"``)."""
        return {**super().state_dict(), "training": self.training}

    def load_state_dict(self, state_dict) -> None:
        """As :meth:`Optimizer.load_state_dict`; the mode is restored too (the params are the caller's: save them
        in the mode the state_dict was taken in)."""
        training = state_dict.get("training", True)
        if not isinstance(training, bool):
            raise TypeError(f"state_dict: 'training' must be a bool, got {training!r}")
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "training"})
        self.training = training

    def _check(self, g):
        check_hyper(g["warmup_steps"] >= 0, "warmup_steps", g["warmup_steps"], "must be >= 0")
        check_hyper(g["weight_lr_power"] >= 0, "weight_lr_power", g["weight_lr_power"], "must be >= 0")
        check_hyper(g["r"] >= 0, "r", g["r"], "must be >= 0")


class ScheduleFreeSGD(_ScheduleFree):
    __doc__ = r"""Schedule-Free SGD (Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, 2024, "The Road Less
    Scheduled"), the authors' ``SGDScheduleFree``.
    """ + _EQUATIONS + r"""
    with :math:`\beta` the ``momentum`` and :math:`d_k = \pm\nabla f(y) + \lambda y`.  Call :meth:`eval`
    before evaluating or saving the model and :meth:`train` before stepping again.

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma` (the authors' 1.0).
    momentum : float
        Interpolation :math:`\beta` between z and x, in (0, 1).
    weight_decay : float
        L2 penalty :math:`\lambda` added to the gradient at y.
    warmup_steps : float
        Steps of linear warmup of the rate.
    r : float
        Polynomial weighting :math:`r` of the average.
    weight_lr_power : float
        Power :math:`p` of the largest rate so far in the averaging weights (the authors' 2).
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = native("schedulefree_sgd")

    def __init__(self, params, lr=1.0, momentum=0.9, weight_decay=0.0, warmup_steps=0, r=0.0, weight_lr_power=2.0,
                 *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, warmup_steps=warmup_steps,
                                      r=r, weight_lr_power=weight_lr_power, maximize=maximize))

    def _beta(self, group) -> float:
        return group["momentum"]

    def _check(self, g):
        super()._check(g)
        check_hyper(0 < g["momentum"] < 1, "momentum value", g["momentum"], "must be in (0, 1)")


class ScheduleFreeAdamW(_ScheduleFree):
    __doc__ = r"""Schedule-Free AdamW (Defazio, Yang, Mehta, Mishchenko, Khaled & Cutkosky, 2024, "The Road Less
    Scheduled"), the authors' ``AdamWScheduleFree``.
    """ + _EQUATIONS + r"""
    with :math:`\beta = \beta_1`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2` and
    :math:`d_k = g / (\sqrt{v / (1-\beta_2^{k+1})} + \epsilon) + \lambda y` (the decay taken at y, after
    the normalisation, as the authors do).  Call :meth:`eval` before evaluating or saving the model and
    :meth:`train` before stepping again.

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate :math:`\gamma` (the authors' 0.0025).
    betas : tuple of float
        :math:`(\beta_1, \beta_2)`: the interpolation between z and x (in (0, 1)), and the second moment's average.
    eps : float
        Term added to the denominator.
    weight_decay : float
        Weight decay :math:`\lambda`, applied at y after the normalisation.
    warmup_steps : float
        Steps of linear warmup of the rate.
    r : float
        Polynomial weighting :math:`r` of the average.
    weight_lr_power : float
        Power :math:`p` of the largest rate so far in the averaging weights (the authors' 2).
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    spec = native("schedulefree_adamw")

    def __init__(self, params, lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, warmup_steps=0, r=0.0,
                 weight_lr_power=2.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      warmup_steps=warmup_steps, r=r, weight_lr_power=weight_lr_power,
                                      maximize=maximize))

    def _beta(self, group) -> float:
        return group["betas"][0]

    def _check(self, g):
        super()._check(g)
        check_hyper(g["betas"][0] > 0, "beta parameter at index 0", g["betas"][0], "must be > 0 (eval divides by it)")


register("schedulefree_sgd", ScheduleFreeSGD, mnist_lr=0.3, color="#e7969c",
         landscape_lr={"rosenbrock": 0.003, "beale": 0.001, "himmelblau": 0.0003, "rastrigin": 1e-05,
                       "ackley": 1, "booth": 0.0003, "goldstein_price": 1e-07, "six_hump_camel": 0.03,
                       "styblinski_tang": 0.0003, "saddle": 0.003, "monkey_saddle": 0.001, "quadratic": 0.003,
                       "bowl": 0.003, "extended_rosenbrock": 0.003})
register("schedulefree_adamw", ScheduleFreeAdamW, mnist_lr=2.5e-3, color="#d6616b",
         landscape_lr={"rosenbrock": 0.03, "beale": 0.03, "himmelblau": 0.01, "rastrigin": 1, "ackley": 3,
                       "booth": 0.03, "goldstein_price": 0.03, "six_hump_camel": 1, "styblinski_tang": 0.01,
                       "saddle": 0.003, "monkey_saddle": 0.003, "quadratic": 0.01, "bowl": 0.01,
                       "extended_rosenbrock": 0.03})
