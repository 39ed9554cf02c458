"""CUDA arrays in fastopt's optimizers: telling them from host arrays, making their state, and stepping
them through ``fastopt._cuda`` (built with ``-Ccmake.define.FASTOPT_CUDA=ON``).

A CUDA array is any object with ``__cuda_array_interface__`` (CuPy arrays, torch CUDA tensors, Numba
device arrays).  A param group lives wholly on the host or wholly on one GPU.  Its state is allocated by
the params' own library (CuPy or torch) on the params' device.  Neither library is imported here: an
array of theirs can only exist once its library is imported, so it is looked up in ``sys.modules``.
"""
from __future__ import annotations

import operator
import sys

import numpy as np

BUILD_HINT = ("this fastopt was built without CUDA; reinstall it with "
              "pip install --no-build-isolation -Ccmake.define.FASTOPT_CUDA=ON .")


def library_of(a) -> str:
    """The top-level module of ``a``'s type (``"numpy"``, ``"cupy"``, ``"torch"``, ...)."""
    return type(a).__module__.partition(".")[0]


def is_cuda_array(a) -> bool:
    """Whether ``a`` is an array in GPU memory (it has ``__cuda_array_interface__``; a torch tensor is CUDA)."""
    if isinstance(a, np.ndarray):
        return False
    if library_of(a) == "torch":
        return bool(getattr(a, "is_cuda", False))
    return hasattr(type(a), "__cuda_array_interface__")


def native():
    """``fastopt._cuda``; TypeError saying how to build it where it was not."""
    try:
        from .. import _cuda
    except ImportError:
        raise TypeError(f"CUDA arrays given, but {BUILD_HINT}") from None
    return _cuda


def check_placement(names: list, arrays: list, spec_name: str) -> bool:
    """Whether a param group is on a GPU; raises unless it is wholly on the host or wholly on one GPU with
    params a step can update (the checks of ``fastopt._cuda.Group``: dtype, C order, writeable, no shared memory).

    Parameters
    ----------
    names, arrays : list
        The group's param names and arrays.
    spec_name : str
        The optimizer kernel's name.
    """
    on_gpu = [is_cuda_array(a) for a in arrays]
    if not any(on_gpu):
        return False
    if not all(on_gpu):
        host = names[on_gpu.index(False)]
        gpu = names[on_gpu.index(True)]
        raise ValueError(f"param group mixes host and CUDA arrays (param '{host}' is a {type(arrays[on_gpu.index(False)]).__name__} "
                         f"in host memory, param '{gpu}' a CUDA array); put a group wholly on the host or on one GPU")
    native().Group(spec_name, list(arrays), [], list(names))
    return True


def explain_host_grads(names: list, grads) -> None:
    """Raise a TypeError naming the first CUDA array among a host group's ``grads``, if there is one."""
    for name, g in zip(names, grads or ()):
        if is_cuda_array(g):
            raise TypeError(f"grad for param '{name}': a CUDA array, but the param is a host (NumPy) array; "
                            "grads must be where their params are")


def full_like(p, fill):
    """A new array like ``p`` (same library, device, dtype and shape) filled with ``fill``."""
    if isinstance(p, np.ndarray):
        return np.full_like(p, fill)
    lib = sys.modules[library_of(p)]
    if library_of(p) == "cupy":
        with p.device:
            return lib.full_like(p, fill)
    if library_of(p) == "torch":
        return lib.full_like(p, fill, requires_grad=False)
    raise TypeError(f"cannot allocate optimizer state for a {library_of(p)} CUDA array (CuPy and torch only)")


def copy_of(a):
    """A copy of ``a`` in its own library and on its own device."""
    if isinstance(a, np.ndarray):
        return a.copy()
    if library_of(a) == "cupy":
        with a.device:
            return a.copy()
    if library_of(a) == "torch":
        return a.detach().clone()
    raise TypeError(f"cannot copy a {library_of(a)} CUDA array (CuPy and torch only)")


class DeviceSteps:
    """The CUDA counterpart of a Spec's ``check``, ``step`` and grad norm, for groups on a GPU.

    The ``fastopt._cuda.Group`` of a param group (its params and state validated once, their addresses
    kept) is cached while the group's param list, its params and its state lists are the same objects.
    Replacing a torch param's ``.data`` after the first step is not detected.

    Parameters
    ----------
    spec : fastopt._core.optim.Spec
        The optimizer's kernel.
    """

    MAX_CACHED = 64

    def __init__(self, spec):
        self.spec = spec
        self._groups: dict = {}

    def group(self, params: list, slots: dict, names: list):
        """The validated Group of these params and state lists."""
        lists = list(slots.values())
        key = (id(params), tuple(slots))
        hit = self._groups.get(key)
        if hit is not None:
            group, ref_params, ref_members, ref_lists = hit
            if ref_params is params and len(ref_members) == len(params) and all(map(operator.is_, ref_members, params)) \
                    and all(map(operator.is_, ref_lists, lists)):
                return group
        group = native().Group(self.spec.name, params, lists, names)
        if len(self._groups) >= self.MAX_CACHED:
            self._groups.clear()
        self._groups[key] = (group, params, list(params), lists)
        return group

    def check(self, params, grads, slots, names, group, carry) -> None:
        self.group(params, slots, names).check(grads)

    def step(self, params, grads, slots, names, group, carry, step, *, grad_scale=1.0, grad_limit=float("inf")):
        return self.group(params, slots, names).step(grads, group, carry, step, grad_scale=grad_scale,
                                                     grad_limit=grad_limit)

    def grad_sum_squares(self, params, grads, slots, names) -> float:
        return self.group(params, slots, names).grad_sum_squares(grads)
