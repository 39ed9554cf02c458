"""The Optimizer base class: param groups, typed per-group state, validation and state_dict.

An optimizer is declared once, in C++ (``src/cpp/optim/<name>.hpp``): its hyperparameters, state
slots and carried scalars form its ``Spec``, which a Python class names (``spec = native("adam")``)
and derives everything else from.  The state lives in NumPy arrays owned here, so a checkpoint is just
those arrays plus the step counts.  A step makes one native call per param group, which validates
every array, releases the GIL and runs the optimizer's fused update over all tensors of the group.
"""
from __future__ import annotations

import copy
import difflib
import math
import numbers
import operator
import threading
from collections.abc import Mapping
from itertools import repeat

import numpy as np

from .. import _core
from . import device, precision
from .state import MAX_STEP, GroupState, KernelCall, new_slots
from .validation import (
    NON_NEGATIVE,
    check_betas,
    check_hyper,
    check_param,
    check_value,
    first_overlap,
)


def native(name: str):
    """The C++ ``Spec`` of the optimizer kernel called ``name`` (``fastopt._core.optim.spec``).

    Parameters
    ----------
    name : str
        The kernel's name as its C++ header declares it (``"adam"``, ``"sgd"``, ...).
    """
    return _core.optim.spec(name)


# Keys a param group holds besides hyperparameters: its arrays and their names, and what schedulers (fastopt's,
# torch's OneCycleLR/CyclicLR and SWALR) keep there, which the misspelling check must not take for typos.
GROUP_KEYS = frozenset({"params", "names", "initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum", "swa_lr",
                        *precision.KEYS})


def _explained(native_call, params, grads, *args, **kwargs):
    """``native_call(params, grads, ...)``, with a CUDA array among a host group's grads named when it fails
    (the native check sees only an object that is not a numpy.ndarray)."""
    try:
        return native_call(params, grads, *args, **kwargs)
    except TypeError:
        if isinstance(params[0] if params else None, np.ndarray):
            device.explain_host_grads(args[1], grads)
        raise


def _is_array_group(params) -> bool:
    return isinstance(params, Mapping) and "params" in params


class _OptimizerType(type):
    """Keeps ``spec`` (the native declaration each optimizer class sets, a hook for implementers) out of
    ``dir()`` and so out of ``help()``, which lists what ``dir`` returns; ``cls.spec`` itself is unchanged."""

    def __dir__(cls):
        return [name for name in super().__dir__() if name != "spec"]


