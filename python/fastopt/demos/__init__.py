"""The challenges of optimization, one demo each: ``fastopt demo NAME --out DIR`` or, from Python,

::

    from fastopt import demos
    result = demos.run("saddle-point", out="demos/saddle")    # figures, summary.md, result.json
    print(result.text)

Each demo writes its figures, a ``summary.md`` saying what they show (with the measured numbers) and a
``result.json`` of those numbers, and returns a :class:`DemoResult`. ``quick=True`` makes a small version
in seconds (the tests and CI use it).
"""
from __future__ import annotations

from functools import partial

from .batch_noise import batch_noise_demo, noise_scale
from .convexity import convex_demo
from .gradient_flow import gradient_flow_demo, layer_gradient_norms
from .plateau import plateau_demo
from .result import DemoResult
from .saddle import saddle_point_demo
from .symmetry import symmetry_demo, unit_spread

# Name -> (what it shows, the function(out, quick=..., seed=...) that runs it).
DEMOS = {
    "vanishing-gradients": ("per-layer gradient norms of deep sigmoid/tanh networks against ReLU with He init",
                            partial(gradient_flow_demo, "vanishing")),
    "exploding-gradients": ("per-layer gradient norms when the weights are too large for the depth",
                            partial(gradient_flow_demo, "exploding")),
    "saddle-point": ("gradient descent stalling at saddles; noise, momentum and saddle-free Newton escaping",
                     saddle_point_demo),
    "plateau": ("a deep linear network's plateaus and sudden drops from small initialisation", plateau_demo),
    "symmetry": ("zero or constant initialisation never breaks the hidden units' symmetry", symmetry_demo),
    "convex": ("convex against non-convex: one minimum against Rastrigin's many, from many starts", convex_demo),
    "batch-noise": ("the gradient noise scale and the critical batch size on MNIST", batch_noise_demo),
}
DATA_DEMOS = ("vanishing-gradients", "exploding-gradients", "symmetry", "batch-noise")  # these read MNIST


def run(name: str, out, quick: bool = False, seed: int = 0, **options) -> DemoResult:
    """Run demo ``name`` into folder ``out``.

    Parameters
    ----------
    name : str
        A key of :data:`DEMOS`.
    out : path-like
        Its folder (created).
    quick : bool
        A small, fast version.
    seed : int
        Seeds whatever the demo draws.
    **options
        Passed on: ``dataset`` and ``data`` for the demos of :data:`DATA_DEMOS`, ``dpi`` for all.

    Returns
    -------
    DemoResult
    """
    if name not in DEMOS:
        raise ValueError(f"name: unknown demo {name!r} (one of {', '.join(DEMOS)})")
    if name not in DATA_DEMOS:
        options = {k: v for k, v in options.items() if k not in ("dataset", "data")}
    return DEMOS[name][1](out, quick=quick, seed=seed, **options)


__all__ = ["DEMOS", "DATA_DEMOS", "DemoResult", "run", "gradient_flow_demo", "layer_gradient_norms",
           "saddle_point_demo", "plateau_demo", "symmetry_demo", "unit_spread", "convex_demo", "batch_noise_demo",
           "noise_scale"]
