"""Curvature-aware optimization, one module per concept: second-order and quasi-Newton methods
(``minimize``), Levenberg-Marquardt for least squares (``least_squares``), manifolds and Riemannian
optimizers, and the curvature operators of a network's loss (``network``: Hessian, GGN, Fisher).

The native code is in ``src/cpp/curvature`` (one header per method or concept); this package is its
Python face.
"""
from .closure import ClosureOptimizer
from .closure_methods import BFGS, LBFGS, ConjugateGradient, Newton
from .least_squares import least_squares
from .logistic import LogisticRegression
from .manifolds import Manifold, Sphere, Stiefel
from .network import CurvatureOperator, fisher, ggn, hessian
from .minimize import METHOD_OPTIONS, methods, minimize
from .result import OptimizeResult
from .riemannian import RiemannianAdam, RiemannianOptimizer, RiemannianSGD
from .riemannian_cg import RiemannianCG
from .riemannian_minimize import RiemannianResult, riemannian_minimize

__all__ = ["METHOD_OPTIONS", "OptimizeResult", "methods", "minimize", "least_squares", "LogisticRegression",
           "Manifold", "Sphere", "Stiefel", "RiemannianOptimizer", "RiemannianSGD", "RiemannianCG",
           "RiemannianAdam", "RiemannianResult", "riemannian_minimize", "ClosureOptimizer", "LBFGS", "BFGS",
           "ConjugateGradient", "Newton", "CurvatureOperator", "hessian", "ggn", "fisher"]
