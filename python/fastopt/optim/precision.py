"""Low-precision params and optimizer state: bfloat16/float16 params (with an optional float32 master copy),
bfloat16 or 8-bit block-quantised state, and stochastic rounding.

The settings are four param-group keys, given per optimizer as keyword arguments of any optimizer whose
step is its per-element rule (``fastopt.Adam(params, state_dtype="int8")``) or per group in its dict:

``state_dtype``
    ``"float32"`` (default), ``"bfloat16"``, or ``"int8"``: block-wise dynamic quantisation (Dettmers et al.,
    2022), blocks of 256 with one float32 absmax each, the signed map for state of either sign (first
    moments) and the unsigned map for non-negative state (second moments).  Tensors of fewer than
    ``MIN_QUANTIZED_SIZE`` elements keep float32 state (their state is small, and a block of a few values
    quantises poorly).
``master_weights``
    Keep a float32 copy of every bfloat16/float16 param; the rule updates the copy and the param gets its
    rounded value in the same pass (no effect on float32 params).
``stochastic_rounding``
    Round bfloat16 writes (params without a master copy, and bfloat16 state) stochastically: up with
    probability equal to the dropped fraction, so the rounding is unbiased, reproducible per step from
    ``rounding_seed``, the step count, the param's name and the element's index (not the thread count).
``rounding_seed``
    The seed of stochastic rounding (an int in [0, 2**64)).

The native step (``fastopt._core.precision.step``) loads each tile of the params, grads and state into
float32, runs the optimizer's own rule, and stores the results back in their precision, in one pass.
"""
from __future__ import annotations

import functools
import math
import numbers
import zlib

import numpy as np

from .. import _core

STATE_DTYPES = ("float32", "bfloat16", "int8")
DEFAULTS = {"state_dtype": "float32", "master_weights": False, "stochastic_rounding": False, "rounding_seed": 0}
KEYS = frozenset(DEFAULTS)
MIN_QUANTIZED_SIZE = 4096  # elements, as bitsandbytes' min_8bit_size
BLOCK_SIZE = _core.precision.block_size
# State that is never negative (second moments, accumulated squares, step sizes): the unsigned 8-bit map.
UNSIGNED_SLOTS = frozenset({"exp_avg_sq", "max_exp_avg_sq", "exp_inf", "exp_avg_var", "square_avg", "acc_delta", "sum",
                            "step_size"})
# State that is an average of params (ASGD's ax): 8 bits would lose the params' own precision.
PARAM_LIKE_SLOTS = frozenset({"ax"})
MASTER = "master"  # the state key of the float32 master copies


def absmax_key(slot: str) -> str:
    """The state key of the block absmax arrays of an 8-bit slot."""
    return f"{slot}_absmax"


def bfloat16():
    """The ``ml_dtypes.bfloat16`` NumPy dtype (ImportError naming the extra when ml_dtypes is missing)."""
    try:
        import ml_dtypes
    except ImportError:
        raise ImportError("bfloat16 arrays need the ml_dtypes package: pip install 'fastopt[lowprec]'") from None
    return np.dtype(ml_dtypes.bfloat16)


def is_low_precision(a) -> bool:
    """Whether ``a`` is a bfloat16 or float16 NumPy array."""
    return isinstance(a, np.ndarray) and a.dtype.itemsize == 2 and a.dtype.name in ("bfloat16", "float16")


def with_precision_arguments(init):
    """``init`` (an optimizer's ``__init__``) also taking the precision settings as keyword arguments, which
    become the defaults of its param groups (a group's own keys override them)."""
    @functools.wraps(init)
    def __init__(self, params, *args, state_dtype=None, master_weights=None, stochastic_rounding=None,
                 rounding_seed=None, **kwargs):
        given = {k: v for k, v in (("state_dtype", state_dtype), ("master_weights", master_weights),
                                   ("stochastic_rounding", stochastic_rounding), ("rounding_seed", rounding_seed))
                 if v is not None}
        # A subclass's __init__ calls its parent's without them: the outermost call's values stay.
        self.__dict__.setdefault("precision_defaults", dict(DEFAULTS)).update(given)
        init(self, params, *args, **kwargs)
    return __init__


