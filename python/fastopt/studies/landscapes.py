"""Landscape studies: optimizer paths across 2-D test functions, drawn as contour, loss, surface and animation."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .. import landscape
from ..optim import entry
from .checks import ANIMATION_SUFFIXES, beside, check_lrs, check_optimizers, figure_path

LANDSCAPE_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
MOMENTUM_OPTIMIZERS = ("sgd", "momentum", "nesterov")
# Learning-rate sensitivity: the tabulated rate (fastopt.landscape.DEFAULT_LR) times these factors, from
# too small to too large: on rosenbrock, sgd at twice its rate oscillates across the valley (its loss
# peaks near 230, from 24 at the start) without diverging; at 2.5 times it diverges.
LR_FACTORS = (0.1, 0.3, 1.0, 2.0)


@dataclass
class LandscapeResult:
    """What a landscape study ran and wrote.

    Parameters
    ----------
    function : str
        The test function's name.
    trajectories : dict
        Label -> :class:`fastopt.landscape.Trajectory`.
    files : list of Path
        The files written.
    """

    function: str
    trajectories: dict
    files: list[Path] = field(default_factory=list)


def _tabulated_lr(function: str, optimizer: str) -> float:
    """The optimizer's tabulated rate on the function (its registry entry's), else its own default rate."""
    return landscape.default_lr(function, optimizer) or entry(optimizer).hyperparameters()["lr"]


def _paths(function, optimizers, steps, lrs, noise, seed) -> dict:
    return {name: landscape.trajectory(function, name, steps=steps, lr=lrs.get(name), noise=noise, seed=seed)
            for name in optimizers}


def landscape_study(function: str = "rosenbrock", optimizers=LANDSCAPE_OPTIMIZERS, steps: int = 2000,
                    out="landscape.png", lrs=None, noise: float = 0.0, seed: int = 0, surface: bool = False,
                    animate=None, frames: int = 60, dpi: float = 100, panels: bool = False) -> LandscapeResult:
    """Paths of ``optimizers`` across ``function``: the contour map at ``out`` (.png or .svg), the loss
    curves beside it (``<out>_loss``), the 3-D surface (``<out>_surface``) with ``surface=True`` and
    an animation of ``frames`` frames at ``animate`` (.gif, or .mp4 with ffmpeg).

    Parameters
    ----------
    function : str
        A name of :func:`fastopt.landscape.functions`.
    optimizers : sequence of str
        Optimizer names, first-order or second-order (:func:`fastopt.landscape.second_order_methods`:
        drawn as a dot at every iterate; they run to their minimum or for ``steps`` iterations).
    steps : int
        Steps per trajectory.
    out : path-like
        The contour map, .png or .svg.
    lrs : dict, optional
        Optimizer -> learning rate; the others use :data:`fastopt.landscape.DEFAULT_LR`.
    noise : float
        Standard deviation of Gaussian noise added to every gradient.
    seed : int
        Seeds the noise.
    surface : bool
        Also draw the 3-D surface.
    animate : path-like, optional
        Also write an animation there.
    frames : int
        Frames of the animation.
    dpi : float
        Resolution of the figures (the animation's at most 80).
    panels : bool
        Also draw small multiples, one contour panel per optimizer (``<out>_panels``), for paths that overlap.

    Returns
    -------
    LandscapeResult
    """
    from .. import plots
    out = figure_path(out)
    if animate is not None:
        figure_path(animate, "animate", ANIMATION_SUFFIXES)
    optimizers = check_optimizers(optimizers, second_order=True)
    fn = landscape.get(function)
    paths = _paths(fn, optimizers, steps, check_lrs(lrs, optimizers), noise, seed)
    files = [out, beside(out, "loss")]
    plots.contour(fn, paths, save=files[0], dpi=dpi)
    plots.loss_curves(paths, function=fn, save=files[1], dpi=dpi)
    if panels:
        files.append(beside(out, "panels"))
        plots.contour_panels(fn, paths, save=files[-1], dpi=dpi)
    if surface:
        files.append(beside(out, "surface"))
        plots.surface(fn, paths, save=files[-1], dpi=dpi)
    if animate is not None:
        files.append(plots.animate(fn, paths, animate, frames=frames, dpi=min(dpi, 80)))
    return LandscapeResult(fn.name, paths, files)


def lr_sensitivity_study(function: str = "rosenbrock", optimizer: str = "sgd", lrs=None, steps: int = 2000,
                         out="lr_sensitivity.png", noise: float = 0.0, seed: int = 0,
                         dpi: float = 100) -> LandscapeResult:
    """One optimizer at several learning rates, in one figure.

    Parameters
    ----------
    function : str
        A name of :func:`fastopt.landscape.functions`.
    optimizer : str
        An optimizer name.
    lrs : sequence of float, optional
        Positive learning rates (default: its tabulated rate times :data:`LR_FACTORS`).
    steps : int
        Steps per trajectory.
    noise : float
        Standard deviation of Gaussian noise added to every gradient.
    seed : int
        Seeds the noise.
    out : path-like
        The figure, .png or .svg.
    dpi : float
        Resolution of the figures.

    Returns
    -------
    LandscapeResult
        Labelled ``lr=<rate>``.
    """
    from .. import plots
    out = figure_path(out)
    (optimizer,) = check_optimizers([optimizer], "optimizer")
    fn = landscape.get(function)
    if lrs is None:
        base = _tabulated_lr(fn.name, optimizer)
        lrs = [base * factor for factor in LR_FACTORS]
    lrs = sorted({float(lr) for lr in lrs})
    if not lrs or not all(math.isfinite(lr) and lr > 0 for lr in lrs):
        raise ValueError(f"lrs: expected positive learning rates, got {lrs}")
    runs = [landscape.trajectory(fn, optimizer, steps=steps, lr=lr, noise=noise, seed=seed) for lr in lrs]
    plots.lr_sensitivity(fn, runs, save=out, dpi=dpi)
    return LandscapeResult(fn.name, {f"lr={t.lr:g}": t for t in runs}, [out])


def momentum_study(function: str = "quadratic", optimizers=MOMENTUM_OPTIMIZERS, steps: int = 2000,
                   out="momentum.png", lrs=None, noise: float = 0.0, seed: int = 0,
                   dpi: float = 100) -> LandscapeResult:
    """Plain gradient descent (``sgd``) against its momentum variants: paths and losses side by side.

    Every optimizer runs at the same learning rate, sgd's tabulated one, so the figure shows what
    momentum adds to the same step size.

    Parameters
    ----------
    function : str
        A name of :func:`fastopt.landscape.functions`.
    optimizers : sequence of str
        ``sgd`` and at least one momentum variant.
    steps : int
        Steps per trajectory.
    out : path-like
        The figure, .png or .svg.
    lrs : dict, optional
        Optimizer -> learning rate, over the shared rate.
    noise : float
        Standard deviation of Gaussian noise added to every gradient.
    seed : int
        Seeds the noise.
    dpi : float
        Resolution of the figures.

    Returns
    -------
    LandscapeResult
    """
    from .. import plots
    out = figure_path(out)
    optimizers = check_optimizers(optimizers)
    if "sgd" not in optimizers or len(optimizers) < 2:
        raise ValueError(f"optimizers: expected 'sgd' and at least one momentum variant, got {optimizers}")
    fn = landscape.get(function)
    shared = _tabulated_lr(fn.name, "sgd")
    lrs = {**{name: shared for name in optimizers}, **check_lrs(lrs, optimizers)}
    paths = _paths(fn, optimizers, steps, lrs, noise, seed)
    plots.momentum_vs_gd(fn, paths, save=out, dpi=dpi)
    return LandscapeResult(fn.name, paths, [out])


def convex_study(convex: str = "quadratic", nonconvex: str = "rastrigin", optimizers=LANDSCAPE_OPTIMIZERS,
                 steps: int = 2000, out="convex_vs_nonconvex.png", noise: float = 0.0, seed: int = 0,
                 dpi: float = 100) -> dict[str, LandscapeResult]:
    """The same optimizers (each at its tabulated rate for each function) on a convex and a non-convex function.

    Parameters
    ----------
    convex, nonconvex : str
        Names of :func:`fastopt.landscape.functions`, drawn side by side.
    optimizers : sequence of str
        Optimizer names, first-order or second-order.
    steps : int
        Steps per trajectory.
    out : path-like
        The figure, .png or .svg.
    noise : float
        Standard deviation of Gaussian noise added to every gradient.
    seed : int
        Seeds the noise.
    dpi : float
        Resolution of the figures.

    Returns
    -------
    dict
        Function name -> :class:`LandscapeResult`.
    """
    from .. import plots
    out = figure_path(out)
    optimizers = check_optimizers(optimizers, second_order=True)
    functions = [landscape.get(convex), landscape.get(nonconvex)]
    runs = [_paths(fn, optimizers, steps, {}, noise, seed) for fn in functions]
    plots.convex_vs_nonconvex(functions[0], runs[0], functions[1], runs[1], save=out, dpi=dpi)
    return {fn.name: LandscapeResult(fn.name, paths, [out]) for fn, paths in zip(functions, runs)}
