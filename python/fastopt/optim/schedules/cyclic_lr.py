"""Cyclical scheduler objects: CyclicLR, OneCycleLR and CosineAnnealingWarmRestarts, as in PyTorch.

CyclicLR and OneCycleLR also cycle the momentum inversely to the rate (``cycle_momentum``): the
``momentum`` of optimizers that have one (SGD, RMSprop), otherwise the first of the ``betas`` (Adam's family).
"""
from __future__ import annotations

import math

from ..validation import check_hyper
from .cycles import CYCLIC_MODES, OneCycle, anneal, phases
from .decay import CosineRestarts, check_int, check_real
from .scheduler import (
    LRScheduler,
    check_last_epoch,
    check_optimizer,
    non_negative,
    per_group,
)


def _momentum_key(optimizer, scheduler: str) -> str:
    defaults = getattr(optimizer, "defaults", optimizer.param_groups[0])
    check_hyper("momentum" in defaults or "betas" in defaults, "cycle_momentum", True,
                f"needs an optimizer with momentum or betas ({scheduler}); pass cycle_momentum=False")
    return "betas" if "betas" in defaults else "momentum"


def _set_momentum(group: dict, key: str, value: float) -> None:
    group[key] = (value, *group["betas"][1:]) if key == "betas" else value


def _fraction(value, name: str) -> float:
    return check_real(value, name, 0.0, 1.0)


