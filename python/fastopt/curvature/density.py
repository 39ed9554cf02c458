"""The spectral density of a symmetric operator by stochastic Lanczos quadrature (SLQ).

For a unit start vector v, m Lanczos steps (native, full reorthogonalisation) give T_m = Q^T A Q with
eigenpairs (theta_i, z_i); the nodes theta_i with weights tau_i = z_i[0]^2 are the m-point Gauss
quadrature of v's spectral measure mu_v = sum_j (v^T u_j)^2 delta(lambda_j), exact for polynomials of
degree < 2m:

    v^T A^p v = sum_i tau_i theta_i^p,   p = 0, 1, ..., 2m - 1.

For random v (Rademacher entries over sqrt(n)), E[mu_v] is the spectral density phi(t) = (1/n)
sum_j delta(t - lambda_j); averaging `runs` quadratures and smoothing every node with a Gaussian of
width sigma gives

    phi_sigma(t) = (1/runs) sum_runs sum_i tau_i exp(-(t - theta_i)^2 / (2 sigma^2)) / (sigma sqrt(2 pi)),

a density in t that integrates to 1 (multiply by n for eigenvalues per unit of t).  References: Golub
& Meurant, *Matrices, Moments and Quadrature* (2010); Ubaru, Chen & Saad, SIAM J. Matrix Anal. Appl.
38 (2017); Ghorbani, Krishnan & Xiao (ICML 2019); Yao et al., "PyHessian" (2020).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _core
from .operator_input import CheckedOperator, as_operator, positive_count, rademacher


def _check_steps(steps, n: int) -> int:
    steps = positive_count(steps, "lanczos_steps")
    if steps > n:
        raise ValueError(f"lanczos_steps: at most the dimension n = {n}, got {steps}")
    return steps


def _quadrature(op: CheckedOperator, start: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    alpha, beta = _core.curvature.lanczos_tridiagonal(op.matvec, start, steps)
    tridiagonal = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    nodes, vectors = np.linalg.eigh(tridiagonal)
    return nodes, vectors[0] ** 2


def lanczos_quadrature(op, start, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The Gauss quadrature (nodes, weights) of ``start``'s spectral measure after ``steps`` Lanczos steps.

    With v = start / |start|: v^T A^p v = sum_i weights_i nodes_i^p for p < 2 steps; the weights are
    positive and sum to 1.

    Parameters
    ----------
    op : operator or numpy.ndarray
        Anything with ``matvec`` and ``shape`` (n, n), or a dense symmetric matrix.
    start : array_like, shape (n,)
        A finite nonzero start vector (normalised here).
    steps : int
        Lanczos steps = matvecs, 1 <= steps <= n.

    Returns
    -------
    nodes : numpy.ndarray, shape (steps,)
        The Ritz values, ascending.
    weights : numpy.ndarray, shape (steps,)
        The squared first components of T's eigenvectors.

    Raises
    ------
    ValueError
        If ``start`` is not of shape (n,), zero or non-finite, ``steps`` is out of range, or the
        operator misbehaves.
    """
    checked = as_operator(op)
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (checked.n,):
        raise ValueError(f"start: expected shape ({checked.n},), got {start.shape}")
    if not np.all(np.isfinite(start)) or not np.any(start):
        raise ValueError("start: must be finite and nonzero")
    return _quadrature(checked, start, _check_steps(steps, checked.n))


