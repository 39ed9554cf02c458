"""Second-order methods against first-order optimizers on a 2-D test function: their paths, and the loss
against the function evaluations each spent (the README's figures in ``docs/second_order``)."""
from __future__ import annotations

from pathlib import Path

from .. import landscape
from .checks import check_optimizers, figure_path
from .landscapes import LANDSCAPE_OPTIMIZERS, LandscapeResult

# The first-order optimizers drawn beside the second-order methods on the paths figure: plain gradient
# descent, momentum and Adam, so the contour map stays readable with every second-order method on it.
SECOND_ORDER_COMPANIONS = ("sgd", "momentum", "adam")


def _runs(fn, optimizers, steps: int) -> dict:
    """Every optimizer's trajectory on ``fn``: first-order ones at their tabulated rate for ``steps``
    steps, second-order ones to their minimum (at most ``steps`` iterations)."""
    return {name: landscape.trajectory(fn, name, steps=steps) for name in optimizers}


def default_evaluation_optimizers(function: str = "rosenbrock") -> list[str]:
    """The optimizers of the evaluations figure by default: the landscape's first-order ones
    (:data:`~fastopt.studies.LANDSCAPE_OPTIMIZERS`) and every second-order method that runs on ``function``.

    Parameters
    ----------
    function : str
        A name of :func:`fastopt.landscape.functions`.

    Returns
    -------
    list of str
    """
    return [*LANDSCAPE_OPTIMIZERS, *landscape.second_order_methods(landscape.get(function))]


def evaluations_study(function: str = "rosenbrock", optimizers=None, steps: int = 2000, out="evaluations.png",
                      dpi: float = 100) -> LandscapeResult:
    """f - f* against function evaluations for first- and second-order methods on one function.

    A first-order optimizer spends one evaluation (value and gradient) per step; a second-order method
    spends one per line-search trial, and its path ends at the minimum.

    Parameters
    ----------
    function : str
        A name of :func:`fastopt.landscape.functions` with a known minimum.
    optimizers : sequence of str, optional
        First- and second-order names (default :func:`default_evaluation_optimizers` of ``function``).
    steps : int
        Steps per first-order trajectory; the most iterations of a second-order one.
    out : path-like
        The figure, .png or .svg.
    dpi : float
        Resolution of the figure.

    Returns
    -------
    LandscapeResult

    Raises
    ------
    ValueError
        For a bad ``out``, an unknown or repeated optimizer, or a function without a known minimum.
    """
    from .. import plots
    out = figure_path(out)
    fn = landscape.get(function)
    optimizers = check_optimizers(default_evaluation_optimizers(fn.name) if optimizers is None else optimizers,
                                  second_order=True)
    runs = _runs(fn, optimizers, steps)
    plots.evaluations_vs_loss(fn, runs, save=out, dpi=dpi)
    return LandscapeResult(fn.name, runs, [out])


def second_order_study(function: str = "rosenbrock", first_order=SECOND_ORDER_COMPANIONS, steps: int = 2000,
                       out_dir="docs/second_order", dpi: float = 80) -> LandscapeResult:
    """The README's second-order figures: ``<out_dir>/paths_<function>.png`` (``first_order`` optimizers
    and every second-order method that runs on the function, on the contour map, losses against step
    beside it) and ``<out_dir>/evaluations_<function>.png`` (f - f* against function evaluations, for
    :func:`default_evaluation_optimizers`).

    Parameters
    ----------
    function : str
        A 2-D name of :func:`fastopt.landscape.functions` with a known minimum.
    first_order : sequence of str
        The first-order optimizers of the paths figure.
    steps : int
        Steps per first-order trajectory; the most iterations of a second-order one.
    out_dir : path-like
        The folder of both figures (created if needed).
    dpi : float
        Resolution of the figures.

    Returns
    -------
    LandscapeResult
        Every run (the paths figure's are a subset) and the two files.
    """
    from .. import plots
    out_dir = Path(out_dir)
    fn = landscape.get(function)
    methods = landscape.second_order_methods(fn)
    first_order = check_optimizers(first_order, "first_order")
    evaluated = default_evaluation_optimizers(fn.name)
    runs = _runs(fn, dict.fromkeys([*first_order, *evaluated]), steps)
    files = [out_dir / f"paths_{fn.name}.png", out_dir / f"evaluations_{fn.name}.png"]
    plots.first_vs_second_order(fn, {name: runs[name] for name in [*first_order, *methods]}, save=files[0], dpi=dpi)
    plots.evaluations_vs_loss(fn, {name: runs[name] for name in evaluated}, save=files[1], dpi=dpi)
    return LandscapeResult(fn.name, runs, files)
