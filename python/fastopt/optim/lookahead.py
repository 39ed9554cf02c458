"""Lookahead: k fast steps forward, one step back toward the slow weights; Ranger = RAdam + Lookahead."""
from __future__ import annotations

import numbers
import threading

import numpy as np

from .base import Optimizer, native
from .device import is_cuda_array
from .radam import RAdam
from .registry import register
from .state import KernelCall, new_slots
from .validation import check_hyper

__all__ = ["Lookahead", "Ranger"]


def _check_settings(k, alpha) -> None:
    check_hyper(isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1, "k", k,
                "must be an integer >= 1")
    check_hyper(isinstance(alpha, numbers.Real) and not isinstance(alpha, bool) and 0.0 <= alpha <= 1.0, "alpha",
                alpha, "must be in [0, 1]")


class Lookahead:
    r"""Lookahead (Zhang, Lucas, Hinton & Ba, 2019, "Lookahead Optimizer: k steps forward, 1 step back").

    Wraps any fastopt optimizer (the fast one).  Every ``k`` steps:

    .. math:: \phi \leftarrow \phi + \alpha(\theta - \phi), \qquad \theta \leftarrow \phi

    where :math:`\phi` are the slow weights (a copy of the params taken at the first step; for a param
    group added to the inner optimizer later, at that group's first step).
    ``param_groups`` are the inner optimizer's, so schedules work unchanged.

    Parameters
    ----------
    inner : Optimizer or Lookahead
        The fast optimizer.
    k : int
        Fast steps between two synchronisations, >= 1.
    alpha : float
        How far the slow weights move toward the fast ones at a synchronisation, in [0, 1].
    """

    spec = native("lookahead")

    def __init__(self, inner: Optimizer, k: int = 5, alpha: float = 0.5):
        if not isinstance(inner, (Optimizer, Lookahead)):
            raise TypeError(f"inner optimizer: expected a fastopt optimizer, got {type(inner).__name__}")
        _check_settings(k, alpha)
        self.inner, self.k, self.alpha = inner, k, alpha
        self.steps = 0
        self.slow: list[list[np.ndarray]] | None = None
        self._lock = threading.Lock()

    @property
    def param_groups(self) -> list[dict]:
        """The inner optimizer's param groups."""
        return self.inner.param_groups

    @property
    def defaults(self) -> dict:
        """The inner optimizer's defaults."""
        return self.inner.defaults

    def add_param_group(self, group) -> None:
        """Add a param group to the inner optimizer; its slow weights start at its first step.

        Parameters
        ----------
        group : dict
            As :meth:`Optimizer.add_param_group` takes it.
        """
        self.inner.add_param_group(group)

    def _sync_group(self) -> dict:
        return {"alpha": self.alpha}

    def step(self, grads) -> None:
        """One inner step; every k-th step also pulls the params toward the slow weights.

        Parameters
        ----------
        grads : list or dict of numpy.ndarray
            As the inner optimizer's ``step`` takes them.

        Everything is validated before the inner step, so a bad state changes nothing.
        """
        with self._lock:
            _check_settings(self.k, self.alpha)
            if any(g["params"] and is_cuda_array(g["params"][0]) for g in self.param_groups):  # groups are homogeneous
                raise TypeError("Lookahead: params on a GPU are not supported (its slow weights are synchronised by "
                                "the CPU kernel); step the inner optimizer alone")
            # A group's slow weights start as its params before its first step (groups added to the inner
            # optimizer later start later); they are kept only if that step succeeds.
            slow = list(self.slow or [])
            slow += [new_slots(self.spec, {**self._sync_group(), "params": g["params"]}, {})["slow"]
                     for g in self.param_groups[len(slow):]]
            for group, s in zip(self.param_groups, slow):
                self.spec.check(group["params"], None, {"slow": s}, group["names"], self._sync_group(), {})
            self.inner.step(grads)
            self.slow = slow
            self.steps += 1
            if self.steps % self.k == 0:
                for group, s in zip(self.param_groups, self.slow):
                    self.spec.step(group["params"], None, {"slow": s}, group["names"], self._sync_group(), {},
                                   self.steps // self.k)

    def kernel_calls(self) -> list[KernelCall] | None:
        """The inner optimizer's kernel calls plus the synchronisation every ``k`` steps; None where the
        inner optimizer has none, or once stepping has begun (see :meth:`Optimizer.kernel_calls`)."""
        inner = self.inner.kernel_calls()
        if inner is None or self.steps or type(self).step is not Lookahead.step:
            return None
        _check_settings(self.k, self.alpha)
        return inner + [KernelCall(self.spec, self._sync_group(), {}, every=self.k)]

    def state_dict(self) -> dict:
        """The inner optimizer's state_dict with ``k``, ``alpha``, the step count and the slow weights."""
        with self._lock:
            return {"optimizer": type(self).__name__, "inner": self.inner.state_dict(), "k": self.k,
                    "alpha": self.alpha, "steps": self.steps,
                    "slow": None if self.slow is None else [[a.copy() for a in s] for s in self.slow]}

    def load_state_dict(self, state_dict) -> None:
        """Restore a state_dict made by the same class over the same parameter layout.

        Parameters
        ----------
        state_dict : dict
            As :meth:`state_dict` returns it.  Everything (k, alpha, the slow weights' shapes and dtypes,
            the inner state) is checked before anything changes.
        """
        if state_dict.get("optimizer") != type(self).__name__:
            raise ValueError(f"state_dict: made by optimizer {state_dict.get('optimizer')!r}, "
                             f"cannot load into {type(self).__name__}")
        k, alpha, steps, slow = state_dict["k"], state_dict["alpha"], state_dict["steps"], state_dict["slow"]
        _check_settings(k, alpha)
        check_hyper(isinstance(steps, numbers.Integral) and not isinstance(steps, bool) and steps >= 0, "steps",
                    steps, "must be an integer >= 0")
        if slow is not None:
            layout = [[(p.shape, p.dtype) for p in g["params"]] for g in self.param_groups]
            saved = [[(a.shape, a.dtype) if isinstance(a, np.ndarray) else None for a in s] for s in slow]
            if len(saved) > len(layout) or saved != layout[:len(saved)]:
                raise ValueError("state_dict: slow weights have another parameter layout (shapes or dtypes differ)")
        with self._lock:
            self.inner.load_state_dict(state_dict["inner"])
            self.k, self.alpha, self.steps = k, alpha, steps
            self.slow = None if slow is None else [[np.array(a, copy=True, order="C") for a in s] for s in slow]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k}, alpha={self.alpha}, inner={self.inner!r})"


