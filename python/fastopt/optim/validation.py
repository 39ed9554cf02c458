"""The checks every optimizer shares: hyperparameters against their kinds and ranges, and arrays that
must not share memory.  Messages name the hyperparameter or array and the rule it breaks."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .device import is_cuda_array


def check_hyper(ok: bool, name: str, value, requirement: str) -> None:
    """Raise ValueError naming a hyperparameter that fails its requirement.

    Parameters
    ----------
    ok : bool
        Whether the value passes.
    name : str
        How the message names the hyperparameter ("learning rate").
    value : object
        The value, shown with ``repr``.
    requirement : str
        What the value must satisfy ("must be >= 0").
    """
    if not ok:
        raise ValueError(f"Invalid {name}: {value!r} ({requirement})")


def check_betas(betas, count: int = 2) -> None:
    """Raise ValueError unless ``betas`` is a pair (or triple) of numbers in [0, 1).

    Parameters
    ----------
    betas : tuple or list
        The betas to check.
    count : int, default 2
        How many the optimizer takes: 2 (beta1, beta2) or 3 (beta1, beta2, beta3).
    """
    check_hyper(isinstance(betas, (tuple, list)) and len(betas) == count, "betas", betas, _EXPECTED[count])
    for i, b in enumerate(betas):
        check_hyper(0.0 <= b < 1.0, f"beta parameter at index {i}", b, "must be in [0, 1)")


_EXPECTED = {2: "expected a pair (beta1, beta2)", 3: "expected a triple (beta1, beta2, beta3)"}
_COUNT = {"pair": 2, "triple": 3}


# Hyperparameters that must be >= 0 in every optimizer that has them, with the names the errors use.
NON_NEGATIVE = {"lr": "learning rate", "eps": "epsilon value", "weight_decay": "weight_decay value",
                "momentum": "momentum value", "lr_decay": "lr_decay value",
                "momentum_decay": "momentum_decay value", "initial_accumulator_value": "initial_accumulator_value",
                "eps_root": "eps_root value"}

# Reals whose +inf means "no bound" (Prodigy's growth_rate, as prodigyopt's default).
MAY_BE_INFINITE = frozenset({"growth_rate"})


def check_value(key: str, value, kind: str) -> None:
    """Check one hyperparameter against its kind in the Spec; TypeError or ValueError naming the key.

    Parameters
    ----------
    key : str
        The hyperparameter's name.
    value : object
        Its value in the param group.
    kind : str
        ``"real"`` (a finite real number, not a bool), ``"flag"`` (a bool, or the int 0 or 1), ``"pair"``
        (two finite reals), ``"triple"`` (three), as ``Spec.hyperparameters`` gives it, or ``"custom"`` (left to
        the optimizer's ``_check``).
    """
    if kind == "custom":  # a string or None among the values: the optimizer's own _check names the choices
        return
    if kind == "flag":
        if not (isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and value in (0, 1))):
            raise TypeError(f"{key}: expected a bool, got {type(value).__name__} {value!r}")
        return
    label = NON_NEGATIVE.get(key, key)
    if kind in _COUNT:
        count = _COUNT[kind]
        check_hyper(isinstance(value, (tuple, list)) and len(value) == count, key, value, _EXPECTED[count]
                    if key == "betas" else f"expected a {kind} of real numbers")
        items = value
    else:
        items = (value,)
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"{key}: expected a real number, got {type(v).__name__} {v!r}")
        check_hyper(math.isfinite(v) or (key in MAY_BE_INFINITE and v == math.inf), label, value, "must be finite")


def check_param(name: str, a) -> None:
    """Raise TypeError or ValueError unless ``a`` can be a parameter updated in place: a plain (not
    masked) numpy.ndarray of float32, float64, bfloat16 (ml_dtypes) or float16, C-contiguous and writeable, or a CUDA array (whose checks
    ``device.check_placement`` makes with its group).

    Parameters
    ----------
    name : str
        How the message names the param (``"0"``, ``"fc.weight"``).
    a : object
        The candidate array.
    """
    if is_cuda_array(a):  # checked with its group, by fastopt._cuda (check_placement)
        return
    if not isinstance(a, np.ndarray):
        raise TypeError(f"param '{name}': expected a numpy.ndarray or a CUDA array, got {type(a).__name__}")
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"param '{name}': masked arrays are not supported (the kernels would ignore the "
                        "mask); pass the plain array")
    if a.dtype not in (np.float32, np.float64) and a.dtype.name not in ("bfloat16", "float16"):
        raise TypeError(f"param '{name}': unsupported dtype {a.dtype} (float32, float64, bfloat16 or float16 expected)")
    if not a.flags.c_contiguous:
        raise ValueError(f"param '{name}': must be C-contiguous (it is updated in place)")
    if not a.flags.writeable:
        raise ValueError(f"param '{name}': array is read-only")


def first_overlap(named_arrays: list) -> tuple[str, str] | None:
    """Names of two C-contiguous arrays whose bytes overlap (the same array twice, or two views of one
    buffer), or None.  One sort by start address: O(n log n), so 10,000 params cost milliseconds.

    Parameters
    ----------
    named_arrays : list of (str, numpy.ndarray)
        The arrays with the names the message uses.
    """
    spans = sorted((a.__array_interface__["data"][0], a.nbytes, i, name)
                   for i, (name, a) in enumerate(named_arrays) if a.nbytes)
    reach, reach_name = -1, None  # the furthest end so far, and whose it is
    for start, nbytes, _, name in spans:
        if start < reach:
            return reach_name, name
        if start + nbytes > reach:
            reach, reach_name = start + nbytes, name
    return None
