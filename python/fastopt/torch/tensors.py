"""Torch tensors as the NumPy arrays fastopt's kernels update: the checks a param and a grad must pass,
and the zero-copy views the kernels are handed.

A param is stepped in place through ``tensor.numpy()``, which shares its memory.  Dense params whose
strides are permuted (``channels_last`` weights, a transposed leaf) are stepped too: their elements fill
one span of storage, so an elementwise rule can run over that span as one flat array, provided the grad
and every state tensor lay the elements out with the same strides (the state is made that way, and a
grad laid out otherwise is copied into the param's layout, a read-only input).  Params with gaps or
overlaps in storage (a slice with a step, an expanded tensor) are refused: running over their span would
touch elements that are not theirs, and a working copy written back would cost two extra passes over
the param every step, the passes a fused step exists to avoid.
"""
from __future__ import annotations

import numpy as np
import torch

DTYPES = (torch.float32, torch.float64)


def is_dense(t: torch.Tensor) -> bool:
    """Whether ``t``'s elements fill one gap-free, non-overlapping span of storage (any stride order)."""
    dims = sorted((stride, size) for stride, size in zip(t.stride(), t.shape) if size != 1)
    expected = 1
    for stride, size in dims:
        if stride != expected:
            return False
        expected *= size
    return True


def check_param(name: str, p) -> None:
    """Raise TypeError or ValueError unless fastopt can step ``p`` in place: a dense (strided) CPU tensor of
    float32 or float64 whose elements fill one span of storage.

    Parameters
    ----------
    name : str
        How the message names the param.
    p : object
        The candidate parameter.
    """
    if not isinstance(p, torch.Tensor):
        raise TypeError(f"param {name}: expected a torch.Tensor, got {type(p).__name__}")
    if p.device.type != "cpu":
        raise ValueError(f"param {name}: is on device '{p.device}'; fastopt.torch steps CPU tensors only "
                         "(use torch.optim for tensors on other devices)")
    if p.layout != torch.strided:
        raise ValueError(f"param {name}: layout {p.layout} is not supported (dense strided tensors only)")
    if p.dtype not in DTYPES:
        raise TypeError(f"param {name}: unsupported dtype {p.dtype}; fastopt.torch steps torch.float32 and "
                        "torch.float64 params (keep a float32 master copy for half-precision models)")
    if not is_dense(p):
        raise ValueError(f"param {name}: its elements do not fill one span of storage (strides {p.stride()} for "
                         f"shape {tuple(p.shape)}, a sliced or expanded view); pass a contiguous tensor, e.g. "
                         "torch.nn.Parameter(t.contiguous())")


def array_of(t: torch.Tensor) -> np.ndarray:
    """The NumPy array sharing ``t``'s memory: ``t`` itself when C-contiguous, else the flat span of a dense
    tensor (elements in storage order, which is what an elementwise rule needs)."""
    t = t.detach()
    if not t.is_contiguous():
        t = t.as_strided((t.numel(),), (1,))
    return t.numpy()


def grad_address(name: str, p: torch.Tensor, g: torch.Tensor, dtype: torch.dtype, numel: int, keep: list) -> int:
    """The data address the kernel reads ``p``'s gradient from: the grad's own memory when it is C-contiguous
    and of the param's dtype and size (checked here, per step: the kernel trusts the address), else a copy in
    the param's layout (appended to ``keep``, which must outlive the kernel call).

    Parameters
    ----------
    name : str
        How messages name the param.
    p : torch.Tensor
        The param.
    g : torch.Tensor
        Its gradient.
    dtype, numel
        The param's dtype and size when it is C-contiguous (as the step's plan recorded them); None for a
        dense param laid out otherwise, whose grad takes the checked path.
    keep : list
        Receives the arrays made here.
    """
    if dtype is not None and g.dtype is dtype and g.numel() == numel:
        try:
            if g.is_contiguous():
                return g.data_ptr()
        except RuntimeError:  # a sparse grad: grad_array says so
            pass
    a = grad_array(name, p, g, dtype is not None)
    keep.append(a)
    return a.ctypes.data


def grad_array(name: str, p: torch.Tensor, g: torch.Tensor, contiguous: bool) -> np.ndarray:
    """The NumPy view of ``p``'s gradient laid out as ``array_of(p)`` is; a copy in ``p``'s layout when the
    grad's strides differ from the param's.  Refuses sparse and non-CPU grads with a message.

    Parameters
    ----------
    name : str
        How the message names the param.
    p : torch.Tensor
        The param (checked by :func:`check_param`).
    g : torch.Tensor
        ``p.grad``; torch guarantees its shape, dtype and device equal the param's.
    contiguous : bool
        Whether ``p`` is C-contiguous (known to the caller, which asks once per param, not per step).
    """
    if contiguous:  # the common case first: one call, no attribute look-ups
        try:
            a = g.numpy()
            if a.flags.c_contiguous:
                return a
        except (TypeError, RuntimeError):  # sparse, another device, or a grad that requires grad
            pass
    if g.layout != torch.strided:
        raise ValueError(f"grad of param {name}: {g.layout} gradients are not supported (fastopt's kernels "
                         "are dense); use a dense gradient (nn.Embedding(sparse=False)) or torch.optim.SparseAdam")
    if g.device.type != "cpu" or g.dtype != p.dtype or g.shape != p.shape:
        raise ValueError(f"grad of param {name}: is a {g.dtype} tensor of shape {tuple(g.shape)} on '{g.device}', "
                         f"the param a {p.dtype} tensor of shape {tuple(p.shape)} on '{p.device}'")
    if g.stride() != p.stride():
        g = torch.empty_like(p, memory_format=torch.preserve_format).copy_(g)
    return array_of(g)
