"""Muon and Adafactor steps against torch.optim's, printing ms per step and ratios.

    python bench/bench_matrix_optim.py [--repeats 20] [--threads 2] [--quick]

* Muon on the MNIST MLP's params (784-512-256-10: weights (512, 784), (256, 512), (10, 256) and their biases):
  fastopt's one call (Newton-Schulz through BLAS for the matrices, AdamW for the biases) against torch 2.13's
  ``torch.optim.Muon`` on the weights plus ``torch.optim.AdamW`` on the biases (the split torch's documentation
  prescribes); also fastopt on one thread, and the iteration's parallel strategy.
* Adafactor on 10,000 vectors of 1,000 (report.py's layout), one vector of 1e7 and one 10,000 x 1,000 matrix
  (factored), against torch's single-tensor (its CPU default) and foreach implementations.

Every pair is first checked to compute the same update (Muon: torch's bfloat16 iteration, so to 5% of the
distance moved).  Timings on a shared machine are noisy: rounds alternate the implementations, medians shown.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import fastopt

MLP_SHAPES = [(512, 784), (256, 512), (10, 256), (512,), (256,), (10,)]


def median_ms(steppers: dict, repeats: int) -> dict:
    for step in steppers.values():
        step()
        step()
    samples = {name: [] for name in steppers}
    for _ in range(repeats):
        for name, step in steppers.items():
            start = time.perf_counter()
            step()
            samples[name].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(s) for name, s in samples.items()}


def make(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal(s, dtype=np.float32) * 0.05 for s in shapes],
            [rng.standard_normal(s, dtype=np.float32) for s in shapes])


def torch_pair(params, grads, matrix_cls, vector_cls, **kwargs):
    tensors = [torch.from_numpy(p).requires_grad_() for p in params]
    for t, g in zip(tensors, grads):
        t.grad = torch.from_numpy(g.copy())
    if vector_cls is None:  # one optimizer over everything
        opts = [matrix_cls(tensors, **kwargs)]
    else:
        opts = [matrix_cls([t for t in tensors if t.ndim == 2], **kwargs), vector_cls([t for t in tensors if t.ndim != 2])]
    return lambda: [o.step() for o in opts]


def muon_rows(repeats: int, threads: int) -> list:
    params, grads = make(MLP_SHAPES)
    ours = [p.copy() for p in params]
    opt = fastopt.Muon(ours, lr=0.02, adamw_lr=1e-3, adamw_eps=1e-8, adamw_betas=(0.9, 0.999), weight_decay=0.0)
    theirs = [p.copy() for p in params]
    step_torch = torch_pair(theirs, grads, torch.optim.Muon,
                            lambda v: torch.optim.AdamW(v, lr=1e-3, weight_decay=0.0, foreach=False),
                            lr=0.02, weight_decay=0.0)
    for _ in range(3):
        opt.step(grads)
        step_torch()
    for a, b, p in zip(ours, theirs, params):
        assert np.linalg.norm(a - b) <= 0.05 * np.linalg.norm(a - p), "fastopt and torch Muon disagree"
    rows = []
    for n in sorted({1, threads}):
        fastopt.set_num_threads(n)
        torch.set_num_threads(n)
        ms = median_ms({"fastopt": lambda: opt.step(grads), "torch": step_torch}, repeats)
        rows.append(("Muon, MLP 784-512-256-10 (+ biases)", n, ms["fastopt"], ms["torch"], None))
    return rows


ADAFACTOR_LAYOUTS = {"10000 x 1000 (vectors)": [(1000,)] * 10_000, "1e7 (one vector)": [(10_000_000,)],
                     "10000 x 1000 (one matrix)": [(10_000, 1000)]}


def adafactor_rows(repeats: int, threads: int, quick: bool) -> list:
    rows = []
    fastopt.set_num_threads(threads)
    torch.set_num_threads(threads)
    for layout, shapes in ADAFACTOR_LAYOUTS.items():
        if quick:
            shapes = shapes[:100] if len(shapes) > 1 else [tuple(s // 10 if i == 0 else s for i, s in enumerate(shapes[0]))]
        params, grads = make(shapes)
        ours = [p.copy() for p in params]
        opt = fastopt.Adafactor(ours)
        steppers = {"fastopt": lambda opt=opt, grads=grads: opt.step(grads)}
        copies = {}
        for name, flags in (("single", {"foreach": False}), ("foreach", {"foreach": True})):
            copies[name] = [p.copy() for p in params]
            steppers[name] = torch_pair(copies[name], grads, torch.optim.Adafactor, None, **flags)
        for _ in range(2):
            for step in steppers.values():
                step()
        for a, b in zip(ours, copies["single"]):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        ms = median_ms(steppers, repeats)
        rows.append((f"Adafactor, {layout}", threads, ms["fastopt"], ms["single"], ms["foreach"]))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=fastopt.get_num_threads())
    parser.add_argument("--quick", action="store_true", help="few repeats, smaller Adafactor layouts (a smoke test)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    rows = muon_rows(repeats, args.threads) + adafactor_rows(repeats, args.threads, args.quick)
    print(f"fastopt {fastopt.__version__}, torch {torch.__version__}, {args.repeats if not args.quick else 3} rounds "
          "(median ms per step; a shared, loaded machine: ratios are indicative)\n")
    print("| step | threads | fastopt ms | torch ms (single-tensor) | torch ms (foreach) | speed-up vs single |")
    print("|---|---:|---:|---:|---:|---:|")
    for what, threads, ours, single, foreach in rows:
        print(f"| {what} | {threads} | {ours:.2f} | {single:.2f} | {'-' if foreach is None else f'{foreach:.2f}'} | "
              f"{single / ours:.1f}x |")


if __name__ == "__main__":
    main()
