"""Lookahead: k fast steps forward, one step back toward the slow weights; Ranger = RAdam + Lookahead."""
from __future__ import annotations

import numpy as np

from .. import _core
from .base import Optimizer, check_hyper
from .radam import RAdam


class Lookahead:
    r"""Lookahead (Zhang, Lucas, Hinton & Ba, 2019, "Lookahead Optimizer: k steps forward, 1 step back").

    Wraps any fastopt optimizer (the fast one).  Every ``k`` steps:

    .. math:: \phi \leftarrow \phi + \alpha(\theta - \phi), \qquad \theta \leftarrow \phi

    where :math:`\phi` are the slow weights (a copy of the params taken at the first step; for a param
    group added to the inner optimizer later, at that group's first step).
    ``param_groups`` are the inner optimizer's, so schedules work unchanged.
    """

    def __init__(self, inner: Optimizer, k: int = 5, alpha: float = 0.5):
        if not isinstance(inner, (Optimizer, Lookahead)):
            raise TypeError(f"inner optimizer: expected a fastopt optimizer, got {type(inner).__name__}")
        check_hyper(isinstance(k, int) and not isinstance(k, bool) and k >= 1, "k", k, "must be an integer >= 1")
        check_hyper(0.0 <= alpha <= 1.0, "alpha", alpha, "must be in [0, 1]")
        self.inner, self.k, self.alpha = inner, k, alpha
        self.steps = 0
        self.slow: list[list[np.ndarray]] | None = None

    @property
    def param_groups(self) -> list[dict]:
        return self.inner.param_groups

    @property
    def defaults(self) -> dict:
        return self.inner.defaults

    def add_param_group(self, group) -> None:
        """Add a param group to the inner optimizer; its slow weights start at its first step."""
        self.inner.add_param_group(group)

    def step(self, grads) -> None:
        """One inner step; every k-th step also pulls the params toward the slow weights."""
        # A group's slow weights start as its params before its first step (groups added to the inner
        # optimizer later start later); they are kept only if that step succeeds.
        slow = list(self.slow or [])
        slow += [[p.copy() for p in g["params"]] for g in self.param_groups[len(slow):]]
        self.inner.step(grads)
        self.slow = slow
        self.steps += 1
        if self.steps % self.k == 0:
            for group, slow in zip(self.param_groups, self.slow):
                _core.optim.lookahead_step(group["params"], None, [slow], group["names"], {"alpha": self.alpha},
                                           self.steps // self.k)

    def state_dict(self) -> dict:
        return {"optimizer": type(self).__name__, "inner": self.inner.state_dict(), "k": self.k, "alpha": self.alpha,
                "steps": self.steps, "slow": None if self.slow is None else [[a.copy() for a in s] for s in self.slow]}

    def load_state_dict(self, state_dict) -> None:
        if state_dict.get("optimizer") != type(self).__name__:
            raise ValueError(f"state_dict: made by optimizer {state_dict.get('optimizer')!r}, "
                             f"cannot load into {type(self).__name__}")
        slow = state_dict["slow"]
        if slow is not None:
            shapes = [[p.shape for p in g["params"]] for g in self.param_groups]
            if len(slow) > len(shapes) or [[a.shape for a in s] for s in slow] != shapes[:len(slow)]:
                raise ValueError("state_dict: slow weights have another parameter layout")
        self.inner.load_state_dict(state_dict["inner"])
        self.k, self.alpha, self.steps = state_dict["k"], state_dict["alpha"], state_dict["steps"]
        self.slow = None if slow is None else [[np.array(a, copy=True) for a in s] for s in slow]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k}, alpha={self.alpha}, inner={self.inner!r})"


class Ranger(Lookahead):
    """Ranger (Wright, 2019): RAdam inside Lookahead, with RAdam's and Lookahead's hyperparameters."""

    def __init__(self, params, lr=1e-3, betas=(0.95, 0.999), eps=1e-5, weight_decay=0.0, k=6, alpha=0.5, *,
                 maximize=False):
        super().__init__(RAdam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize),
                         k=k, alpha=alpha)
