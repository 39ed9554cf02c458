"""Decay schedules as pure functions ``schedule(t) -> factor`` of the base learning rate.

Each is the closed form of the ``torch.optim.lr_scheduler`` class named in its docstring: the rate at
``t`` is ``base_lr * schedule(t)``, where ``t`` counts epochs or steps from 0.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from numbers import Integral, Real

from ..validation import check_hyper


def check_t(t) -> int:
    """``t`` as an int, or ValueError unless it is an integer >= 0 (bools are refused).

    Parameters
    ----------
    t : int
        The 0-based epoch or step.
    """
    if isinstance(t, bool) or not isinstance(t, Integral) or t < 0:
        raise ValueError(f"Invalid t: {t!r} (must be an integer >= 0, the 0-based epoch or step)")
    return int(t)


def check_int(value, name: str, low: int) -> int:
    """``value`` as an int, or ValueError naming ``name`` unless it is an integer >= ``low``.

    Parameters
    ----------
    value : object
    name : str
    low : int
    """
    check_hyper(isinstance(value, Integral) and not isinstance(value, bool) and value >= low, name, value,
                f"must be an integer >= {low}")
    return int(value)


def check_real(value, name: str, low: float, high: float, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a float, or ValueError naming ``name`` unless it is a real number in the interval.

    Parameters
    ----------
    value : object
    name : str
    low, high : float
        The bounds.
    low_open, high_open : bool
        Whether the bound itself is excluded.
    """
    ok = (isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)
          and (value > low if low_open else value >= low) and (value < high if high_open else value <= high))
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    check_hyper(ok, name, value, f"must be a real number in {interval}")
    return float(value)