@dataclass
class SpectralDensity:
    """A smoothed spectral density from stochastic Lanczos quadrature.

    Attributes
    ----------
    grid : numpy.ndarray
        Eigenvalue axis.
    density : numpy.ndarray
        phi_sigma on the grid (integrates to about 1 over a grid covering the nodes).
    nodes, weights : numpy.ndarray, shape (runs, lanczos_steps)
        Each run's quadrature.
    sigma : float
        The Gaussian width used.
    runs, lanczos_steps, matvecs, dim : int
        Random start vectors, Lanczos steps per run, operator products in all, and n.
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float
    runs: int
    lanczos_steps: int
    matvecs: int
    dim: int

    def trace(self) -> float:
        """The SLQ estimate of tr(A) = n E[v^T A v] = n mean_runs sum_i tau_i theta_i.

        Returns
        -------
        float
        """
        return float(self.dim * np.mean(np.sum(self.weights * self.nodes, axis=1)))

    def smoothed(self, grid, sigma: float) -> np.ndarray:
        """The quadrature smoothed by Gaussians of width ``sigma`` on another grid: to draw several
        densities with one width, so that their peaks compare.

        Parameters
        ----------
        grid : array_like
            Eigenvalue axis (1-D).
        sigma : float
            Gaussian width (> 0).

        Returns
        -------
        numpy.ndarray
            phi_sigma on ``grid``.
        """
        return _smooth(np.asarray(grid, dtype=np.float64), self.nodes, self.weights, float(sigma))


def _smooth(grid: np.ndarray, nodes: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """phi_sigma(t) = (1/runs) sum_runs sum_i tau_i N(t; theta_i, sigma^2)."""
    offsets = (grid[:, None] - nodes.ravel()[None, :]) / sigma
    kernel = np.exp(-0.5 * offsets**2) / (sigma * np.sqrt(2 * np.pi))
    return kernel @ weights.ravel() / len(nodes)


def _default_sigma(nodes: np.ndarray) -> float:
    spread = float(nodes.max() - nodes.min())
    return spread / 100 if spread > 0 else max(1e-3 * float(np.abs(nodes).max()), 1e-12)


def spectral_density(op, lanczos_steps: int = 100, runs: int = 10, sigma: float | None = None, grid=None,
                     grid_size: int = 1000, seed=0) -> SpectralDensity:
    """The eigenvalue density of A by stochastic Lanczos quadrature (see the module's docstring).

    Parameters
    ----------
    op : operator or numpy.ndarray
        Anything with ``matvec`` and ``shape`` (n, n), or a dense symmetric matrix.
    lanczos_steps : int, default 100
        Lanczos steps per run (<= n); the quadrature is exact for moments of degree < 2 lanczos_steps.
    runs : int, default 10
        Random Rademacher start vectors; the result uses runs * lanczos_steps matvecs.
    sigma : float, optional
        Width of the Gaussian around each node; default 1/100 of the nodes' range.
    grid : array_like, optional
        Eigenvalue axis (1-D, finite); default ``grid_size`` points from 5 sigma below the smallest
        node to 5 sigma above the largest.
    grid_size : int, default 1000
        Points of the default grid.
    seed : int or None, default 0
        Seed of the start vectors.

    Returns
    -------
    SpectralDensity

    Raises
    ------
    ValueError
        If ``lanczos_steps`` is outside [1, n], ``runs`` or ``grid_size`` < 1, ``sigma`` <= 0, the
        grid is not 1-D and finite, or the operator misbehaves.
    """
    checked = as_operator(op)
    steps = _check_steps(lanczos_steps, checked.n)
    runs = positive_count(runs, "runs")
    grid_size = positive_count(grid_size, "grid_size")
    if sigma is not None and not (float(sigma) > 0 and np.isfinite(sigma)):
        raise ValueError(f"sigma: must be a positive finite number, got {sigma}")
    if grid is not None:
        grid = np.asarray(grid, dtype=np.float64)
        if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
            raise ValueError(f"grid: expected a non-empty finite 1-D array, got shape {grid.shape}")
    rng = np.random.default_rng(seed)
    pairs = [_quadrature(checked, rademacher(rng, checked.n), steps) for _ in range(runs)]
    nodes = np.array([p[0] for p in pairs])
    weights = np.array([p[1] for p in pairs])
    width = _default_sigma(nodes) if sigma is None else float(sigma)
    if grid is None:
        grid = np.linspace(nodes.min() - 5 * width, nodes.max() + 5 * width, grid_size)
    return SpectralDensity(grid, _smooth(grid, nodes, weights, width), nodes, weights, width, runs, steps,
                           checked.matvecs, checked.n)