class Ranger(Lookahead):
    """Ranger (Wright, 2019): RAdam inside Lookahead, with RAdam's and Lookahead's hyperparameters.

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        RAdam's learning rate.
    betas : tuple of float
        RAdam's coefficients of the running averages (Ranger's published 0.95, 0.999).
    eps : float
        RAdam's term added to the denominator.
    weight_decay : float
        RAdam's L2 penalty.
    k : int
        Fast steps between two Lookahead synchronisations.
    alpha : float
        Lookahead's interpolation toward the fast weights, in [0, 1].
    maximize : bool
        Ascend the gradient instead of descending it.
    """

    def __init__(self, params, lr=1e-3, betas=(0.95, 0.999), eps=1e-5, weight_decay=0.0, k=6, alpha=0.5, *,
                 maximize=False):
        super().__init__(RAdam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize),
                         k=k, alpha=alpha)


# Registry: the MNIST rate is RAdam's 1e-3 (not tuned); landscape rates: tools/search_default_lr.py.
register("ranger", Ranger, mnist_lr=1e-3, color="#7b4173",
         landscape_lr={"rosenbrock": 0.003, "beale": 0.01, "himmelblau": 0.03, "rastrigin": 0.03,
                       "ackley": 0.3, "booth": 0.03, "goldstein_price": 1e-06, "six_hump_camel": 0.03,
                       "styblinski_tang": 0.01, "saddle": 0.01, "monkey_saddle": 0.003, "quadratic": 0.01,
                       "bowl": 0.03})
