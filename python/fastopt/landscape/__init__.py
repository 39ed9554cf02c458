"""Test functions for optimizers, and the paths optimizers take across them.

::

    f = fastopt.landscape.get("rosenbrock")          # or get("quadratic", dim=10, condition=100)
    f.value(x), f.grad(x), f.hessian(x), f.grid(X, Y), f.minima, f.min_value, f.domain, f.start
    t = fastopt.landscape.trajectory("rosenbrock", "adam", steps=2000)
    t.path, t.losses, t.grad_norms
    t = fastopt.landscape.trajectory("rosenbrock", "bfgs")      # a second-order method: to the minimum
    t.path, t.evaluations, t.message                              # its iterates, evaluations spent, why it stopped
    c = fastopt.landscape.curvature_along(f, t)                   # exact Hessian eigenvalues, condition along it
    fastopt.curvature.top_eigenvalues(fastopt.landscape.hessian_operator(f, x))   # the spectrum tools at x

The built-in functions are C++ with analytic gradients and Hessians (float64).  A trajectory on a
built-in function runs entirely in C++, reusing the optimizer's own update rule: no Python per
step.  ``custom(value, grad, ...)`` wraps Python callables; their trajectories step in Python.
The second-order methods of ``fastopt.minimize`` and Levenberg-Marquardt ("lm", on the functions that
are sums of squares) run natively too (``second_order_methods()``).
"""
from .curvature import HessianOperator, PathCurvature, curvature_along, hessian_operator
from .custom import CustomFunction, custom
from .functions import BuiltinFunction, TestFunction, functions, get
from .second_order import PATH_OPTIONS, second_order_methods
from .trajectories import DEFAULT_LR, MAX_TRAJECTORY_BYTES, Trajectory, default_lr, trajectories, trajectory

__all__ = ["TestFunction", "BuiltinFunction", "CustomFunction", "Trajectory", "DEFAULT_LR", "functions", "get",
           "custom", "default_lr", "trajectory", "trajectories", "MAX_TRAJECTORY_BYTES", "PATH_OPTIONS",
           "second_order_methods", "curvature_along", "hessian_operator", "HessianOperator", "PathCurvature"]