class Optimizer(metaclass=_OptimizerType):
    """Base class of fastopt's optimizers: param groups, typed state, validation, ``state_dict``.

    A subclass sets ``spec = native("<kernel>")`` (its C++ declaration: hyperparameter names and
    kinds, state slots, carried values) and passes its hyperparameters to ``__init__``; it may override
    ``_check(group)`` for checks beyond the shared ones (finite reals, non-negative rates, betas).

    Parameters
    ----------
    params : list of numpy.ndarray, dict, or list of dict
        The arrays to optimize (C-contiguous, writeable float32 or float64, updated in place): a list,
        a dict ``name -> array``, or a list of param-group dicts ``{"params": [...] or {...}, "lr": ...}``
        whose keys override the defaults.
    defaults : dict
        Every hyperparameter of the optimizer with its default value, named as in its Spec.

    Notes
    -----
    Thread safety: steps, ``state_dict`` and ``load_state_dict`` of one optimizer serialise on its
    lock, so two threads stepping one optimizer take turns; separate optimizers step concurrently.
    """

    spec = None
    precision_defaults = precision.DEFAULTS  # set per optimizer by the precision keyword arguments

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:  # every constructor takes the precision settings (see optim/precision.py)
            cls.__init__ = precision.with_precision_arguments(cls.__init__)

    def __init__(self, params, defaults: dict):
        if self.spec is None:
            raise TypeError(f"{type(self).__name__}: an optimizer class sets spec = native('<kernel>')")
        if set(defaults) != set(self.spec.hyperparameters):
            raise TypeError(f"{type(self).__name__}: defaults {sorted(defaults)} do not match its spec "
                            f"{sorted(self.spec.hyperparameters)}")
        # A pair given as a list is kept as a tuple; anything else is left for _validate to name.
        self.defaults = {k: tuple(v) if self.spec.hyperparameters[k] == "pair" and isinstance(v, (tuple, list)) else v
                         for k, v in defaults.items()}
        self._validate(dict(self.defaults))
        self.param_groups: list[dict] = []
        self.state: list[GroupState] = []
        self._lock = threading.Lock()
        self._low_precision = precision.LowPrecisionParams()
        self.skipped_steps = 0  # steps skip_nonfinite left out
        if isinstance(params, np.ndarray):
            raise TypeError("params: expected a list of arrays, a dict name -> array or a list of param groups, "
                            "got a single numpy.ndarray (wrap it in a list)")
        if isinstance(params, Mapping) and not _is_array_group(params):
            groups = [{"params": params}]
        else:
            params = list(params)
            if params and all(isinstance(g, Mapping) for g in params):
                groups = params
            elif any(isinstance(g, Mapping) for g in params):
                raise TypeError("params: mix of arrays and param-group dicts; pass one or the other")
            else:
                groups = [{"params": params}]
        for i, group in enumerate(groups):
            if "params" not in group:
                raise ValueError(f"params: param group {i} has no 'params' key (a group is a dict "
                                 "{'params': [arrays...], <hyperparameter>: value, ...})")
        if not any(len(g["params"]) for g in groups):
            raise ValueError("params: an empty parameter list; pass the arrays to optimize")
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, group: Mapping) -> None:
        """Add a param group; keys it leaves out take the optimizer's defaults.

        Parameters
        ----------
        group : dict
            ``{"params": list or dict of arrays, <hyperparameter>: value, ...}``.
        """
        group = dict(group)
        if "params" not in group:
            raise ValueError("param group has no 'params' key (a group is a dict {'params': [arrays...], ...})")
        params = group["params"]
        offset = sum(len(g["params"]) for g in self.param_groups)
        if isinstance(params, np.ndarray):
            raise TypeError("params: a param group's 'params' must be a list or dict of arrays, not a single array")
        if isinstance(params, Mapping):
            names, arrays = [str(k) for k in params], list(params.values())
        else:
            arrays = list(params)
            names = [str(offset + i) for i in range(len(arrays))]
        taken = {n for g in self.param_groups for n in g["names"]}
        for name, a in zip(names, arrays):
            check_param(name, a)
            if name in taken:
                raise ValueError(f"param name '{name}' appears in more than one group")
            taken.add(name)
        on_gpu = device.check_placement(names, arrays, self.spec.name)
        existing = [(n, a) for g in self.param_groups for n, a in zip(g["names"], g["params"]) if isinstance(a, np.ndarray)]
        clash = first_overlap(existing + ([] if on_gpu else list(zip(names, arrays))))
        if clash:
            raise ValueError(f"param '{clash[1]}': shares memory with param '{clash[0]}' (every param is updated "
                             "in place, so each must be its own array; pass a tied weight once)")
        for key, value in {**self.defaults, **self.precision_defaults}.items():
            group.setdefault(key, value)
        group["params"], group["names"] = arrays, names
        self._validate(group)
        with self._lock:
            self.param_groups.append(group)
            self.state.append(GroupState(carry=dict(self.spec.carry)))

    def _validate(self, group: dict) -> None:
        """Every hyperparameter of its kind (finite reals, flags; TypeError/ValueError naming the key), the
        checks shared by all optimizers (non-negative rates, betas in [0, 1)), then the optimizer's own.
        A key close to a hyperparameter's name but not one (``"lrr"``, set on ``param_groups``) is refused as a
        misspelling; other keys (a group's label, a schedule's ``initial_lr``) are kept and ignored, as torch does."""
        unknown = set(group) - set(self.defaults) - GROUP_KEYS
        known = [*self.defaults, *precision.KEYS]
        misspelt = [f"{k!r} (did you mean {close[0]!r}?)" for k in sorted(unknown)
                    if (close := difflib.get_close_matches(k, known, n=1, cutoff=0.75))]
        if misspelt:
            raise ValueError(f"param group has unknown hyperparameters {', '.join(misspelt)}; "
                             f"{type(self).__name__} takes {sorted(self.defaults)}")
        kinds = self.spec.hyperparameters
        for key in self.defaults:
            check_value(key, group[key], kinds[key])
        for key, label in NON_NEGATIVE.items():
            if key in self.defaults and kinds[key] == "real":
                check_hyper(group[key] >= 0.0, label, group[key], "must be >= 0")
        if "betas" in self.defaults:
            check_betas(group["betas"], 3 if kinds["betas"] == "triple" else 2)
        if "params" in group:
            precision.check_group(self.spec, group, type(self).__name__, self._low_precision)
        self._check(group)

    def _check(self, group: dict) -> None:
        """The optimizer's own checks of its hyperparameters, beyond the shared ones (override)."""

    # ------------------------------------------------------------------ stepping
    def _grads_per_group(self, grads) -> list[list]:
        if callable(grads) and not isinstance(grads, Mapping):
            raise TypeError(f"step: got a callable; {type(self).__name__}.step takes the gradients (a list or dict of "
                            "arrays aligned with the params), not a closure: compute them, then opt.step(grads) "
                            "(closures drive fastopt.LBFGS, fastopt.BFGS and fastopt.minimize)")
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

    def step(self, grads, *, clip_grad_norm=None, clip_grad_value=None, grad_scale=None, skip_nonfinite=False):
        r"""Update every param in place from ``grads``.

        The rule reads each gradient as :math:`\mathrm{clamp}(g \cdot c / s, -v, v)`: :math:`s` the
        ``grad_scale``, :math:`c = \min(1, \text{clip\_grad\_norm} / (\lVert g/s \rVert + 10^{-6}))` as
        ``torch.nn.utils.clip_grad_norm_`` computes it (the norm over every gradient of every group, one native
        pass), :math:`v` the ``clip_grad_value``; the grads themselves are not written.

        Parameters
        ----------
        grads : list or dict of numpy.ndarray or None
            Aligned with the params (a list in their order across groups, or a dict by param name);
            each of its param's shape and dtype, C-contiguous.  None for a param skips it, as torch skips a
            param whose ``.grad`` is None: its state does not advance, and it keeps its own step count.

        clip_grad_norm : float, optional
            Clip the global gradient norm to this (> 0).
        clip_grad_value : float, optional
            Clip every gradient element to [-clip_grad_value, clip_grad_value] (> 0), after the norm clipping.
        grad_scale : float, optional
            The loss scale the gradients carry (mixed precision): they are divided by it (> 0).
        skip_nonfinite : bool
            If any gradient element is NaN or Inf, make no step (params and state untouched) and count it in
            ``skipped_steps``, as ``torch.amp.GradScaler`` and optax's ``apply_if_finite`` do.

        Returns
        -------
        float or None
            The global gradient norm (of the grads divided by ``grad_scale``, before clipping) when
            ``clip_grad_norm`` or ``skip_nonfinite`` asked for it, else None.

        Either every array is updated or, on bad input, none is: all groups are validated first.
        Without ``skip_nonfinite``, NaN and Inf in grads follow IEEE arithmetic (they propagate into the params
        and state; a non-finite norm leaves the gradients unclipped).
        """
        for key, value in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value),
                           ("grad_scale", grad_scale)):
            if value is not None:
                check_value(key, value, "real")
                check_hyper(value > 0, key, value, "must be > 0")
        with self._lock:
            per_group = self._grads_per_group(grads) if self.spec.reads_grad else [None] * len(self.param_groups)
            calls = []
            for group, state, g in zip(self.param_groups, self.state, per_group):
                on_gpu = group["params"] and device.is_cuda_array(group["params"][0])
                self._validate(group)
                mixed = not on_gpu and precision.uses_mixed_step(group, self._low_precision)
                kernel = self._device_steps() if on_gpu else precision.MixedKernel(self.spec) if mixed else self.spec
                if state.step >= MAX_STEP:
                    raise OverflowError(f"step: this group has taken {state.step} steps, the most a step count holds")
                slots = (precision.new_slots if mixed else new_slots)(self.spec, group, state.slots)
                n = len(group["params"])
                # No None among the grads (the usual case) is found at C speed, and then every param is live.
                live = range(n) if g is None or not any(map(operator.is_, g, repeat(None))) else \
                    [i for i, a in enumerate(g) if a is not None]
                for indices, steps, carry in state.batches(live, n) if live else ():
                    pick = (lambda xs: xs) if len(indices) == n else (lambda xs, ix=indices: [xs[i] for i in ix])
                    calls.append((kernel, state, indices, n, slots, pick(group["params"]), g if g is None else pick(g),
                                  {k: pick(v) for k, v in slots.items()}, pick(group["names"]), group, carry, steps))
            if len(calls) > 1:  # one group must not be updated if a later one is bad
                for kernel, *_, params, g, slots, names, group, carry, _ in calls:
                    _explained(kernel.check, params, g, slots, names, group, carry)
            scale, norm = 1.0 / (grad_scale or 1.0), None
            if clip_grad_norm is not None or skip_nonfinite:
                host = [a for kernel, _, _, _, _, _, g, *_ in calls if kernel is self.spec for a in g or ()]
                norm = _core.optim.grad_sum_squares(host) + sum(
                    kernel.grad_sum_squares(params, g, slots, names)
                    for kernel, _, _, _, _, params, g, slots, names, *_ in calls if kernel is not self.spec and g)
                norm = math.sqrt(norm) * scale
                if skip_nonfinite and not math.isfinite(norm):
                    self.skipped_steps += 1
                    return norm
                if clip_grad_norm is not None and math.isfinite(norm):
                    scale *= min(1.0, clip_grad_norm / (norm + 1e-6))
            limit = math.inf if clip_grad_value is None else float(clip_grad_value)
            for kernel, state, indices, n, all_slots, params, g, slots, names, group, carry, steps in calls:
                carry = _explained(kernel.step, params, g, slots, names, group, carry, steps + 1, grad_scale=scale,
                                   grad_limit=limit)
                state.slots.update(all_slots)
                state.advance(indices, n, carry)
            return norm

    def _device_steps(self) -> device.DeviceSteps:
        """The CUDA steps of this optimizer's kernel (made at the first step of a group on a GPU)."""
        if "_device" not in self.__dict__:
            self._device = device.DeviceSteps(self.spec)
        return self._device

    def kernel_calls(self) -> list[KernelCall] | None:
        """The native kernel calls one step makes, for loops that run the optimizer outside Python.

        Returns
        -------
        list of KernelCall or None
            One call for a plain optimizer over one param group that has not stepped yet; None when a
            step is not expressible that way (several groups, state already built, or a subclass that
            overrides ``step``).
        """
        if len(self.param_groups) != 1 or self.state[0].step or type(self).step is not Optimizer.step or \
                precision.uses_mixed_step(self.param_groups[0], self._low_precision):
            return None
        group = self.param_groups[0]
        self._validate(group)
        return [KernelCall(self.spec, {k: group[k] for k in self.defaults}, dict(self.state[0].carry))]

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """A deep copy of the optimizer's state and hyperparameters, safe to pickle or ``np.savez``.

        Returns
        -------
        dict
            ``{"optimizer": class name, "param_groups": [hyperparameters, names, shapes, dtypes],
            "state": [{"step", carried values, slot arrays}]}`` per group.
        """
        with self._lock:
            groups = []
            for g in self.param_groups:
                hyper = {k: copy.deepcopy(v) for k, v in g.items() if k not in ("params", "names")}
                hyper["names"] = list(g["names"])
                hyper["shapes"] = [tuple(p.shape) for p in g["params"]]
                hyper["dtypes"] = [p.dtype.str for p in g["params"]]
                groups.append(hyper)
            state = [{k: [device.copy_of(a) for a in v] if k in s.slots else copy.deepcopy(v) for k, v in s.as_dict().items()}
                     for s in self.state]
            return {"optimizer": type(self).__name__, "param_groups": groups, "state": state}

    def _parse_state(self, i: int, st: Mapping, group: dict) -> GroupState:
        """A GroupState from group ``i``'s entry of a state_dict, checked against the Spec and the params."""
        step = st.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, numbers.Integral) or not 0 <= step <= MAX_STEP:
            raise ValueError(f"state_dict: step of group {i} must be an integer in [0, 2**63 - 1], got {step!r}")
        carry, slots = {}, {}
        param_steps, param_carry = self._parse_uneven(i, st, group)
        for k, v in st.items():
            if k in ("step", "param_steps", "param_carry"):
                continue
            if k in self.spec.carry:
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise ValueError(f"state_dict: carried value '{k}' of group {i} is not a number: {v!r}")
                carry[k] = float(v)
            elif precision.uses_mixed_step(group, self._low_precision) and \
                    precision.expected_state(self.spec, group, k, group["params"][0]):
                expected = [precision.expected_state(self.spec, group, k, p) for p in group["params"]]
                v = [precision.as_saved(a, want[0]) for a, want in zip(v, expected)] if isinstance(v, list) else v
                if not isinstance(v, list) or len(v) != len(group["params"]) or any(
                        not isinstance(a, np.ndarray) or (a.dtype, a.shape) != want for a, want in zip(v, expected)):
                    raise ValueError(f"state_dict: state '{k}' of group {i} does not match the params kept in "
                                     f"state_dtype={group['state_dtype']!r} (dtype or shape differ)")
                slots[k] = v
            elif k in self.spec.slot_names:
                shape = getattr(self.spec, "slot_shape", lambda _, p: p.shape)
                if not isinstance(v, list) or len(v) != len(group["params"]) or any(
                        not isinstance(a, np.ndarray) or a.shape != shape(k, p) or a.dtype != p.dtype
                        for p, a in zip(group["params"], v)):
                    raise ValueError(f"state_dict: state '{k}' of group {i} does not match the params")
                slots[k] = v
            else:
                raise ValueError(f"state_dict: group {i} has state {k!r}, which {type(self).__name__} does not keep")
        missing = [k for k in self.spec.carry if k not in carry]
        if missing and step:
            raise ValueError(f"state_dict: group {i} has taken {step} steps but lacks the carried values {missing}")
        return GroupState(int(step), {**self.spec.carry, **carry}, slots, param_steps, param_carry)

    def _parse_uneven(self, i: int, st: Mapping, group: dict) -> tuple:
        """Group ``i``'s per-param step counts and carried values from a state_dict (None when even)."""
        steps, carry = st.get("param_steps"), st.get("param_carry")
        if steps is None and carry is None:
            return None, None
        n = len(group["params"])
        ok = isinstance(steps, list) and len(steps) == n and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and 0 <= s <= MAX_STEP for s in steps) and \
            isinstance(carry, Mapping) and set(carry) == set(self.spec.carry) and all(
                isinstance(v, list) and len(v) == n and all(isinstance(x, numbers.Real) for x in v)
                for v in carry.values())
        if not ok:
            raise ValueError(f"state_dict: param_steps and param_carry of group {i} must give every one of its {n} "
                             "params a step count and each carried value")
        return [int(s) for s in steps], {k: [float(x) for x in v] for k, v in carry.items()}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore a state_dict made by the same optimizer class over the same parameter layout.

        Parameters
        ----------
        state_dict : dict
            As :meth:`state_dict` returns it (also after pickling).  Everything is checked before anything
            changes; the arrays are copied.
        """
        kind = state_dict.get("optimizer")
        if kind != type(self).__name__:
            raise ValueError(f"state_dict: made by optimizer {kind!r}, cannot load into {type(self).__name__}")
        groups, states = state_dict["param_groups"], state_dict["state"]
        with self._lock:
            if len(groups) != len(self.param_groups) or len(states) != len(self.param_groups):
                raise ValueError(f"state_dict: has {len(groups)} param groups, this optimizer has "
                                 f"{len(self.param_groups)}")
            parsed = []
            for i, (saved, group, st) in enumerate(zip(groups, self.param_groups, states)):
                if any(map(device.is_cuda_array, group["params"])):
                    raise ValueError(f"state_dict: param group {i} is on a GPU; load_state_dict into CUDA params is "
                                     "not supported yet (load into a host optimizer, or rebuild the state)")
                layout = ([tuple(p.shape) for p in group["params"]], [p.dtype.str for p in group["params"]])
                if list(saved["names"]) != group["names"] or \
                        (list(map(tuple, saved["shapes"])), list(saved["dtypes"])) != layout:
                    raise ValueError(f"state_dict: param group {i} has another parameter layout "
                                     f"(names, shapes or dtypes differ)")
                for key in ("state_dtype", "master_weights"):
                    if saved.get(key, precision.DEFAULTS[key]) != group[key]:
                        raise ValueError(f"state_dict: param group {i} was saved with {key}="
                                         f"{saved.get(key, precision.DEFAULTS[key])!r}, this optimizer has "
                                         f"{key}={group[key]!r}")
                parsed.append(self._parse_state(i, st, group))
            named = [(f"state '{slot}' of param '{name}'", a) for s, g in zip(parsed, self.param_groups)
                     for slot, arrays in s.slots.items() for name, a in zip(g["names"], arrays)]
            clash = first_overlap(named)
            if clash:
                raise ValueError(f"state_dict: {clash[1]} is the same memory as {clash[0]}; every state array must "
                                 "be its own")
            for saved, group, new, i in zip(groups, self.param_groups, parsed, range(len(parsed))):
                for k, v in saved.items():
                    if k not in ("names", "shapes", "dtypes"):
                        group[k] = copy.deepcopy(v)
                new.slots = {k: [np.array(a, copy=True, order="C") for a in v] for k, v in new.slots.items()}
                self.state[i] = new

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i} ({len(g['params'])} arrays)")
            lines += [f"    {k}: {v}" for k, v in g.items() if k not in ("params", "names")]
        return "\n".join(lines + [")"])
