"""An optimizer's state: the typed record of one param group, and the kernel calls a step is made of."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .device import copy_of, full_like

MAX_STEP = 2**63 - 1


def new_slots(spec, group: dict, have: Mapping) -> dict:
    """The state arrays ``spec``'s step needs for ``group``, by slot name.

    Parameters
    ----------
    spec : fastopt._core.optim.Spec
        The rule whose slots these are.
    group : dict
        The param group (its hyperparameters decide which slots exist; ``group["params"]`` their shapes).
    have : dict
        Slots made before: kept as they are.  The others are new arrays filled as the Spec says (zeros, a
        hyperparameter's value, or a copy of the param), not stored anywhere yet.
    """
    shape = getattr(spec, "slot_shape", None)  # state not shaped as its param (MatrixSpec: Adafactor's factors)
    return {name: have[name] if name in have else
            [np.full(shape(name, p), fill, p.dtype) if shape else full_like(p, fill) if fill is not None else copy_of(p)
             for p in group["params"]]
            for name, fill in spec.slots(group)}


@dataclass
class GroupState:
    """One param group's optimizer state.

    Parameters
    ----------
    step : int
        Steps this group has taken.
    carry : dict
        Per-group scalars carried from step to step (NAdam's ``mu_product``), named as in the Spec.
    slots : dict
        Per-element state by slot name (``"exp_avg"``, ...): one array per param of the group, made at
        the group's first step.

    param_steps : list of int or None
        Each param's own step count, once a step skipped some params (their grad was None, as torch skips a
        param without ``.grad``); None while every param has taken ``step`` steps.
    param_carry : dict or None
        Each param's own carried values (name -> list), alongside ``param_steps``.

    ``state["step"]``, ``state["mu_product"]`` and ``state["exp_avg"]`` read the three by name; while params
    step unevenly, ``step`` is the most steps any has taken.
    """

    step: int = 0
    carry: dict = field(default_factory=dict)
    slots: dict = field(default_factory=dict)
    param_steps: list | None = None
    param_carry: dict | None = None

    def batches(self, live: list, n: int) -> list:
        """The params ``live`` (indices among the group's ``n``) grouped by their step count and carried
        values, one kernel call each: ``[(indices, steps taken, carry)]``."""
        if self.param_steps is None and len(live) == n:
            return [(live, self.step, dict(self.carry))]
        steps = self.param_steps or [self.step] * n
        carry = self.param_carry or {k: [v] * n for k, v in self.carry.items()}
        keys: dict = {}
        for i in live:
            keys.setdefault((steps[i], *(carry[k][i] for k in carry)), []).append(i)
        return [(indices, key[0], dict(zip(carry, key[1:]))) for key, indices in keys.items()]

    def advance(self, indices: list, n: int, carry: dict) -> None:
        """Record that the params ``indices`` (of ``n``) took one step, after which they carry ``carry``."""
        if self.param_steps is None and len(indices) == n:
            self.step += 1
            self.carry.update(carry)
            return
        if self.param_steps is None:
            self.param_steps = [self.step] * n
            self.param_carry = {k: [v] * n for k, v in self.carry.items()}
        for i in indices:
            self.param_steps[i] += 1
            for k, v in carry.items():
                self.param_carry[k][i] = v
        self.step = max(self.param_steps)
        if all(s == self.step for s in self.param_steps) and \
                all(len(set(v)) == 1 for v in self.param_carry.values()):  # even again
            self.carry.update({k: v[0] for k, v in self.param_carry.items()})
            self.param_steps = self.param_carry = None

    def __getitem__(self, key: str):
        if key == "step":
            return self.step
        return self.carry[key] if key in self.carry else self.slots[key]

    def as_dict(self) -> dict:
        """The state_dict layout: ``{"step": ..., <carried values>..., <slot>: [arrays]...}``, and
        ``"param_steps"`` and ``"param_carry"`` while params step unevenly."""
        uneven = {} if self.param_steps is None else {"param_steps": list(self.param_steps),
                                                      "param_carry": {k: list(v) for k, v in self.param_carry.items()}}
        return {"step": self.step, **self.carry, **self.slots, **uneven}


@dataclass(frozen=True)
class KernelCall:
    """One native update rule over one param group, made every ``every`` steps.

    A step of a plain optimizer is one call; a wrapper such as :class:`~fastopt.Lookahead` adds its own.
    :meth:`Optimizer.kernel_calls` lists them so that loops outside Python (the native trajectories of
    :mod:`fastopt.landscape`) make exactly the calls ``step`` makes.

    Parameters
    ----------
    spec : fastopt._core.optim.Spec
        The rule, as declared in C++.
    group : dict
        Its hyperparameters by the Spec's names.
    carry : dict
        Its carried values before the first step.
    every : int
        The rule runs at steps ``every``, ``2 * every``, ... as its own steps 1, 2, ...
    """

    spec: object
    group: dict
    carry: dict
    every: int = 1

    def as_tuple(self) -> tuple:
        """``(spec, group, carry, every)``: the call as the native trajectory loop takes it."""
        return self.spec, self.group, self.carry, self.every
