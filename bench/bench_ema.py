"""fastopt.EMA.update against torch's EMA update (``torch._foreach_lerp_``, what
``torch.optim.swa_utils.AveragedModel`` with ``get_ema_multi_avg_fn`` runs) and a NumPy loop, on one tensor of
1e7 float32 and on 10,000 x 1,000, with the distance to the memory bandwidth.

    python bench/bench_ema.py [--repeats R] [--threads N]

An update reads the weight and the average and writes the average: 12 bytes per float32 element; the floor is
that over the triad's bandwidth measured in the same run (bench/triad.py).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import fastopt  # noqa: E402
import triad  # noqa: E402
from workloads import set_threads, time_steps  # noqa: E402

LAYOUTS = {"1e7": [10_000_000], "10000x1000": [1_000] * 10_000}
DECAY = 0.999


def steppers(sizes: list[int]) -> dict:
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(n, dtype=np.float32) for n in sizes]
    ema = fastopt.EMA(params, decay=DECAY)
    out = {"fastopt.EMA": ema.update}
    shadow = [p.copy() for p in params]

    def numpy_loop():
        for s, p in zip(shadow, params):
            s += (1 - DECAY) * (p - s)
    out["NumPy loop"] = numpy_loop
    try:
        import torch
    except ImportError:
        return out
    live, average = [torch.from_numpy(p) for p in params], [torch.from_numpy(p.copy()) for p in params]
    out["torch _foreach_lerp_"] = lambda: torch._foreach_lerp_(average, live, 1 - DECAY)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    threads = args.threads or fastopt.get_num_threads()
    set_threads(threads)
    bandwidth = triad.measure(threads)
    print(f"{threads} threads; memory ceiling {bandwidth.ceiling_gbs:.1f} GB/s ({bandwidth.method}) (12 B per float32 element moved by an update)\n")
    print("| layout | implementation | ms per update | GB/s | % of ceiling | fastopt faster by |")
    print("|---|---|---:|---:|---:|---:|")
    for label, sizes in LAYOUTS.items():
        times = time_steps(steppers(sizes), args.repeats)
        nbytes = 12 * sum(sizes)
        for impl, seconds in times.items():
            rate = nbytes / seconds / 1e9
            print(f"| {label} | {impl} | {1e3 * seconds:.3f} | {rate:.1f} | {100 * rate / bandwidth.ceiling_gbs:.0f}% | "
                  f"{seconds / times['fastopt.EMA']:.2f}x |")


if __name__ == "__main__":
    main()
