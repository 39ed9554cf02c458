"""Learning-rate schedules: callables ``schedule(t) -> lr multiplier`` and ``apply`` to set them.

``t`` is a 0-based epoch (as :func:`fastopt.train.fit` uses them) or step; the multiplier scales each
param group's base learning rate::

    schedule = CosineDecay(total=10)
    for epoch in range(10):
        apply(optimizer, schedule(epoch))   # lr = base_lr * schedule(epoch)
        ...

A schedule is a pure function of ``t``, so resuming a run needs no schedule state.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

from .base import check_hyper


def _check_t(t) -> int:
    if isinstance(t, bool) or not isinstance(t, Integral) or t < 0:
        raise ValueError(f"Invalid t: {t!r} (must be an integer >= 0, the 0-based epoch or step)")
    return int(t)


class Schedule:
    """Base of the schedules: ``schedule(t)`` validates ``t`` and returns ``factor(t)``.

    Calling a schedule raises ValueError unless ``t`` is an integer >= 0 (bools are refused).
    """

    def __call__(self, t) -> float:
        return float(self.factor(_check_t(t)))

    def factor(self, t: int) -> float:
        """The multiplier at ``t``; subclasses define it (here it raises TypeError).

        Parameters
        ----------
        t : int
            The 0-based epoch or step, >= 0 (validated by ``schedule(t)``).

        Returns
        -------
        float
            The multiplier of the base learning rate.
        """
        raise TypeError(f"{type(self).__name__} must define factor(t)")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The base learning rate throughout: factor 1."""

    def factor(self, t: int) -> float:
        """1.0 at every ``t``.

        Parameters
        ----------
        t : int
            The 0-based epoch or step, >= 0 (validated by ``schedule(t)``).

        Returns
        -------
        float
            The multiplier of the base learning rate.
        """
        return 1.0


class StepDecay(Schedule):
    r"""Multiply by ``gamma`` every ``step_size`` units of t: :math:`\gamma^{\lfloor t / s \rfloor}` (PyTorch's StepLR).

    Parameters
    ----------
    step_size : int
        :math:`s`, the units of t between two decays, >= 1.
    gamma : float, default 0.1
        :math:`\gamma`, the multiplier applied at each decay, in (0, 1].

    Raises
    ------
    ValueError
        If a parameter is of the wrong type or out of its range.
    """

    def __init__(self, step_size: int, gamma: float = 0.1):
        check_hyper(isinstance(step_size, Integral) and step_size >= 1, "step_size", step_size, "must be an integer >= 1")
        check_hyper(isinstance(gamma, Real) and 0.0 < gamma <= 1.0, "gamma", gamma, "must be in (0, 1]")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def factor(self, t: int) -> float:
        """``gamma ** (t // step_size)``.

        Parameters
        ----------
        t : int
            The 0-based epoch or step, >= 0 (validated by ``schedule(t)``).

        Returns
        -------
        float
            The multiplier of the base learning rate.
        """
        return self.gamma ** (t // self.step_size)


class ExponentialDecay(Schedule):
    r"""Multiply by ``gamma`` every unit of t: :math:`\gamma^t` (PyTorch's ExponentialLR).

    Parameters
    ----------
    gamma : float
        :math:`\gamma`, the multiplier per unit of t, in (0, 1].

    Raises
    ------
    ValueError
        If a parameter is of the wrong type or out of its range.
    """

    def __init__(self, gamma: float):
        check_hyper(isinstance(gamma, Real) and 0.0 < gamma <= 1.0, "gamma", gamma, "must be in (0, 1]")
        self.gamma = float(gamma)

    def factor(self, t: int) -> float:
        """``gamma ** t``.

        Parameters
        ----------
        t : int
            The 0-based epoch or step, >= 0 (validated by ``schedule(t)``).

        Returns
        -------
        float
            The multiplier of the base learning rate.
        """
        return self.gamma ** t


class CosineDecay(Schedule):
    r"""Half a cosine from 1 down to ``final`` over ``total`` units of t, then ``final``.

    .. math:: f(t) = f_\text{final} + (1 - f_\text{final})\,\frac{1 + \cos(\pi \min(t, T) / T)}{2}

    (Loshchilov & Hutter, 2017, "SGDR", without restarts.)  With per-epoch use, ``total`` is the number
    of epochs: the first epoch runs at the full rate, the last ones close to ``final``.

    Parameters
    ----------
    total : int
        :math:`T`, the units of t the decay lasts, >= 1.
    final : float, default 0.0
        :math:`f_\text{final}`, the multiplier from ``t = total`` on, in [0, 1].

    Raises
    ------
    ValueError
        If a parameter is of the wrong type or out of its range.
    """

    def __init__(self, total: int, final: float = 0.0):
        check_hyper(isinstance(total, Integral) and total >= 1, "total", total, "must be an integer >= 1")
        check_hyper(isinstance(final, Real) and 0.0 <= final <= 1.0, "final", final, "must be in [0, 1]")
        self.total, self.final = int(total), float(final)

    def factor(self, t: int) -> float:
        """The cosine multiplier :math:`f(t)` above.

        Parameters
        ----------
        t : int
            The 0-based epoch or step, >= 0 (validated by ``schedule(t)``).

        Returns
        -------
        float
            The multiplier of the base learning rate.
        """
        progress = min(t, self.total) / self.total
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * progress))


