"""A param group's step as fastopt's kernels take it: the NumPy views of the params that have gradients
and of their state, batched by step count, kept from step to step while nothing about them changes.

torch keeps a step count per param (a param whose ``.grad`` was None at some steps lags the others), while
a fastopt kernel call takes one step count (and one set of carried values, NAdam's ``mu_product``) for
all its tensors.  So the params with gradients are batched by (step, carried values): one kernel call
per batch, usually one.  Every param of a batch takes the same step, so batches stay batches.

The step counts (and stored carried values) of a plan's params live in one NumPy array each, and each
param's ``state["step"]`` is a 0-d tensor viewing its element: a step advances them all with one NumPy
operation instead of one torch call per param.
"""
from __future__ import annotations

import operator
from collections import defaultdict

import numpy as np
import torch

from .tensors import array_of

# What torch.optim keeps otherwise than fastopt's Spec: SGD keeps no step count (its rule needs none), and
# SGD's "momentum_steps" (whether a momentum buffer has started) is torch's "the buffer exists".
KEEPS_NO_STEP = frozenset({"sgd"})
# torch's Adagrad makes every param's state at construction (its step reads it without checking).
EAGER_STATE = frozenset({"adagrad"})
DERIVED_CARRY = {"momentum_steps": lambda state: float("momentum_buffer" in state)}


class TrackedState(defaultdict):
    """torch's ``optimizer.state`` (a defaultdict of dicts, param -> its state) that counts the changes to its
    entries, so that a step can tell in one comparison that no param's state dict was replaced or removed."""

    def __init__(self, *args):
        super().__init__(dict, *args)
        self.version = 0

    def __setitem__(self, key, value):
        self.version += 1
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.version += 1
        super().__delitem__(key)

    def clear(self):
        self.version += 1
        super().clear()

    def update(self, *args, **kwargs):
        self.version += 1
        super().update(*args, **kwargs)

    def pop(self, *args):
        self.version += 1
        return super().pop(*args)

    def popitem(self):
        self.version += 1
        return super().popitem()

    def setdefault(self, key, default=None):
        self.version += 1
        return super().setdefault(key, default)

    def __reduce__(self):  # pickled as the plain defaultdict torch keeps (the class is re-applied on load)
        return defaultdict, (dict, dict(self))


def scalar_dtype() -> torch.dtype:
    """The dtype torch.optim keeps step counts and scalar state in (float64 under a float64 default)."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def new_state_tensor(p: torch.Tensor, fill) -> torch.Tensor:
    """A state tensor for ``p`` in ``p``'s layout: filled with ``fill``, or a copy of ``p`` when None."""
    if fill is None:
        return p.detach().clone(memory_format=torch.preserve_format)
    return torch.full_like(p, fill, memory_format=torch.preserve_format)


