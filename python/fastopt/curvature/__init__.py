"""Curvature-aware optimization: second-order and quasi-Newton methods (``minimize``).

The native code is in ``src/cpp/curvature`` (one header per method or concept); this package is its
Python face, one module per concept.
"""
from .logistic import LogisticRegression
from .minimize import METHOD_OPTIONS, methods, minimize
from .result import OptimizeResult

__all__ = ["LogisticRegression", "METHOD_OPTIONS", "OptimizeResult", "methods", "minimize"]
