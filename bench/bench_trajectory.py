"""Trajectory speed: every registry optimizer x 10,000 steps on Rosenbrock, native loop against per-step Python loops.

The native loop (fastopt.landscape.trajectory) runs every step in C++ with the optimizer's own rule.
The baselines step from Python with the same gradients (fn.grad, C++): fastopt's normal optimizer API
(opt.step per step, NumPy arrays) and torch.optim where it has the class (float64 tensors; Lion, Yogi and
Ranger have no torch.optim counterpart).  Baselines run fewer steps (--baseline-steps) and are compared per step.

    python bench/bench_trajectory.py [--steps 10000] [--baseline-steps 1000]
"""
import argparse
import time

import numpy as np

import fastopt
from fastopt import landscape

OPTIMIZERS = [n for n, e in fastopt.optim.REGISTRY.items() if not e.takes_model]  # K-FAC and kin train a network


def torch_optimizer(torch, name: str, params, lr: float):
    """The torch.optim counterpart of a fastopt registry name: the class of the same name with the entry's
    preset (None if torch has none)."""
    entry = fastopt.optim.entry(name)
    cls = getattr(torch.optim, entry.cls.__name__, None)
    return None if cls is None else cls(params, lr=lr, **entry.preset)


def fastopt_python_loop(fn, name: str, lr: float, steps: int) -> float:
    x = fn.start.copy()
    opt = fastopt.optim.create(name, [x], lr=lr)
    start = time.perf_counter()
    for _ in range(steps):
        opt.step([fn.grad(x)])
    return time.perf_counter() - start


def torch_loop(torch, fn, name: str, lr: float, steps: int) -> float | None:
    p = torch.tensor(fn.start, dtype=torch.float64)
    opt = torch_optimizer(torch, name, [p], lr)
    if opt is None:
        return None
    start = time.perf_counter()
    for _ in range(steps):
        p.grad = torch.from_numpy(fn.grad(p.numpy()))
        opt.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--baseline-steps", type=int, default=1000)
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None

    fn = landscape.get("rosenbrock")
    native = {}
    for name in OPTIMIZERS:  # best of 3 per optimizer
        times = []
        for _ in range(3):
            start = time.perf_counter()
            t = landscape.trajectory(fn, name, steps=args.steps)
            times.append(time.perf_counter() - start)
        assert t.native
        native[name] = (min(times), t.lr)

    print(f"rosenbrock, per step in microseconds (native: {args.steps} steps; baselines: {args.baseline_steps} steps)")
    print(f"{'optimizer':<10} {'lr':>8} {'native':>8} {'fastopt loop':>13} {'torch loop':>11} "
          f"{'loop/native':>12} {'torch/native':>13}")
    for name in OPTIMIZERS:
        seconds, lr = native[name]
        per_native = seconds / args.steps * 1e6
        per_loop = fastopt_python_loop(fn, name, lr, args.baseline_steps) / args.baseline_steps * 1e6
        torch_s = torch_loop(torch, fn, name, lr, args.baseline_steps) if torch is not None else None
        per_torch = None if torch_s is None else torch_s / args.baseline_steps * 1e6
        torch_cols = ("n/a", "n/a") if per_torch is None else (f"{per_torch:.2f}", f"{per_torch / per_native:.0f}x")
        print(f"{name:<10} {lr:>8g} {per_native:>8.3f} {per_loop:>13.2f} {torch_cols[0]:>11} "
              f"{per_loop / per_native:>11.0f}x {torch_cols[1]:>13}")
    total = sum(s for s, _ in native.values())
    print(f"\n{len(OPTIMIZERS)} optimizers x {args.steps} steps natively: {total * 1e3:.1f} ms in all "
          f"({np.mean([s for s, _ in native.values()]) * 1e3:.2f} ms per path)")


if __name__ == "__main__":
    main()
