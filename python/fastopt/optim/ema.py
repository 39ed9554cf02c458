"""An exponential moving average of the weights, updated natively over all tensors in one pass."""
from __future__ import annotations

import contextlib
import numbers
from collections.abc import Mapping

import numpy as np

from .. import _core
from .validation import check_hyper

__all__ = ["EMA"]


class EMA:
    r"""An exponential moving average of a model's weights (Polyak averaging with exponential weights, as
    ``tf.train.ExponentialMovingAverage``, timm's ``ModelEmaV2`` and torch's ``AveragedModel`` with
    ``get_ema_multi_avg_fn`` keep it): evaluating with the average usually generalises better than with the last
    iterate.

    .. math:: \bar\theta_t = \bar\theta_{t-1} + (1 - d_t)(\theta_t - \bar\theta_{t-1}), \qquad
              d_t = \begin{cases} \min\!\left(d, \frac{1 + t}{10 + t}\right) & \text{warmup} \\ d & \text{else}
              \end{cases}

    with :math:`\bar\theta_0 = \theta_0` (a copy of the weights when the EMA is made) and :math:`t` the number of
    updates so far (TensorFlow's ``num_updates`` warm-up, so the average does not stay anchored at the initial
    weights early on).  :meth:`update` is one native multi-tensor pass over every weight (reads the weight and
    the average, writes the average: 12 bytes per float32 weight), the GIL released.

    Parameters
    ----------
    params : sequence or mapping of numpy.ndarray
        The weights to average (float32 or float64, C-contiguous), e.g. ``model.params`` of a
        :class:`fastopt.nn.MLP`, or ``[p.detach().numpy() for p in torch_model.parameters()]`` (zero-copy views of
        CPU tensors).  They are read, never written, except by :meth:`copy_to` and :meth:`average_parameters`.
    decay : float
        :math:`d`, in [0, 1): 0.999 averages over about the last 1,000 updates.
    warmup : bool
        Use :math:`\min(d, (1 + t) / (10 + t))` instead of :math:`d`.

    Examples
    --------
    >>> ema = fastopt.EMA(model.params, decay=0.999)
    >>> for x, y in batches:
    ...     model.forward_backward(x, y); opt.step(model.grads); ema.update()
    >>> with ema.average_parameters():      # the model holds the averages inside the block
    ...     loss, accuracy = model.evaluate(x_test, y_test)
    """

    def __init__(self, params, decay: float = 0.999, *, warmup: bool = False):
        check_hyper(isinstance(decay, numbers.Real) and not isinstance(decay, bool) and 0.0 <= decay < 1.0,
                    "decay", decay, "must be a number in [0, 1)")
        check_hyper(isinstance(warmup, bool), "warmup", warmup, "must be True or False")
        items = list(params.items()) if isinstance(params, Mapping) else list(enumerate(params))
        if not items:
            raise ValueError("params: got no arrays to average")
        for name, p in items:
            if not isinstance(p, np.ndarray):
                raise TypeError(f"params[{name!r}]: expected a numpy.ndarray, got {type(p).__name__}")
            if p.dtype not in (np.float32, np.float64):
                raise TypeError(f"params[{name!r}]: dtype {p.dtype} is not float32 or float64")
            if not p.flags.c_contiguous:
                raise ValueError(f"params[{name!r}]: must be C-contiguous")
        self.names = [str(name) for name, _ in items]
        self.params = [p for _, p in items]
        self.shadow = [p.copy() for p in self.params]
        self.decay, self.warmup, self.num_updates = float(decay), warmup, 0

    def current_decay(self) -> float:
        """:math:`d_t` of the next update."""
        t = self.num_updates
        return min(self.decay, (1 + t) / (10 + t)) if self.warmup else self.decay

    def _check_unchanged(self) -> None:
        for name, p, s in zip(self.names, self.params, self.shadow):
            if p.shape != s.shape or p.dtype != s.dtype:
                raise ValueError(f"params[{name!r}]: now {p.dtype} {p.shape}, the average is {s.dtype} {s.shape}")

    def update(self) -> None:
        """Move the average towards the current weights (one native pass over all of them)."""
        try:  # the native call checks every array before writing any
            _core.optim.ema_update(self.shadow, self.params, 1.0 - self.current_decay(), self.names)
        except (TypeError, ValueError):
            self._check_unchanged()  # a clearer message for the usual cause: a weight replaced by another array
            raise
        self.num_updates += 1

    def copy_to(self, params=None) -> None:
        """Write the average into ``params`` (default: the averaged weights themselves).

        Parameters
        ----------
        params : sequence or mapping of numpy.ndarray, optional
            Arrays of the averaged weights' shapes, in the same order (or with the same keys).
        """
        targets = self.params if params is None else (
            [params[k] for k in self._keys(params)] if isinstance(params, Mapping) else list(params))
        if len(targets) != len(self.shadow) or any(t.shape != s.shape for t, s in zip(targets, self.shadow)):
            raise ValueError("params: must match the averaged weights in number and shapes")
        for t, s in zip(targets, self.shadow):
            np.copyto(t, s)

    def _keys(self, params: Mapping) -> list:
        missing = [n for n in self.names if n not in params and (not n.isdigit() or int(n) not in params)]
        if missing:
            raise ValueError(f"params: no array for {missing[0]!r}")
        return [n if n in params else int(n) for n in self.names]

    @contextlib.contextmanager
    def average_parameters(self):
        """Inside the ``with`` block the weights hold the average; they are restored on leaving it (also on an
        exception)."""
        saved = [p.copy() for p in self.params]
        self.copy_to()
        try:
            yield self
        finally:
            for p, s in zip(self.params, saved):
                np.copyto(p, s)

    def state_dict(self) -> dict:
        """The average, its decay, warm-up and update count (copies)."""
        return {"decay": self.decay, "warmup": self.warmup, "num_updates": self.num_updates,
                "shadow": {name: s.copy() for name, s in zip(self.names, self.shadow)}}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s output; nothing changes if it does not fit these weights.

        Raises
        ------
        ValueError
            If a name is missing or an array's shape or dtype differs.
        """
        shadow = state["shadow"]
        for name, s in zip(self.names, self.shadow):
            if name not in shadow:
                raise ValueError(f"state_dict: no average for {name!r}")
            got = np.asarray(shadow[name])
            if got.shape != s.shape or got.dtype != s.dtype:
                raise ValueError(f"state_dict: average of {name!r} is {got.dtype} {got.shape}, expected "
                                 f"{s.dtype} {s.shape}")
        decay, warmup, updates = state["decay"], state["warmup"], state["num_updates"]
        check_hyper(0.0 <= decay < 1.0, "decay", decay, "must be a number in [0, 1)")
        check_hyper(isinstance(updates, numbers.Integral) and updates >= 0, "num_updates", updates,
                    "must be an integer >= 0")
        for name, s in zip(self.names, self.shadow):
            np.copyto(s, shadow[name])
        self.decay, self.warmup, self.num_updates = float(decay), bool(warmup), int(updates)

    def __repr__(self) -> str:
        return (f"EMA({len(self.params)} arrays, decay={self.decay}, warmup={self.warmup}, "
                f"num_updates={self.num_updates})")