class Schedule:
    """Base of the schedules: ``schedule(t)`` validates ``t`` and returns ``float(factor(t))``.

    A schedule is a pure function of ``t``, so resuming a run needs no schedule state.  Calling one
    raises ValueError unless ``t`` is an integer >= 0.
    """

    def __call__(self, t) -> float:
        return float(self.factor(check_t(t)))

    def factor(self, t: int) -> float:
        """The multiplier of the base learning rate at ``t`` (subclasses define it; here TypeError).

        Parameters
        ----------
        t : int
            The 0-based epoch or step, >= 0 (validated by ``schedule(t)``).
        """
        raise TypeError(f"{type(self).__name__} must define factor(t)")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The base learning rate throughout: :math:`f(t) = 1`."""

    def factor(self, t: int) -> float:
        return 1.0


class StepDecay(Schedule):
    r"""PyTorch's StepLR: :math:`f(t) = \gamma^{\lfloor t / s \rfloor}`.

    Parameters
    ----------
    step_size : int
        :math:`s`, the units of t between two decays, >= 1.
    gamma : float, default 0.1
        :math:`\gamma`, the multiplier applied at each decay, in (0, 1].
    """

    def __init__(self, step_size: int, gamma: float = 0.1):
        self.step_size = check_int(step_size, "step_size", 1)
        self.gamma = check_real(gamma, "gamma", 0.0, 1.0, low_open=True)

    def factor(self, t: int) -> float:
        return self.gamma ** (t // self.step_size)


class MultiStepDecay(Schedule):
    r"""PyTorch's MultiStepLR: :math:`f(t) = \gamma^{\#\{m_i \le t\}}`, one decay at each milestone.

    Parameters
    ----------
    milestones : sequence of int
        :math:`m_i`, the values of t where a decay happens (>= 0; a repeated milestone decays twice).
    gamma : float, default 0.1
        :math:`\gamma`, in (0, 1].
    """

    def __init__(self, milestones, gamma: float = 0.1):
        check_hyper(not isinstance(milestones, (str, bytes)) and hasattr(milestones, "__iter__"), "milestones",
                    milestones, "must be a sequence of integers >= 0")
        self.milestones = sorted(check_int(m, "milestones", 0) for m in milestones)
        self.gamma = check_real(gamma, "gamma", 0.0, 1.0, low_open=True)

    def factor(self, t: int) -> float:
        return self.gamma ** bisect_right(self.milestones, t)


class ConstantFactor(Schedule):
    r"""PyTorch's ConstantLR: :math:`f(t) = c` for :math:`t < T`, then 1.

    Parameters
    ----------
    factor : float, default 1/3
        :math:`c`, in (0, 1].
    total_iters : int, default 5
        :math:`T`, >= 0.
    """

    def __init__(self, factor: float = 1.0 / 3, total_iters: int = 5):
        self.scale = check_real(factor, "factor", 0.0, 1.0, low_open=True)
        self.total_iters = check_int(total_iters, "total_iters", 0)

    def factor(self, t: int) -> float:
        return self.scale + (t >= self.total_iters) * (1 - self.scale)


class LinearFactor(Schedule):
    r"""PyTorch's LinearLR: from :math:`a` to :math:`b` linearly over :math:`T` units, then :math:`b`.

    .. math:: f(t) = a + (b - a) \min(t, T) / T

    Parameters
    ----------
    start_factor : float, default 1/3
        :math:`a`, in (0, 1].
    end_factor : float, default 1.0
        :math:`b`, in [0, 1].
    total_iters : int, default 5
        :math:`T`, >= 1.
    """

    def __init__(self, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5):
        self.start_factor = check_real(start_factor, "start_factor", 0.0, 1.0, low_open=True)
        self.end_factor = check_real(end_factor, "end_factor", 0.0, 1.0)
        self.total_iters = check_int(total_iters, "total_iters", 1)

    def factor(self, t: int) -> float:
        return (self.start_factor
                + (self.end_factor - self.start_factor) * min(self.total_iters, t) / self.total_iters)


class ExponentialDecay(Schedule):
    r"""PyTorch's ExponentialLR: :math:`f(t) = \gamma^t`.

    Parameters
    ----------
    gamma : float
        :math:`\gamma`, the multiplier per unit of t, in (0, 1].
    """

    def __init__(self, gamma: float):
        self.gamma = check_real(gamma, "gamma", 0.0, 1.0, low_open=True)

    def factor(self, t: int) -> float:
        return self.gamma ** t


class PolynomialDecay(Schedule):
    r"""PyTorch's PolynomialLR: :math:`f(t) = (1 - \min(t, T)/T)^p`.

    Parameters
    ----------
    total_iters : int, default 5
        :math:`T`, >= 1.
    power : float, default 1.0
        :math:`p`, in [0, 100].
    """

    def __init__(self, total_iters: int = 5, power: float = 1.0):
        self.total_iters = check_int(total_iters, "total_iters", 1)
        self.power = check_real(power, "power", 0.0, 100.0)

    def factor(self, t: int) -> float:
        return (1.0 - min(self.total_iters, t) / self.total_iters) ** self.power


class CosineDecay(Schedule):
    r"""Half a cosine from 1 down to ``final`` over ``total`` units of t, then ``final``.

    .. math:: f(t) = f_\text{final} + (1 - f_\text{final})\,\frac{1 + \cos(\pi \min(t, T) / T)}{2}

    (Loshchilov & Hutter, 2017, "SGDR", without restarts.)  PyTorch's CosineAnnealingLR up to ``T_max``
    with ``eta_min = final * base_lr``; past ``T_max`` PyTorch's rate rises again, this one stays at its floor.

    Parameters
    ----------
    total : int
        :math:`T`, the units of t the decay lasts, >= 1.
    final : float, default 0.0
        :math:`f_\text{final}`, the multiplier from ``t = total`` on, in [0, 1].
    """

    def __init__(self, total: int, final: float = 0.0):
        self.total = check_int(total, "total", 1)
        self.final = check_real(final, "final", 0.0, 1.0)

    def factor(self, t: int) -> float:
        progress = min(t, self.total) / self.total
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * progress))


class CosineRestarts(Schedule):
    r"""PyTorch's CosineAnnealingWarmRestarts (SGDR, Loshchilov & Hutter, 2017): cosine cycles that restart.

    Cycle :math:`i` lasts :math:`T_i = T_0 m^i` units; within it, at :math:`t_\text{cur}` units since the restart,

    .. math:: f(t) = f_\text{final} + (1 - f_\text{final})\,\frac{1 + \cos(\pi t_\text{cur} / T_i)}{2}

    Parameters
    ----------
    T_0 : int
        Length of the first cycle, >= 1.
    T_mult : int, default 1
        :math:`m`, each cycle's length over the previous one's, >= 1.
    final : float, default 0.0
        :math:`f_\text{final}` (PyTorch's ``eta_min / base_lr``), in [0, 1].
    """

    def __init__(self, T_0: int, T_mult: int = 1, final: float = 0.0):
        self.T_0 = check_int(T_0, "T_0", 1)
        self.T_mult = check_int(T_mult, "T_mult", 1)
        self.final = check_real(final, "final", 0.0, 1.0)

    def factor(self, t: int) -> float:
        t_cur, t_i = t, self.T_0
        while t_cur >= t_i:  # at most log(t) cycles for T_mult > 1; integer arithmetic, exact
            t_cur -= t_i
            t_i *= self.T_mult
            if self.T_mult == 1:
                t_cur %= t_i
        return self.final + (1.0 - self.final) * (1 + math.cos(math.pi * t_cur / t_i)) / 2
