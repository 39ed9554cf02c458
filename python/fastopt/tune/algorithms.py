"""The search algorithms and pruners, by name: Optuna's, configured once here.

Samplers: ``grid`` (every point of a ``--grid``, in Optuna's order), ``random``, ``tpe`` (the Tree-structured
Parzen Estimator, Bergstra et al., 2011).  Pruners decide from a trial's per-epoch values whether to stop
it: ``median`` (stop a trial whose value is worse than the median of earlier trials at the same epoch),
``halving`` (asynchronous successive halving, Li et al., 2018), ``none``.
"""
from __future__ import annotations

SAMPLERS = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "halving")


def make_sampler(name: str, space, seed: int):
    """The Optuna sampler called ``name``.

    Parameters
    ----------
    name : str
        One of :data:`SAMPLERS`; ``grid`` needs a grid space, the others a ``--space``.
    space : fastopt.tune.space.Space
    seed : int
        Seeds the sampler (a grid's order, random draws, TPE's start-up trials).
    """
    from ._optuna import optuna
    if name not in SAMPLERS:
        raise ValueError(f"sampler: expected one of {', '.join(SAMPLERS)}, got {name!r}")
    if (name == "grid") != space.is_grid:
        raise ValueError("sampler: --grid values are searched by the grid sampler, --space distributions by "
                         f"random or tpe; got sampler {name!r} with a {'grid' if space.is_grid else 'space'}")
    if name == "grid":
        return optuna.samplers.GridSampler(space.grid(), seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(name: str):
    """The Optuna pruner called ``name``.

    ``median``: no pruning before 2 trials finished; ``halving``: minimum
    resource 1 epoch, reduction factor 2.

    Parameters
    ----------
    name : str
        One of :data:`PRUNERS`.
    """
    from ._optuna import optuna
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
    raise ValueError(f"pruner: expected one of {', '.join(PRUNERS)}, got {name!r}")
