"""The declaration of an optimizer whose state is not elementwise (Muon, Adafactor): what the native
``Spec`` of an elementwise rule gives :class:`~fastopt.optim.Optimizer` (hyperparameter kinds, state slots,
``check`` and ``step`` over a param group), with each slot's shape a function of its param's and the step one
native call of ``fastopt._core.matrix_optim`` per group."""
from __future__ import annotations

import math
from collections.abc import Callable


class MatrixSpec:
    """A param group's step by one native call, with state arrays shaped per param.

    Parameters
    ----------
    name : str
        The optimizer's name.
    hyperparameters : dict
        name -> kind: ``"real"``, ``"flag"``, ``"pair"``, ``"triple"`` or ``"custom"`` (checked by the
        optimizer's own ``_check`` only).
    slot_shapes : dict
        Slot name -> ``shape(param) -> tuple``: the shape of that slot's array for a param (``(0,)`` where the
        param has no such state).
    native_step : callable
        ``native_step(params, grads, slots, names, group, step, grad_scale, grad_limit, check_only)``: the
        group's native call (``check_only`` validates every array and writes nothing).
    """

    reads_grad = True
    carry: dict = {}

    def __init__(self, name: str, hyperparameters: dict, slot_shapes: dict, native_step: Callable):
        self.name = name
        self.hyperparameters = dict(hyperparameters)
        self.slot_names = list(slot_shapes)
        self._shapes = dict(slot_shapes)
        self._native_step = native_step

    def slots(self, group: dict) -> list:
        """``[(slot, 0.0)]``: every slot exists for every group and starts at zero."""
        return [(name, 0.0) for name in self.slot_names]

    def slot_shape(self, name: str, param) -> tuple:
        """The shape of slot ``name``'s array for ``param``."""
        return tuple(self._shapes[name](param))

    def check(self, params, grads, slots, names, group, carry) -> None:
        """Validate a group exactly as :meth:`step` would, writing nothing."""
        self._native_step(params, grads, slots, names, group, 1, 1.0, math.inf, True)

    def step(self, params, grads, slots, names, group, carry, step, *, grad_scale=1.0, grad_limit=math.inf) -> dict:
        """One native step over the group; returns the (empty) carried values."""
        self._native_step(params, grads, slots, names, group, int(step), float(grad_scale), float(grad_limit), False)
        return {}
