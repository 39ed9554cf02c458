"""The schedules by the names the CLI uses, and ``apply``, which sets a factor on an optimizer's groups."""
from __future__ import annotations

import math
from numbers import Integral, Real

from ..validation import check_hyper
from .compose import WARMUP_SHAPES, Warmup, WarmupStableDecay
from .cycles import OneCycle
from .decay import (
    Constant,
    CosineDecay,
    ExponentialDecay,
    PolynomialDecay,
    Schedule,
    StepDecay,
)

SCHEDULES = ("constant", "step", "exponential", "cosine", "linear", "onecycle", "wsd")
WSD_DECAY_FRACTION = 0.2  # the decay phase of "wsd": the last fifth of the run (Hägele et al., 2024 use 10-20%)


def by_name(name: str, total: int, warmup: int = 0, warmup_shape: str = "linear") -> Schedule:
    """The schedule called ``name`` for a run of ``total`` units of t (epochs or steps), as the CLI spells them.

    ``constant``: 1; ``step``: x0.1 after each third of the run; ``exponential``: down to 1% in the last
    unit; ``cosine``: half a cosine down to 0; ``linear``: a straight line down to 0; ``onecycle``:
    :class:`OneCycle` (the rate given is the peak; it has its own warm-up, 30% of the run); ``wsd``:
    :class:`WarmupStableDecay` holding the rate, then a linear decay to 0 over the last 20%.

    Parameters
    ----------
    name : str
        One of :data:`SCHEDULES`.
    total : int
        The run's length in units of t, >= 1 (>= 2 for ``onecycle``).
    warmup : int, default 0
        Units of warm-up from 0, in [0, total).  > 0 wraps the schedule (over the remaining
        ``total - warmup`` units) in a :class:`Warmup`; not with ``onecycle``.
    warmup_shape : {"linear", "cosine"}

    Returns
    -------
    Schedule

    Raises
    ------
    ValueError
        If ``total`` or ``warmup`` is out of range or not an integer, or ``name`` is unknown.
    """
    check_hyper(name in SCHEDULES, "schedule", name, f"unknown; choose from {', '.join(SCHEDULES)}")
    check_hyper(isinstance(total, Integral) and total >= 1, "total", total, "must be an integer >= 1")
    check_hyper(isinstance(warmup, Integral) and 0 <= warmup < total, "warmup", warmup,
                f"must be an integer in [0, total={total})")
    check_hyper(warmup_shape in WARMUP_SHAPES, "warmup_shape", warmup_shape, f"must be one of {WARMUP_SHAPES}")
    check_hyper(not (name == "onecycle" and warmup), "warmup", warmup,
                "must be 0 with onecycle, which has its own warm-up (the first 30% of the run)")
    units = total - warmup
    if name == "constant":
        schedule = Constant()
    elif name == "step":
        schedule = StepDecay(max(1, units // 3), gamma=0.1)
    elif name == "exponential":
        schedule = ExponentialDecay(0.01 ** (1.0 / max(1, units - 1)))
    elif name == "cosine":
        schedule = CosineDecay(units)
    elif name == "linear":
        schedule = PolynomialDecay(units, power=1.0)
    elif name == "onecycle":
        check_hyper(total >= 2, "total", total, "must be >= 2 for onecycle")
        schedule = OneCycle(total)
    else:
        schedule = WarmupStableDecay(units, 0, max(1, round(WSD_DECAY_FRACTION * units)))
    return Warmup(schedule, warmup, shape=warmup_shape) if warmup else schedule


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
