r"""What a curvature optimizer asks :meth:`fastopt.nn.MLP.forward_backward` to record: the layer statistics.

For the K-FAC family, each dense layer :math:`l` (``in -> out``) of a batch of B rows records

* :math:`a_i = [a_{l-1,i}, 1]` (``in + 1``): the layer's input with the homogeneous coordinate (the bias column);
* :math:`g_i = \partial \ell_i / \partial z_{l,i}` (``out``): the per-example gradient of the pre-activations,
  i.e. B times the backward pass's gradient of the batch-mean loss (kfac-pytorch's scaling).

With ``fisher="empirical"`` the :math:`g_i` are those of the data's labels (the ordinary backward pass,
copied); with ``fisher="true"`` they come from labels :math:`\tilde y_i \sim \mathrm{softmax}(z_{L,i})`
drawn per row (seeded by ``seed`` and a capture counter, as the MC Fisher products of
:mod:`fastopt.curvature.network` draw theirs) and back-propagated by a second input-side pass, so
:math:`E[g g^\top]` is the true Fisher's factor; the parameter gradients stay the data's. Without a
capture none of this runs. The native side is ``src/cpp/nn/layer_capture.hpp``.

::

    capture = LayerCapture(model, fisher="true", seed=0)
    model.forward_backward(x, y, capture=capture)
    capture.a(0), capture.g(0)          # copies: (B, in + 1), (B, out)
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..nn import MLP

FISHERS = ("empirical", "true")


class LayerCapture:
    """The layer statistics (and the batch) of the forward_backward calls it is passed to.

    Parameters
    ----------
    model : fastopt.nn.MLP
        The network whose calls it records.
    fisher : str
        ``"empirical"`` (the data's labels) or ``"true"`` (labels drawn from the model's softmax).
    seed : int
        Seeds the drawn labels of ``"true"``.
    layers : bool
        Record the per-layer statistics natively (K-FAC, EKFAC); False records only the batch (x, y),
        as the natural gradient's Fisher needs.

    Attributes
    ----------
    x, y : numpy.ndarray or None
        The last batch recorded (the arrays the model converted them to).
    fresh : bool
        Whether a forward_backward has recorded since the optimizer last consumed it.
    """

    def __init__(self, model, fisher: str = "empirical", seed: int = 0, layers: bool = True):
        if not isinstance(model, MLP):
            raise TypeError(f"model: expected a fastopt.nn.MLP, got {type(model).__name__}")
        if fisher not in FISHERS:
            raise ValueError(f"Invalid fisher: {fisher!r} (one of {', '.join(map(repr, FISHERS))})")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
            raise ValueError(f"Invalid seed: {seed!r} (must be an int in [0, 2**64))")
        self.model, self.fisher, self.seed = model, fisher, int(seed)
        native = _core.kfac.LayerCaptureFloat32 if model.dtype == np.float32 else _core.kfac.LayerCaptureFloat64
        self.native = native(model._net, fisher == "true", self.seed) if layers else None
        self.x = self.y = None
        self.fresh = False

    @property
    def calls(self) -> int:
        """Native captures so far: the counter the drawn labels derive from (saved for exact resume)."""
        return 0 if self.native is None else self.native.calls

    @calls.setter
    def calls(self, value: int) -> None:
        if self.native is not None:
            self.native.calls = int(value)

    def _bind(self, model, x: np.ndarray, y: np.ndarray):
        """Called by ``model.forward_backward``: record the batch; the native capture to fill (or None)."""
        if model is not self.model:
            raise ValueError("capture: made for another model")
        self.x, self.y, self.fresh = x, y, True
        return self.native

    def consume(self) -> None:
        """Mark the recorded batch as used by a step (the next step needs a new forward_backward)."""
        self.fresh = False

    def a(self, layer: int) -> np.ndarray:
        """A copy of layer ``layer``'s inputs with the homogeneous 1, shape (B, in + 1)."""
        return self.native.a(layer)

    def g(self, layer: int) -> np.ndarray:
        """A copy of layer ``layer``'s per-example output gradients, shape (B, out)."""
        return self.native.g(layer)

    def __repr__(self) -> str:
        return f"LayerCapture(fisher={self.fisher!r}, seed={self.seed}, layers={self.native is not None})"
