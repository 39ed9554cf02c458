"""The runs behind the landscape tab: one optimizer's path (cached, so a slider move recomputes only the
run it changed), where a run diverged, and the (lr, momentum) grid of final losses.

Every run is :func:`fastopt.landscape.trajectory` on a built-in function: the native C++ loop.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from .. import landscape
from .state import LR_RANGE, MOMENTUM_RANGE, Settings, State, heat_axis, is_second_order

# A run has diverged once a point is not finite or lies further from the domain's centre than this many
# domain widths: far off the plot, and on a function unbounded below (the saddles) f is running to -inf.
ESCAPE_WIDTHS = 10.0


@dataclass(frozen=True)
class Run:
    """One optimizer's path as the page draws it.

    Attributes
    ----------
    name : str
        The optimizer.
    path : numpy.ndarray, shape (k, 2)
        The points up to where the run diverged (all of them if it did not).
    losses : numpy.ndarray, shape (k,)
        f at those points.
    diverged_at : int or None
        The first step whose point is not finite or escaped (see :data:`ESCAPE_WIDTHS`), or None.
    message : str
        Why a second-order method stopped, or why the run could not be made ('' otherwise).
    lr : float
        The learning rate (NaN for a second-order method).
    second_order : bool
        Whether a second-order method made it.
    """

    name: str
    path: np.ndarray
    losses: np.ndarray
    diverged_at: int | None
    message: str = ""
    lr: float = math.nan
    second_order: bool = False

    @property
    def optimizer(self) -> str:
        """The optimizer's name (what :mod:`fastopt.plots` labels a run by)."""
        return self.name


def divergence_step(path: np.ndarray, domain) -> int | None:
    """The first index of ``path`` whose point is not finite or is :data:`ESCAPE_WIDTHS` domain widths away
    from the domain's centre, or None."""
    (x0, x1), (y0, y1) = domain
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    width = max(x1 - x0, y1 - y0)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~np.all(np.isfinite(path), axis=1) | (np.max(np.abs(path - centre), axis=1) > ESCAPE_WIDTHS * width)
    hits = np.flatnonzero(bad)
    return int(hits[0]) if len(hits) else None


@functools.lru_cache(maxsize=512)  # keyed by everything that shapes a run: a slider move misses for one optimizer
def _cached_run(function: str, name: str, settings: Settings, start: tuple, steps: int, noise: float,
                seed: int) -> Run:
    fn = landscape.get(function)
    try:
        if is_second_order(name):
            t = landscape.trajectory(fn, name, x0=start, steps=steps, seed=seed)
        else:
            t = landscape.trajectory(fn, name, x0=start, steps=steps, lr=settings.lr, noise=noise, seed=seed,
                                     **settings.hyper(name))
    except ValueError as e:  # e.g. Levenberg-Marquardt on a function that is not a sum of squares
        return Run(name, np.empty((0, 2)), np.empty(0), None, str(e), second_order=is_second_order(name))
    at = divergence_step(t.path, fn.domain)
    end = len(t.path) if at is None else at
    return Run(name, t.path[:end], t.losses[:end], at, t.message, t.lr, t.second_order)


def run_of(state: State, name: str) -> Run:
    """``name``'s run under ``state`` (cached: the same settings return the same object)."""
    return _cached_run(state.function, name, state.settings_of(name), tuple(state.start), state.steps,
                       state.noise, state.seed)


def runs_of(state: State) -> dict[str, Run]:
    """Every shown optimizer's run, in drawing order."""
    return {name: run_of(state, name) for name in state.optimizers}


def loss_scale(function: str):
    """(transform, label) of the loss plot: log10(f - f*) where the minimum is known, else f itself."""
    fn = landscape.get(function)
    if fn.min_value is None:
        return (lambda f: np.asarray(f, dtype=np.float64)), "f"
    low = fn.min_value

    def gap(f):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(np.maximum(np.asarray(f, dtype=np.float64) - low, 1e-16))
    return gap, "log10(f - f*)"


@dataclass(frozen=True)
class HeatMap:
    """The final loss of a grid of runs of one optimizer over learning rate and a momentum-like parameter.

    Attributes
    ----------
    name, axis : str
        The optimizer and the second axis (``momentum`` or ``beta1``).
    lrs, momenta : numpy.ndarray
        The grid's learning rates (log-spaced) and momenta.
    final : numpy.ndarray, shape (len(momenta), len(lrs))
        The final loss on the loss plot's scale (:func:`loss_scale`); NaN where the run diverged.
    label : str
        That scale's name.
    """

    name: str
    axis: str
    lrs: np.ndarray
    momenta: np.ndarray
    final: np.ndarray
    label: str


def heat_map(state: State, name: str, lr_count: int = 25, momentum_count: int = 12, decades: float = 2.0) -> HeatMap:
    """The final loss of ``name`` on a grid: ``lr_count`` rates log-spaced ``decades`` either side of its
    current rate (within :data:`~fastopt.dashboard.state.LR_RANGE`), times ``momentum_count`` values of
    its momentum (or beta1) from 0 to 0.99; every cell one native run from the state's start.

    Raises
    ------
    ValueError
        If ``name`` is a second-order method or has neither momentum nor betas.
    """
    settings = state.settings_of(name)
    axis = None if is_second_order(name) else heat_axis(settings)
    if axis is None:
        raise ValueError(f"heat map: {name} has no learning rate and momentum (or beta1) to vary")
    centre = math.log10(settings.lr)
    low, high = max(centre - decades, math.log10(LR_RANGE[0])), min(centre + decades, math.log10(LR_RANGE[1]))
    lrs = np.logspace(low, high, lr_count)
    momenta = np.linspace(MOMENTUM_RANGE[0], 0.99, momentum_count)
    fn = landscape.get(state.function)
    transform, label = loss_scale(state.function)
    final = np.full((momentum_count, lr_count), np.nan)
    for i, m in enumerate(momenta):
        hyper = Settings(lr=None, **{axis: float(m)}, beta2=settings.beta2).hyper(name) if axis == "beta1" \
            else {"momentum": float(m)}
        for j, lr in enumerate(lrs):
            t = landscape.trajectory(fn, name, x0=state.start, steps=state.steps, lr=float(lr), noise=state.noise,
                                     seed=state.seed, **hyper)
            if divergence_step(t.path[-1:], fn.domain) is None:
                final[i, j] = transform(t.losses[-1:])[0]
    return HeatMap(name, axis, lrs, momenta, final, label)
