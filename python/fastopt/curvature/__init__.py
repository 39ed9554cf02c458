"""Curvature-aware optimization: second-order and quasi-Newton methods (``minimize``), and
Levenberg-Marquardt for least squares (``least_squares``).

The native code is in ``src/cpp/curvature`` (one header per method or concept); this package is its
Python face, one module per concept.
"""
from .least_squares import least_squares
from .minimize import METHOD_OPTIONS, methods, minimize
from .result import OptimizeResult

__all__ = ["METHOD_OPTIONS", "OptimizeResult", "least_squares", "methods", "minimize"]
