"""fastopt: fast, visible, understood optimizers for deep learning.

Fused C++ optimizer kernels (OpenMP across all tensors of a step, GIL released) behind a
PyTorch-like API on NumPy arrays updated in place::

    opt = fastopt.Adam(params, lr=1e-3)
    opt.step(grads)

Also: ``fastopt.nn`` (a C++ MLP), ``fastopt.datasets`` (MNIST, Fashion-MNIST), ``fastopt.train``
(``fit`` with history and checkpoints), ``fastopt.landscape`` (test functions and native
trajectories), ``fastopt.curvature`` (manifolds and Riemannian optimizers: ``fastopt.Sphere``,
``fastopt.RiemannianAdam``, ...), ``fastopt.metrics``; ``fastopt.plots`` and ``fastopt.report`` (need
the ``plot`` extra) are imported on demand.
"""
import scipy_openblas32  # noqa: F401  loads OpenBLAS, which _core links by soname, wherever pip put it

from . import _core, curvature, datasets, landscape, metrics, nn, optim, train
from ._core import get_num_threads, set_num_threads
from .curvature import (BFGS, EKFAC, KFAC, LBFGS, ConjugateGradient, NaturalGradient, Newton, OptimizeResult, RiemannianAdam, RiemannianCG,
                        RiemannianSGD, SophiaG, Sphere, Stiefel, least_squares, minimize)
from .curvature import SOAP, AdaHessian, Shampoo
from .optim import CLASSES as _OPTIMIZER_CLASSES
from .optim import EMA, Optimizer

globals().update({name: getattr(optim, name) for name in _OPTIMIZER_CLASSES})  # fastopt.Adam, ... (optim.CLASSES)

__version__ = _core.__version__


def build_info() -> dict:
    """How the native module was built: compiler, flags, OpenMP and thread count, SIMD level, CUDA."""
    return _core.build_info()


__all__ = ["__version__", "build_info", "get_num_threads", "set_num_threads", "Optimizer", "EMA", *_OPTIMIZER_CLASSES,
           "minimize", "least_squares", "OptimizeResult", "Sphere", "Stiefel", "RiemannianSGD", "RiemannianCG",
           "RiemannianAdam", "LBFGS", "BFGS", "ConjugateGradient", "Newton", "KFAC", "EKFAC", "NaturalGradient", "SophiaG",
           "curvature", "datasets", "landscape", "metrics", "nn", "optim", "train", "Shampoo", "SOAP", "AdaHessian"]
