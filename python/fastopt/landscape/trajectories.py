"""The paths optimizers take across test functions: natively in C++ through the optimizer's kernel calls,
or step by step in Python; and the paths of the second-order methods (:mod:`.second_order`)."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..optim.base import Optimizer
from ..optim.lookahead import Lookahead
from ..optim.registry import OPTIMIZERS, REGISTRY, create
from .functions import TestFunction, get
from .second_order import second_order_methods, second_order_path


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

    A first-order optimizer makes every step it is given, one gradient evaluation each.  A
    second-order method (``second_order``) makes at most that many iterations: its path ends where
    the method stops (``message``), and an iteration may cost several evaluations (``evaluations``).

    Parameters
    ----------
    function : str
        The test function's name.
    optimizer : str
        The optimizer's name: its registry name, else the lower-cased name of its class or factory,
        or the second-order method's name.
    lr : float
        The base learning rate (the one ``schedule`` multiplies); NaN for a second-order method,
        whose line search or trust region chooses every step.
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
    evaluations : numpy.ndarray of int, shape (steps+1,), optional
        The function evaluations (value and gradient) spent when each point was reached, the start
        costing one: 1, 2, ..., steps+1 for a first-order optimizer (filled in when not given).
    second_order : bool, default False
        Whether a second-order method made the path.
    message : str, default ""
        Why a second-order method stopped (its ``fastopt.minimize`` message).
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
    evaluations: np.ndarray | None = None
    second_order: bool = False
    message: str = ""

    def __post_init__(self):
        if self.evaluations is None:
            self.evaluations = np.arange(1, len(self.losses) + 1, dtype=np.int64)


_CLASS_NAMES = {cls: name for name, (cls, preset) in OPTIMIZERS.items() if not preset}


def _build_optimizer(fn: TestFunction, optimizer, lr, hyper: dict, param: np.ndarray):
    """The optimizer over [param] and its name; lr from the argument, else the table, else its default."""
    if isinstance(optimizer, str):
        name = optimizer.lower()
        if name not in OPTIMIZERS:
            first, second = ", ".join(OPTIMIZERS), ", ".join(second_order_methods())
            raise ValueError(f"optimizer: unknown {optimizer!r}; choose a first-order optimizer ({first}) "
                             f"or a second-order method ({second})")
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
        case-insensitive), an optimizer class or a factory ``factory(params, **hyper)``; or the name of
        a second-order method (:func:`second_order_methods`: "lbfgs", "bfgs", "cg", "newton", ...,
        and "lm", Levenberg-Marquardt, on a function with residuals), run by
        :mod:`fastopt.landscape.second_order` to its minimum (``gtol`` 1e-10, ``ftol`` 0: its
        :data:`~fastopt.landscape.second_order.PATH_OPTIONS`) or for ``steps`` iterations, whichever
        comes first, so its path may be shorter than ``steps``.
    x0 : array_like, shape (dim,), optional
        The start point, finite; defaults to ``fn.start``.
    steps : int, default 1000
        The number of steps, >= 0 (a second-order method's most iterations).
    lr : float, optional
        The base learning rate; defaults to the :data:`DEFAULT_LR` table, then to the optimizer's default.
        None for a second-order method.
    noise : float, default 0.0
        Standard deviation of Gaussian noise added to every gradient, drawn from
        ``numpy.random.default_rng(seed)`` (imitates stochastic gradients); finite, >= 0.  0 for a
        second-order method (its line search needs the exact gradient).
    seed : int, default 0
        The seed of the noise.
    schedule : callable, optional
        ``schedule(t)`` multiplies the learning rate of step t+1 (t = 0, 1, ...; like LambdaLR); it
        must return finite multipliers >= 0.  None for a second-order method.
    native : bool or None, default None
        Keyword-only.  None runs in C++ whenever the function is built in and the optimizer's step is
        native kernel calls (``opt.kernel_calls()``: a fastopt optimizer, or Lookahead over one) or
        the optimizer is a second-order method; False forces the Python loop (a second-order method:
        :func:`fastopt.minimize` with Python callables); True requires the C++ loop.
    **hyper
        Override the optimizer's hyperparameters, or a second-order method's options
        (:data:`fastopt.curvature.METHOD_OPTIONS`: ``gtol``, ``history_size``, ``variant``, ...; for
        "lm" :func:`fastopt.least_squares`'s ``xtol``, ``ftol``, ``gtol``, ``damping``, ``adaptive``).

    Returns
    -------
    Trajectory

    Raises
    ------
    TypeError
        If ``fn`` is neither a name nor a :class:`TestFunction`, ``steps`` is not an int, ``optimizer``
        is neither a name nor callable, or a factory returns no fastopt optimizer.
    ValueError
        For an unknown function or optimizer name (the message lists the first- and second-order
        names), ``lr``, ``noise`` or ``schedule`` given to a second-order method, or an option it does
        not take, "lm" on a function that is not a sum of squares, ``steps`` < 0, a negative or
        non-finite ``noise``,
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
    second_order = isinstance(optimizer, str) and optimizer.lower() not in OPTIMIZERS and \
        optimizer.lower() in second_order_methods()
    # Path, losses, gradient norms (and evaluations) per point; first-order: learning rates and noise per step.
    need = 8 * ((steps + 1) * (fn.dim + 3) if second_order else
                (steps + 1) * (fn.dim + 2) + steps * (1 + (fn.dim if noise > 0 else 0)))
    if need > MAX_TRAJECTORY_BYTES:
        raise ValueError(f"steps: {steps} steps of {fn.name} (dim={fn.dim}) would need {need / 2**30:.1f} GiB for the "
                         "path, losses, gradient norms and learning rates; the limit is "
                         f"{MAX_TRAJECTORY_BYTES / 2**30:g} GiB (fastopt.landscape.MAX_TRAJECTORY_BYTES)")
    x = np.array(fn.start if x0 is None else x0, dtype=np.float64)
    if x.shape != (fn.dim,):
        raise ValueError(f"x0: expected {fn.dim} coordinates for {fn.name} (dim={fn.dim}), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0: must be finite, got {x}")
    if second_order:
        return _second_order_trajectory(fn, optimizer.lower(), x, steps, lr, noise, seed, schedule, native, hyper)

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


def _second_order_trajectory(fn, method, x, steps, lr, noise, seed, schedule, native, options) -> Trajectory:
    """A second-order method's :class:`Trajectory`, after refusing what only first-order optimizers take."""
    for given, what in ((lr is not None, f"lr: {method} chooses its steps by line search or trust region; "
                                         "leave lr=None"),
                        (noise > 0, f"noise: {method} needs exact gradients (its line search compares values "
                                    "and slopes); use noise=0"),
                        (schedule is not None, f"schedule: {method} has no learning rate to schedule; leave "
                                               "schedule=None")):
        if given:
            raise ValueError(what)
    run = second_order_path(fn, method, x, steps, native, options)
    return Trajectory(fn.name, method, math.nan, run["path"], run["losses"], run["grad_norms"], 0.0, int(seed),
                      run["native"], run["evaluations"], True, run["message"])


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
