"""fastopt's optimizers as ``torch.optim.Optimizer`` subclasses, stepping CPU tensors zero-copy.

torch owns the bookkeeping (``param_groups``, ``state`` keyed by param, ``zero_grad``, hooks,
``state_dict`` and ``load_state_dict``'s id mapping), so schedulers, ``clip_grad_norm_``, checkpoint code
and ``torch.optim.swa_utils`` see a torch optimizer; the step hands the params' memory, their gradients'
and the state's to fastopt's fused multi-tensor kernels (one call per param group, GIL released).
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from .plan import (DERIVED_CARRY, EAGER_STATE, KEEPS_NO_STEP, GroupPlan, TrackedState, initial_state, new_state_tensor,
                   scalar_dtype)
from . import native
from .tensors import check_param, grad_address

# torch.optim's execution switches: fastopt's step is always one fused multi-tensor pass, so "foreach" and
# "fused" are accepted and ignored; the others ask for something fastopt's CPU kernels do not do.
IGNORED_FLAGS = ("foreach", "fused")
REFUSED_FLAGS = ("capturable", "differentiable")


def _plain(value):
    """A hyperparameter as the kernels read it: 0-d tensors (torch allows a Tensor lr) as Python floats."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"expected a number or a one-element tensor, got a tensor of shape {tuple(value.shape)}")
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


