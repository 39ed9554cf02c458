"""The Optimizer base class: param groups, lazily created state, validation and state_dict.

Every optimizer keeps its state in NumPy arrays owned here, so a checkpoint is just those arrays
plus the step counts.  A step makes one native call per param group, which validates every array,
releases the GIL and runs the optimizer's fused update over all tensors of the group.
"""
from __future__ import annotations

import copy
import numbers
from collections.abc import Mapping

import numpy as np

from .. import _core


def check_hyper(ok: bool, name: str, value, requirement: str) -> None:
    """Raise ValueError naming a hyperparameter that fails its requirement."""
    if not ok:
        raise ValueError(f"Invalid {name}: {value!r} ({requirement})")


def check_betas(betas) -> None:
    check_hyper(isinstance(betas, (tuple, list)) and len(betas) == 2, "betas", betas, "expected a pair (beta1, beta2)")
    for i, b in enumerate(betas):
        check_hyper(0.0 <= b < 1.0, f"beta parameter at index {i}", b, "must be in [0, 1)")


# Hyperparameters that must be >= 0 in every optimizer that has them, with the names the errors use.
NON_NEGATIVE = {"lr": "learning rate", "eps": "epsilon value", "weight_decay": "weight_decay value",
                "momentum": "momentum value", "lr_decay": "lr_decay value",
                "momentum_decay": "momentum_decay value", "initial_accumulator_value": "initial_accumulator_value"}


def _is_array_group(params) -> bool:
    return isinstance(params, Mapping) and "params" in params


def _first_overlap(named_arrays: list) -> tuple[str, str] | None:
    """Names of two C-contiguous arrays whose bytes overlap (the same array twice, or two views of one
    buffer), or None.  One sort by start address: O(n log n), so 10,000 params cost milliseconds."""
    spans = sorted((a.__array_interface__["data"][0], a.nbytes, i, name)
                   for i, (name, a) in enumerate(named_arrays) if a.nbytes)
    reach, reach_name = -1, None  # the furthest end so far, and whose it is
    for start, nbytes, _, name in spans:
        if start < reach:
            return reach_name, name
        if start + nbytes > reach:
            reach, reach_name = start + nbytes, name
    return None


