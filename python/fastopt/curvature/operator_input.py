"""What the spectrum tools accept as a symmetric operator, and the one checked matvec they all call.

Anything with ``matvec(v)`` and ``shape == (n, n)`` is an operator: fastopt's curvature operators
(Hessian, GGN, Fisher), a ``scipy.sparse.linalg.LinearOperator``, the Hessian of a landscape function at
a point (:func:`fastopt.landscape.hessian_operator`).  A dense symmetric NumPy matrix is one too.  The
tools work in float64; an operator with a ``dtype`` of its own (a float32 network) gets its vectors in
that dtype and its results are widened back.
"""
from __future__ import annotations

import numpy as np


class CheckedOperator:
    """A symmetric operator's matvec behind the checks every spectrum tool needs, counting the products.

    Parameters
    ----------
    matvec : callable
        ``matvec(v) -> A v`` for ``v`` of shape (n,).
    n : int
        The dimension.
    dtype : numpy.dtype
        The dtype the operator takes its vectors in.

    Attributes
    ----------
    n : int
        The dimension.
    matvecs : int
        Products computed so far.
    """

    def __init__(self, matvec, n: int, dtype):
        self._matvec, self.n, self.dtype, self.matvecs = matvec, n, np.dtype(dtype), 0

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """A v as a fresh float64 array of shape (n,).

        Parameters
        ----------
        v : numpy.ndarray, shape (n,)
            The vector (not modified).

        Returns
        -------
        numpy.ndarray, shape (n,)

        Raises
        ------
        ValueError
            If the operator returns another shape, or non-finite values.
        """
        out = np.array(self._matvec(np.asarray(v, dtype=self.dtype).copy()), dtype=np.float64)
        self.matvecs += 1
        if out.shape != (self.n,):
            raise ValueError(f"op.matvec: returned shape {out.shape}, expected ({self.n},)")
        if not np.all(np.isfinite(out)):
            raise ValueError(f"op.matvec: returned non-finite values (product {self.matvecs}); "
                             "the operator (or the weights it is evaluated at) is not finite")
        return out

    def matmat(self, block: np.ndarray) -> np.ndarray:
        """A B for B of shape (n, s), one matvec per column.

        Parameters
        ----------
        block : numpy.ndarray, shape (n, s)

        Returns
        -------
        numpy.ndarray, shape (n, s)
        """
        return np.column_stack([self.matvec(column) for column in block.T]) if block.shape[1] else block.copy()


def _dense_operator(matrix: np.ndarray) -> CheckedOperator:
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ValueError(f"op: a dense operator must be a non-empty square matrix, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("op: the matrix has non-finite entries")
    scale = np.abs(matrix).max()
    if np.abs(matrix - matrix.T).max() > 1e-10 * scale:
        raise ValueError("op: the matrix is not symmetric (the spectrum tools need a symmetric operator)")
    dense = np.array(matrix, dtype=np.float64)
    return CheckedOperator(dense.__matmul__, dense.shape[0], np.float64)


def as_operator(op) -> CheckedOperator:
    """The checked operator the spectrum tools run on.

    Parameters
    ----------
    op : operator or numpy.ndarray
        An object with ``matvec(v)`` and ``shape == (n, n)`` (and maybe ``dtype``), or a dense
        symmetric matrix (float64, finite).

    Returns
    -------
    CheckedOperator

    Raises
    ------
    TypeError
        If ``op`` is neither an operator nor an array.
    ValueError
        If its shape is not square and non-empty, or a dense matrix is not symmetric or not finite.
    """
    if isinstance(op, CheckedOperator):
        return op
    if hasattr(op, "matvec") and hasattr(op, "shape"):
        shape = tuple(op.shape)
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
            raise ValueError(f"op: shape must be (n, n) with n >= 1, got {shape}")
        dtype = getattr(op, "dtype", None)  # not `or`: a NumPy dtype is falsy
        return CheckedOperator(op.matvec, int(shape[0]), np.float64 if dtype is None else dtype)
    if isinstance(op, np.ndarray) or isinstance(op, (list, tuple)):
        return _dense_operator(np.asarray(op, dtype=np.float64))
    raise TypeError(f"op: expected an operator with matvec and shape, or a symmetric matrix, got {type(op).__name__}")


def positive_count(value, name: str, at_least: int = 1) -> int:
    """An integer argument checked to be at least ``at_least``.

    Parameters
    ----------
    value : int
        The argument.
    name : str
        Its name, for the message.
    at_least : int, default 1
        The smallest allowed value.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer (bools are not).
    ValueError
        If it is below ``at_least``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < at_least:
        raise ValueError(f"{name}: must be >= {at_least}, got {value}")
    return int(value)


def rademacher(rng: np.random.Generator, shape) -> np.ndarray:
    """Independent random signs (+1 or -1 with equal probability), float64.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : int or tuple of int

    Returns
    -------
    numpy.ndarray
    """
    return rng.choice(np.array([-1.0, 1.0]), size=shape)