# Optimizers whose Python side moves params and state outside the kernel (Schedule-Free's train/eval switch
# interpolates the params with z in NumPy, which would bypass a master copy and round at every switch).
OUTSIDE_THE_KERNEL = frozenset({"schedulefree_sgd", "schedulefree_adamw"})


def supports(spec) -> bool:
    """Whether the optimizer of ``spec`` has a low-precision step (its step is one per-element rule, or the
    cautious rescale's count and one such rule)."""
    return isinstance(spec, _core.optim.Spec) and _core.precision.supports(spec) and spec.name not in OUTSIDE_THE_KERNEL


class LowPrecisionParams:
    """Whether a group's params include bfloat16/float16 arrays, found once per params list: a step asks for
    every group, and scanning 10,000 arrays each time would cost more than the step of a float32 group."""

    def __init__(self):
        self._seen = {}  # id(params) -> (params, its length, the answer); holding params keeps the id unique

    def __call__(self, params: list) -> bool:
        hit = self._seen.get(id(params))
        if hit is None or hit[0] is not params or hit[1] != len(params):
            hit = self._seen[id(params)] = (params, len(params), any(map(is_low_precision, params)))
        return hit[2]


def check_group(spec, group: dict, class_name: str, low_precision: LowPrecisionParams) -> None:
    """Raise TypeError/ValueError naming the setting unless the group's precision settings are valid for it."""
    state_dtype = group["state_dtype"]
    if not isinstance(state_dtype, str) or state_dtype not in STATE_DTYPES:
        raise ValueError(f"state_dtype: expected one of {', '.join(map(repr, STATE_DTYPES))}, got {state_dtype!r}")
    for key in ("master_weights", "stochastic_rounding"):
        if not isinstance(group[key], (bool, np.bool_)):
            raise TypeError(f"{key}: expected a bool, got {type(group[key]).__name__} {group[key]!r}")
    seed = group["rounding_seed"]
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**64:
        raise ValueError(f"rounding_seed: expected an integer in [0, 2**64), got {seed!r}")
    asked = state_dtype != "float32" or group["master_weights"] or group["stochastic_rounding"]
    if not supports(spec) and (asked or low_precision(group["params"])):
        what = "state_dtype" if state_dtype != "float32" else "master_weights" if group["master_weights"] else \
            "stochastic_rounding" if group["stochastic_rounding"] else "bfloat16/float16 params"
        raise ValueError(f"{what}: {class_name} has no low-precision step (its step reduces over whole tensors or "
                         "moves arrays outside its per-element rule); use float32 params and state_dtype='float32'")
    if asked and any(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in group["params"]):
        raise ValueError("state_dtype/master_weights/stochastic_rounding: not for float64 params (float32, bfloat16 "
                         "or float16)")
    if state_dtype == "int8" and any(init is None or slot in PARAM_LIKE_SLOTS for slot, init in spec.slots(group)):
        raise ValueError(f"state_dtype: 'int8' does not suit {class_name}, whose state is a copy or an average of the "
                         "params (8 bits would lose their precision); use 'bfloat16' or 'float32'")
    if state_dtype == "bfloat16":
        bfloat16()


def uses_mixed_step(group: dict, low_precision: LowPrecisionParams) -> bool:
    """Whether a (host) group steps through the mixed-precision kernel rather than the float32/float64 one."""
    return group["state_dtype"] != "float32" or low_precision(group["params"])


def _state_array(p: np.ndarray, fill, slot: str, state_dtype: str) -> tuple:
    """(state array, absmax array or None) of one slot of param ``p``, starting at ``fill`` (None: the param)."""
    start = p.astype(np.float32) if fill is None else np.full(p.shape, fill, np.float32)
    if state_dtype == "bfloat16":
        return start.astype(bfloat16()), None
    if state_dtype == "int8" and p.size >= MIN_QUANTIZED_SIZE:
        codes, absmax = _core.precision.quantize(start, slot not in UNSIGNED_SLOTS)
        return codes.reshape(p.shape), absmax
    return start, (np.zeros(0, np.float32) if state_dtype == "int8" else None)


