"""Test functions for optimizers, and the paths optimizers take across them.

::

    f = fastopt.landscape.get("rosenbrock")          # or get("quadratic", dim=10, condition=100)
    f.value(x), f.grad(x), f.hessian(x), f.grid(X, Y), f.minima, f.min_value, f.domain, f.start
    t = fastopt.landscape.trajectory("rosenbrock", "adam", steps=2000)
    t.path, t.losses, t.grad_norms

The built-in functions are C++ with analytic gradients and Hessians (float64).  A trajectory on a
built-in function runs entirely in C++, reusing the optimizer's own update rule: no Python per
step.  ``custom(value, grad, ...)`` wraps Python callables; their trajectories step in Python.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from . import _core
from .optim.base import Optimizer
from .optim.lookahead import Lookahead
from .optim.registry import OPTIMIZERS, REGISTRY, create

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

    def value(self, x) -> float:
        """f(x) at one point, in C++.

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
        return self._fn.value(x)

    def grad(self, x) -> np.ndarray:
        """The analytic gradient at one point, in C++.

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
        return self._fn.grad(x)

    def hessian(self, x) -> np.ndarray:
        """The analytic Hessian at one point, in C++.

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
        return self._fn.hessian(x)

    def grid(self, X, Y) -> np.ndarray:
        """f at every point (X[i], Y[i]) of a grid, in one C++ call (dim=2 only).

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
        return self._fn.grid(X, Y)


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


# ---------------------------------------------------------------------------------------- trajectories

# The most memory a trajectory may take (path, losses, gradient norms, learning rates and noise), so that
# a typo such as steps=10**9 fails at once with the memory it would need instead of swapping: 1 GiB
# holds 20 million steps of a 2-D function.
MAX_TRAJECTORY_BYTES = 2**30


def _lr_table() -> dict[str, dict[str, float]]:
    """function -> optimizer -> learning rate, from the registry entries (``Entry.landscape_lr``)."""
    table: dict[str, dict[str, float]] = {}
    for name, e in REGISTRY.items():
        for function, lr in e.landscape_lr.items():
            table.setdefault(function, {})[name] = lr
    return table


# Default learning rate per function and optimizer, the one that makes each path meaningful: each
# optimizer's registry entry holds its row, found by tools/search_default_lr.py (it prints the rows; the
# rule is in its docstring).  Functions or optimizers missing here use the optimizer's own default.
DEFAULT_LR: dict[str, dict[str, float]] = _lr_table()


def default_lr(function: str, optimizer: str) -> float | None:
    """The tabulated learning rate of ``optimizer`` on ``function``, or None.

    Parameters
    ----------
    function : str
        A test-function name.
    optimizer : str
        A registry name.
    """
    e = REGISTRY.get(optimizer)
    return None if e is None else e.landscape_lr.get(function)


@dataclass
class Trajectory:
    """An optimizer's path across a test function.

    Parameters
    ----------
    function : str
        The test function's name.
    optimizer : str
        The optimizer's name: its registry name, else the lower-cased name of its class or factory.
    lr : float
        The base learning rate (the one ``schedule`` multiplies).
    path : numpy.ndarray, shape (steps+1, dim)
        The start point and the point after every step.
    losses : numpy.ndarray, shape (steps+1,)
        The function value at those points.
    grad_norms : numpy.ndarray, shape (steps+1,)
        The norm of the true gradient (without the added noise) at those points.
    noise : float
        The standard deviation of the Gaussian noise added to the gradients.
    seed : int
        The seed of that noise.
    native : bool
        Whether the loop ran in C++.
    """

    function: str
    optimizer: str
    lr: float
    path: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    noise: float
    seed: int
    native: bool


_CLASS_NAMES = {cls: name for name, (cls, preset) in OPTIMIZERS.items() if not preset}


def _build_optimizer(fn: TestFunction, optimizer, lr, hyper: dict, param: np.ndarray):
    """The optimizer over [param] and its name; lr from the argument, else the table, else its default."""
    if isinstance(optimizer, str):
        name = optimizer.lower()
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizer: unknown {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    elif callable(optimizer):
        name = _CLASS_NAMES.get(optimizer, getattr(optimizer, "__name__", type(optimizer).__name__).lower())
    else:
        raise TypeError(f"optimizer: expected a name, an optimizer class or a factory, got {type(optimizer).__name__}")
    if lr is None:
        lr = default_lr(fn.name, name)
    kwargs = {**hyper, **({} if lr is None else {"lr": lr})}
    opt = create(name, [param], **kwargs) if isinstance(optimizer, str) else optimizer([param], **kwargs)
    if not isinstance(opt, (Optimizer, Lookahead)):
        raise TypeError(f"optimizer: the factory returned {type(opt).__name__}, not a fastopt optimizer")
    return opt, name


def _python_loop(fn: TestFunction, opt, x: np.ndarray, lrs: np.ndarray, noise):
    """The same path with the normal optimizer API, one opt.step per step (custom functions and optimizers)."""
    steps = len(lrs)
    path, losses, norms = np.empty((steps + 1, fn.dim)), np.empty(steps + 1), np.empty(steps + 1)
    for t in range(steps + 1):
        g = fn.grad(x)
        path[t], losses[t], norms[t] = x, fn.value(x), np.linalg.norm(g)
        if t == steps:
            break
        for group in opt.param_groups:
            group["lr"] = lrs[t]
        opt.step([g if noise is None else g + noise[t]])
    return path, losses, norms


def trajectory(fn, optimizer, x0=None, steps: int = 1000, lr: float | None = None, noise: float = 0.0, seed: int = 0,
               schedule: Callable[[int], float] | None = None, *, native: bool | None = None, **hyper) -> Trajectory:
    """Run ``optimizer`` for ``steps`` steps on ``fn`` from ``x0`` and return its :class:`Trajectory`.

    Parameters
    ----------
    fn : str or TestFunction
        A built-in name (built with :func:`get`, in 2-D) or a :class:`TestFunction`.
    optimizer : str, class or callable
        A registry name ("sgd", "momentum", "nesterov", "adam", "nadam", "ranger", ...;
        case-insensitive), an optimizer class or a factory ``factory(params, **hyper)``.
    x0 : array_like, shape (dim,), optional
        The start point, finite; defaults to ``fn.start``.
    steps : int, default 1000
        The number of steps, >= 0.
    lr : float, optional
        The base learning rate; defaults to the :data:`DEFAULT_LR` table, then to the optimizer's default.
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to every gradient, drawn from
        ``numpy.random.default_rng(seed)`` (imitates stochastic gradients); finite, >= 0.
    seed : int, default 0
        The seed of the noise.
    schedule : callable, optional
        ``schedule(t)`` multiplies the learning rate of step t+1 (t = 0, 1, ...; like LambdaLR); it
        must return finite multipliers >= 0.
    native : bool or None, default None
        Keyword-only.  None runs in C++ whenever the function is built in and the optimizer's step is
        native kernel calls (``opt.kernel_calls()``: a fastopt optimizer, or Lookahead over one);
        False forces the Python loop; True requires the C++ loop.
    **hyper
        Override the optimizer's hyperparameters.

    Returns
    -------
    Trajectory

    Raises
    ------
    TypeError
        If ``fn`` is neither a name nor a :class:`TestFunction`, ``steps`` is not an int, ``optimizer``
        is neither a name nor callable, or a factory returns no fastopt optimizer.
    ValueError
        For an unknown function or optimizer name, ``steps`` < 0, a negative or non-finite ``noise``,
        an ``x0`` of the wrong shape or not finite, a ``schedule`` returning a negative or non-finite
        multiplier, ``native=True`` where the C++ loop cannot run, or results above
        :data:`MAX_TRAJECTORY_BYTES` (refused before running).
    """
    if isinstance(fn, str):
        fn = get(fn)
    if not isinstance(fn, TestFunction):
        raise TypeError(f"fn: expected a function name or a TestFunction, got {type(fn).__name__}")
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise TypeError(f"steps: expected an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"steps: must be >= 0, got {steps}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise: must be a finite number >= 0, got {noise}")
    need = 8 * ((steps + 1) * (fn.dim + 2) + steps * (1 + (fn.dim if noise > 0 else 0)))
    if need > MAX_TRAJECTORY_BYTES:
        raise ValueError(f"steps: {steps} steps of {fn.name} (dim={fn.dim}) would need {need / 2**30:.1f} GiB for the "
                         "path, losses, gradient norms and learning rates; the limit is "
                         f"{MAX_TRAJECTORY_BYTES / 2**30:g} GiB (fastopt.landscape.MAX_TRAJECTORY_BYTES)")
    x = np.array(fn.start if x0 is None else x0, dtype=np.float64)
    if x.shape != (fn.dim,):
        raise ValueError(f"x0: expected {fn.dim} coordinates for {fn.name} (dim={fn.dim}), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0: must be finite, got {x}")

    opt, name = _build_optimizer(fn, optimizer, lr, hyper, x)
    base_lr = float(opt.param_groups[0]["lr"])
    factors = np.ones(steps) if schedule is None else np.array([schedule(t) for t in range(steps)], dtype=np.float64)
    if not np.all(np.isfinite(factors) & (factors >= 0)):
        raise ValueError("schedule: must return finite multipliers >= 0")
    lrs = base_lr * factors
    gradient_noise = noise * np.random.default_rng(seed).standard_normal((steps, fn.dim)) if noise > 0 else None

    calls = opt.kernel_calls() if fn.native and native is not False else None
    if native and calls is None:
        raise ValueError(f"native=True: needs a built-in function and an optimizer whose step is native kernel "
                         f"calls (a fastopt optimizer with one param group, or Lookahead over one), got {fn.name!r} "
                         f"and {type(opt).__name__}")
    if calls is not None:
        path, losses, norms = _core.landscape.trajectory(fn._fn, [c.as_tuple() for c in calls], x, lrs,
                                                         gradient_noise)
    else:
        path, losses, norms = _python_loop(fn, opt, x, lrs, gradient_noise)
    return Trajectory(fn.name, name, base_lr, path, losses, norms, float(noise), int(seed), calls is not None)


def trajectories(fn, optimizers: Iterable, **kwargs) -> dict[str, Trajectory]:
    """:func:`trajectory` for several optimizers on one function, by name (``kwargs`` are shared).

    Parameters
    ----------
    fn : str or TestFunction
        As for :func:`trajectory`; a name is built once.
    optimizers : iterable
        The optimizers, each as :func:`trajectory` takes it.
    **kwargs
        Passed to every :func:`trajectory` call (``x0``, ``steps``, ``lr``, ``noise``, ``seed``,
        ``schedule``, ``native`` and hyperparameters).

    Returns
    -------
    dict of str to Trajectory
        Keyed by each trajectory's optimizer name, in the order given; a later run of the same name
        replaces an earlier one.

    Raises
    ------
    TypeError, ValueError
        As :func:`trajectory`.
    """
    fn = get(fn) if isinstance(fn, str) else fn
    out = {}
    for optimizer in optimizers:
        t = trajectory(fn, optimizer, **kwargs)
        out[t.optimizer] = t
    return out


__all__ = ["TestFunction", "BuiltinFunction", "CustomFunction", "Trajectory", "DEFAULT_LR", "functions", "get",
           "custom", "default_lr", "trajectory", "trajectories"]
