"""Test functions from Python callables, for any function the built-in ones do not cover."""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .functions import Domain, TestFunction


class CustomFunction(TestFunction):
    """A test function from Python callables (build it with :func:`custom`).

    Parameters
    ----------
    value, grad, hessian : callable
        ``value(x) -> float``, ``grad(x) -> array (dim,)`` and ``hessian(x) -> array (dim, dim)``
        (or None) for x a float64 array of shape (dim,).
    name, dim, domain, minima, min_value, start
        As for :class:`TestFunction`.
    """

    def __init__(self, value, grad, hessian, name, dim, domain, minima, min_value, start):
        super().__init__(name, dim, domain, minima, min_value, start)
        self._value, self._grad, self._hessian = value, grad, hessian

    def _point(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.dim,):
            raise ValueError(f"x: expected shape ({self.dim},) for {self.name} (dim={self.dim}), got {x.shape}")
        return x

    def value(self, x) -> float:
        """f(x) at one point, by the ``value`` callable.

        Parameters
        ----------
        x : array_like, shape (dim,)
            The point.

        Returns
        -------
        float

        Raises
        ------
        ValueError
            If ``x`` is not of shape (dim,).
        """
        return float(self._value(self._point(x)))

    def grad(self, x) -> np.ndarray:
        """The gradient at one point, by the ``grad`` callable (its result copied to float64).

        Parameters
        ----------
        x : array_like, shape (dim,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (dim,)

        Raises
        ------
        ValueError
            If ``x`` is not of shape (dim,), or ``grad`` returns another shape.
        """
        g = np.array(self._grad(self._point(x)), dtype=np.float64)
        if g.shape != (self.dim,):
            raise ValueError(f"grad of {self.name}: returned shape {g.shape}, expected ({self.dim},)")
        return g

    def hessian(self, x) -> np.ndarray:
        """The Hessian at one point: the ``hessian`` callable's, else central differences of ``grad``.

        The differences use steps ``1e-5 * max(1, |x_i|)`` and are symmetrised.

        Parameters
        ----------
        x : array_like, shape (dim,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (dim, dim)
            float64 (a callable's result is reshaped to (dim, dim)).

        Raises
        ------
        ValueError
            If ``x`` is not of shape (dim,), or (differences) ``grad`` returns another shape.
        """
        x = self._point(x)
        if self._hessian is not None:
            return np.array(self._hessian(x), dtype=np.float64).reshape(self.dim, self.dim)
        # Central differences of the analytic gradient, symmetrised.
        h = 1e-5 * np.maximum(1.0, np.abs(x))
        cols = [(self.grad(x + h[i] * e) - self.grad(x - h[i] * e)) / (2 * h[i]) for i, e in enumerate(np.eye(self.dim))]
        H = np.stack(cols, axis=1)
        return 0.5 * (H + H.T)

    def grid(self, X, Y) -> np.ndarray:
        """f at every point (X[i], Y[i]) of a grid, one ``value`` call per point (dim=2 only).

        Parameters
        ----------
        X, Y : array_like
            The coordinates of the points, of one shape (e.g. from ``numpy.meshgrid``).

        Returns
        -------
        numpy.ndarray
            float64, same shape as ``X``.

        Raises
        ------
        ValueError
            If the function's dim is not 2, or ``X`` and ``Y`` differ in shape.
        """
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        if self.dim != 2:
            raise ValueError(f"grid: {self.name} has dim={self.dim}; grids need dim=2")
        if X.shape != Y.shape:
            raise ValueError(f"grid: X has shape {X.shape} but Y has shape {Y.shape}")
        return np.array([self.value(p) for p in zip(X.ravel(), Y.ravel())], dtype=np.float64).reshape(X.shape)


def custom(value: Callable, grad: Callable, *, dim: int = 2, domain: Domain = ((-2.0, 2.0), (-2.0, 2.0)),
           minima: Iterable = (), min_value: float | None = None, start=None, hessian: Callable | None = None,
           name: str = "custom") -> CustomFunction:
    """A test function from Python: ``value(x) -> float`` and ``grad(x) -> array (dim,)`` for x of shape (dim,).

    Parameters
    ----------
    value : callable
        ``value(x) -> float``, for x a float64 array of shape (dim,).
    grad : callable
        ``grad(x) -> array (dim,)``; the shape it returns is checked at every call.
    dim : int, default 2
        The number of coordinates.  This and all the following are keyword-only.
    domain : ((float, float), (float, float)), default ((-2, 2), (-2, 2))
        The plotted rectangle ``((x_min, x_max), (y_min, y_max))`` of the first two coordinates.
    minima : iterable, default ()
        The known global minima, each of shape (dim,); none by default.
    min_value : float, optional
        The minimum value, if known.
    start : array_like, shape (dim,), optional
        The default start point of trajectories.  Defaults, in 2-D, to the point a tenth of the way
        into the domain from its top-left corner, ``(x_min + 0.1 (x_max - x_min), y_max - 0.1 (y_max -
        y_min))``; required for any other ``dim``.
    hessian : callable, optional
        ``hessian(x) -> array (dim, dim)``; central differences of ``grad`` otherwise.
    name : str, default "custom"
        The function's name.

    Returns
    -------
    CustomFunction

    Raises
    ------
    TypeError
        If ``value`` or ``grad`` is not callable.
    ValueError
        If ``start`` is missing with ``dim`` != 2, or is not of shape (dim,).
    """
    if not callable(value) or not callable(grad):
        raise TypeError("custom: value and grad must be callables taking a point x of shape (dim,)")
    (x0, x1), (y0, y1) = domain
    if start is None:
        if dim != 2:
            raise ValueError(f"start: required for a custom function of dim={dim}")
        start = (x0 + 0.1 * (x1 - x0), y1 - 0.1 * (y1 - y0))
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (dim,):
        raise ValueError(f"start: expected shape ({dim},), got {start.shape}")
    return CustomFunction(value, grad, hessian, name, dim, domain, list(minima), min_value, start)
