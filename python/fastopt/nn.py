"""fastopt.nn: a multilayer perceptron whose forward and backward passes run in C++.

Dense layers with GEMMs through OpenBLAS (scipy-openblas32), bias + activation (+ dropout) and
their backward fused into one pass each, threaded with OpenMP, the GIL released.  Parameters and
gradients live in one flat buffer each; ``model.params`` and ``model.grads`` are zero-copy NumPy
views of them, so any fastopt optimizer trains the network::

    model = fastopt.nn.MLP([784, 512, 256, 10])
    opt = fastopt.Adam(model.params, lr=1e-3)
    loss = model.forward_backward(x, y)
    opt.step(model.grads)
"""
from __future__ import annotations

import ast
import os

import numpy as np

from . import _core
from .atomic import atomic_write

ACTIVATIONS = tuple(_core.nn.activations())  # from the C++ type list (src/cpp/nn/activation.hpp)
INITS = ("he", "xavier", "glorot", "normal", "zeros")
_FORMAT = 1  # version of the save() file layout


class MLP:
    """Fully connected network with softmax cross-entropy.  Widths ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Every hidden layer computes ``a = dropout(f(x W^T + b))``; the output layer gives logits. The
    loss is the batch mean of ``-sum_k q_k log softmax(z)_k`` with ``q = (1 - eps) onehot(y) + eps / K``
    (``eps = label_smoothing``), computed with a stable log-sum-exp.

    NaN and Inf propagate as in torch (``relu(NaN)`` is NaN), so a diverged network reports a NaN
    loss rather than a finite one with zero gradients.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first, number of classes last; each in [1, 2**31 - 1] (BLAS takes 32-bit
        sizes). Sizes whose parameters overflow 64-bit offsets or cannot be allocated raise a
        ValueError giving the parameter count and the memory they would need.
    activation : str
        One of :data:`ACTIVATIONS`: ``relu``, ``leaky_relu`` (slope ``negative_slope`` below 0),
        ``tanh``, ``sigmoid`` or ``gelu`` (exact, erf-based, as ``torch.nn.GELU()``).
    init : str
        Weights ``he`` (normal, std sqrt(2 / fan_in)), ``xavier`` / ``glorot`` (uniform, bound
        sqrt(6 / (fan_in + fan_out))), ``normal`` (std ``init_std``) or ``zeros``; biases are zero.
    dropout : float
        Probability in [0, 1) of zeroing a hidden unit while training (inverted dropout; off in
        ``predict``/``evaluate`` and with ``forward_backward(train=False)``), masks seeded by ``seed``.
    seed : int
        Seeds the initialisation and the dropout masks.
    dtype : numpy dtype
        ``np.float32`` (default) or ``np.float64``.
    init_std : float
        Standard deviation of the ``normal`` initialisation.
    negative_slope : float
        Slope of ``leaky_relu`` below 0.
    label_smoothing : float
        ``eps`` in [0, 1] of the smoothed target ``q`` above.

    Notes
    -----
    Weights have torch's layout ``(out, in)``; names are ``"0.weight"``, ``"0.bias"``, ``"1.weight"``, ...
    """

    def __init__(self, sizes=(784, 512, 256, 10), activation: str = "relu", init: str = "he", dropout: float = 0.0,
                 seed: int = 0, dtype=np.float32, *, init_std: float = 0.01, negative_slope: float = 0.01,
                 label_smoothing: float = 0.0):
        sizes = list(sizes)
        if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
            raise TypeError(f"sizes: expected a list of at least two ints, got {sizes!r}")
        if any(s < 1 for s in sizes):
            raise ValueError(f"sizes: every width must be >= 1, got {sizes!r}")
        if any(s >= 2**63 for s in sizes):  # the native class cannot receive them; it checks the rest
            raise ValueError(f"sizes: widths above 2147483647 exceed BLAS's 32-bit sizes, got {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation: unknown {activation!r} (one of {', '.join(ACTIVATIONS)})")
        if init not in INITS:
            raise ValueError(f"init: unknown {init!r} (one of {', '.join(INITS)})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: must be in [0, 1), got {dropout!r}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing: must be in [0, 1], got {label_smoothing!r}")
        if not init_std >= 0.0:
            raise ValueError(f"init_std: must be >= 0, got {init_std!r}")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype: expected float32 or float64, got {dtype}")
        self.sizes = [int(s) for s in sizes]
        self.activation, self.init, self.dropout, self.seed = activation, init, float(dropout), int(seed)
        self.init_std, self.negative_slope = float(init_std), float(negative_slope)
        self.label_smoothing = float(label_smoothing)
        self.dtype = dtype
        native = _core.nn.MLPFloat32 if dtype == np.float32 else _core.nn.MLPFloat64
        self._net = native(self.sizes, activation, self.negative_slope, self.dropout, self.seed)
        self.flat_params = self._net.flat_params
        self.flat_grads = self._net.flat_grads
        self.params = self._views(self.flat_params)
        self.grads = self._views(self.flat_grads)
        self._initialise(np.random.default_rng(self.seed))

    def _views(self, flat: np.ndarray) -> dict:
        views = {}
        for i, (n_in, n_out, w, b) in enumerate(self._net.layers):
            views[f"{i}.weight"] = flat[w:w + n_in * n_out].reshape(n_out, n_in)
            views[f"{i}.bias"] = flat[b:b + n_out]
        return views

    def _initialise(self, rng: np.random.Generator) -> None:
        for i in range(len(self.sizes) - 1):
            weight = self.params[f"{i}.weight"]
            fan_out, fan_in = weight.shape
            if self.init == "he":
                weight[...] = rng.standard_normal(weight.shape) * np.sqrt(2.0 / fan_in)
            elif self.init in ("xavier", "glorot"):
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                weight[...] = rng.uniform(-bound, bound, weight.shape)
            elif self.init == "normal":
                weight[...] = rng.standard_normal(weight.shape) * self.init_std
            else:
                weight[...] = 0.0
            self.params[f"{i}.bias"][...] = 0.0

    @property
    def num_params(self) -> int:
        """Number of scalar parameters (weights and biases).

        Returns
        -------
        int
        """
        return self.flat_params.size

    @property
    def dropout_calls(self) -> int:
        """Training forwards so far: the counter the dropout masks derive from.

        Checkpoint it with the params (and set it back) for a resume that draws the same masks as an
        uninterrupted run.

        Returns
        -------
        int
        """
        return self._net.dropout_calls

    @dropout_calls.setter
    def dropout_calls(self, value: int) -> None:
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"dropout_calls: expected a non-negative int, got {value!r}")
        self._net.dropout_calls = int(value)

    # ------------------------------------------------------------------ inputs
    def _inputs(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind not in "fiu":
            raise TypeError(f"x: expected a real numeric array, got dtype {x.dtype}")
        return np.ascontiguousarray(x, dtype=self.dtype)

    @staticmethod
    def _labels(y) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind not in "iu":
            raise TypeError(f"y: expected integer class labels, got dtype {y.dtype}")
        return np.ascontiguousarray(y, dtype=np.int64)

    # ------------------------------------------------------------------ training
    def forward_backward(self, x, y, train: bool = True, capture=None) -> float:
        """Forward and backward on one batch; overwrites ``grads``.  The GIL is released.

        Parameters
        ----------
        x : array_like, shape (batch, sizes[0])
            Real numbers, all finite.
        y : array_like of int, shape (batch,)
            Class labels in [0, sizes[-1]).
        train : bool
            Apply dropout (and advance its seeded masks).
        capture : fastopt.curvature.LayerCapture, optional
            Also record what a curvature optimizer needs (each layer's inputs and per-example output
            gradients, the batch): ``optimizer.next_capture()`` of K-FAC, EKFAC and the natural
            gradient. None (the default) records nothing and costs nothing.

        Returns
        -------
        float
            The mean loss over the batch (NaN if the parameters hold a NaN).
        """
        x, y = self._inputs(x), self._labels(y)
        native = None if capture is None else capture._bind(self, x, y)
        return self._net.forward_backward(x, y, bool(train), self.label_smoothing, native)

    # ------------------------------------------------------------------ inference (no dropout)
    def forward(self, x, batch_size: int = 1024) -> np.ndarray:
        """The logits, without dropout.

        Parameters
        ----------
        x : array_like, shape (batch, sizes[0])
            Real numbers, all finite.
        batch_size : int
            Rows per native call (bounds the workspace).

        Returns
        -------
        numpy.ndarray, shape (batch, sizes[-1])
        """
        return self._net.infer(self._inputs(x), None, int(batch_size), self.label_smoothing, "logits")[0]

    def predict_proba(self, x, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities: the softmax of the logits.

        Parameters
        ----------
        x : array_like, shape (batch, sizes[0])
        batch_size : int
            Rows per native call.

        Returns
        -------
        numpy.ndarray, shape (batch, sizes[-1])
        """
        return self._net.infer(self._inputs(x), None, int(batch_size), self.label_smoothing, "proba")[0]

    def predict(self, x, batch_size: int = 1024) -> np.ndarray:
        """The predicted class of every sample.

        Parameters
        ----------
        x : array_like, shape (batch, sizes[0])
        batch_size : int
            Rows per native call.

        Returns
        -------
        numpy.ndarray of int64, shape (batch,)
        """
        return np.argmax(self.forward(x, batch_size), axis=1)

    def evaluate(self, x, y, batch_size: int = 1024) -> tuple[float, float]:
        """Loss and accuracy over a whole set, without dropout and without touching ``grads``.

        Parameters
        ----------
        x : array_like, shape (n, sizes[0])
        y : array_like of int, shape (n,)
        batch_size : int
            Rows per native call.

        Returns
        -------
        (float, float)
            The mean loss (with the model's ``label_smoothing``, like the training loss) and the
            fraction of samples classified correctly.
        """
        x, y = self._inputs(x), self._labels(y)
        _, loss_sum, correct = self._net.infer(x, y, int(batch_size), self.label_smoothing, "none")
        return loss_sum / len(y), correct / len(y)

    # ------------------------------------------------------------------ persistence
    def _config(self) -> dict:
        return dict(sizes=self.sizes, activation=self.activation, init=self.init, dropout=self.dropout, seed=self.seed,
                    dtype=self.dtype.name, init_std=self.init_std, negative_slope=self.negative_slope,
                    label_smoothing=self.label_smoothing)

    def save(self, path) -> None:
        """Write configuration, parameters and dropout counter to an ``.npz`` file, atomically.

        Parameters
        ----------
        path : str or os.PathLike
            The file; written to a temporary file beside it, then renamed in one step.
        """
        with atomic_write(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, format=_FORMAT, config=np.array(repr(self._config())), params=self.flat_params,
                     dropout_calls=np.uint64(self.dropout_calls))

    @classmethod
    def load(cls, path) -> "MLP":
        """Rebuild a network written by :meth:`save`; parameters and dropout state come back exactly.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save`.

        Returns
        -------
        MLP

        Raises
        ------
        ValueError
            If the file is not an MLP file, its parameters do not match its configuration, or they
            hold a NaN or an infinity (a diverged run, not a checkpoint to resume).
        """
        with np.load(os.fspath(path), allow_pickle=False) as data:
            if "format" not in data or int(data["format"]) != _FORMAT:
                raise ValueError(f"{path}: not a fastopt.nn.MLP file (format {_FORMAT} expected)")
            config = ast.literal_eval(str(data["config"]))
            params, calls = data["params"], int(data["dropout_calls"])
        config["init"], init = "zeros", config["init"]
        model = cls(**config)
        if params.shape != model.flat_params.shape or params.dtype != model.dtype:
            raise ValueError(f"{path}: parameters {params.dtype}{params.shape} do not match the configuration "
                             f"({model.dtype}, ({model.num_params},))")
        if not np.isfinite(params).all():
            bad = np.flatnonzero(~np.isfinite(params))
            raise ValueError(f"{path}: {bad.size} parameters are not finite (first {params[bad[0]]} at flat index "
                             f"{bad[0]}): the run diverged")
        model.flat_params[...] = params
        model.init = init
        model.dropout_calls = calls
        return model

    def __repr__(self) -> str:
        return (f"MLP(sizes={self.sizes}, activation={self.activation!r}, init={self.init!r}, dropout={self.dropout}, "
                f"dtype={self.dtype.name}, params={self.num_params})")


def make_model(config: dict) -> MLP:
    """The :class:`MLP` a run's settings describe (a run folder's config.json, as fastopt.runs writes it).

    Parameters
    ----------
    config : dict
        ``inputs`` and ``classes`` (int) and ``hidden`` (list of widths) set the layers;
        ``activation``, ``init``, ``dropout`` and ``seed`` are passed on where present (else MLP's defaults).
        Other keys are ignored.

    Returns
    -------
    MLP
        Freshly initialised, float32.
    """
    options = {k: config[k] for k in ("activation", "init", "dropout", "seed") if k in config}
    return MLP([config["inputs"], *config["hidden"], config["classes"]], **options)