class Optimizer:
    """Base class of fastopt's optimizers.

    ``params`` is a list of NumPy arrays, a dict ``name -> array``, or a list of param-group dicts
    ``{"params": [...] or {...}, "lr": ..., ...}`` whose keys override the defaults.  The arrays
    must be C-contiguous, writeable float32 or float64; they are updated in place.

    Subclasses set ``kernel`` (the native ``_core.optim.<kernel>_step``, which derives the per-step
    scalars from the hyperparameters) and implement ``state_slots(group)`` (names of the per-element
    state arrays, created lazily); ``validate(group)`` adds checks beyond the shared ones (NON_NEGATIVE, betas).
    """

    kernel: str = ""
    reads_grad: bool = True

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state: list[dict] = []
        if isinstance(params, np.ndarray):
            raise TypeError("params: expected a list of arrays, a dict name -> array or a list of param groups, "
                            "got a single numpy.ndarray (wrap it in a list)")
        if isinstance(params, Mapping) and not _is_array_group(params):
            groups = [{"params": params}]
        else:
            params = list(params)
            if params and all(_is_array_group(g) for g in params):
                groups = params
            elif any(isinstance(g, Mapping) for g in params):
                raise TypeError("params: mix of arrays and param-group dicts; pass one or the other")
            else:
                groups = [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, group: Mapping) -> None:
        """Add a param group; keys it leaves out take the optimizer's defaults."""
        group = dict(group)
        params = group["params"]
        offset = sum(len(g["params"]) for g in self.param_groups)
        if isinstance(params, np.ndarray):
            raise TypeError("params: a param group's 'params' must be a list or dict of arrays, not a single array")
        if isinstance(params, Mapping):
            names, arrays = [str(k) for k in params], list(params.values())
        else:
            arrays = list(params)
            names = [str(offset + i) for i in range(len(arrays))]
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"param group has unknown hyperparameters {sorted(unknown)}; "
                             f"{type(self).__name__} takes {sorted(self.defaults)}")
        taken = {n for g in self.param_groups for n in g["names"]}
        for name, a in zip(names, arrays):
            if not isinstance(a, np.ndarray):
                raise TypeError(f"param '{name}': expected a numpy.ndarray, got {type(a).__name__}")
            if a.dtype not in (np.float32, np.float64):
                raise TypeError(f"param '{name}': unsupported dtype {a.dtype} (float32 or float64 expected)")
            if not a.flags.c_contiguous:
                raise ValueError(f"param '{name}': must be C-contiguous (it is updated in place)")
            if not a.flags.writeable:
                raise ValueError(f"param '{name}': array is read-only")
            if name in taken:
                raise ValueError(f"param name '{name}' appears in more than one group")
            taken.add(name)
        existing = [(n, a) for g in self.param_groups for n, a in zip(g["names"], g["params"])]
        clash = _first_overlap(existing + list(zip(names, arrays)))
        if clash:
            raise ValueError(f"param '{clash[1]}': shares memory with param '{clash[0]}' (every param is updated "
                             "in place, so each must be its own array; pass a tied weight once)")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        group["params"], group["names"] = arrays, names
        self._validate(group)
        self.param_groups.append(group)
        self.state.append({"step": 0, **self.initial_carry()})

    def _validate(self, group: dict) -> None:
        """Every hyperparameter a real number (flags are bools; TypeError naming the key), the checks shared
        by all optimizers (non-negative rates, betas in [0, 1)), then the optimizer's own checks."""
        for key in self.defaults:
            value = group[key]
            for v in (value if key == "betas" and isinstance(value, (tuple, list)) else (value,)):
                if not isinstance(v, numbers.Real):
                    raise TypeError(f"{key}: expected a real number, got {type(v).__name__} {v!r}")
        for key, label in NON_NEGATIVE.items():
            if key in self.defaults:
                check_hyper(group[key] >= 0.0, label, group[key], "must be >= 0")
        if "betas" in self.defaults:
            check_betas(group["betas"])
        self.validate(group)

    def validate(self, group: dict) -> None:
        """The optimizer's own checks of its hyperparameters, beyond the shared ones."""

    def initial_carry(self) -> dict:
        return {}

    # ------------------------------------------------------------------ stepping
    def _grads_per_group(self, grads) -> list[list]:
        if isinstance(grads, np.ndarray):
            raise TypeError("grads: expected a list or dict of arrays aligned with the params, got a single array")
        if isinstance(grads, Mapping):
            names = [n for g in self.param_groups for n in g["names"]]
            missing = [n for n in names if n not in grads]
            extra = [k for k in grads if k not in set(names)]
            if missing or extra:
                raise ValueError(f"grads: names do not match the params (missing {missing[:5]}, unexpected {extra[:5]})")
            return [[grads[n] for n in g["names"]] for g in self.param_groups]
        grads = list(grads)
        total = sum(len(g["params"]) for g in self.param_groups)
        if len(grads) != total:
            raise ValueError(f"grads: got {len(grads)} arrays for {total} params")
        out, start = [], 0
        for g in self.param_groups:
            out.append(grads[start:start + len(g["params"])])
            start += len(g["params"])
        return out

    def _slots(self, group: dict, state: dict) -> dict:
        """The state arrays of a group by slot name; missing ones are made (zeros unless state_init says otherwise)
        but not stored: step() stores them only once the step has succeeded, so a rejected step leaves no trace."""
        return {name: state[name] if name in state else
                [np.full_like(p, self.state_init(group, name)) for p in group["params"]]
                for name in self.state_slots(group)}

    def state_init(self, group: dict, slot: str) -> float:
        return 0.0

    def hyper(self, group: dict, state: dict) -> dict:
        """The group's hyperparameters as floats for the native kernel, plus values carried between steps.

        Only the optimizer's own hyperparameters are passed: other keys (a schedule's ``initial_lr``) stay in Python.
        """
        h = {}
        for key in self.defaults:
            if key == "betas":
                h["beta1"], h["beta2"] = group[key]
            else:
                h[key] = float(group[key])
        h.update(self.carried(state))
        return h

    def carried(self, state: dict) -> dict:
        """Per-group values (not arrays) that the kernel carries from step to step, e.g. NAdam's mu product."""
        return {k: v for k, v in state.items() if k != "step" and not isinstance(v, list)}

    def step(self, grads) -> None:
        """Update every param in place from ``grads`` (a list aligned with the params, or a dict by name).

        Either every array is updated or, on bad input, none is: all groups are validated first.
        NaN and Inf in grads follow IEEE arithmetic (they propagate into the params and state).
        """
        per_group = self._grads_per_group(grads) if self.reads_grad else [None] * len(self.param_groups)
        calls = []
        for group, state, g in zip(self.param_groups, self.state, per_group):
            self._validate(group)
            calls.append((group, state, g, self._slots(group, state)))
        if len(calls) > 1:  # one group must not be updated if a later one is bad
            for group, _, g, slots in calls:
                _core.optim.check(group["params"], g, list(slots.values()), group["names"])
        kernel = getattr(_core.optim, self.kernel + "_step")
        for group, state, g, slots in calls:
            carry = kernel(group["params"], g, list(slots.values()), group["names"], self.hyper(group, state),
                           state["step"] + 1)
            state.update(slots)
            state.update(carry)
            state["step"] += 1

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """A deep copy of the optimizer's state and hyperparameters, safe to pickle or np.savez."""
        groups = []
        for g in self.param_groups:
            hyper = {k: copy.deepcopy(v) for k, v in g.items() if k not in ("params", "names")}
            hyper["names"] = list(g["names"])
            hyper["shapes"] = [tuple(p.shape) for p in g["params"]]
            hyper["dtypes"] = [p.dtype.str for p in g["params"]]
            groups.append(hyper)
        state = [{k: ([a.copy() for a in v] if isinstance(v, list) else v) for k, v in s.items()} for s in self.state]
        return {"optimizer": type(self).__name__, "param_groups": groups, "state": state}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore a state_dict made by the same optimizer class over the same parameter layout."""
        kind = state_dict.get("optimizer")
        if kind != type(self).__name__:
            raise ValueError(f"state_dict: made by optimizer {kind!r}, cannot load into {type(self).__name__}")
        groups, states = state_dict["param_groups"], state_dict["state"]
        if len(groups) != len(self.param_groups) or len(states) != len(self.param_groups):
            raise ValueError(f"state_dict: has {len(groups)} param groups, this optimizer has {len(self.param_groups)}")
        for i, (saved, group, st) in enumerate(zip(groups, self.param_groups, states)):
            layout = ([tuple(p.shape) for p in group["params"]], [p.dtype.str for p in group["params"]])
            if list(saved["names"]) != group["names"] or (list(map(tuple, saved["shapes"])), list(saved["dtypes"])) != layout:
                raise ValueError(f"state_dict: param group {i} has another parameter layout "
                                 f"(names, shapes or dtypes differ)")
            for k, v in st.items():
                if isinstance(v, list):
                    for p, a in zip(group["params"], v):
                        if not isinstance(a, np.ndarray) or a.shape != p.shape or a.dtype != p.dtype:
                            raise ValueError(f"state_dict: state '{k}' of group {i} does not match the params")
        for saved, group, st, mine in zip(groups, self.param_groups, states, self.state):
            for k, v in saved.items():
                if k not in ("names", "shapes", "dtypes"):
                    group[k] = copy.deepcopy(v)
            mine.clear()
            mine.update({k: ([np.array(a, copy=True, order="C") for a in v] if isinstance(v, list) else v)
                         for k, v in st.items()})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i} ({len(g['params'])} arrays)")
            lines += [f"    {k}: {v}" for k, v in g.items() if k not in ("params", "names")]
        return "\n".join(lines + [")"])
