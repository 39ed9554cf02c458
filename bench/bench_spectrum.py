"""fastopt's native Lanczos (top_eigenvalues) against scipy's ARPACK (eigsh) and PyHessian-style power
iteration on the same operator: matvecs and seconds to the extremal eigenvalues, with the errors against
scipy's eigsh at tol=0 (machine precision).  The operator is a diagonal plus a rank-r term, so a matvec
is O(n r) and the vector work around the products shows.

    python bench/bench_spectrum.py [--n 200000] [--rank 20]
"""
import argparse
import time

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from fastopt import curvature


class DiagonalPlusLowRank:
    """D + U S U^T: D uniform in [-1, 1], U (n, r) orthonormal, S from 2 to 40 (well separated top)."""

    def __init__(self, n, rank, seed=0):
        rng = np.random.default_rng(seed)
        self.diagonal = rng.uniform(-1.0, 1.0, n)
        self.u, _ = np.linalg.qr(rng.standard_normal((n, rank)))
        self.s = np.linspace(2.0, 40.0, rank)
        self.shape, self.dtype = (n, n), np.dtype(np.float64)

    def matvec(self, v):
        return self.diagonal * v + self.u @ (self.s * (self.u.T @ v))


def timed(call):
    start = time.perf_counter()
    out = call()
    return out, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--rank", type=int, default=20)
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    op = DiagonalPlusLowRank(args.n, args.rank)
    start = np.random.default_rng(0).standard_normal(args.n)
    linear = LinearOperator(op.shape, op.matvec, dtype=np.float64)
    reference = np.sort(eigsh(linear, k=args.k, which="LA", tol=0, v0=start, return_eigenvectors=False))[::-1]
    print(f"n = {args.n}, rank {args.rank}, k = {args.k} largest; errors against scipy eigsh at tol=0\n")
    print("| method | tol | matvecs | seconds | max relative error |")
    print("|---|---:|---:|---:|---:|")
    rows = {}
    for tol in (1e-6, 1e-10):
        ours, seconds = timed(lambda: curvature.top_eigenvalues(op, k=args.k, tol=tol))
        rows[("fastopt", tol)] = seconds
        print(f"| fastopt Lanczos (native, full reorth.) | {tol:g} | {ours.matvecs} | {seconds:.3f} | "
              f"{np.max(np.abs(ours.values - reference) / np.abs(reference)):.1e} |")
        count = [0]

        def counted(v):
            count[0] += 1
            return op.matvec(v)

        theirs, seconds = timed(lambda: eigsh(LinearOperator(op.shape, counted, dtype=np.float64), k=args.k,
                                              which="LA", tol=tol, v0=start, return_eigenvectors=False))
        rows[("scipy", tol)] = seconds
        print(f"| scipy eigsh (ARPACK) | {tol:g} | {count[0]} | {seconds:.3f} | "
              f"{np.max(np.abs(np.sort(theirs)[::-1] - reference) / np.abs(reference)):.1e} |")
    power, seconds = timed(lambda: curvature.top_eigenvalues(op, k=args.k, method="power", tol=1e-6, max_iter=3000))
    print(f"| power iteration, deflated (PyHessian's method) | 1e-06 | {power.matvecs} | {seconds:.3f} | "
          f"{np.max(np.abs(power.values - reference) / np.abs(reference)):.1e} |")
    for tol in (1e-6, 1e-10):
        print(f"\ntol {tol:g}: fastopt / scipy time = {rows[('fastopt', tol)] / rows[('scipy', tol)]:.2f}")


if __name__ == "__main__":
    main()
