"""The extremal eigenvalues of a symmetric operator (a Hessian, GGN or Fisher, a dense matrix), by
Lanczos or power iteration, and the condition-number estimates built on them.

Both methods see the operator only through ``matvec`` (:mod:`fastopt.curvature.operator_input`), and
both stop on the same test: the residual of every wanted Ritz pair (theta, y), |y| = 1,

    |A y - theta y| <= max(tol |theta|, 1000 eps |A|),

which places an eigenvalue of A within tol |theta| of theta (for symmetric A, Krylov-Bogoliubov).
The trace, diagonal and density estimators are in :mod:`~fastopt.curvature.trace` and
:mod:`~fastopt.curvature.density`.

References: Lanczos (1950); Paige (1972) for the Ritz residual beta_m |z_m|; Golub & Van Loan,
*Matrix Computations*, 4th ed., section 10.1; Yao et al., "PyHessian" (2020); Li et al., "Visualizing
the loss landscape of neural nets" (NeurIPS 2018) for |lambda_min / lambda_max|.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _core
from .operator_input import CheckedOperator, as_operator, positive_count

_WHICH = ("largest", "smallest", "both")


@dataclass
class EigenResult:
    """Extremal eigenvalues of a symmetric operator.

    Attributes
    ----------
    values : numpy.ndarray
        The eigenvalues: the k largest (largest first), the k smallest (most negative first), or
        for ``which="both"`` the k largest then the k smallest.
    vectors : numpy.ndarray or None
        Unit eigenvectors, row i belonging to ``values[i]`` (when asked for).
    residuals : numpy.ndarray
        |A y - theta y| of each pair: an eigenvalue of A lies within it of each value.
    matvecs : int
        Operator products spent (the iterations: one product per Lanczos step or power step).
    converged : bool
        Whether every residual met the tolerance within ``max_iter``.
    method, which : str
        As asked.
    """

    values: np.ndarray
    vectors: np.ndarray | None
    residuals: np.ndarray
    matvecs: int
    converged: bool
    method: str
    which: str


def _tolerance(tol) -> float:
    tol = float(tol)
    if not (0 < tol < 1):
        raise ValueError(f"tol: must be in (0, 1), got {tol}")
    return tol


def _start_vector(n: int, seed) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n)


def _lanczos(op: CheckedOperator, k: int, which: str, tol: float, max_iter: int, seed, vectors: bool) -> EigenResult:
    out = _core.curvature.lanczos_eigen(op.matvec, _start_vector(op.n, seed), k, which, tol, max_iter, vectors)
    return EigenResult(out["values"], out.get("vectors"), out["residuals"], op.matvecs, out["converged"], "lanczos",
                       which)


def _deflated_power(op: CheckedOperator, sign: float, shift: float, count: int, tol: float, max_iter: int,
                    rng: np.random.Generator, scale: float):
    """The `count` largest eigenpairs of B = sign A + shift I (all its eigenvalues >= about 0), each by power
    iteration on the complement of those found before (the deflated P A P, whose residual it reports:
    that of A itself stalls at the error of the vectors deflated).  Returns (eigenvalues of A, vectors,
    residuals, ok)."""
    found, values, residuals, ok = [], [], [], True
    floor = 1e3 * np.finfo(float).eps * scale
    for _ in range(count):
        basis = np.array(found).reshape(-1, op.n)
        v = rng.standard_normal(op.n)
        v -= basis.T @ (basis @ v)
        v /= np.linalg.norm(v)
        converged, residual, value = False, np.inf, 0.0
        for _ in range(max_iter):
            av = op.matvec(v)
            av -= basis.T @ (basis @ av)  # the deflated operator P A P, P = I - V V^T, as v = P v
            value = float(v @ av)  # Rayleigh quotient of A; B's is sign * value + shift
            residual = float(np.linalg.norm(av - value * v))
            if residual <= max(tol * abs(value), floor):
                converged = True
                break
            w = sign * av + shift * v
            w -= basis.T @ (basis @ w)  # rounding would grow the found directions, B's eigenvalue shift there
            norm = np.linalg.norm(w)
            if norm == 0:  # v is in B's null space: the remaining eigenvalues of A are all -sign * shift
                break
            v = w / norm
        found.append(v)
        values.append(value)
        residuals.append(residual)
        ok = ok and converged
    return values, found, residuals, ok


def _power(op: CheckedOperator, k: int, which: str, tol: float, max_iter: int, seed, vectors: bool) -> EigenResult:
    # The dominant eigenvalue (largest |lambda|) first: rho = |mu| bounds the spectrum (to its accuracy),
    # so A + rho I and rho I - A are about positive semi-definite, with the largest and the smallest
    # eigenvalue of A as their dominant ones.
    rng = np.random.default_rng(seed)
    (mu,), _, _, _ = _deflated_power(op, 1.0, 0.0, 1, tol, max_iter, rng, 0.0)
    rho = abs(mu)
    values, found, residuals, ok = [], [], [], True
    for end in ("largest", "smallest"):
        if which in (end, "both"):
            sign = 1.0 if end == "largest" else -1.0
            v, y, r, converged = _deflated_power(op, sign, rho, k, tol, max_iter, rng, rho)
            values += v
            found += y
            residuals += r
            ok = ok and converged
    return EigenResult(np.array(values), np.array(found) if vectors else None, np.array(residuals), op.matvecs, ok,
                       "power", which)


def top_eigenvalues(op, k: int = 1, method: str = "lanczos", which: str = "largest", tol: float = 1e-6,
                    max_iter: int | None = None, seed=0, return_vectors: bool = False) -> EigenResult:
    """The k largest and/or smallest (most negative) eigenvalues of a symmetric operator.

    ``method="lanczos"`` (native, :file:`src/cpp/curvature/lanczos.hpp`) builds the Krylov basis
    Q_m of (A, q_0) with full reorthogonalisation and the tridiagonal T_m = Q_m^T A Q_m,

        A q_j = beta_{j-1} q_{j-1} + alpha_j q_j + beta_j q_{j+1},

    whose eigenvalues theta_i (Ritz values) approach A's extremal eigenvalues first; the Ritz pair
    (theta_i, Q_m z_i) has residual beta_m |z_i[m]|.  One matvec per step.  When the Krylov space closes
    (an invariant subspace, beta = 0) the process goes on from a fresh direction orthogonal to it, so
    further copies of a repeated eigenvalue appear; before that, in floating point, a single start vector
    may find one copy of an eigenvalue of multiplicity > 1 and report the next distinct one after it.

    ``method="power"`` iterates v <- B v / |B v| on B = A + rho I (largest) or rho I - A (smallest),
    rho = |lambda| of the dominant eigenvalue found first by plain power iteration, deflating the pairs
    already found by projecting them out (its residuals are those of the deflated operator P A P); it
    converges like (lambda_2 + rho) / (lambda_1 + rho) per step, often far slower than Lanczos, and is
    here for comparison with PyHessian.

    Both stop when every wanted pair's residual |A y - theta y| is at most max(tol |theta|, 1000 eps
    |A|), so each value is within tol |theta| of an eigenvalue of A.

    Parameters
    ----------
    op : operator or numpy.ndarray
        Anything with ``matvec`` and ``shape`` (n, n), or a dense symmetric matrix
        (:func:`~fastopt.curvature.operator_input.as_operator`).
    k : int, default 1
        Eigenvalues wanted at each end (1 <= k <= n; 2k <= n for ``which="both"``).
    method : {"lanczos", "power"}
    which : {"largest", "smallest", "both"}
        The algebraically largest, the smallest (most negative), or both ends.
    tol : float, default 1e-6
        Relative residual tolerance, in (0, 1).
    max_iter : int, optional
        Lanczos: the most steps (the basis holds max_iter vectors of n), default min(n, max(100, 4k)).
        Power: the most steps per eigenvalue, default 1000.
    seed : int or None, default 0
        Seed of the random start vectors.
    return_vectors : bool, default False
        Also return the unit eigenvectors.

    Returns
    -------
    EigenResult
        Values, residuals, ``matvecs`` spent, ``converged``.

    Raises
    ------
    ValueError
        If k is outside [1, n] (or 2k > n with ``which="both"``), ``method``, ``which``, ``tol`` or
        ``max_iter`` is invalid, or the operator returns a wrong shape or non-finite values.
    """
    checked = as_operator(op)
    n = checked.n
    k = positive_count(k, "k")
    if method not in ("lanczos", "power"):
        raise ValueError(f"method: expected 'lanczos' or 'power', got {method!r}")
    if which not in _WHICH:
        raise ValueError(f"which: expected one of {_WHICH}, got {which!r}")
    wanted = 2 * k if which == "both" else k
    if wanted > n:
        raise ValueError(f"k: {wanted} eigenvalues asked for (k = {k}, which = {which!r}), but the operator has "
                         f"dimension {n}")
    tol = _tolerance(tol)
    if method == "lanczos":
        steps = min(n, max(100, 4 * wanted)) if max_iter is None else positive_count(max_iter, "max_iter", wanted)
        if steps > n:
            raise ValueError(f"max_iter: Lanczos takes at most n = {n} steps, got {steps}")
        return _lanczos(checked, k, which, tol, steps, seed, return_vectors)
    steps = 1000 if max_iter is None else positive_count(max_iter, "max_iter")
    return _power(checked, k, which, tol, steps, seed, return_vectors)


@dataclass
class ConditionEstimate:
    """The extremal eigenvalues of a symmetric operator and the ratios built on them.

    Attributes
    ----------
    lambda_max, lambda_min : float
        The largest and the smallest (most negative) eigenvalue.
    condition : float
        lambda_max / lambda_min when the operator is positive definite (lambda_min > 0): its 2-norm
        condition number.  NaN otherwise: for an indefinite operator that number needs the eigenvalue
        nearest zero, which the extremal methods do not find.
    ratio : float
        |lambda_min / lambda_max| (Li et al. 2018), lambda_min the most negative eigenvalue: 1 / kappa
        for a positive definite operator; near 0 (a network's Hessian, with many eigenvalues near 0)
        the surface looks locally convex, and it grows as negative curvature grows.
    matvecs : int
        Operator products spent.
    converged : bool
        Whether both eigenvalues met the tolerance.
    """

    lambda_max: float
    lambda_min: float
    condition: float
    ratio: float
    matvecs: int
    converged: bool


def condition_number(op, method: str = "lanczos", tol: float = 1e-6, max_iter: int | None = None,
                     seed=0) -> ConditionEstimate:
    """Estimate lambda_max, lambda_min, the condition number kappa = lambda_max / lambda_min (positive
    definite operators) and the ratio |lambda_min / lambda_max| of Li et al. (2018).

    Parameters
    ----------
    op : operator or numpy.ndarray
        As :func:`top_eigenvalues` takes it (n >= 2).
    method : {"lanczos", "power"}
    tol : float, default 1e-6
        Relative residual tolerance of both eigenvalues.
    max_iter : int, optional
        As :func:`top_eigenvalues`.
    seed : int or None, default 0
        Seed of the start vectors.

    Returns
    -------
    ConditionEstimate

    Raises
    ------
    ValueError
        As :func:`top_eigenvalues` (an operator of dimension 1 has no two ends).
    """
    result = top_eigenvalues(op, k=1, method=method, which="both", tol=tol, max_iter=max_iter, seed=seed)
    top, bottom = float(result.values[0]), float(result.values[1])
    condition = top / bottom if bottom > 0 else float("nan")
    ratio = abs(bottom / top) if top != 0 else float("inf")
    return ConditionEstimate(top, bottom, condition, ratio, result.matvecs, result.converged)
