"""Curvature-aware optimization, one module per concept: second-order and quasi-Newton methods
(``minimize``), Levenberg-Marquardt for least squares (``least_squares``), manifolds and Riemannian
optimizers; the curvature operators of a network's loss (``network``: Hessian, GGN, Fisher); and the
spectrum tools written against any symmetric operator (``top_eigenvalues``, ``condition_number``,
``trace``, ``diagonal``, ``spectral_density``, and ``spectrum_summary`` for all three at once); and the
optimizers that precondition a network's training with its curvature (``KFAC``, ``EKFAC``,
``NaturalGradient``; their layer statistics recorded by ``LayerCapture``; ``Shampoo``, ``SOAP``; and
``AdaHessian``, from Hutchinson's estimate of the Hessian's diagonal).

The native code is in ``src/cpp/curvature`` (one header per method or concept); this package is its
Python face.
"""
from .capture import LayerCapture
from .closure import ClosureOptimizer
from .closure_methods import BFGS, LBFGS, ConjugateGradient, Newton
from .density import SpectralDensity, lanczos_quadrature, spectral_density
from .kfac import KFAC
from .ekfac import EKFAC
from .adahessian import AdaHessian
from .shampoo import Shampoo
from .soap import SOAP
from .sophia import SophiaG
from .least_squares import least_squares
from .logistic import LogisticRegression
from .manifolds import Manifold
from .sphere import Sphere
from .stiefel import Stiefel
from .network import CurvatureOperator, fisher, ggn, hessian
from .natural_gradient import NaturalGradient
from .minimize import METHOD_OPTIONS, methods, minimize
from .result import OptimizeResult
from .riemannian import RiemannianAdam, RiemannianOptimizer, RiemannianSGD
from .riemannian_cg import RiemannianCG
from .riemannian_minimize import RiemannianResult, riemannian_minimize
from .summary import SpectrumSummary, spectrum_summary
from .spectrum import ConditionEstimate, EigenResult, condition_number, top_eigenvalues
from .trace import DiagonalEstimate, TraceEstimate, diagonal, trace

__all__ = ["METHOD_OPTIONS", "OptimizeResult", "methods", "minimize", "least_squares", "LogisticRegression",
           "Manifold", "Sphere", "Stiefel", "RiemannianOptimizer", "RiemannianSGD", "RiemannianCG",
           "RiemannianAdam", "RiemannianResult", "riemannian_minimize", "ClosureOptimizer", "LBFGS", "BFGS",
           "ConjugateGradient", "Newton", "CurvatureOperator", "hessian", "ggn", "fisher", "top_eigenvalues",
           "condition_number", "trace", "diagonal", "spectral_density", "lanczos_quadrature", "EigenResult",
           "ConditionEstimate", "TraceEstimate", "DiagonalEstimate", "SpectralDensity", "SpectrumSummary",
           "spectrum_summary", "LayerCapture", "KFAC", "EKFAC", "NaturalGradient", "Shampoo", "SOAP",
           "AdaHessian", "SophiaG"]
