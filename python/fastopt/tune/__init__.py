"""Hyperparameter search on Optuna: grid, random and TPE samplers, pruning from per-epoch results, trials in
parallel worker processes (or on a Dask or Ray cluster), every trial stored as it ends, resumable.

::

    from fastopt.tune import MnistObjective, LandscapeObjective, parse_grid, parse_space, search
    result = search(MnistObjective(optimizer="adam", epochs=2),
                    parse_grid(["lr=1e-4,3e-4,1e-3,3e-3", "batch_size=64,128,256"]), out="tune")
    result = search(LandscapeObjective(function="rosenbrock", optimizer="adam", steps=500),
                    parse_space(["lr=loguniform:1e-4:1"]), out="tune-rosenbrock", sampler="tpe", trials=200)

Needs the ``tune`` extra (``pip install 'fastopt[tune]'``: Optuna), and ``tune-cluster`` for the Dask and
Ray executors.  ``import fastopt`` does not import this package; the space parsing works without Optuna.
"""
from .objectives import LandscapeObjective, MnistObjective
from .space import Param, Space, parse_grid, parse_space

__all__ = [
    "LandscapeObjective",
    "MnistObjective",
    "Param",
    "SearchResult",
    "Space",
    "parse_grid",
    "parse_space",
    "search",
]


def __getattr__(name):
    """``search`` and ``SearchResult`` import Optuna, so they are loaded on first use."""
    if name in ("search", "SearchResult"):
        from . import driver as module
        return getattr(module, name)
    raise AttributeError(f"module 'fastopt.tune' has no attribute {name!r}")
