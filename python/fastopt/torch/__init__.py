"""fastopt's optimizers as drop-in ``torch.optim`` optimizers for CPU tensors.

Every optimizer of fastopt's registry is here under its class name, a subclass of
``torch.optim.Optimizer`` with the NumPy class's hyperparameters (PyTorch's names and defaults)::

    import fastopt.torch
    opt = fastopt.torch.Adam(model.parameters(), lr=1e-3)
    loss.backward(); opt.step(); opt.zero_grad()

The step runs fastopt's fused multi-tensor kernel over the tensors' own memory (no copies).  torch is
needed here only: ``import fastopt`` never imports it.
"""
from __future__ import annotations

import inspect
import re

try:
    import torch  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised without torch installed
    raise ImportError("fastopt.torch needs PyTorch: pip install 'fastopt[torch]'") from e

from .. import optim
from .optimizer import TorchOptimizer

__all__ = ["TorchOptimizer"]


# The NumPy class's ``params`` entry describes arrays; the adapter's takes what torch.optim takes.
TORCH_PARAMS = ("params : iterable of torch.Tensor, or of dicts\n"
                "    Parameters or param groups, as ``torch.optim`` takes them: dense CPU tensors of float32 or "
                "float64.\n")


def _adapter(numpy_class: type) -> type:
    """The torch.optim subclass running ``numpy_class``'s kernel, with its constructor's signature."""
    name = numpy_class.__name__
    signature = inspect.signature(numpy_class.__init__)

    def __init__(self, params, *args, **kwargs):
        TorchOptimizer.__init__(self, params, *args, **kwargs)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{name}.__init__"
    summary = (inspect.getdoc(numpy_class) or "").split("\n\n", 1)
    doc = (f"{summary[0]}\n\nfastopt's fused kernel as a ``torch.optim.Optimizer`` over CPU float32/float64 "
           f"tensors: a drop-in for ``torch.optim.{name}`` where torch has one (same state names, so state_dicts "
           f"load both ways).  The update equations and hyperparameters are those of :class:`fastopt.{name}`."
           + (f"\n\n{summary[1]}" if len(summary) > 1 else ""))
    doc = re.sub(r"^params : .*\n(?:    .*\n)*", TORCH_PARAMS, doc, count=1, flags=re.MULTILINE)
    return type(name, (TorchOptimizer,), {"__init__": __init__, "__doc__": doc, "_numpy_class": numpy_class,
                                          "__module__": __name__})


def _steppable(cls) -> bool:
    """A plain fastopt optimizer (a kernel and the base step), not a wrapper such as Lookahead, whose kernel takes
    the grads by address (the elementwise Spec kernels; not Muon and Adafactor, whose state is not shaped as the
    param: use torch.optim's own there)."""
    return isinstance(cls, type) and issubclass(cls, optim.Optimizer) and cls.spec is not None and \
        cls.step is optim.Optimizer.step and hasattr(cls.spec, "step_addresses")


for _entry in optim.REGISTRY.values():
    if _steppable(_entry.cls) and _entry.cls.__name__ not in globals():
        globals()[_entry.cls.__name__] = _adapter(_entry.cls)
        __all__.append(_entry.cls.__name__)
del _entry
