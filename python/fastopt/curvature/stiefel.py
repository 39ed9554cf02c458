"""The Stiefel manifold of orthonormal p-frames in R^n (see :mod:`.manifolds` for the shared rules)."""
from __future__ import annotations

import numpy as np

from .manifolds import Manifold, positive_int


class Stiefel(Manifold):
    """The Stiefel manifold ``St(n, p) = {X in R^(n x p) : X^T X = I_p}`` of orthonormal p-frames.

    Its dimension is ``n p - p (p + 1) / 2``; with the embedded metric ``<U, V> = trace(U^T V)``:

    - Tangent space: ``T_X St = {U : X^T U + U^T X = 0}``; projection
      ``P_X(U) = U - X sym(X^T U)``, ``sym(A) = (A + A^T) / 2`` (Absil et al. 2008, eq. (3.35);
      Boumal 2023, eq. (7.27)).
    - Retraction ``"qr"`` (the default): ``R_X(U) = qf(X + U)``, the Q factor of the thin QR
      decomposition with the signs fixed so that R's diagonal is positive; with that convention the
      factor is unique and smooth in ``U`` (Absil et al. 2008, eq. (4.8); Boumal 2023, eq. (7.24)).
    - Retraction ``"polar"``: ``R_X(U) = (X + U) (I_p + U^T U)^(-1/2)``, the orthonormal factor of the
      polar decomposition of ``X + U``, computed as ``W V^T`` from its thin SVD ``W S V^T``; it is the
      closest point of St(n, p) to ``X + U`` (Absil et al. 2008, Ex. 4.1.3; Boumal 2023, eq. (7.25)).
    - The exponential map of the embedded metric needs a matrix exponential and is not provided.

    Parameters
    ----------
    n : int
        Rows, ``n >= 1``.
    p : int
        Columns, ``1 <= p <= n``.  ``Stiefel(n, 1)`` is the sphere ``Sphere(n)`` as column vectors.
    """

    retractions = ("qr", "polar")
    _defining_equation = "X^T X = I"

    def __init__(self, n: int, p: int):
        self.n = positive_int(n, "n", 1)
        self.p = positive_int(p, "p", 1)
        if self.p > self.n:
            raise ValueError(f"p: expected p <= n for orthonormal columns, got n={self.n}, p={self.p}")
        self.shape = (self.n, self.p)
        self.dim = self.n * self.p - self.p * (self.p + 1) // 2

    def __repr__(self) -> str:
        return f"Stiefel({self.n}, {self.p})"

    def project(self, x, u):
        """``P_X(U) = U - X sym(X^T U)``, the projection onto ``{U : X^T U + U^T X = 0}``.

        Parameters
        ----------
        x : numpy.ndarray, shape (n, p)
            A point of the Stiefel manifold.
        u : numpy.ndarray, shape (n, p)
            An ambient matrix.

        Returns
        -------
        numpy.ndarray, shape (n, p)
        """
        xtu = x.T @ u
        return u - x @ (0.5 * (xtu + xtu.T))

    def _retract(self, x, u, method):
        y = x + u
        if method == "qr":
            return _qf(y)
        w, _, vt = np.linalg.svd(y, full_matrices=False)
        return w @ vt

    def proj_point(self, x):
        """The closest point of St(n, p): the polar factor ``W V^T`` of ``x = W S V^T`` (full column rank)."""
        w, _, vt = np.linalg.svd(x, full_matrices=False)
        return w @ vt

    def distance_from_manifold(self, x) -> float:
        """``|X^T X - I|_F``."""
        x = np.asarray(x, dtype=np.float64)
        return float(np.linalg.norm(x.T @ x - np.eye(self.p)))

    def random_point(self, rng=None):
        rng = np.random.default_rng(rng)
        return _qf(rng.standard_normal(self.shape))  # Haar-distributed thanks to the sign fix


def _qf(y: np.ndarray) -> np.ndarray:
    """The Q factor of the thin QR decomposition of ``y`` with R's diagonal made positive (``sign(0) = +1``)."""
    q, r = np.linalg.qr(y)
    signs = np.where(np.diagonal(r) < 0, -1.0, 1.0)
    return q * signs
