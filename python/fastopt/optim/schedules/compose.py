"""Warm-up, warmup-stable-decay, and composing schedules: pure functions ``t -> factor``."""
from __future__ import annotations

import math

from ..validation import check_hyper
from .decay import Schedule, check_int, check_real

WARMUP_SHAPES = ("linear", "cosine")
DECAY_SHAPES = ("linear", "cosine", "sqrt")


def ramp(shape: str, u: float) -> float:
    r"""The rise from 0 (``u = 0``) to 1 (``u = 1``): :math:`u` (``linear``) or :math:`(1 - \cos \pi u)/2` (``cosine``).

    Parameters
    ----------
    shape : {"linear", "cosine"}
    u : float
        The fraction of the ramp done, in [0, 1].
    """
    return u if shape == "linear" else 0.5 * (1.0 - math.cos(math.pi * u))


def _check_shape(shape, name: str, shapes) -> str:
    check_hyper(shape in shapes, name, shape, f"must be one of {', '.join(shapes)}")
    return shape


def _check_schedule(schedule, name: str):
    check_hyper(callable(schedule), name, schedule, "must be a schedule (a callable t -> factor)")
    return schedule


class Warmup(Schedule):
    r"""A warm-up of ``warmup`` units before any schedule, which then starts from its own beginning.

    .. math::
        f(t) = g(0)\,\bigl(a + (1 - a)\, r(t / W)\bigr) \quad (t < W), \qquad f(t) = g(t - W) \quad (t \ge W)

    with :math:`r(u) = u` (``linear``, Goyal et al., 2017) or :math:`(1 - \cos \pi u)/2` (``cosine``).

    Parameters
    ----------
    inner : callable
        :math:`g`, the schedule after the warm-up (any ``t -> factor``).
    warmup : int
        :math:`W`, units of t the ramp lasts, >= 0 (0: ``inner`` from the start).
    start : float, default 0.0
        :math:`a`, the factor at ``t = 0`` as a fraction of ``inner(0)``, in [0, 1].
    shape : {"linear", "cosine"}
        :math:`r`.
    """

    def __init__(self, inner, warmup: int, start: float = 0.0, shape: str = "linear"):
        self.inner = _check_schedule(inner, "inner")
        self.warmup = check_int(warmup, "warmup", 0)
        self.start = check_real(start, "start", 0.0, 1.0)
        self.shape = _check_shape(shape, "shape", WARMUP_SHAPES)

    def factor(self, t: int) -> float:
        if t < self.warmup:
            return self.inner(0) * (self.start + (1.0 - self.start) * ramp(self.shape, t / self.warmup))
        return self.inner(t - self.warmup)


LinearWarmup = Warmup  # the name of the first release (its shape defaults to linear)