def new_slots(spec, group: dict, have: dict) -> dict:
    """The state of a mixed-precision group: the Spec's slots in ``group["state_dtype"]`` (8-bit ones with their
    absmax under ``absmax_key(slot)``), and the float32 master copies under ``MASTER`` when asked; slots in
    ``have`` are kept."""
    out = {}
    for slot, fill in spec.slots(group):
        if slot in have:
            if group["params"] and (have[slot][0].dtype, have[slot][0].shape) != \
                    expected_state(spec, group, slot, group["params"][0]):
                raise ValueError(f"state_dtype: the state '{slot}' was made as {have[slot][0].dtype}, not as "
                                 f"state_dtype={group['state_dtype']!r} asks; set state_dtype before the first step")
            out[slot] = have[slot]
            if absmax_key(slot) in have:
                out[absmax_key(slot)] = have[absmax_key(slot)]
            continue
        made = [_state_array(p, fill, slot, group["state_dtype"]) for p in group["params"]]
        out[slot] = [a for a, _ in made]
        if group["state_dtype"] == "int8":
            out[absmax_key(slot)] = [m for _, m in made]
    if group["master_weights"]:
        # A float32 param has no copy: an empty array keeps the list aligned with the params.
        out[MASTER] = have.get(MASTER) or [p.astype(np.float32) if is_low_precision(p) else np.zeros(0, np.float32)
                                           for p in group["params"]]
    return out


def expected_state(spec, group: dict, key: str, p: np.ndarray) -> tuple | None:
    """(dtype, shape) that state ``key`` of param ``p`` has in this group, or None if the group keeps no such state."""
    state_dtype, slots = group["state_dtype"], [s for s, _ in spec.slots(group)]
    if key == MASTER:
        return (np.dtype(np.float32), p.shape if is_low_precision(p) else (0,)) if group["master_weights"] else None
    quantised = state_dtype == "int8" and p.size >= MIN_QUANTIZED_SIZE
    if key.endswith("_absmax") and key[:-len("_absmax")] in slots and state_dtype == "int8":
        return np.dtype(np.float32), ((math.ceil(p.size / BLOCK_SIZE),) if quantised else (0,))
    if key not in spec.slot_names:
        return None
    dtype = bfloat16() if state_dtype == "bfloat16" else np.dtype(np.uint8) if quantised else np.dtype(np.float32)
    return dtype, p.shape


def as_saved(a, dtype):
    """``a`` as bfloat16 when ``dtype`` is and ``a`` holds its raw two bytes (NumPy's .npz files, read without
    pickle as fastopt's checkpoints are, give bfloat16 arrays back as dtype 'V2'); else ``a`` unchanged."""
    if isinstance(a, np.ndarray) and dtype is not None and dtype.name == "bfloat16" and a.dtype == np.dtype("V2"):
        return a.view(dtype)
    return a


_ID: dict = {}  # param name -> its id for stochastic rounding (CRC-32 of the name: the same in every process)


def _id_of(name) -> int:
    _ID[name] = zlib.crc32(str(name).encode())
    return _ID[name]


class MixedKernel:
    """An optimizer's Spec seen through its mixed-precision step, with the Spec's ``check``/``step`` signature
    (the state dict also holds the 8-bit absmax arrays and the master copies)."""

    def __init__(self, spec):
        self.spec = spec

    def _arguments(self, params, grads, slots, names, group):
        states = {k: v for k, v in slots.items() if k in self.spec.slot_names}
        absmax = {k: slots[absmax_key(k)] for k in states if absmax_key(k) in slots}
        ids = [_ID.get(n) or _id_of(n) for n in names]
        return (self.spec, params, grads, slots.get(MASTER), states, absmax, UNSIGNED_SLOTS, names, ids)

    def check(self, params, grads, slots, names, group, carry):
        _core.precision.check(*self._arguments(params, grads, slots, names, group), group, carry, 1)

    def step(self, params, grads, slots, names, group, carry, step, *, grad_scale=1.0, grad_limit=math.inf):
        return _core.precision.step(*self._arguments(params, grads, slots, names, group), group, carry, step,
                                    grad_scale=grad_scale, grad_limit=grad_limit,
                                    stochastic_rounding=bool(group["stochastic_rounding"]),
                                    seed=int(group["rounding_seed"]))

    def grad_sum_squares(self, params, grads, slots, names) -> float:
        """The sum of squares of the (float32, bfloat16 or float16) grads, in float64."""
        return float(sum(np.dot(v, v) for v in (np.asarray(g, np.float64).ravel() for g in grads if g is not None)))
