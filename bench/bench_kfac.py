"""One K-FAC step of the 784-512-256-10 MLP at batch 128, split into its parts, against Adam's step.

    python bench/bench_kfac.py [--batch 128] [--repeats 20] [--threads N] [--dtype float32]

Timed (median of --repeats, after a warm-up), each part on its own:

- forward_backward without a capture, with the empirical capture (copies of a and g) and with the true
  Fisher's (labels drawn from the softmax and a second backward pass): the capture's cost;
- factor accumulation: ``_core.kfac.update_factors``, one SYRK per factor (n^2 B flops for an n x n factor);
- eigen-decomposition of every factor (syevd; counted as 14/3 n^3 flops: the tridiagonal reduction
  4/3 n^3, divide and conquer at most 4/3 n^3 (less with deflation), the back-transformation 2 n^3) and,
  for the inverse method, the damped inverses (potrf + potri, n^3);
- preconditioning: eigen 4 GEMMs per layer (4 out (in + 1)(out + in + 1) flops), inverse 2;
- EKFAC's scale update (3 GEMMs per layer);
- a whole K-FAC step with inv_update_steps=10 (the decomposition amortised) and fastopt.Adam's step.

GFLOP/s are set against the GEMM peak of bench_mlp.gemm_peak_gflops (the best float32 2048^3 matmul of
NumPy and PyTorch), measured before and after.  The network's own forward/backward is the same for every
optimizer; the K-FAC overhead is everything else.
"""
import argparse
import os
import sys
import time

import numpy as np

import fastopt
from fastopt import _core

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_mlp import gemm_peak_gflops  # noqa: E402

SIZES = [784, 512, 256, 10]


def median_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


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
    model = fastopt.nn.MLP(SIZES, dtype=args.dtype)
    net, b = model._net, args.batch
    layers = [(n_in + 1, n_out) for n_in, n_out, _, _ in net.layers]
    peak_before = gemm_peak_gflops(args.threads)

    opt = fastopt.KFAC(model, lr=0.01)
    ekfac = fastopt.EKFAC(fastopt.nn.MLP(SIZES, dtype=args.dtype), lr=0.01)
    inverse = fastopt.KFAC(fastopt.nn.MLP(SIZES, dtype=args.dtype), lr=0.01, compute_method="inverse")
    true_capture = fastopt.curvature.LayerCapture(model, fisher="true")
    model.forward_backward(x, y, capture=opt.next_capture())
    opt.step(model.grads)
    for other in (ekfac, inverse):
        other.model.forward_backward(x, y, capture=other.next_capture())
        other.step(other.model.grads)
    state, grad, out = opt.state, model.flat_grads, np.empty_like(model.flat_grads)
    factors = [f for pair in zip(state["A"], state["G"]) for f in pair]
    q = [np.empty_like(f) for f in factors]
    d = [np.empty(len(f), f.dtype) for f in factors]
    inv = [np.empty_like(f) for f in factors]
    zeros = [0.0] * len(layers)

    rows = []  # (part, seconds, flops or None)
    rows.append(("forward_backward, no capture", median_time(lambda: model.forward_backward(x, y), args.repeats),
                 None))
    rows.append(("forward_backward + empirical capture",
                 median_time(lambda: model.forward_backward(x, y, capture=opt.capture), args.repeats), None))
    rows.append(("forward_backward + true-Fisher capture",
                 median_time(lambda: model.forward_backward(x, y, capture=true_capture), args.repeats), None))
    rows.append(("factor accumulation (SYRK)", median_time(
        lambda: _core.kfac.update_factors(net, opt.capture.native, state["A"], state["G"], 0.95), args.repeats),
        sum(b * (a * a + g * g) for a, g in layers)))
    rows.append(("eigen-decompositions (syevd)", median_time(lambda: _core.kfac.eigen(factors, q, d),
                                                             max(3, args.repeats // 4)),
                 sum(14 / 3 * (a ** 3 + g ** 3) for a, g in layers)))
    rows.append(("damped inverses (potrf + potri)", median_time(
        lambda: _core.kfac.damped_inverse(factors, [0.03] * len(factors), inv), args.repeats),
        sum(a ** 3 + g ** 3 for a, g in layers)))
    rows.append(("preconditioning, eigen (4 GEMMs/layer)", median_time(
        lambda: _core.kfac.precondition(net, grad, out, True, state["QA"], state["QG"], state["dA"], state["dG"],
                                        None, 1e-3, zeros, zeros), args.repeats),
        sum(4 * g * a * (g + a) for a, g in layers)))
    rows.append(("preconditioning, inverse (2 GEMMs/layer)", median_time(
        lambda: _core.kfac.precondition(net, grad, out, False, inv[0::2], inv[1::2], None, None, None, 0.0, zeros,
                                        zeros), args.repeats),
        sum(2 * g * a * (g + a) for a, g in layers)))
    ek = ekfac.state
    rows.append(("EKFAC scale update (3 GEMMs/layer)", median_time(
        lambda: _core.kfac.update_eigen_scale(ekfac.model._net, opt.capture.native, ek["QA"], ek["QG"], ek["scale"],
                                              0.95), args.repeats),
        sum(2 * b * (a * a + g * g + a * g) for a, g in layers)))

    def kfac_steps(optimizer, steps=10):
        for _ in range(steps):
            optimizer.model.forward_backward(x, y, capture=optimizer.next_capture())
            optimizer.step(optimizer.model.grads)

    for label, o in (("K-FAC eigen", opt), ("K-FAC inverse", inverse), ("EKFAC", ekfac)):
        o.step_count = 0  # the next 10 steps include one decomposition
        per = median_time(lambda o=o: kfac_steps(o), max(3, args.repeats // 4)) / 10
        rows.append((f"{label}: forward_backward + step (inv every 10)", per, None))
    adam_model = fastopt.nn.MLP(SIZES, dtype=args.dtype)
    adam = fastopt.Adam(adam_model.params, lr=1e-3)
    adam_model.forward_backward(x, y)
    rows.append(("Adam step alone", median_time(lambda: adam.step(adam_model.grads), args.repeats), None))

    def adam_step():
        adam_model.forward_backward(x, y)
        adam.step(adam_model.grads)

    rows.append(("Adam: forward_backward + step", median_time(adam_step, args.repeats), None))
    peak = max(peak_before, gemm_peak_gflops(args.threads))
    print(f"MLP {SIZES}, batch {b}, {args.dtype}, {args.threads} threads; GEMM peak {peak:.1f} GFLOP/s "
          f"(before {peak_before:.1f})")
    print(f"{'part':<52}{'ms':>10}{'GFLOP/s':>10}{'% peak':>8}")
    for part, seconds, flops in rows:
        rate = "" if flops is None else f"{flops / seconds / 1e9:10.1f}{100 * flops / seconds / 1e9 / peak:7.0f}%"
        print(f"{part:<52}{1e3 * seconds:10.2f}{rate}")


if __name__ == "__main__":
    main()
