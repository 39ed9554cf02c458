"""Adam at 1e7 parameters in each precision fastopt offers, against torch's fused Adam in float32 and in
bfloat16, with the bytes each moves and its distance to the memory wall of those bytes.

    python bench/bench_low_precision.py [--size N] [--repeats R] [--threads N]

Bytes per parameter are what one step reads and writes (params, master copy, grad, state; 8-bit state also
its absmax, 2 x 4 B per 256 values).  The wall is triad.c's ``same_traffic`` over float32 Adam's arrays
(28 B per parameter), measured in the same rounds, scaled to each row's bytes: "% of wall" is the time a
loop moving that row's bytes at that bandwidth would take, over the row's time.  On a shared machine the
numbers move with its load; compare rows of one run only.
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

try:
    import ml_dtypes
    BF16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:
    sys.exit("bench_low_precision needs ml_dtypes: pip install 'fastopt[lowprec]'")

# label -> (param dtype, grad dtype, Adam keywords, bytes moved per parameter by one step)
QUANTISED = 2 * (1 + 4 / 256) * 2  # two 8-bit states, read and written, with their absmax
CASES = {
    "fp32 params, fp32 state": (np.float32, np.float32, {}, 28),
    "fp32 params, bf16 state": (np.float32, np.float32, {"state_dtype": "bfloat16"}, 8 + 4 + 8),
    "fp32 params, 8-bit state": (np.float32, np.float32, {"state_dtype": "int8"}, 8 + 4 + QUANTISED),
    "bf16 params + fp32 master, bf16 state": (BF16, BF16, {"state_dtype": "bfloat16", "master_weights": True},
                                              2 + 8 + 2 + 8),
    "bf16 params, bf16 state": (BF16, BF16, {"state_dtype": "bfloat16"}, 4 + 2 + 8),
    "bf16 params, bf16 state, stochastic rounding": (BF16, BF16, {"state_dtype": "bfloat16",
                                                                  "stochastic_rounding": True}, 4 + 2 + 8),
}
TORCH_CASES = {"torch fused Adam fp32": ("float32", 28), "torch fused Adam bf16 (params and state)": ("bfloat16", 14)}


def steppers(n: int) -> tuple[dict, dict]:
    """(label -> one step, label -> bytes per parameter)."""
    rng = np.random.default_rng(0)
    start, grad = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    out, nbytes = {}, {}
    for label, (pdtype, gdtype, kwargs, b) in CASES.items():
        opt = fastopt.Adam([start.astype(pdtype)], lr=1e-3, **kwargs)
        g = [grad.astype(gdtype)]
        out[label], nbytes[label] = (lambda opt=opt, g=g: opt.step(g)), b
    try:
        import torch
    except ImportError:
        return out, nbytes
    for label, (dtype, b) in TORCH_CASES.items():
        p = torch.from_numpy(start).to(getattr(torch, dtype)).requires_grad_()
        p.grad = torch.from_numpy(grad).to(p.dtype)
        opt = torch.optim.Adam([p], lr=1e-3, fused=True)
        out[label], nbytes[label] = opt.step, b
    return out, nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    threads = args.threads or fastopt.get_num_threads()
    set_threads(threads)
    steps, nbytes = steppers(args.size)
    wall = triad.same_traffic_stepper(np.ones(args.size, np.float32), 2, threads)
    if wall is not None:
        steps["same_traffic (28 B)"], nbytes["same_traffic (28 B)"] = wall, 28
    times = time_steps(steps, args.repeats)
    info = fastopt.build_info()
    print(f"Adam, {args.size:.0e} parameters, {threads} threads, bfloat16 conversion: {info['bfloat16_conversion']}, "
          f"{info['simd']}\n")
    print("| configuration | bytes/param moved | ms/step | vs fastopt fp32 | % of wall for its bytes |")
    print("|---|---:|---:|---:|---:|")
    base = times["fp32 params, fp32 state"]
    rate = 28 * args.size / times["same_traffic (28 B)"] if wall is not None else float("nan")
    for label, seconds in times.items():
        floor = nbytes[label] * args.size / rate
        print(f"| {label} | {nbytes[label]:.1f} | {1e3 * seconds:.2f} | {base / seconds:.2f}x | "
              f"{100 * floor / seconds:.0f}% |")


if __name__ == "__main__":
    main()
