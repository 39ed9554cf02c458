"""Multinomial logistic regression as a native objective: the full-batch problem of the second-order study.

::

    data = fastopt.datasets.load_mnist()
    obj = fastopt.curvature.LogisticRegression(data.train.x, data.train.y, classes=10, l2=1e-4)
    res = fastopt.minimize(obj, np.zeros(obj.dim), method="lbfgs")   # runs entirely in C++
    obj.accuracy(res.x, data.test.x, data.test.y)

The value, gradient and Hessian-vector products are C++ (``src/cpp/curvature/logistic_regression.hpp``:
BLAS GEMMs over blocks of rows, OpenMP across blocks); this class adds the NumPy conveniences.
"""
from __future__ import annotations

import numpy as np

from .. import _core


class LogisticRegression(_core.curvature.LogisticRegression):
    r"""Softmax regression on (X, y): a native objective that ``fastopt.minimize`` runs without Python.

    The parameters are one float64 vector :math:`\theta = [W, b]`, W of shape (classes, features)
    row-major, then b of shape (classes,), so ``dim = classes * (features + 1)`` (7,850 on MNIST).
    With :math:`z_i = W x_i + b`, :math:`p_i = \mathrm{softmax}(z_i)` and one-hot :math:`e_{y_i}`:

    .. math::

        f(\theta) = \frac{1}{N}\sum_i \big(\log\textstyle\sum_k e^{z_{ik}} - z_{i y_i}\big)
                    + \frac{\lambda}{2}\lVert W\rVert_F^2,
        \qquad \nabla_W f = \frac{1}{N}(P - E)^\top X + \lambda W,
        \qquad \nabla_b f = \frac{1}{N}\sum_i (p_i - e_{y_i}),

    and the exact Hessian-vector product along :math:`v = [V, c]` (the R-operator),
    :math:`u_i = V x_i + c`, :math:`r_i = (\mathrm{diag}(p_i) - p_i p_i^\top) u_i`:
    :math:`(Hv)_W = \frac{1}{N} R^\top X + \lambda V`, :math:`(Hv)_b = \frac{1}{N}\sum_i r_i`.

    X is kept in its own precision (float32 MNIST stays float32: half the bytes to stream per
    evaluation); each block of rows is widened to float64 before its GEMMs, so every value is the
    float64 result on that data.

    Parameters
    ----------
    X : array_like, shape (N, features)
        The features, float32 or float64 (other dtypes raise TypeError: scale images to floats
        first), finite.  Copied: changing X later does not change the objective.
    y : array_like of int, shape (N,)
        The labels, in [0, classes).
    classes : int, default 10
        The number of classes K >= 2.
    l2 : float, default 1e-4
        The weight-decay coefficient :math:`\lambda \ge 0` (on W only, not on b).

    Raises
    ------
    TypeError
        X not float32/float64, or y not integers.
    ValueError
        Shapes that do not match, labels out of range, non-finite X, classes < 2, l2 < 0 or not finite.

    Notes
    -----
    ``value``, ``value_grad`` and ``hessp`` count in ``nfev``/``njev``/``nhev``, and ``seconds``
    sums the wall time spent in them (and in the evaluations of a ``minimize`` run).  One evaluation
    runs at a time per object; they release the GIL.
    """

    def __init__(self, X, y, classes: int = 10, l2: float = 1e-4):
        X = np.asarray(X)
        y = np.asarray(y)
        super().__init__(X, y, classes, l2)

    def grad(self, x) -> np.ndarray:
        """The gradient at ``x`` (shape (dim,)).

        Parameters
        ----------
        x : array_like, shape (dim,)

        Returns
        -------
        numpy.ndarray, shape (dim,)
        """
        return self.value_grad(x)[1]

    def split(self, params) -> tuple[np.ndarray, np.ndarray]:
        """Views of ``params`` as the weights W (classes, features) and the bias b (classes,).

        Parameters
        ----------
        params : array_like, shape (dim,)

        Returns
        -------
        tuple of numpy.ndarray
        """
        params = np.asarray(params, dtype=np.float64)
        if params.shape != (self.dim,):
            raise ValueError(f"params: expected shape ({self.dim},), got {params.shape}")
        k, d = self.classes, self.features
        return params[:k * d].reshape(k, d), params[k * d:]

    def predict(self, params, X) -> np.ndarray:
        """The most probable class of each row of ``X``: argmax_k (W x + b)_k.

        Parameters
        ----------
        params : array_like, shape (dim,)
        X : array_like, shape (M, features)

        Returns
        -------
        numpy.ndarray of int64, shape (M,)
        """
        W, b = self.split(params)
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.features:
            raise ValueError(f"X: expected shape (M, {self.features}), got {X.shape}")
        return np.argmax(X @ W.T.astype(X.dtype) + b.astype(X.dtype), axis=1)

    def accuracy(self, params, X, y) -> float:
        """The fraction of rows of ``X`` whose predicted class equals ``y``.

        Parameters
        ----------
        params : array_like, shape (dim,)
        X : array_like, shape (M, features)
        y : array_like of int, shape (M,)

        Returns
        -------
        float
        """
        y = np.asarray(y)
        if y.shape != (len(X),):
            raise ValueError(f"y: expected shape ({len(X)},) to match X's rows, got {y.shape}")
        return float(np.mean(self.predict(params, X) == y))

    def __repr__(self) -> str:
        return (f"LogisticRegression(samples={self.samples}, features={self.features}, classes={self.classes}, "
                f"l2={self.l2:g}, dtype={self.dtype})")