class WarmupStableDecay(Schedule):
    r"""Warmup-stable-decay (WSD; Hu et al., 2024, "MiniCPM"; Hägele et al., 2024): ramp up, hold, then decay.

    With :math:`W` warm-up units, :math:`D` decay units in a run of :math:`T` and :math:`u = (t - (T - D))/D`:

    .. math::
        f(t) = a + (1 - a)\frac{t}{W} \ (t < W), \quad 1 \ (W \le t < T - D), \quad
        f_\text{final} + (1 - f_\text{final})\, d(\min(u, 1)) \ (t \ge T - D)

    with :math:`d(u) = 1 - u` (``linear``), :math:`(1 + \cos \pi u)/2` (``cosine``) or :math:`1 - \sqrt{u}`
    (``sqrt``, Hägele et al.'s "1-sqrt").  The last unit of the run (:math:`t = T - 1`) is at :math:`u = 1 - 1/D`.

    Parameters
    ----------
    total : int
        :math:`T`, the run's length in units of t, >= 1.
    warmup : int
        :math:`W`, >= 0.
    decay : int
        :math:`D`, >= 1, with :math:`W + D \le T`.
    final : float, default 0.0
        :math:`f_\text{final}`, in [0, 1].
    decay_shape : {"linear", "cosine", "sqrt"}
    start : float, default 0.0
        :math:`a`, the factor at ``t = 0``, in [0, 1].
    """

    def __init__(self, total: int, warmup: int, decay: int, final: float = 0.0, decay_shape: str = "linear",
                 start: float = 0.0):
        self.total = check_int(total, "total", 1)
        self.warmup = check_int(warmup, "warmup", 0)
        self.decay = check_int(decay, "decay", 1)
        check_hyper(self.warmup + self.decay <= self.total, "decay", decay,
                    f"must leave room for the warmup: warmup + decay <= total={total}")
        self.final = check_real(final, "final", 0.0, 1.0)
        self.decay_shape = _check_shape(decay_shape, "decay_shape", DECAY_SHAPES)
        self.start = check_real(start, "start", 0.0, 1.0)

    def factor(self, t: int) -> float:
        if t < self.warmup:
            return self.start + (1.0 - self.start) * t / self.warmup
        decay_start = self.total - self.decay
        if t < decay_start:
            return 1.0
        u = min(1.0, (t - decay_start) / self.decay)
        down = {"linear": 1.0 - u, "cosine": 0.5 * (1.0 + math.cos(math.pi * u)), "sqrt": 1.0 - math.sqrt(u)}
        return self.final + (1.0 - self.final) * down[self.decay_shape]


class Sequential(Schedule):
    r"""PyTorch's SequentialLR as a function: schedule :math:`k` from milestone :math:`m_k` on, restarted there.

    :math:`f(t) = g_k(t - m_k)` for :math:`m_k \le t < m_{k+1}` (:math:`m_0 = 0`).

    Parameters
    ----------
    schedules : sequence of callable
        :math:`g_0, g_1, \dots`, at least one.
    milestones : sequence of int
        :math:`m_1 < m_2 < \dots`, one fewer than the schedules, each >= 1.
    """

    def __init__(self, schedules, milestones):
        self.schedules = [_check_schedule(s, "schedules") for s in schedules]
        self.milestones = [check_int(m, "milestones", 1) for m in milestones]
        check_hyper(len(self.schedules) >= 1, "schedules", schedules, "must hold at least one schedule")
        check_hyper(len(self.milestones) == len(self.schedules) - 1, "milestones", milestones,
                    f"must be one fewer than the {len(self.schedules)} schedules")
        check_hyper(all(a < b for a, b in zip(self.milestones, self.milestones[1:])), "milestones", milestones,
                    "must be increasing")

    def factor(self, t: int) -> float:
        k = sum(t >= m for m in self.milestones)
        return self.schedules[k](t - (self.milestones[k - 1] if k else 0))


class Product(Schedule):
    r"""PyTorch's ChainedScheduler as a function: :math:`f(t) = \prod_k g_k(t)`.

    Parameters
    ----------
    *schedules : callable
        The factors multiplied, at least one.
    """

    def __init__(self, *schedules):
        check_hyper(len(schedules) >= 1, "schedules", schedules, "must hold at least one schedule")
        self.schedules = [_check_schedule(s, "schedules") for s in schedules]

    def factor(self, t: int) -> float:
        return math.prod(s(t) for s in self.schedules)


class Multiplicative(Schedule):
    r"""PyTorch's MultiplicativeLR as a function: :math:`f(t) = \prod_{i=1}^{t} h(i)`.

    The running products are memoised, so a sweep over ``t`` costs one call of ``h`` per unit.

    Parameters
    ----------
    multiplier : callable
        :math:`h`, ``int -> float``.
    """

    def __init__(self, multiplier):
        self.multiplier = _check_schedule(multiplier, "multiplier")
        self._products = [1.0]

    def factor(self, t: int) -> float:
        while len(self._products) <= t:
            self._products.append(self._products[-1] * self.multiplier(len(self._products)))
        return self._products[t]

    def __repr__(self) -> str:
        return f"Multiplicative(multiplier={self.multiplier!r})"