class LinearWarmup(Schedule):
    """Ramp linearly from ``start`` times the rate up to the full rate over ``warmup`` units, then ``inner``.

    ``f(t) = inner(0) * (start + (1 - start) * t / warmup)`` for ``t < warmup``, ``inner(t - warmup)`` after,
    so the wrapped schedule begins where the warmup ends.

    Parameters
    ----------
    inner : Schedule
        The schedule after the warmup (any callable ``t -> factor``).
    warmup : int
        Units of t the ramp lasts, >= 0 (0: ``inner`` from the start).
    start : float, default 0.0
        The multiplier at ``t = 0``, as a fraction of ``inner(0)``, in [0, 1].

    Raises
    ------
    ValueError
        If a parameter is of the wrong type or out of its range.
    """

    def __init__(self, inner: Schedule, warmup: int, start: float = 0.0):
        check_hyper(callable(inner), "inner", inner, "must be a schedule (a callable t -> factor)")
        check_hyper(isinstance(warmup, Integral) and warmup >= 0, "warmup", warmup, "must be an integer >= 0")
        check_hyper(isinstance(start, Real) and 0.0 <= start <= 1.0, "start", start, "must be in [0, 1]")
        self.inner, self.warmup, self.start = inner, int(warmup), float(start)

    def factor(self, t: int) -> float:
        """The ramp's multiplier for ``t < warmup``, ``inner(t - warmup)`` after.

        Parameters
        ----------
        t : int
            The 0-based epoch or step, >= 0 (validated by ``schedule(t)``).

        Returns
        -------
        float
            The multiplier of the base learning rate.
        """
        if t < self.warmup:
            return self.inner(0) * (self.start + (1.0 - self.start) * t / self.warmup)
        return self.inner(t - self.warmup)


SCHEDULES = ("constant", "step", "exponential", "cosine")


def by_name(name: str, total: int, warmup: int = 0) -> Schedule:
    """The schedule called ``name`` for a run of ``total`` units of t, as the CLI spells them.

    ``constant``: 1; ``step``: x0.1 after each third of the run; ``exponential``: down to 1% in the last
    unit; ``cosine``: half a cosine down to 0.

    Parameters
    ----------
    name : {"constant", "step", "exponential", "cosine"}
        The schedule (:data:`SCHEDULES`).
    total : int
        The run's length in units of t, >= 1.
    warmup : int, default 0
        Units of linear warmup from 0, in [0, total).  > 0 wraps the decay (over the remaining
        ``total - warmup`` units) in a :class:`LinearWarmup`.

    Returns
    -------
    Schedule

    Raises
    ------
    ValueError
        If ``total`` or ``warmup`` is out of range or not an integer, or ``name`` is unknown.
    """
    check_hyper(isinstance(total, Integral) and total >= 1, "total", total, "must be an integer >= 1")
    check_hyper(isinstance(warmup, Integral) and 0 <= warmup < total, "warmup", warmup,
                f"must be an integer in [0, total={total})")
    decay_units = total - warmup
    if name == "constant":
        schedule = Constant()
    elif name == "step":
        schedule = StepDecay(max(1, decay_units // 3), gamma=0.1)
    elif name == "exponential":
        schedule = ExponentialDecay(0.01 ** (1.0 / max(1, decay_units - 1)))
    elif name == "cosine":
        schedule = CosineDecay(decay_units)
    else:
        raise ValueError(f"unknown schedule {name!r}; choose from {', '.join(SCHEDULES)}")
    return LinearWarmup(schedule, warmup) if warmup else schedule


def apply(optimizer, factor: float) -> None:
    """Set each param group's ``lr`` to its base lr times ``factor``.

    The base lr is remembered in the group as ``initial_lr`` (PyTorch's key) the first time, so it
    travels with ``optimizer.state_dict()`` and a resumed run scales the same base.

    Parameters
    ----------
    optimizer : Optimizer
        Any optimizer with ``param_groups`` (dicts holding ``lr``).
    factor : float
        The multiplier, e.g. ``schedule(t)``; finite and >= 0.

    Raises
    ------
    ValueError
        If ``factor`` is not a finite real number >= 0.
    """
    check_hyper(isinstance(factor, Real) and math.isfinite(factor) and factor >= 0.0, "lr factor", factor,
                "must be a finite number >= 0")
    for group in optimizer.param_groups:
        base = group.setdefault("initial_lr", group["lr"])
        group["lr"] = base * float(factor)