def new_state_tensors(params: list, fill) -> list:
    """``new_state_tensor`` of each of ``params``, as views of one NumPy buffer per dtype, each view starting on a
    64-byte line: the kernel then streams a state slot through consecutive memory, tensor after tensor, and
    NumPy asks the kernel for huge pages on a large buffer, where torch's allocator takes one 4 KB-paged block
    per tensor (the memory-bound step runs measurably faster over the former)."""
    out = [None] * len(params)
    by_dtype = {}
    for i, p in enumerate(params):
        by_dtype.setdefault(p.dtype, []).append(i)
    for dtype, members in by_dtype.items():
        line = 64 // torch.empty((), dtype=dtype).element_size()
        offsets, total = [], 0
        for i in members:
            offsets.append(total)
            total += -(-params[i].numel() // line) * line
        buffer = np.empty(total + line, torch.empty((), dtype=dtype).numpy().dtype)
        start = -buffer.ctypes.data % 64 // buffer.itemsize  # malloc aligns to 16 bytes only
        buffer = torch.from_numpy(buffer)
        for i, offset in zip(members, offsets):
            p = params[i]
            view = buffer.as_strided(p.shape, p.stride(), start + offset)
            out[i] = view.copy_(p.detach()) if fill is None else view.fill_(fill)
    return out


def initial_state(spec, p: torch.Tensor, hyper: dict) -> dict:
    """A param's state before its first step, as torch.optim would make it."""
    st = {} if spec.name in KEEPS_NO_STEP else {"step": torch.tensor(0.0, dtype=scalar_dtype())}
    return {**st, **{slot: new_state_tensor(p, fill) for slot, fill in spec.slots(hyper)}}


class GroupPlan:
    """The arrays one group's step hands the kernels, built from the optimizer's ``state``.

    Parameters
    ----------
    spec : fastopt._core.optim.Spec
        The kernel.
    live : list of torch.Tensor
        The group's params that have gradients this step.
    names : list of str
        How messages name them.
    state : TrackedState
        The optimizer's ``state`` (param -> dict); entries are created here for params seen the first time.
    hyper : dict
        The group's hyperparameters (they decide which state slots exist).
    """

    def __init__(self, spec, live: list, names: list, state, hyper: dict):
        self.spec = spec
        self.params = live
        self.names = names
        self.pointers = [p.data_ptr() for p in live]
        self.slot_fills = spec.slots(hyper)
        # What a grad's fast path checks against: the dtype and size of each C-contiguous param (None otherwise).
        self.dtypes = [p.dtype if p.is_contiguous() else None for p in live]
        self.numels = [p.numel() for p in live]
        self.arrays = [array_of(p) for p in live]
        stored_carry = [k for k in spec.carry if k not in DERIVED_CARRY]
        dtype = torch.empty((), dtype=scalar_dtype()).numpy().dtype
        self.steps = np.zeros(len(live), dtype)
        self.carry = {k: np.full(len(live), v, dtype if k in stored_carry else np.float64)
                      for k, v in spec.carry.items()}
        self.states = [state[p] for p in live]  # each param's state dict
        for i, st in enumerate(self.states):  # read before any slot is made: a derived value looks at the slots
            for k in DERIVED_CARRY.keys() & spec.carry.keys():
                self.carry[k][i] = DERIVED_CARRY[k](st)
            for k in stored_carry:
                if k in st:
                    self.carry[k][i] = float(st[k])
            self.steps[i] = float(st.get("step", 0))
        for slot, fill in self.slot_fills:  # the slots not made before, for all those params at once
            missing = [i for i, st in enumerate(self.states) if slot not in st]
            for i, tensor in zip(missing, new_state_tensors([live[i] for i in missing], fill)):
                self.states[i][slot] = tensor
        self.slots = {slot: [array_of(st[slot]) for st in self.states] for slot, _ in self.slot_fills}
        # Each param's step count and stored carried values become views of the plan's arrays.
        if spec.name not in KEEPS_NO_STEP:
            steps = torch.from_numpy(self.steps)
            for i, st in enumerate(self.states):
                st["step"] = steps[i]
        for k in stored_carry:
            values = torch.from_numpy(self.carry[k])
            for i, st in enumerate(self.states):
                st[k] = values[i]
        self.state, self.version = state, state.version  # after the entries made above
        keys = {}
        for i in range(len(live)):
            keys.setdefault((self.steps[i], *(c[i] for c in self.carry.values())), []).append(i)
        self.batches = list(keys.values())

    def matches(self, live: list, state: TrackedState, hyper: dict, read: tuple | None = None) -> bool:
        """Whether this plan still describes ``live``: the same params, in the same memory and of the same sizes
        (``read``: their data addresses and sizes, when the caller has read them; ``p.data = p.data[:k]`` keeps the
        address), with the same state dicts (none replaced since the plan was made), and the same slots under
        ``hyper``."""
        if not (state is self.state and state.version == self.version and len(live) == len(self.params)
                and all(map(operator.is_, live, self.params))):
            return False
        pointers, numels = read if read is not None else ([p.data_ptr() for p in live], [p.numel() for p in live])
        return pointers == self.pointers and numels == self.numels and self.spec.slots(hyper) == self.slot_fills

    def calls(self, grads: list) -> list:
        """One kernel call per batch: (batch, params, grads, slots, names, carry, step)."""
        out = []
        for batch in self.batches:
            whole = len(batch) == len(self.params)
            pick = (lambda xs: xs) if whole else (lambda xs: [xs[i] for i in batch])
            i = batch[0]
            carry = {k: float(v[i]) for k, v in self.carry.items()}
            step = int(self.steps[i]) + 1
            out.append((batch, pick(self.arrays), pick(grads), {k: pick(v) for k, v in self.slots.items()},
                        pick(self.names), carry, step))
        return out

    def advance(self, batch: list, carry: dict) -> None:
        """Record a batch's step: its step counts up by one and its carried values set."""
        index = slice(None) if len(batch) == len(self.params) else batch
        self.steps[index] += 1
        for k, v in carry.items():
            self.carry[k][index] = v
