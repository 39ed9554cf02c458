"""Cyclical schedules as pure functions: the cyclical learning rate and the one-cycle policy.

Their factors are relative to the *peak* rate: give the optimizer the peak (``max_lr``) as its ``lr``.
"""
from __future__ import annotations

import math

from ..validation import check_hyper
from .decay import Schedule, check_int, check_real

CYCLIC_MODES = ("triangular", "triangular2", "exp_range")
ANNEAL_STRATEGIES = ("cos", "linear")


class Cyclic(Schedule):
    r"""PyTorch's CyclicLR (Smith, 2017, "Cyclical learning rates"), relative to the peak rate.

    With :math:`S = s_\uparrow + s_\downarrow`, cycle :math:`c = \lfloor 1 + t/S \rfloor`, position
    :math:`x = 1 + t/S - c` and :math:`\rho = s_\uparrow / S`, the height is :math:`h = x/\rho` while rising
    (:math:`x \le \rho`) and :math:`(x - 1)/(\rho - 1)` while falling, and

    .. math:: f(t) = \ell + (1 - \ell)\, h\, \sigma

    with :math:`\sigma = 1` (``triangular``), :math:`2^{-(c - 1)}` (``triangular2``: the amplitude halves
    each cycle) or :math:`\gamma^t` (``exp_range``).  PyTorch's ``base_lr`` is :math:`\ell` times its ``max_lr``.

    Parameters
    ----------
    step_size_up : int, default 2000
        :math:`s_\uparrow`, units of t rising from :math:`\ell` to 1, >= 1.
    step_size_down : int, optional
        :math:`s_\downarrow`, units falling back (default: ``step_size_up``), >= 1.
    low : float, default 0.1
        :math:`\ell`, the factor at the bottom of a cycle, in [0, 1].
    mode : {"triangular", "triangular2", "exp_range"}
    gamma : float, default 1.0
        :math:`\gamma` of ``exp_range``, in (0, 1].
    """

    def __init__(self, step_size_up: int = 2000, step_size_down: int | None = None, low: float = 0.1,
                 mode: str = "triangular", gamma: float = 1.0):
        self.step_size_up = check_int(step_size_up, "step_size_up", 1)
        self.step_size_down = self.step_size_up if step_size_down is None else check_int(step_size_down,
                                                                                         "step_size_down", 1)
        self.low = check_real(low, "low", 0.0, 1.0)
        check_hyper(mode in CYCLIC_MODES, "mode", mode, f"must be one of {', '.join(CYCLIC_MODES)}")
        self.mode = mode
        self.gamma = check_real(gamma, "gamma", 0.0, 1.0, low_open=True)

    def factor(self, t: int) -> float:
        total = float(self.step_size_up + self.step_size_down)
        ratio = self.step_size_up / total
        cycle = math.floor(1 + t / total)
        x = 1.0 + t / total - cycle
        height = x / ratio if x <= ratio else (x - 1) / (ratio - 1)
        scale = {"triangular": 1.0, "triangular2": 1 / (2.0 ** (cycle - 1)), "exp_range": self.gamma ** t}[self.mode]
        return self.low + (1.0 - self.low) * height * scale


