"""The base of the optimizers that precondition with the network's curvature (K-FAC, EKFAC, natural gradient).

They take the model, not its arrays: each step needs what ``forward_backward`` records for it (the layer
statistics, the batch; :class:`~fastopt.curvature.LayerCapture`), asked for by :meth:`next_capture`, which
:func:`fastopt.train.fit` calls before every step. A step turns the model's flat gradient into a direction
(the subclass's ``_direction``), then updates ``model.flat_params`` with fastopt's native SGD kernel
(momentum, weight decay) through an inner :class:`fastopt.SGD`, as kfac-pytorch runs its preconditioner
under ``torch.optim.SGD``.

Non-finite input (the rule every subclass follows): a step whose gradient, or whose captured statistics
it would use, holds a NaN or an infinity is **skipped**: parameters, momentum, factors, decompositions and
step counters stay as they were, ``skipped_steps`` counts it, and a ``RuntimeWarning`` says what was not
finite. (A diverged network then shows in the loss, which :func:`fastopt.train.fit` reports.) Should the
preconditioned gradient itself overflow from finite inputs, the step is skipped the same way, the
parameters and momentum unchanged (the factors have then taken in the batch).
"""
from __future__ import annotations

import copy
import numbers
import threading
import warnings
from collections.abc import Mapping

import numpy as np

from ..nn import MLP
from ..optim.sgd import SGD
from ..optim.validation import check_hyper


def check_real(value, name: str, low: float, high: float | None = None, low_open: bool = False,
               high_open: bool = False) -> None:
    """ValueError naming ``name`` unless value is a finite real between low and high (open ends as asked)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (value > low if low_open else value >= low)
    ok = ok and (high is None or (value < high if high_open else value <= high))
    upper = "" if high is None else f" and {'<' if high_open else '<='} {high}"
    bounds = f"{'>' if low_open else '>='} {low}{upper}"
    check_hyper(ok, name, value, f"must be a finite number {bounds}")


def check_int(value, name: str, low: int) -> None:
    """ValueError naming ``name`` unless value is an integer >= low."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low
    check_hyper(ok, name, value, f"must be an integer >= {low}")


def check_choice(value, name: str, choices) -> None:
    """ValueError naming ``name`` unless value is one of ``choices``."""
    check_hyper(value in choices, name, value, f"must be one of {', '.join(map(repr, choices))}")


