"""Scheduler objects of the decay family, PyTorch's names, arguments and recursive rules.

Each class's closed form is the pure function named in its docstring (``lr = base_lr * f(last_epoch)``).
"""
from __future__ import annotations

import math

from ..validation import check_hyper
from .decay import (
    ConstantFactor,
    CosineDecay,
    LinearFactor,
    MultiStepDecay,
    PolynomialDecay,
    StepDecay,
    check_real,
)
from .scheduler import LRScheduler, check_optimizer, group_lrs, non_negative


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps: :math:`\eta_t = \eta_0 \gamma^{\lfloor t/s \rfloor}`
    (closed form :class:`StepDecay`).

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        :math:`s`, >= 1.
    gamma : float, default 0.1
        In (0, 1].
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        closed = StepDecay(step_size, gamma)
        self.step_size, self.gamma = closed.step_size, closed.gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return group_lrs(self)
        return [lr * self.gamma for lr in group_lrs(self)]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` at each milestone: :math:`\eta_t = \eta_0 \gamma^{\#\{m_i \le t\}}`
    (closed form :class:`MultiStepDecay`).

    Parameters
    ----------
    optimizer : Optimizer
    milestones : sequence of int
        Steps where the rate decays (>= 0; repeated milestones decay once per occurrence).
    gamma : float, default 0.1
        In (0, 1].
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        closed = MultiStepDecay(milestones, gamma)
        self.milestones, self.gamma = closed.milestones, closed.gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        if not hits:
            return group_lrs(self)
        return [lr * self.gamma ** hits for lr in group_lrs(self)]

    def _closed_form_lr(self) -> list[float]:
        decays = MultiStepDecay(self.milestones, self.gamma)
        return [base * decays(self.last_epoch) for base in self.base_lrs]


class ConstantLR(LRScheduler):
    r"""The rate times ``factor`` until ``total_iters``, then the full rate (closed form :class:`ConstantFactor`).

    Parameters
    ----------
    optimizer : Optimizer
    factor : float, default 1/3
        In (0, 1].
    total_iters : int, default 5
        >= 0.
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1):
        closed = ConstantFactor(factor, total_iters)
        self.factor, self.total_iters = closed.scale, closed.total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in group_lrs(self)]
        if self.last_epoch != self.total_iters:
            return group_lrs(self)
        return [lr * (1.0 / self.factor) for lr in group_lrs(self)]

    def _closed_form_lr(self) -> list[float]:
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class LinearLR(LRScheduler):
    r"""The factor moves linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps
    (closed form :class:`LinearFactor`): :math:`\eta_t = \eta_0 (a + (b - a)\min(t, T)/T)`.

    Parameters
    ----------
    optimizer : Optimizer
    start_factor : float, default 1/3
        In (0, 1].
    end_factor : float, default 1.0
        In [0, 1].
    total_iters : int, default 5
        >= 1.
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5,
                 last_epoch: int = -1):
        closed = LinearFactor(start_factor, end_factor, total_iters)
        self.start_factor, self.end_factor, self.total_iters = closed.start_factor, closed.end_factor, \
            closed.total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in group_lrs(self)]
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_lrs(self)
        change = self.end_factor - self.start_factor
        return [lr * (1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change))
                for lr in group_lrs(self)]

    def _closed_form_lr(self) -> list[float]:
        return [base * (self.start_factor + (self.end_factor - self.start_factor)
                        * min(self.total_iters, self.last_epoch) / self.total_iters) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every step: :math:`\eta_t = \eta_0 \gamma^t` (closed form
    :class:`ExponentialDecay`).

    Parameters
    ----------
    optimizer : Optimizer
    gamma : float
        In (0, 1].
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = check_real(gamma, "gamma", 0.0, 1.0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return group_lrs(self)
        return [lr * self.gamma for lr in group_lrs(self)]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Polynomial decay to 0 over ``total_iters`` steps: :math:`\eta_t = \eta_0 (1 - \min(t, T)/T)^p`
    (closed form :class:`PolynomialDecay`).

    Parameters
    ----------
    optimizer : Optimizer
    total_iters : int, default 5
        >= 1.
    power : float, default 1.0
        In [0, 100].
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        closed = PolynomialDecay(total_iters, power)
        self.total_iters, self.power = closed.total_iters, closed.power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_lrs(self)
        decay = ((1.0 - self.last_epoch / self.total_iters) / (1.0 - (self.last_epoch - 1) / self.total_iters)) \
            ** self.power
        return [lr * decay for lr in group_lrs(self)]

    def _closed_form_lr(self) -> list[float]:
        return [base * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing (Loshchilov & Hutter, 2017) from the base rate to ``eta_min`` over ``T_max`` steps:

    .. math:: \eta_t = \eta_\min + (\eta_0 - \eta_\min)\,\frac{1 + \cos(\pi t / T_\max)}{2}

    As in PyTorch, the rate rises again after ``T_max`` (a period of ``2 T_max``); :class:`CosineDecay`
    is the closed form up to ``T_max`` (``final = eta_min / base_lr``), which stays at its floor after it.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        >= 1.
    eta_min : float, default 0.0
        >= 0.
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max = CosineDecay(T_max).total
        self.eta_min = non_negative(eta_min, "eta_min")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, period = self.last_epoch, self.T_max
        if self._is_initial:
            return group_lrs(self)
        if self._step_count == 1 and t > 0:
            return [self.eta_min + (base - self.eta_min) * (1 + math.cos(t * math.pi / period)) / 2
                    for base in self.base_lrs]
        if (t - 1 - period) % (2 * period) == 0:
            return [lr + (base - self.eta_min) * (1 - math.cos(math.pi / period)) / 2
                    for base, lr in zip(self.base_lrs, group_lrs(self))]
        return [(1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
                * (lr - self.eta_min) + self.eta_min for lr in group_lrs(self)]

    def _closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base in self.base_lrs]


class LambdaLR(LRScheduler):
    r"""The base rate times a function of the step: :math:`\eta_t = \eta_0 \lambda(t)`; any fastopt
    :class:`Schedule` (warm-up, WSD, one-cycle, ...) is such a function.

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callable
        ``t -> factor``, one for all groups or one per group.  The callables are not saved in
        ``state_dict`` (as in PyTorch, except for the attributes of callable objects, also kept here).
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def _unsaved(self) -> tuple[str, ...]:
        return ("optimizer", "lr_lambdas")


class MultiplicativeLR(LRScheduler):
    r"""Multiply the rate by a function of the step at each step: :math:`\eta_t = \eta_{t-1} \lambda(t)`
    (closed form :class:`Multiplicative`).

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callable
        ``t -> multiplier``, one for all groups or one per group (not saved in ``state_dict``).
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        self.lr_lambdas = _lambdas(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return group_lrs(self)
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, group_lrs(self))]

    def _unsaved(self) -> tuple[str, ...]:
        return ("optimizer", "lr_lambdas")


def _lambdas(optimizer, lr_lambda) -> list:
    check_optimizer(optimizer)
    n = len(optimizer.param_groups)
    fns = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
    check_hyper(len(fns) == n, "lr_lambda", lr_lambda, f"must give one function per param group ({n})")
    for fn in fns:
        check_hyper(callable(fn), "lr_lambda", fn, "must be callable (t -> factor)")
    return fns


__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "PolynomialLR",
    "StepLR",
]
