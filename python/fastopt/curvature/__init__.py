"""Curvature and second-order methods (one module each); here: manifolds and Riemannian optimizers."""
from .manifolds import Manifold, Sphere, Stiefel
from .riemannian import RiemannianAdam, RiemannianOptimizer, RiemannianSGD
from .riemannian_cg import RiemannianCG
from .riemannian_minimize import RiemannianResult, riemannian_minimize

__all__ = ["Manifold", "Sphere", "Stiefel", "RiemannianOptimizer", "RiemannianSGD", "RiemannianCG",
           "RiemannianAdam", "RiemannianResult", "riemannian_minimize"]
