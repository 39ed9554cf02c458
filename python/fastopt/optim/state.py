"""An optimizer's state: the typed record of one param group, and the kernel calls a step is made of."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

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
    return {name: have[name] if name in have else
            [np.full_like(p, fill) if fill is not None else p.copy() for p in group["params"]]
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

    ``state["step"]``, ``state["mu_product"]`` and ``state["exp_avg"]`` read the three by name.
    """

    step: int = 0
    carry: dict = field(default_factory=dict)
    slots: dict = field(default_factory=dict)

    def __getitem__(self, key: str):
        if key == "step":
            return self.step
        return self.carry[key] if key in self.carry else self.slots[key]

    def as_dict(self) -> dict:
        """The state_dict layout: ``{"step": ..., <carried values>..., <slot>: [arrays]...}``."""
        return {"step": self.step, **self.carry, **self.slots}


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
        return self.spec, self.group, self.carry, self.every