class ModelOptimizer:
    """Base of the curvature optimizers over a :class:`fastopt.nn.MLP` (see the module docstring).

    A subclass passes its hyperparameters (``lr``, ``momentum``, ``weight_decay`` among them) and
    implements ``_check(group)``, ``_needs_capture(step)``, ``_direction(grad, step)`` (the preconditioned
    gradient, or None to skip), and ``_arrays()`` / ``_counters()`` (its state, by name) for the state_dict.
    A subclass without ``momentum`` (AdaHessian) has no inner SGD and overrides ``_update`` instead.

    Parameters
    ----------
    model : fastopt.nn.MLP
        The network; ``model.flat_params`` is updated in place.
    defaults : dict
        The hyperparameters, as the subclass's constructor received them.
    """

    def __init__(self, model, defaults: dict):
        if not isinstance(model, MLP):
            raise TypeError(f"model: expected a fastopt.nn.MLP (K-FAC-family optimizers take the model, not its "
                            f"params), got {type(model).__name__}")
        self.model = model
        self.defaults = dict(defaults)
        group = {"params": [model.flat_params], "names": ["flat_params"], **defaults}
        self._check_common(group)
        self._check(group)
        self.param_groups = [group]
        # The update under the direction: fastopt's SGD unless the subclass applies its own (``_update``).
        self._sgd = (SGD({"flat_params": model.flat_params}, lr=group["lr"], momentum=group["momentum"],
                         weight_decay=group["weight_decay"]) if "momentum" in group else None)
        self._layers = [tuple(layer) for layer in model._net.layers]  # (in, out, weight offset, bias offset)
        self._grad = np.empty_like(model.flat_params)  # the gradient, when not given as model.grads
        self._direction_buffer = np.empty_like(model.flat_params)
        self.step_count = 0
        self.skipped_steps = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ hyperparameters
    @staticmethod
    def _check_common(group: dict) -> None:
        check_real(group["lr"], "learning rate", 0.0)
        if "momentum" in group:
            check_real(group["momentum"], "momentum", 0.0, 1.0)
        check_real(group["weight_decay"], "weight_decay", 0.0)

    def _check(self, group: dict) -> None:
        """The subclass's own checks (ValueError naming the bad value)."""

    # ------------------------------------------------------------------ the step
    def next_capture(self):
        """What the next ``forward_backward`` must record for the next step (a LayerCapture), or None.

        Returns
        -------
        fastopt.curvature.LayerCapture or None
        """
        return self.capture if self._needs_capture(self.step_count + 1) else None

    def _flat_grad(self, grads) -> np.ndarray:
        """The flat gradient: the model's own buffer when ``grads`` is ``model.grads``, else a checked copy."""
        model = self.model
        if isinstance(grads, np.ndarray):
            raise TypeError("grads: expected model.grads (a dict name -> array) or a list aligned with "
                            "model.params, got a single array")
        names = list(model.grads)
        items = [grads[n] if n in grads else None for n in names] if isinstance(grads, Mapping) else list(grads)
        if isinstance(grads, Mapping) and (any(a is None for a in items) or len(grads) != len(names)):
            raise ValueError(f"grads: names do not match the model's params {names[:4]}...")
        if len(items) != len(names):
            raise ValueError(f"grads: got {len(items)} arrays for {len(names)} params")
        if all(a is model.grads[n] for a, n in zip(items, names)):
            return model.flat_grads
        for a, n in zip(items, names):
            if not isinstance(a, np.ndarray) or a.shape != model.params[n].shape or a.dtype != model.dtype:
                raise ValueError(f"grads: '{n}' must be a {model.dtype} array of shape {model.params[n].shape}")
        for i, (_, _, w, b) in enumerate(self._layers):
            for start, n in ((w, f"{i}.weight"), (b, f"{i}.bias")):
                a = items[names.index(n)]
                self._grad[start:start + a.size] = a.reshape(-1)
        return self._grad

    def _skip(self, what: str, unchanged: str = "parameters and optimizer state unchanged") -> None:
        self.skipped_steps += 1
        warnings.warn(f"{type(self).__name__}: step {self.step_count + 1} skipped: {what} holds a NaN or an "
                      f"infinity ({unchanged})", RuntimeWarning, stacklevel=3)

    def step(self, grads) -> None:
        """One step from ``grads`` (``model.grads`` after a ``forward_backward`` given :meth:`next_capture`).

        Parameters
        ----------
        grads : dict or list of numpy.ndarray
            ``model.grads``, or arrays aligned with ``model.params``.

        Raises
        ------
        ValueError
            If the step needs the layer statistics and no ``forward_backward`` recorded them since the
            last step (nothing changes).
        """
        with self._lock:
            group = self.param_groups[0]
            self._check_common(group)
            self._check(group)
            grad = self._flat_grad(grads)
            t = self.step_count + 1
            if self._needs_capture(t) and not self.capture.fresh:
                raise ValueError(f"{type(self).__name__}.step: step {t} needs the layer statistics, but no "
                                 "forward_backward recorded them since the last step: call "
                                 "model.forward_backward(x, y, capture=optimizer.next_capture()) first")
            self.capture.consume()  # this step uses the batch it recorded (or skips it)
            if not np.isfinite(grad).all():
                return self._skip("the gradient")
            direction = self._direction(grad, t)
            if direction is None:
                return None
            if not np.isfinite(direction).all():  # finite inputs, yet the preconditioner overflowed
                return self._skip("the preconditioned gradient", "parameters and momentum unchanged; the "
                                  "curvature statistics took in the batch")
            self._update(direction, group, t)
            self.step_count = t
        return None

    def _update(self, direction: np.ndarray, group: dict, t: int) -> None:
        """Move ``model.flat_params`` along ``direction`` (step t): SGD with momentum and weight decay."""
        sgd = self._sgd.param_groups[0]
        sgd["lr"], sgd["momentum"], sgd["weight_decay"] = group["lr"], group["momentum"], group["weight_decay"]
        self._sgd.step([direction])

    # ------------------------------------------------------------------ checkpoints
    def _arrays(self) -> dict:
        """name -> list of arrays of the subclass's state (override)."""
        return {}

    def _counters(self) -> dict:
        """name -> int of the subclass's state (override)."""
        return {}

    def state_dict(self) -> dict:
        """A deep copy of the optimizer's hyperparameters, counters, state arrays and inner SGD state.

        Returns
        -------
        dict
            ``{"optimizer", "param_groups", "state", "sgd"}`` (no ``"sgd"`` for an optimizer that applies
            its own update, as AdaHessian); storable by fastopt's checkpoints.
        """
        with self._lock:
            hyper = {k: copy.deepcopy(v) for k, v in self.param_groups[0].items() if k not in ("params", "names")}
            state = {"step": self.step_count, "skipped_steps": self.skipped_steps, "capture_calls": self.capture.calls,
                     **self._counters(), **{k: [a.copy() for a in v] for k, v in self._arrays().items()}}
            inner = {} if self._sgd is None else {"sgd": self._sgd.state_dict()}
            return {"optimizer": type(self).__name__, "param_groups": [hyper], "state": state, **inner}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore a :meth:`state_dict` of the same class over a model of the same layout and dtype.

        Parameters
        ----------
        state_dict : dict
            Everything is checked before anything changes; arrays are copied.
        """
        kind = state_dict.get("optimizer")
        if kind != type(self).__name__:
            raise ValueError(f"state_dict: made by optimizer {kind!r}, cannot load into {type(self).__name__}")
        with self._lock:
            hyper, state = dict(state_dict["param_groups"][0]), dict(state_dict["state"])
            group = {**self.param_groups[0], **hyper}
            self._check_common(group)
            self._check(group)
            mine = self._arrays_for(group)
            counters = ["step", "skipped_steps", "capture_calls", *self._counters()]
            if sorted(state) != sorted([*counters, *mine]):
                raise ValueError(f"state_dict: state {sorted(state)} does not match what {type(self).__name__} "
                                 f"keeps under these settings, {sorted([*counters, *mine])}")
            for name, arrays in mine.items():
                saved = state[name]
                if len(saved) != len(arrays) or any(not isinstance(s, np.ndarray) or s.shape != a.shape or
                                                    s.dtype != a.dtype for s, a in zip(saved, arrays)):
                    raise ValueError(f"state_dict: state '{name}' does not match the model's layers and dtype")
            for name in counters:
                check_int(state.get(name), f"state_dict counter '{name}'", 0)
            if self._sgd is not None:
                self._sgd.load_state_dict(state_dict["sgd"])  # checks before it changes anything
            group.update(hyper)
            self.param_groups[0] = group
            self._restore(group, {k: [np.array(a, copy=True, order="C") for a in state[k]] for k in mine},
                          {k: int(state[k]) for k in counters})

    def _arrays_for(self, group: dict) -> dict:
        """name -> arrays of the layout the state must have under ``group``'s settings (override)."""
        return self._arrays()

    def _restore(self, group: dict, arrays: dict, counters: dict) -> None:
        """Put loaded state back (override and call this for the shared counters)."""
        self.step_count, self.skipped_steps = counters["step"], counters["skipped_steps"]
        self.capture.calls = counters["capture_calls"]

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.param_groups[0].items() if k not in ("params", "names"))
        return f"{type(self).__name__}({hyper})"
