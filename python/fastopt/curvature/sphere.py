"""The unit sphere as a Riemannian submanifold of R^n (see :mod:`.manifolds` for the shared rules)."""
from __future__ import annotations

import numpy as np

from .manifolds import Manifold, positive_int


class Sphere(Manifold):
    """The unit sphere ``S^(n-1) = {x in R^n : |x| = 1}``, a manifold of dimension ``n - 1``.

    - Tangent space: ``T_x S = {u : x^T u = 0}``; projection ``P_x(u) = u - (x^T u) x``.
    - Retraction ``"normalize"`` (the metric projection of the step): ``R_x(u) = (x + u) / |x + u|``.
      For tangent ``u``, ``|x + u|^2 = 1 + |u|^2 >= 1``: always defined; it moves by the angle
      ``arctan |u|`` rather than ``|u|`` (Absil et al. 2008, Ex. 4.1.1; Boumal 2023, Ex. 3.49).
    - Exponential map (the great circle): ``Exp_x(u) = cos(|u|) x + sin(|u|) u / |u|``, ``Exp_x(0) = x``
      (Absil et al. 2008, Ex. 5.4.1; Boumal 2023, Ex. 10.21); also available as retraction ``"exp"``.
      Normalisation agrees with it to second order: ``|Exp_x(tu) - R_x(tu)| = O(t^3)``.
    - Distance: ``dist(x, y) = arccos(x^T y)``.

    Parameters
    ----------
    n : int
        The dimension of the ambient space (``n >= 2``): ``Sphere(3)`` is the ordinary 2-D sphere in R^3.
    """

    retractions = ("normalize", "exp")
    _defining_equation = "|x| = 1"

    def __init__(self, n: int):
        self.n = positive_int(n, "n", 2)
        self.shape = (self.n,)
        self.dim = self.n - 1

    def __repr__(self) -> str:
        return f"Sphere({self.n})"

    def project(self, x, u):
        """``P_x(u) = u - (x^T u) x``, the projection onto ``T_x S = {u : x^T u = 0}``.

        Parameters
        ----------
        x : numpy.ndarray, shape (n,)
            A point of the sphere.
        u : numpy.ndarray, shape (n,)
            An ambient vector.

        Returns
        -------
        numpy.ndarray, shape (n,)
        """
        return u - np.dot(x, u) * x

    def _retract(self, x, u, method):
        if method == "exp":
            return self.exp(x, u)
        y = x + u
        return y / np.linalg.norm(y)

    def exp(self, x, u):
        """``Exp_x(u) = cos(|u|) x + sin(|u|) u / |u|``: the great circle from ``x`` with velocity ``u``.

        ``u`` is projected onto ``T_x S`` first (a no-op for a tangent vector).

        Parameters
        ----------
        x : numpy.ndarray, shape (n,)
            A point of the sphere.
        u : numpy.ndarray, shape (n,)
            A tangent vector at ``x``.

        Returns
        -------
        numpy.ndarray, shape (n,)
            A point of the sphere at geodesic distance ``|u|`` from ``x`` (for ``|u| <= pi``).
        """
        u = self.project(x, u)
        t = np.linalg.norm(u)
        if t == 0.0:
            return np.array(x, dtype=np.float64, copy=True)
        y = np.cos(t) * x + (np.sin(t) / t) * u
        return y / np.linalg.norm(y)  # removes the rounding of cos^2 + sin^2; changes y by ~1e-16

    def dist(self, x, y) -> float:
        """The geodesic distance ``arccos(x^T y)``, computed as ``2 arcsin(|x - y| / 2)`` (accurate near 0).

        Parameters
        ----------
        x, y : numpy.ndarray, shape (n,)
            Points of the sphere.

        Returns
        -------
        float
            In [0, pi].
        """
        return float(2.0 * np.arcsin(min(1.0, np.linalg.norm(np.asarray(x) - np.asarray(y)) / 2.0)))

    def proj_point(self, x):
        """``x / |x|``, the closest point of the sphere (``x != 0``)."""
        return x / np.linalg.norm(x)

    def distance_from_manifold(self, x) -> float:
        """``| |x| - 1 |``."""
        return float(abs(np.linalg.norm(x) - 1.0))

    def random_point(self, rng=None):
        rng = np.random.default_rng(rng)
        x = rng.standard_normal(self.n)
        return x / np.linalg.norm(x)
