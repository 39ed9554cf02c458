r"""Curvature operators of a :class:`fastopt.nn.MLP`'s loss: Hessian, Gauss-Newton and Fisher products.

::

    model = fastopt.nn.MLP([784, 512, 256, 10], dtype=np.float64)
    H = fastopt.curvature.hessian(model, x, y, batch_size=1000)
    Hv = H.matvec(v)                                     # exact, not finite differences
    scipy.sparse.linalg.eigsh(H.as_linear_operator(), k=5)

Every operator is the matrix of the **mean** loss over the data set (x, y), taken with respect to the
flat parameter buffer ``model.flat_params`` (the layout of ``model.grads``). A product runs one native
call per batch of ``batch_size`` rows (``src/cpp/curvature/mlp_curvature.hpp``: BLAS GEMMs, OpenMP,
the GIL released), each adding its rows' products scaled by ``1 / N``, so the result does not depend
on the batch size. Dropout is off (inference mode); the model's ``label_smoothing`` is used. The
operator reads the model's parameters at every product, so it follows the model as it trains.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from ..nn import MLP

FISHER_KINDS = ("empirical", "true", "mc")
_NATIVE_KIND = {"hessian": "hessian", "ggn": "ggn", "empirical": "empirical_fisher", "true": "ggn", "mc": "mc_fisher"}


class CurvatureOperator:
    r"""A symmetric (P, P) curvature matrix of a network's mean loss, applied by :meth:`matvec`.

    Build it with :func:`hessian`, :func:`ggn` or :func:`fisher`.

    Attributes
    ----------
    shape : (int, int)
        ``(P, P)``, P the model's parameter count.
    dtype : numpy.dtype
        The model's dtype; :meth:`matvec` takes and returns vectors of it.
    kind : str
        ``"hessian"``, ``"ggn"``, or the Fisher's ``"empirical"``, ``"true"`` or ``"mc"``.
    num_samples : int
        N, the rows of the data set the products average over.
    batch_size : int
        Rows per native call.
    """

    def __init__(self, model, x, y, kind: str, batch_size: int, seed: int = 0, mc_samples: int = 1):
        if not isinstance(model, MLP):
            raise TypeError(f"model: expected a fastopt.nn.MLP, got {type(model).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size: expected an int >= 1, got {batch_size!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
            raise ValueError(f"seed: expected an int in [0, 2**64), got {seed!r}")
        if isinstance(mc_samples, bool) or not isinstance(mc_samples, (int, np.integer)) or mc_samples < 1:
            raise ValueError(f"mc_samples: expected an int >= 1, got {mc_samples!r}")
        if x is None or y is None:
            raise ValueError("x, y: the curvature of the loss needs data (got None)")
        x, y = model._inputs(x), model._labels(y)
        if x.ndim != 2 or x.shape[1] != model.sizes[0]:
            raise ValueError(f"x: expected shape (n, {model.sizes[0]}), got {x.shape}")
        if x.shape[0] == 0:
            raise ValueError("x: empty data set (0 samples)")
        if y.shape != (x.shape[0],):
            raise ValueError(f"y: expected shape ({x.shape[0]},) to match x, got {y.shape}")
        if not np.isfinite(x).all():
            raise ValueError("x: contains a non-finite value")
        if y.min() < 0 or y.max() >= model.sizes[-1]:
            raise ValueError(f"y: labels must be in [0, {model.sizes[-1]}), got [{y.min()}, {y.max()}]")
        native = _core.nn.CurvatureFloat32 if model.dtype == np.float32 else _core.nn.CurvatureFloat64
        self._model, self._x, self._y = model, x, y
        self._native = native(model._net, _NATIVE_KIND[kind], int(seed), int(mc_samples))
        self.kind, self.batch_size, self.num_samples = kind, int(batch_size), x.shape[0]
        self.shape = (model.num_params, model.num_params)
        self.dtype = model.dtype

    def matvec(self, v) -> np.ndarray:
        r"""The product :math:`C v = \frac{1}{N}\sum_i C_i v` over the data set.

        Parameters
        ----------
        v : numpy.ndarray, shape (P,)
            Of the operator's dtype, finite; not modified.

        Returns
        -------
        numpy.ndarray, shape (P,)
            In the gradient layout (``model.grads``'s views name its pieces).

        Raises
        ------
        TypeError
            If v is not a NumPy array of the operator's dtype.
        ValueError
            If v's shape is not (P,), v or the model's parameters hold a NaN or an infinity.
        """
        if not isinstance(v, np.ndarray) or v.dtype != self.dtype:
            got = v.dtype if isinstance(v, np.ndarray) else type(v).__name__
            raise TypeError(f"v: expected a numpy array of {self.dtype} (the operator's dtype), got {got}")
        if v.shape != (self.shape[0],):
            raise ValueError(f"v: expected shape ({self.shape[0]},) (the model's parameter count), got {v.shape}")
        v = np.ascontiguousarray(v)
        out = np.empty(self.shape[0], dtype=self.dtype)
        n, smoothing = self.num_samples, self._model.label_smoothing
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            self._native.apply(self._x[start:stop], self._y[start:stop], v, out, start, smoothing, 1.0 / n, start > 0)
        return out

    def as_linear_operator(self):
        """The operator as a ``scipy.sparse.linalg.LinearOperator`` (for eigsh, cg, minimize's hessp).

        Unlike :meth:`matvec`, it accepts vectors of any real dtype and shape (P,) or (P, 1), as
        scipy's solvers pass them, and casts them to the operator's dtype.

        Returns
        -------
        scipy.sparse.linalg.LinearOperator
            Symmetric: ``rmatvec`` is ``matvec``.
        """
        try:
            from scipy.sparse.linalg import LinearOperator
        except ImportError as exc:  # scipy is a test extra, not a runtime dependency
            raise ImportError("as_linear_operator needs scipy: pip install scipy (or fastopt[test])") from exc

        def apply(v):
            return self.matvec(np.ascontiguousarray(np.asarray(v).reshape(-1), dtype=self.dtype))

        return LinearOperator(self.shape, matvec=apply, rmatvec=apply, dtype=self.dtype)

    def to_dense(self, max_params: int = 4096) -> np.ndarray:
        """The whole (P, P) matrix, built column by column (P products): for small models only.

        Parameters
        ----------
        max_params : int
            Refuse models with more parameters than this (P products and P^2 numbers).

        Returns
        -------
        numpy.ndarray, shape (P, P)
            Column j is ``matvec(e_j)``; symmetric up to rounding.
        """
        p = self.shape[0]
        if p > max_params:
            raise ValueError(f"to_dense: the model has {p} parameters, above max_params={max_params} "
                             f"({p} products and a {p} x {p} matrix); use matvec, or raise max_params")
        dense = np.empty((p, p), dtype=self.dtype)
        e = np.zeros(p, dtype=self.dtype)
        for j in range(p):
            e[j] = 1.0
            dense[:, j] = self.matvec(e)
            e[j] = 0.0
        return dense

    def __repr__(self) -> str:
        return (f"CurvatureOperator(kind={self.kind!r}, shape={self.shape}, dtype={self.dtype.name}, "
                f"samples={self.num_samples}, batch_size={self.batch_size})")


def hessian(model, x, y, batch_size: int = 1024) -> CurvatureOperator:
    r"""The exact Hessian of the mean loss, :math:`H = \nabla^2_\theta \frac{1}{N}\sum_i \ell_i`.

    Products by Pearlmutter's R-operator (forward-over-backward): the forward pass and its
    directional derivative :math:`R\{z_l\} = a_{l-1} V_l^\top + R\{a_{l-1}\} W_l^\top + V_{b_l}`,
    :math:`R\{a_l\} = f'(z_l) \odot R\{z_l\}`, then the backward pass and its derivative
    :math:`R\{\partial z_L\} = (\mathrm{diag}(p) - p p^\top) R\{z_L\}`,
    :math:`R\{\partial a_{l-1}\} = R\{\partial z_l\} W_l + \partial z_l V_l`,
    :math:`R\{\partial z_l\} = f'(z_l) \odot R\{\partial a_l\} + f''(z_l) \odot \partial a_l \odot R\{z_l\}`,
    giving :math:`(Hv)_{W_l} = R\{\partial z_l\}^\top a_{l-1} + \partial z_l^\top R\{a_{l-1}\}`.
    About twice a gradient's cost. Indefinite away from a minimum.

    Parameters
    ----------
    model : fastopt.nn.MLP
        Its current parameters are read at every product; dropout is off.
    x : array_like, shape (N, sizes[0])
        Finite inputs, N >= 1 (cast to the model's dtype).
    y : array_like of int, shape (N,)
        Class labels in [0, sizes[-1]).
    batch_size : int
        Rows per native call; the result does not depend on it.

    Returns
    -------
    CurvatureOperator
    """
    return CurvatureOperator(model, x, y, "hessian", batch_size)


def ggn(model, x, y, batch_size: int = 1024) -> CurvatureOperator:
    r"""The generalised Gauss-Newton matrix :math:`G = \frac{1}{N}\sum_i J_i^\top H_i J_i`.

    :math:`J_i` is the Jacobian of sample i's logits in the parameters and
    :math:`H_i = \mathrm{diag}(p_i) - p_i p_i^\top` the Hessian of softmax cross-entropy in the logits:
    an R-forward pass (:math:`J v`), :math:`H_i` per row, then the ordinary backward pass
    (:math:`J^\top`). Positive semi-definite; the Hessian without the terms of the activations'
    curvature, so it equals the Hessian for a network without hidden layers.

    Parameters
    ----------
    model, x, y, batch_size
        As for :func:`hessian`.

    Returns
    -------
    CurvatureOperator
    """
    return CurvatureOperator(model, x, y, "ggn", batch_size)


def fisher(model, x, y, kind: str = "true", batch_size: int = 1024, seed: int = 0,
           mc_samples: int = 1) -> CurvatureOperator:
    r"""A Fisher information matrix of the network, :math:`F = \frac{1}{N}\sum_i E[g_i g_i^\top]`.

    With :math:`g_i = J_i^\top e_i` the gradient of sample i's loss, :math:`e_i` its gradient in the
    logits, a product needs only :math:`g_i \cdot v = e_i \cdot (J v)_i`: an R-forward pass, the
    per-row :math:`e_i (e_i \cdot (J v)_i)`, then the backward pass.

    * ``"empirical"``: :math:`e_i = p_i - q_i` with the data's (smoothed) target :math:`q_i`: the mean
      outer product of the per-sample training gradients.
    * ``"true"``: :math:`e = p_i - \mathrm{onehot}(\tilde y)` averaged exactly over
      :math:`\tilde y \sim \mathrm{softmax}`, which gives :math:`\mathrm{diag}(p_i) - p_i p_i^\top`:
      the true Fisher of softmax cross-entropy is the Gauss-Newton matrix (:func:`ggn`).
    * ``"mc"``: the same with ``mc_samples`` labels drawn per sample from the model's softmax
      (seeded by ``seed`` and the sample's index, so the operator is a fixed matrix and does not
      depend on ``batch_size``): an unbiased estimate of the true Fisher.

    Parameters
    ----------
    model, x, y, batch_size
        As for :func:`hessian`.
    kind : str
        ``"empirical"``, ``"true"`` or ``"mc"``.
    seed : int
        Seeds the sampled labels of ``"mc"``.
    mc_samples : int
        Labels drawn per sample for ``"mc"`` (each costs O(classes), not a pass).

    Returns
    -------
    CurvatureOperator
    """
    if kind not in FISHER_KINDS:
        raise ValueError(f"kind: expected one of {', '.join(map(repr, FISHER_KINDS))}, got {kind!r}")
    return CurvatureOperator(model, x, y, kind, batch_size, seed=seed, mc_samples=mc_samples)