class TorchOptimizer(torch.optim.Optimizer):
    """Base of ``fastopt.torch.<Name>``: the fastopt optimizer ``_numpy_class`` over torch CPU tensors.

    Parameters
    ----------
    params : iterable of torch.Tensor, or of dicts
        Parameters or param groups, as ``torch.optim`` takes them: dense CPU tensors of float32 or float64.
    *args, **kwargs
        The hyperparameters of ``_numpy_class`` (its names and defaults); also torch's ``foreach`` and
        ``fused`` (ignored: the step is always fused).
    """

    _numpy_class = None
    # torch.amp.GradScaler's protocol for fused optimizers: it sets the attributes ``grad_scale`` (its scale, or
    # None when unscale_ already ran) and ``found_inf`` around ``step``, which divides the gradients by the
    # scale inside the kernel and skips the step on a non-finite gradient, instead of the scaler unscaling
    # every gradient in a pass of its own.
    _step_supports_amp_scaling = True

    def __init__(self, params, *args, **kwargs):
        if self._numpy_class is None:
            raise TypeError("TorchOptimizer is a base class; use fastopt.torch.Adam, fastopt.torch.SGD, ...")
        for flag in REFUSED_FLAGS:
            if kwargs.pop(flag, False):
                raise ValueError(f"{flag}=True: fastopt.torch does not support it (CPU tensors, no autograd through "
                                 "the step); use torch.optim for it")
        for flag in IGNORED_FLAGS:
            kwargs.pop(flag, None)
        # The NumPy class checks and defaults the hyperparameters; a zero-size array stands in for the params.
        args, kwargs = _plain(args), {k: _plain(v) for k, v in kwargs.items()}
        self._rules = self._numpy_class([np.zeros(0, np.float32)], *args, **kwargs)
        self._plans: dict = {}
        super().__init__(params, dict(self._rules.defaults))
        self.state = TrackedState(self.state)
        if self._rules.spec.name in EAGER_STATE:
            for group in self.param_groups:
                hyper = self._hyper(group)
                for p in group["params"]:
                    self.state[p] = initial_state(self._rules.spec, p, hyper)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not isinstance(self.state, TrackedState):
            self.state = TrackedState(self.state)
        if "_rules" not in self.__dict__:  # unpickled (or deep-copied): torch pickles defaults, state and groups
            self._rules = object.__new__(self._numpy_class)
            kinds = self._numpy_class.spec.hyperparameters
            self._rules.defaults = {k: v for k, v in self.defaults.items() if k in kinds}
        self._plans = {}

    # ------------------------------------------------------------------ groups
    def _names(self, index: int, group: dict) -> list:
        offset = sum(len(g["params"]) for g in self.param_groups[:index])
        given = group.get("param_names")
        return [f"'{n}'" for n in given] if given else [str(offset + i) for i in range(len(group["params"]))]

    def _hyper(self, group: dict) -> dict:
        """The group's hyperparameters as the kernel reads them, checked as the NumPy optimizer checks them
        (after a scheduler or the user changed them)."""
        try:
            hyper = {k: _plain(group[k]) for k in self._rules.defaults}
        except KeyError as e:
            raise ValueError(f"param group lacks the hyperparameter {e.args[0]!r}") from None
        self._rules._validate(hyper)
        return hyper

    def add_param_group(self, param_group: dict) -> None:
        """Add a param group (torch's rules) whose params fastopt can step and whose hyperparameters are valid.

        Parameters
        ----------
        param_group : dict
            ``{"params": tensors, <hyperparameter>: value, ...}``; left-out keys take the defaults.
        """
        super().add_param_group(param_group)
        index = len(self.param_groups) - 1
        group = self.param_groups[index]
        try:
            for name, p in zip(self._names(index, group), group["params"]):
                check_param(name, p)
            self._hyper(group)
        except (TypeError, ValueError):
            self.param_groups.pop()
            raise

    # ------------------------------------------------------------------ stepping
    @torch.no_grad()
    def step(self, closure=None):
        """One fused step of every param that has a gradient (params whose ``.grad`` is None are skipped, their
        state neither created nor advanced).

        Under ``torch.amp.GradScaler.step`` the kernel reads each gradient divided by the scaler's
        ``grad_scale`` (the gradients themselves are not written, so ``.grad`` keeps the scaled values), and a
        step the scaler's ``found_inf`` marks is skipped: the state exists, nothing advances.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (called with gradients enabled, before the step).

        Returns
        -------
        The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        spec = self._rules.spec
        hypers = [self._hyper(group) for group in self.param_groups]
        inverse_scale, found_inf = self._loss_scale()
        work = []  # every group's params with gradients and their grads' addresses, before any state is made
        keep = []  # grads copied into their param's layout: alive until the kernels have read them
        reader = native.module()
        for index, (group, hyper) in enumerate(zip(self.param_groups, hypers)):
            read = self._read_group(index, group, hyper, reader, keep)
            if read is not None:
                work.append((index, hyper, *read))
        calls, touched = [], []
        for index, hyper, plan, live_params, names, addresses in work:
            if plan is None:
                plan = self._plans[index] = GroupPlan(spec, live_params, names, self.state, hyper)
            calls += [(plan, hyper, call) for call in plan.calls(addresses)]
            touched += live_params
        if len(calls) > 1 or found_inf:  # nothing is written unless every call is valid
            for _, hyper, (_, arrays, grads, slots, names, carry, _) in calls:
                spec.check_addresses(arrays, grads, slots, names, hyper, carry)
        if found_inf:  # as torch's fused kernels skip: the state exists (made above), nothing advances
            return loss
        for plan, hyper, (batch, arrays, grads, slots, names, carry, step) in calls:
            plan.advance(batch, spec.step_addresses(arrays, grads, slots, names, hyper, carry, step,
                                                    grad_scale=inverse_scale))
        if touched:  # as torch's in-place updates do, for autograd's checks
            reader.bump_versions(touched) if reader is not None else torch.autograd.graph.increment_version(touched)
        return loss

    def _read_group(self, index: int, group: dict, hyper: dict, reader, keep: list):
        """A group's (plan or None, params with gradients, their names, their grads' addresses), or None when
        no param has a gradient.  The plan is kept while its params are the same, in the same memory; each
        grad's address is checked (dtype, size, contiguity) before the kernel trusts it.  ``reader`` is the C++
        extension reading the addresses (native.py), or None to read them in Python."""
        params = group["params"]
        if reader is not None:
            pointers, numels, addresses = reader.scan(params if type(params) is list else list(params))
            live = range(len(params)) if None not in addresses else [i for i, a in enumerate(addresses)
                                                                         if a is not None]
        else:
            grads = [p.grad for p in params]
            live = [i for i, g in enumerate(grads) if g is not None]
        if not live:
            return None
        whole = len(live) == len(params)
        live_params = params if whole else [params[i] for i in live]
        plan = self._plans.get(index)
        read = None if reader is None else (pointers, numels) if whole else \
            ([pointers[i] for i in live], [numels[i] for i in live])
        if plan is not None and not plan.matches(live_params, self.state, hyper, read):
            plan = None
        if plan is None:
            names = self._names(index, group)
            names = [names[i] for i in live]
            for name, p in zip(names, live_params):
                check_param(name, p)  # again: p.data may have been replaced
            dtypes = [p.dtype if p.is_contiguous() else None for p in live_params]
            numels = [p.numel() for p in live_params]
        else:
            names, dtypes, numels = plan.names, plan.dtypes, plan.numels
        if reader is None:
            addresses = [grad_address(name, p, grads[i], dtype, numel, keep)
                         for name, i, p, dtype, numel in zip(names, live, live_params, dtypes, numels)]
        else:
            addresses = addresses if whole else [addresses[i] for i in live]
            if -1 in addresses:  # grads the kernel cannot read as they are: copied into the param's layout, or refused
                addresses = [a if a != -1 else grad_address(name, p, p.grad, dtype, numel, keep)
                             for a, name, p, dtype, numel in zip(addresses, names, live_params, dtypes, numels)]
        return plan, live_params, names, addresses

    def _loss_scale(self) -> tuple:
        """(1 / grad_scale, whether found_inf is set) from the attributes torch.amp.GradScaler sets for this step;
        (1.0, False) outside a scaler's step."""
        grad_scale, found_inf = getattr(self, "grad_scale", None), getattr(self, "found_inf", None)
        inverse = 1.0
        if grad_scale is not None:
            scale = _plain(grad_scale)
            if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not 0 < scale < np.inf:
                raise ValueError(f"grad_scale: the loss scale must be a finite number > 0, got {scale!r}")
            inverse = 1.0 / float(scale)
        return inverse, found_inf is not None and _plain(found_inf) != 0

    # ------------------------------------------------------------------ checkpoints
    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state_dict in torch's format (from this class, or from ``torch.optim.<Name>`` where the
        algorithms coincide): its state tensors are copied into memory of this optimizer's own, in each
        param's dtype and layout.  Nothing changes when the state_dict does not fit.

        Parameters
        ----------
        state_dict : dict
            As ``state_dict()`` of this class or of the torch optimizer returns it.
        """
        before = self.state, self.param_groups
        super().load_state_dict(state_dict)
        try:
            for group in self.param_groups:
                for key, value in self._rules.defaults.items():
                    group.setdefault(key, value)
                self._hyper(group)
            names = [n for i, g in enumerate(self.param_groups) for n in self._names(i, g)]
            params = [p for g in self.param_groups for p in g["params"]]
            adopted = {p: self._adopt(name, p, self.state[p]) for name, p in zip(names, params) if p in self.state}
        except (TypeError, ValueError):
            self.state, self.param_groups = before
            raise
        self.state = TrackedState(adopted)

    def _adopt(self, name: str, p: torch.Tensor, st: dict) -> dict:
        """A loaded state entry as this optimizer keeps it; ValueError naming what does not fit."""
        spec = self._rules.spec
        stored_carry = [k for k in spec.carry if k not in DERIVED_CARRY]
        out = {}
        for key, value in st.items():
            if key == "step" or key in stored_carry:
                number = _plain(value)
                if isinstance(number, bool) or not isinstance(number, numbers.Real) or not np.isfinite(number) or (
                        key == "step" and (number < 0 or number != int(number))):
                    raise ValueError(f"state_dict: '{key}' of param {name} is not a valid value: {value!r}")
                if key != "step" or spec.name not in KEEPS_NO_STEP:
                    out[key] = torch.tensor(float(number), dtype=scalar_dtype())
            elif key in spec.slot_names:
                if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(p.shape) or \
                        not value.is_floating_point():
                    raise ValueError(f"state_dict: state '{key}' of param {name} does not match the param (shape "
                                     f"{tuple(getattr(value, 'shape', ()))} for {tuple(p.shape)})")
                out[key] = new_state_tensor(p, 0.0).copy_(value)
            else:
                raise ValueError(f"state_dict: param {name} has state {key!r}, which {type(self).__name__} does not "
                                 f"keep (it keeps 'step', {', '.join(map(repr, [*stored_carry, *spec.slot_names]))})")
        return out