class OneCycle(Schedule):
    r"""PyTorch's OneCycleLR (Smith & Topin, 2017, "Super-convergence"), relative to the peak rate.

    From :math:`f_0 = 1/d` up to 1 over the first ``pct_start`` of ``total_steps``, then down to
    :math:`f_0 / d_\text{final}` at step ``total_steps - 1``; each phase anneals with
    :math:`a(s, e, p) = e + (s - e)(1 + \cos \pi p)/2` (``cos``) or :math:`s + (e - s) p` (``linear``),
    :math:`p` the fraction of the phase done.  ``three_phase`` goes up, back down to :math:`f_0`
    symmetrically, then to the floor.  Steps past ``total_steps`` are refused (as PyTorch does).

    Parameters
    ----------
    total_steps : int
        >= 2.
    pct_start : float, default 0.3
        Fraction of the steps spent rising, in (0, 1).
    anneal_strategy : {"cos", "linear"}
    div_factor : float, default 25
        :math:`d`: the start is the peak over ``div_factor``, >= 1.
    final_div_factor : float, default 1e4
        :math:`d_\text{final}`: the end is the start over ``final_div_factor``, >= 1.
    three_phase : bool, default False
    """

    def __init__(self, total_steps: int, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False):
        self.total_steps = check_int(total_steps, "total_steps", 2)
        self.pct_start = check_real(pct_start, "pct_start", 0.0, 1.0, low_open=True, high_open=True)
        check_hyper(anneal_strategy in ANNEAL_STRATEGIES, "anneal_strategy", anneal_strategy,
                    f"must be one of {', '.join(ANNEAL_STRATEGIES)}")
        self.anneal_strategy = anneal_strategy
        self.div_factor = check_real(div_factor, "div_factor", 1.0, 1e12)
        self.final_div_factor = check_real(final_div_factor, "final_div_factor", 1.0, 1e12)
        check_hyper(isinstance(three_phase, bool), "three_phase", three_phase, "must be a bool")
        self.three_phase = three_phase
        self.phases = phases(self.total_steps, self.pct_start, self.three_phase)
        check_hyper(all(b["end_step"] > a["end_step"] for a, b in zip(self.phases, self.phases[1:]))
                    and self.phases[0]["end_step"] > 0, "pct_start", pct_start,
                    f"leaves a phase without steps for total_steps={total_steps}")

    def factor(self, t: int) -> float:
        check_hyper(t < self.total_steps, "t", t, f"must be < total_steps={self.total_steps}")
        levels = {"initial_lr": 1.0 / self.div_factor, "max_lr": 1.0,
                  "min_lr": 1.0 / self.div_factor / self.final_div_factor}
        start_step = 0.0
        for i, phase in enumerate(self.phases):
            if t <= phase["end_step"] or i == len(self.phases) - 1:
                pct = (t - start_step) / (phase["end_step"] - start_step)
                return anneal(self.anneal_strategy, levels[phase["start"]], levels[phase["end"]], pct)
            start_step = phase["end_step"]
        raise AssertionError("unreachable: the last phase takes every remaining t")


def phases(total_steps: int, pct_start: float, three_phase: bool) -> list[dict]:
    """The one-cycle phases as PyTorch's OneCycleLR lays them out: where each ends and which levels it joins.

    Parameters
    ----------
    total_steps : int
    pct_start : float
    three_phase : bool

    Returns
    -------
    list of dict
        ``end_step`` (float), ``start``/``end`` (level names: ``initial_lr``, ``max_lr``, ``min_lr``) and
        ``start_momentum``/``end_momentum`` (``max_momentum`` or ``base_momentum``).
    """
    up = {"end_step": float(pct_start * total_steps) - 1, "start": "initial_lr", "end": "max_lr",
          "start_momentum": "max_momentum", "end_momentum": "base_momentum"}
    if not three_phase:
        return [up, {"end_step": total_steps - 1, "start": "max_lr", "end": "min_lr",
                     "start_momentum": "base_momentum", "end_momentum": "max_momentum"}]
    return [up, {"end_step": float(2 * pct_start * total_steps) - 2, "start": "max_lr", "end": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            {"end_step": total_steps - 1, "start": "initial_lr", "end": "min_lr",
             "start_momentum": "max_momentum", "end_momentum": "max_momentum"}]


def anneal(strategy: str, start: float, end: float, pct: float) -> float:
    r"""From ``start`` (``pct = 0``) to ``end`` (``pct = 1``): :math:`e + (s - e)(1 + \cos \pi p)/2` for ``"cos"``,
    :math:`s + (e - s) p` for ``"linear"`` (PyTorch's OneCycleLR formulas, same operation order).

    Parameters
    ----------
    strategy : {"cos", "linear"}
    start, end : float
    pct : float
    """
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start