class CyclicLR(LRScheduler):
    r"""The cyclical learning rate (Smith, 2017), stepped once per batch (closed form :class:`Cyclic`).

    With :math:`S = s_\uparrow + s_\downarrow`, :math:`c = \lfloor 1 + t/S \rfloor`, :math:`x = 1 + t/S - c`
    and :math:`\rho = s_\uparrow/S`: :math:`h = x/\rho` for :math:`x \le \rho`, else :math:`(x-1)/(\rho-1)`, and

    .. math:: \eta_t = \eta_\text{base} + (\eta_\text{max} - \eta_\text{base})\, h\, \sigma, \qquad
              \mu_t = \mu_\text{max} - (\mu_\text{max} - \mu_\text{base})\, h\, \sigma

    with :math:`\sigma = 1` (``triangular``), :math:`2^{1-c}` (``triangular2``) or :math:`\gamma^t` (``exp_range``).

    Parameters
    ----------
    optimizer : Optimizer
    base_lr, max_lr : float or list of float
        The bounds of the rate (>= 0), one or one per group; ``base_lr`` replaces the groups' ``lr``.
    step_size_up : int, default 2000
    step_size_down : int, optional
        Default: ``step_size_up``.
    mode : {"triangular", "triangular2", "exp_range"}
    gamma : float, default 1.0
        In (0, 1].
    scale_fn : callable, optional
        A custom :math:`\sigma` of the cycle (``scale_mode="cycle"``) or of ``t`` (``"iterations"``); replaces ``mode``.
    scale_mode : {"cycle", "iterations"}
    cycle_momentum : bool, default True
    base_momentum, max_momentum : float or list of float, defaults 0.8, 0.9
        In [0, 1].
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up: int = 2000, step_size_down: int | None = None,
                 mode: str = "triangular", gamma: float = 1.0, scale_fn=None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum=0.8, max_momentum=0.9, last_epoch: int = -1):
        check_optimizer(optimizer)
        base_lrs = per_group("base_lr", optimizer, base_lr, non_negative)
        self.max_lrs = per_group("max_lr", optimizer, max_lr, non_negative)
        up = float(check_int(step_size_up, "step_size_up", 1))
        down = up if step_size_down is None else float(check_int(step_size_down, "step_size_down", 1))
        self.total_size, self.step_ratio = up + down, up / (up + down)
        check_hyper(scale_fn is None or callable(scale_fn), "scale_fn", scale_fn, "must be callable or None")
        check_hyper(scale_fn is not None or mode in CYCLIC_MODES, "mode", mode, f"must be one of {CYCLIC_MODES}")
        check_hyper(scale_mode in ("cycle", "iterations"), "scale_mode", scale_mode, "must be 'cycle' or 'iterations'")
        self.mode, self.gamma, self.scale_fn_custom = mode, check_real(gamma, "gamma", 0.0, 1.0, low_open=True), \
            scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:  # checked before any group changes
            self.momentum_key = _momentum_key(optimizer, "CyclicLR")
            self.base_momentums = per_group("base_momentum", optimizer, base_momentum, _fraction)
            self.max_momentums = per_group("max_momentum", optimizer, max_momentum, _fraction)
        check_last_epoch(last_epoch)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        if self.cycle_momentum and last_epoch == -1:
            for high, low, group in zip(self.max_momentums, self.base_momentums, optimizer.param_groups):
                _set_momentum(group, self.momentum_key, high)
                group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        r""":math:`\sigma(x)` of the mode, or the custom ``scale_fn``.

        Parameters
        ----------
        x : float
            The cycle number (``scale_mode="cycle"``) or the step (``"iterations"``).
        """
        if self.scale_fn_custom is not None:
            return self.scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (high - base) * height * scale for base, high in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for low, high, group in zip(self.base_momentums, self.max_momentums, self.optimizer.param_groups):
                _set_momentum(group, self.momentum_key, high - (high - low) * height * scale)
        return lrs

    def _unsaved(self) -> tuple[str, ...]:
        return ("optimizer", "scale_fn_custom")


class OneCycleLR(LRScheduler):
    r"""The one-cycle policy (Smith & Topin, 2017), stepped once per batch (closed form :class:`OneCycle`).

    The rate rises from ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of the steps and
    anneals to ``max_lr / div_factor / final_div_factor`` at the last step (``cos``:
    :math:`e + (s - e)(1 + \cos \pi p)/2`, ``linear``: :math:`s + (e - s)p`); the momentum moves the other way,
    between ``max_momentum`` and ``base_momentum``.  Stepping past ``total_steps`` raises ValueError.

    Parameters
    ----------
    optimizer : Optimizer
    max_lr : float or list of float
        The peak rate (> 0), one or one per group.
    total_steps : int, optional
        Or ``epochs`` and ``steps_per_epoch``.
    epochs, steps_per_epoch : int, optional
    pct_start : float, default 0.3
    anneal_strategy : {"cos", "linear"}
    cycle_momentum : bool, default True
    base_momentum, max_momentum : float or list of float, defaults 0.85, 0.95
    div_factor : float, default 25
    final_div_factor : float, default 1e4
    three_phase : bool, default False
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, max_lr, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, last_epoch: int = -1):
        check_optimizer(optimizer)
        if total_steps is None:
            check_hyper(epochs is not None and steps_per_epoch is not None, "total_steps", total_steps,
                        "must be given, or epochs and steps_per_epoch")
            total_steps = check_int(epochs, "epochs", 1) * check_int(steps_per_epoch, "steps_per_epoch", 1)
        closed = OneCycle(total_steps, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase)
        self.total_steps, self.anneal_strategy = closed.total_steps, anneal_strategy
        self.phases = phases(closed.total_steps, closed.pct_start, closed.three_phase)
        max_lrs = per_group("max_lr", optimizer, max_lr, non_negative)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:  # checked before any group changes
            self.momentum_key = _momentum_key(optimizer, "OneCycleLR")
            highs = per_group("max_momentum", optimizer, max_momentum, _fraction)
            lows = per_group("base_momentum", optimizer, base_momentum, _fraction)
        check_last_epoch(last_epoch)
        if last_epoch == -1:
            for peak, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = peak / closed.div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / closed.final_div_factor
        if self.cycle_momentum and last_epoch == -1:
            for high, low, group in zip(highs, lows, optimizer.param_groups):
                _set_momentum(group, self.momentum_key, high)
                group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        check_hyper(t <= self.total_steps, "step", t, f"goes past total_steps={self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self.phases):
                if t <= phase["end_step"] or i == len(self.phases) - 1:
                    pct = (t - start_step) / (phase["end_step"] - start_step)
                    lrs.append(anneal(self.anneal_strategy, group[phase["start"]], group[phase["end"]], pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self.momentum_key, anneal(
                            self.anneal_strategy, group[phase["start_momentum"]], group[phase["end_momentum"]], pct))
                    break
                start_step = phase["end_step"]
        return lrs


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""SGDR (Loshchilov & Hutter, 2017): cosine cycles of :math:`T_i = T_0 m^i` steps, restarting at the base
    rate (closed form :class:`CosineRestarts`):

    .. math:: \eta_t = \eta_\min + (\eta_0 - \eta_\min)\,\frac{1 + \cos(\pi T_\text{cur} / T_i)}{2}

    ``step(epoch)`` accepts a fractional epoch (``epoch + batch / batches``), as in PyTorch.

    Parameters
    ----------
    optimizer : Optimizer
    T_0 : int
        >= 1.
    T_mult : int, default 1
        >= 1.
    eta_min : float, default 0.0
        >= 0.
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1):
        closed = CosineRestarts(T_0, T_mult)
        self.T_0, self.T_i, self.T_mult = closed.T_0, closed.T_0, closed.T_mult
        self.eta_min = non_negative(eta_min, "eta_min")
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one step, or jump to ``epoch`` (a real number >= 0).

        Parameters
        ----------
        epoch : float, optional
        """
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            epoch = non_negative(epoch, "epoch")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


__all__ = ["CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR"]
