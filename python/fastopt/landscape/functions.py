"""The built-in test functions: the interface every test function has, and the C++ ones behind it."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from .. import _core

Domain = tuple[tuple[float, float], tuple[float, float]]


class TestFunction(ABC):
    """A function to minimise, with its gradient and Hessian and what a plot needs to know about it.

    Each parameter is kept as the attribute of the same name.

    Parameters
    ----------
    name : str
        The function's name.
    dim : int
        The number of coordinates.
    domain : ((float, float), (float, float))
        The plotted rectangle ``((x_min, x_max), (y_min, y_max))`` of the first two coordinates,
        kept as a tuple of float pairs.
    minima : array_like
        The global minima, kept as a float64 array (k, dim) (k = 0 for functions unbounded below,
        like the saddles).
    min_value : float or None
        The minimum value (None for those).
    start : array_like, shape (dim,)
        A default start point, kept as a float64 array.

    Attributes
    ----------
    native : bool
        Whether trajectories on it can run in C++ (class attribute: False here, True for
        :class:`BuiltinFunction`).
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, name: str, dim: int, domain: Domain, minima, min_value, start):
        self.name, self.dim = name, dim
        self.domain = tuple(tuple(float(v) for v in d) for d in domain)
        self.minima = np.asarray(minima, dtype=np.float64).reshape(-1, dim)
        self.min_value = None if min_value is None else float(min_value)
        self.start = np.asarray(start, dtype=np.float64)

    native = False  # whether trajectories on it can run in C++

    @abstractmethod
    def value(self, x) -> float:
        """f(x) at one point of shape (dim,).

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

    @abstractmethod
    def grad(self, x) -> np.ndarray:
        """The gradient at one point, shape (dim,).

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
            If ``x`` is not of shape (dim,).
        """

    @abstractmethod
    def hessian(self, x) -> np.ndarray:
        """The Hessian at one point, shape (dim, dim).

        Parameters
        ----------
        x : array_like, shape (dim,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (dim, dim)

        Raises
        ------
        ValueError
            If ``x`` is not of shape (dim,).
        """

    @abstractmethod
    def grid(self, X, Y) -> np.ndarray:
        """f at every point (X[i], Y[i]) of a grid such as ``numpy.meshgrid``'s, same shape as X (dim=2 only).

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, dim={self.dim})"


class BuiltinFunction(TestFunction):
    """A C++ test function (build it with :func:`get`): analytic gradient and Hessian, native grids and paths.

    Parameters
    ----------
    fn : fastopt._core.landscape.Function
        The C++ function, as ``_core.landscape.make`` returns it; its ``name``, ``dim``, ``domain``,
        ``minima``, ``min_value`` and ``start`` are copied.
    """

    native = True

    def __init__(self, fn):
        super().__init__(fn.name, fn.dim, fn.domain, fn.minima, fn.min_value, fn.start)
        self._fn = fn

    # value, grad, hessian and grid are TestFunction's, computed in C++ (their docstrings are inherited).
    def value(self, x) -> float:
        return self._fn.value(x)

    def grad(self, x) -> np.ndarray:
        return self._fn.grad(x)

    def hessian(self, x) -> np.ndarray:
        return self._fn.hessian(x)

    def hessp(self, x, p) -> np.ndarray:
        """The Hessian-vector product H(x) p, in C++ (O(dim) for the n-dimensional functions).

        Parameters
        ----------
        x, p : array_like, shape (dim,)
            The point and the vector.

        Returns
        -------
        numpy.ndarray, shape (dim,)

        Raises
        ------
        ValueError
            If ``x`` or ``p`` is not of shape (dim,).
        """
        return self._fn.hessp(x, p)

    @property
    def has_residuals(self) -> bool:
        """Whether f is a sum of squares f = |r(x)|^2 with native residuals (rosenbrock, beale, booth,
        himmelblau), so that ``fastopt.least_squares(f, x0)`` runs Levenberg-Marquardt in C++."""
        return self._fn.has_residuals

    def residuals(self, x) -> np.ndarray:
        """The residuals r(x) of f = |r(x)|^2 (e.g. Rosenbrock: 10 (x_i+1 - x_i^2) and 1 - x_i, in pairs).

        Parameters
        ----------
        x : array_like, shape (dim,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (m,)

        Raises
        ------
        ValueError
            If ``x`` is not of shape (dim,), or f is not a sum of squares.
        """
        return self._fn.residuals(x)

    def jacobian(self, x) -> np.ndarray:
        """The Jacobian dr/dx of the residuals at one point.

        Parameters
        ----------
        x : array_like, shape (dim,)
            The point.

        Returns
        -------
        numpy.ndarray, shape (m, dim)

        Raises
        ------
        ValueError
            If ``x`` is not of shape (dim,), or f is not a sum of squares.
        """
        return self._fn.jacobian(x)

    def grid(self, X, Y) -> np.ndarray:
        return self._fn.grid(X, Y)


def functions() -> list[str]:
    """Names of the built-in test functions.

    Returns
    -------
    list of str
        Names :func:`get` accepts.
    """
    return list(_core.landscape.functions())


def get(name: str, dim: int = 2, **params) -> BuiltinFunction:
    """The built-in test function ``name`` in ``dim`` dimensions (n-dimensional: rosenbrock, rastrigin,
    styblinski_tang, quadratic; the others are 2-D only).

    Parameters
    ----------
    name : str
        One of :func:`functions`.
    dim : int, default 2
        The number of coordinates: 2 for the 2-D functions; >= 2 for rosenbrock; >= 1 for
        rastrigin, styblinski_tang and quadratic.
    **params : float
        Override the function's parameters (converted to float).  Only quadratic takes one:
        ``condition`` (default 10; finite, >= 1).

    Returns
    -------
    BuiltinFunction

    Raises
    ------
    TypeError
        If ``name`` is not a str or ``dim`` not an int (bools are refused).
    ValueError
        For an unknown name or parameter, a ``dim`` the function does not take, or a bad ``condition``.
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a function name (str), got {type(name).__name__}")
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim: expected an int, got {type(dim).__name__}")
    return BuiltinFunction(_core.landscape.make(name, int(dim), {k: float(v) for k, v in params.items()}))
