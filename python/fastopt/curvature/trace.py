"""Stochastic estimates of a symmetric operator's trace and diagonal from matvecs alone.

Hutchinson (1990): for z with independent Rademacher entries (+-1), E[z^T A z] = tr(A) and
E[z * A z] = diag(A) (elementwise product; Bekas, Kokiopoulou & Saad 2007).  Hutch++ (Meyer, Musco,
Musco & Woodruff, SOSA 2021) first takes the trace exactly on a sketch of A's dominant range and
leaves Hutchinson only the remainder, so its error falls like 1/samples instead of 1/sqrt(samples)
when the spectrum decays.  Every estimate reports the matvecs it used and a standard error.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .operator_input import as_operator, positive_count, rademacher


@dataclass
class TraceEstimate:
    """An estimate of tr(A).

    Attributes
    ----------
    value : float
        The estimate.
    stderr : float
        Its standard error: the sample standard deviation of the random terms over the square root of
        their number (for Hutch++, of its Hutchinson part; the sketched part is exact given the sketch).
    samples : int
        Operator products used.
    method : str
        "hutchinson" or "hutch++".
    """

    value: float
    stderr: float
    samples: int
    method: str


def _hutchinson_terms(op, probes: np.ndarray) -> np.ndarray:
    """z_i^T A z_i for each column z_i of probes (n, s)."""
    return np.einsum("ij,ij->j", probes, op.matmat(probes))


def _mean_and_stderr(terms: np.ndarray) -> tuple[float, float]:
    return float(terms.mean()), float(terms.std(ddof=1) / np.sqrt(len(terms)))


def trace(op, method: str = "hutchinson", samples: int = 100, seed=0) -> TraceEstimate:
    """Estimate tr(A) from ``samples`` matvecs.

    Hutchinson: with s Rademacher probes z_i,

        tr(A) ~ (1/s) sum_i z_i^T A z_i,   stderr = std(z_i^T A z_i) / sqrt(s),

    unbiased, with variance 2 (|A|_F^2 - sum_i A_ii^2) / s.

    Hutch++: split the products into thirds.  S (n x s/3) Rademacher, Q = orth(A S) (s/3 products);
    G (n x the rest) Rademacher, projected G' = (I - Q Q^T) G;

        tr(A) ~ tr(Q^T A Q) + (1/g) sum_i g'_i^T A g'_i

    (tr(Q^T A Q) costs s/3 products, the g probes the rest).  The standard error is that of the second
    term given Q.

    Parameters
    ----------
    op : operator or numpy.ndarray
        Anything with ``matvec`` and ``shape`` (n, n), or a dense symmetric matrix.
    method : {"hutchinson", "hutch++"}
    samples : int, default 100
        Operator products to spend: >= 2 for Hutchinson, >= 5 for Hutch++ (at least one sketch
        column and two probes for the standard error).
    seed : int or None, default 0
        Seed of the probes.

    Returns
    -------
    TraceEstimate

    Raises
    ------
    ValueError
        If ``method`` is unknown or ``samples`` too small, or the operator misbehaves.
    """
    checked = as_operator(op)
    rng = np.random.default_rng(seed)
    if method == "hutchinson":
        samples = positive_count(samples, "samples", 2)
        value, stderr = _mean_and_stderr(_hutchinson_terms(checked, rademacher(rng, (checked.n, samples))))
        return TraceEstimate(value, stderr, checked.matvecs, method)
    if method != "hutch++":
        raise ValueError(f"method: expected 'hutchinson' or 'hutch++', got {method!r}")
    samples = positive_count(samples, "samples", 5)
    sketch = min(samples // 3, checked.n)  # from 5 products on, >= 1 sketch column and >= 2 probes
    probes = samples - 2 * sketch
    q, _ = np.linalg.qr(checked.matmat(rademacher(rng, (checked.n, sketch))))
    exact = float(np.einsum("ij,ij->", q, checked.matmat(q)))
    g = rademacher(rng, (checked.n, probes))
    g -= q @ (q.T @ g)
    value, stderr = _mean_and_stderr(_hutchinson_terms(checked, g))
    return TraceEstimate(exact + value, stderr, checked.matvecs, method)


@dataclass
class DiagonalEstimate:
    """An estimate of diag(A).

    Attributes
    ----------
    values : numpy.ndarray, shape (n,)
        The estimate.
    stderr : numpy.ndarray, shape (n,)
        The standard error of each entry.
    samples : int
        Operator products used.
    """

    values: np.ndarray
    stderr: np.ndarray
    samples: int


def diagonal(op, samples: int = 100, seed=0) -> DiagonalEstimate:
    """Estimate diag(A) from ``samples`` matvecs (Bekas, Kokiopoulou & Saad 2007):

        diag(A) ~ (1/s) sum_i z_i * A z_i   (elementwise; z_i Rademacher, so z_i * z_i = 1),

    unbiased; entry j has variance sum_{l != j} A_jl^2 / s, reported as the sample standard deviation
    over sqrt(s).

    Parameters
    ----------
    op : operator or numpy.ndarray
        Anything with ``matvec`` and ``shape`` (n, n), or a dense symmetric matrix.
    samples : int, default 100
        Operator products to spend (>= 2).
    seed : int or None, default 0
        Seed of the probes.

    Returns
    -------
    DiagonalEstimate

    Raises
    ------
    ValueError
        If ``samples`` < 2, or the operator misbehaves.
    """
    checked = as_operator(op)
    samples = positive_count(samples, "samples", 2)
    probes = rademacher(np.random.default_rng(seed), (checked.n, samples))
    terms = probes * checked.matmat(probes)
    return DiagonalEstimate(terms.mean(axis=1), terms.std(axis=1, ddof=1) / np.sqrt(samples), checked.matvecs)
