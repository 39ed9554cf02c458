"""One Shampoo and one SOAP step of the 784-512-256-10 MLP at batch 128, split into parts, against Adam.

    python bench/bench_shampoo.py [--batch 128] [--repeats 20] [--threads N] [--dtype float32]

Each layer is one block [dW, db] (512 x 785, 256 x 513, 10 x 257; max_preconditioner_dim 1024). Timed
(median of --repeats, after a warm-up), each part on its own:

- statistics accumulation: ``_core.shampoo.update_statistics``, two SYRKs per block (m^2 n + n^2 m flops);
- inverse 4th roots of every statistic, in double: eigen (syevd, 14/3 n^3, then Q diag Q^T, 2 n^3) and
  coupled Newton (4 GEMMs, 8 n^3, per iteration; timed once, with epsilon NEWTON_EPSILON; the
  iterations are printed, and how many roots fell back to eigen);
- SOAP's eigenbasis refresh: eigen (syevd, 14/3 n^3) and power iteration + QR (2 n^3 + geqrf/orgqr 8/3 n^3);
- preconditioning: Shampoo's L^-1/4 G R^-1/4 (2 GEMMs a block, 2 mn (m + n) flops), SOAP's projection
  and back-projection (twice that), and the elementwise NumPy around them (grafting, Adam moments);
- whole steps (forward_backward + step) with precondition_frequency 10 (the roots amortised), and Adam's.

GFLOP/s are set against the GEMM peak of bench_mlp.gemm_peak_gflops (the best float32 2048^3 matmul of
NumPy and PyTorch), measured before and after. The roots run in double, so their float64 rate is set
against that float32 peak too (the double peak is about half).
"""
import argparse
import os
import sys
import time

import numpy as np

import fastopt
from fastopt import _core
from fastopt.curvature import shampoo as shampoo_module

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_kfac import SIZES, median_time  # noqa: E402
from bench_mlp import gemm_peak_gflops  # noqa: E402

# Newton needs epsilon above the statistics' rounding: these are singular (3 batches of 128; the last
# layer's rows sum to zero under softmax) and float32 SYRK leaves eigenvalues down to -1e-4, where the
# iteration diverges and the root falls back to eigen. 1e-3 is 1e-7 to 5e-6 of their largest eigenvalues.
NEWTON_EPSILON = 1e-3


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, default=fastopt.get_num_threads())
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = p.parse_args(argv)
    fastopt.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.random((args.batch, SIZES[0]), dtype=np.float64).astype(args.dtype)
    y = rng.integers(0, SIZES[-1], args.batch)
    few = max(3, args.repeats // 4)
    peak_before = gemm_peak_gflops(args.threads)

    def trained(cls, **kwargs):
        model = fastopt.nn.MLP(SIZES, dtype=args.dtype)
        opt = cls(model, precondition_frequency=10, **kwargs)
        for _ in range(3):
            model.forward_backward(x, y)
            opt.step(model.grads)
        return model, opt

    model, shampoo = trained(fastopt.Shampoo)
    _, soap = trained(fastopt.SOAP)
    shapes = shampoo._blocks.shapes
    grads = shampoo._blocks.gather(model.flat_grads)
    state = shampoo.state
    stats = state["L"] + state["R"]
    roots = [np.empty_like(s) for s in stats]
    sides = [len(s) for s in stats]  # the order of stats and of the reports: every L, then every R
    cubes = sum(n ** 3 for n in sides)
    start = time.perf_counter()  # once: tens of iterations of 4 GEMMs on the 785 x 785 statistic
    reports = _core.shampoo.inverse_roots(stats, roots, 4, NEWTON_EPSILON, "newton",
                                          shampoo_module.NEWTON_MAX_ITERATIONS, shampoo_module.NEWTON_TOLERANCE)
    newton_seconds = time.perf_counter() - start
    newton_iterations = [r[1] for r in reports]
    fell_back = sum(r[3] for r in reports)
    sandwich_flops = sum(2 * m * n * (m + n) for m, n in shapes)
    orders = [np.empty(n, np.int64) for n in sides]  # SOAP has the same blocks
    bases = [q.copy() for q in soap.state["QL"] + soap.state["QR"]]
    soap_stats = soap.state["L"] + soap.state["R"]

    rows = [  # (part, seconds, flops or None)
        ("gather the blocks [dW, db] (NumPy copies)", median_time(
            lambda: shampoo._blocks.gather(model.flat_grads), args.repeats), None),
        ("statistics accumulation (2 SYRKs/block)", median_time(
            lambda: _core.shampoo.update_statistics(grads, state["L"], state["R"], 1.0, 1.0), args.repeats),
         sum(m * m * n + n * n * m for m, n in shapes)),
        ("inverse roots, eigen (syevd + GEMM, double)", median_time(
            lambda: _core.shampoo.inverse_roots(stats, roots, 4, 1e-12, "eigen"), few), (14 / 3 + 2) * cubes),
        (f"inverse roots, Newton ({max(newton_iterations)} it., {fell_back} fell back)", newton_seconds,
         None if fell_back else sum(8 * n ** 3 * it for n, it in zip(sides, newton_iterations))),
        ("Shampoo preconditioning L^-1/4 G R^-1/4", median_time(lambda: shampoo.precondition(grads), args.repeats),
         sandwich_flops),
        ("Shampoo Adam grafting + filtering (NumPy)", median_time(
            lambda: shampoo._graft(grads, shampoo._filtered(grads, 4), 4), args.repeats), None),
        ("SOAP eigenbasis refresh, eigen (syevd)", median_time(
            lambda: _core.shampoo.eigenbasis(soap_stats, bases), few), 14 / 3 * cubes),
        ("SOAP eigenbasis refresh, power + QR", median_time(
            lambda: _core.shampoo.power_qr_basis(soap_stats, bases, orders), few), (2 + 8 / 3) * cubes),
        ("SOAP projection + Adam + back-projection", median_time(
            lambda: soap.adam_in_eigenbasis(grads, 4), args.repeats), 2 * sandwich_flops),
    ]

    def steps(m, opt, count=10):
        for _ in range(count):
            m.forward_backward(x, y)
            opt.step(m.grads)

    for label, cls in (("Shampoo", fastopt.Shampoo), ("SOAP", fastopt.SOAP)):
        m, opt = trained(cls)
        rows.append((f"{label}: forward_backward + step (roots every 10)",
                     median_time(lambda m=m, opt=opt: steps(m, opt), few) / 10, None))
    adam_model = fastopt.nn.MLP(SIZES, dtype=args.dtype)
    adam = fastopt.Adam(adam_model.params, lr=1e-3)
    adam_model.forward_backward(x, y)
    rows.append(("Adam step alone", median_time(lambda: adam.step(adam_model.grads), args.repeats), None))
    rows.append(("Adam: forward_backward + step", median_time(lambda: steps(adam_model, adam, 1), args.repeats),
                 None))
    peak = max(peak_before, gemm_peak_gflops(args.threads))
    print(f"MLP {SIZES}, batch {args.batch}, {args.dtype}, {args.threads} threads; GEMM peak {peak:.1f} GFLOP/s "
          f"(before {peak_before:.1f})")
    print(f"{'part':<52}{'ms':>10}{'GFLOP/s':>10}{'% peak':>8}")
    for part, seconds, flops in rows:
        rate = "" if flops is None else f"{flops / seconds / 1e9:10.1f}{100 * flops / seconds / 1e9 / peak:7.0f}%"
        print(f"{part:<52}{1e3 * seconds:10.2f}{rate}")


if __name__ == "__main__":
    main()
