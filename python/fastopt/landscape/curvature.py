"""The curvature of a test function along a path: its exact Hessian's eigenvalues and condition number
at every point, and its Hessian at a point as an operator for the spectrum tools of
:mod:`fastopt.curvature` (``top_eigenvalues``, ``trace``, ``spectral_density``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .functions import TestFunction, get


def _function(fn, dim: int | None = None) -> TestFunction:
    if isinstance(fn, TestFunction):
        return fn
    if isinstance(fn, str):
        return get(fn) if dim is None else get(fn, dim=dim)
    raise TypeError(f"fn: expected a test function or its name, got {type(fn).__name__}")


class HessianOperator:
    """The Hessian of a test function at a fixed point, as a symmetric operator (``matvec``, ``shape``).

    Products use the function's ``hessp`` where it has one (the built-in functions, O(dim) for the
    n-dimensional ones), else its dense ``hessian(x)`` computed once.

    Parameters
    ----------
    fn : TestFunction
        The function.
    x : numpy.ndarray, shape (dim,)
        The point (copied).

    Attributes
    ----------
    shape : (int, int)
        (dim, dim).
    dtype : numpy.dtype
        float64.
    """

    dtype = np.dtype(np.float64)

    def __init__(self, fn: TestFunction, x: np.ndarray):
        self.function, self.x = fn, np.array(x, dtype=np.float64)
        self.shape = (fn.dim, fn.dim)
        self._dense = None if hasattr(fn, "hessp") else np.asarray(fn.hessian(self.x), dtype=np.float64)

    def matvec(self, v) -> np.ndarray:
        """H(x) v.

        Parameters
        ----------
        v : array_like, shape (dim,)

        Returns
        -------
        numpy.ndarray, shape (dim,)
        """
        if self._dense is None:
            return self.function.hessp(self.x, v)
        return self._dense @ np.asarray(v, dtype=np.float64)


def hessian_operator(fn, x) -> HessianOperator:
    """The exact Hessian of a test function at ``x`` as an operator the spectrum tools take.

    Parameters
    ----------
    fn : TestFunction or str
        The function, or a built-in one's name.
    x : array_like, shape (dim,)
        The point (finite).

    Returns
    -------
    HessianOperator

    Raises
    ------
    TypeError
        If ``fn`` is neither a test function nor a name.
    ValueError
        If ``x`` is not a finite point of shape (dim,).
    """
    x = np.asarray(x, dtype=np.float64)
    function = _function(fn, x.shape[0] if x.ndim == 1 else None)
    if x.shape != (function.dim,) or not np.all(np.isfinite(x)):
        raise ValueError(f"x: expected a finite point of shape ({function.dim},), got shape {x.shape}")
    return HessianOperator(function, x)


@dataclass
class PathCurvature:
    """A test function's exact curvature at every point of a path.

    Attributes
    ----------
    points : numpy.ndarray, shape (k, dim)
        The path.
    eigenvalues : numpy.ndarray, shape (k, dim)
        The Hessian's eigenvalues at each point, ascending (NaN where the point is not finite).
    condition : numpy.ndarray, shape (k,)
        The 2-norm condition number max |lambda| / min |lambda| (inf where H is singular).
    ratio : numpy.ndarray, shape (k,)
        |lambda_min / lambda_max| (Li et al. 2018), lambda_min the most negative eigenvalue: 1 / kappa
        where H is positive definite, large where the function curves down as strongly as up (NaN for
        a zero Hessian).
    """

    points: np.ndarray
    eigenvalues: np.ndarray
    condition: np.ndarray
    ratio: np.ndarray

    @property
    def convex(self) -> np.ndarray:
        """Whether the Hessian is positive semi-definite at each point.

        Returns
        -------
        numpy.ndarray of bool, shape (k,)
        """
        return self.eigenvalues[:, 0] >= 0


def curvature_along(fn, path) -> PathCurvature:
    """The exact Hessian's eigenvalues (``numpy.linalg.eigvalsh``), condition number and the ratio
    |lambda_min / lambda_max| at every point of a path.

    For the 2-D functions this is the whole spectrum: lambda_1 <= lambda_2, the curvatures along the
    principal directions, and kappa = max |lambda| / min |lambda| tells how elongated the level sets are
    (or, at a saddle, how unequally the function curves up and down).

    Parameters
    ----------
    fn : TestFunction or str
        The function, or a built-in one's name (made in the path's dimension).
    path : array_like, shape (k, dim), or a Trajectory
        The points (a trajectory's ``path`` is taken).  Non-finite points (a diverged run) get NaN.

    Returns
    -------
    PathCurvature

    Raises
    ------
    TypeError
        If ``fn`` is neither a test function nor a name.
    ValueError
        If the path is not (k, dim) with k >= 1.
    """
    points = np.asarray(getattr(path, "path", path), dtype=np.float64)
    function = _function(fn, points.shape[1] if points.ndim == 2 else None)
    if points.ndim != 2 or points.shape[0] == 0 or points.shape[1] != function.dim:
        raise ValueError(f"path: expected shape (k, {function.dim}) with k >= 1, got {points.shape}")
    eigenvalues = np.full(points.shape, np.nan)
    for i, x in enumerate(points):
        if np.all(np.isfinite(x)):
            hessian = np.asarray(function.hessian(x), dtype=np.float64)
            if np.all(np.isfinite(hessian)):
                eigenvalues[i] = np.linalg.eigvalsh(hessian)
    magnitudes = np.abs(eigenvalues)
    condition, ratio = np.full(len(points), np.nan), np.full(len(points), np.nan)
    rows = ~np.isnan(eigenvalues).any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # a singular Hessian: kappa = inf
        condition[rows] = magnitudes[rows].max(axis=1) / magnitudes[rows].min(axis=1)
        ratio[rows] = magnitudes[rows, 0] / magnitudes[rows, -1]
    return PathCurvature(points, eigenvalues, condition, ratio)
