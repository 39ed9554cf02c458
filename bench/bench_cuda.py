"""fastopt's CUDA Adam against torch.optim.Adam(fused=True), and against the GPU's copy bandwidth.

Two layouts, both float32: one tensor of 1e8 elements, and 10,000 tensors of 10,000 elements.  fastopt
steps CuPy arrays (and, for the second layout, torch tensors too, through the same NumPy API); torch's
fused Adam steps torch tensors of the same sizes.  Each time is the median of several runs of STEPS steps
between CUDA events on the default stream (so host-side overhead between launches counts), after warm-up.

The floor: an Adam step reads p, g, m, v and writes p, m, v: 28 bytes per float32 element.  Its bandwidth
is compared with a device-to-device copy of a 2 GB buffer measured in the same run (bytes read plus
written).  Run: ``python bench/bench_cuda.py`` (needs a GPU, CuPy and torch with CUDA).
"""
from __future__ import annotations

import json
import os
import statistics
import sys

import fastopt
import numpy as np

ADAM_BYTES_PER_ELEMENT = 28  # float32: read p, g, m, v; write p, m, v
STEPS, REPEATS = 20, 5


def timed(step, sync_event, steps=STEPS, repeats=REPEATS, warmup=3) -> float:
    """Median seconds per call of step(), timed with CUDA events (``sync_event()`` makes one)."""
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        start, end = sync_event(), sync_event()
        start.record()
        for _ in range(steps):
            step()
        end.record()
        end.synchronize()
        samples.append(start_end_seconds(start, end) / steps)
    return statistics.median(samples)


def start_end_seconds(start, end) -> float:
    import torch
    if isinstance(start, torch.cuda.Event):
        return start.elapsed_time(end) / 1e3
    import cupy
    return cupy.cuda.get_elapsed_time(start, end) / 1e3


def copy_bandwidth(torch, nbytes=2 * 1024**3) -> float:
    """Bytes per second of a device-to-device copy, counting bytes read and written."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device="cuda").fill_(1.0)
    dst = torch.empty_like(src)
    seconds = timed(lambda: dst.copy_(src), lambda: torch.cuda.Event(enable_timing=True), steps=10)
    return 2 * nbytes / seconds


def fastopt_cupy(cp, shapes):
    rng = cp.random.default_rng(0)
    params = [rng.standard_normal(s, dtype=cp.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=cp.float32) for s in shapes]
    opt = fastopt.Adam(params, lr=1e-3)
    return (lambda: opt.step(grads)), (lambda: cp.cuda.Event()), (params, grads, opt)


def fastopt_torch(torch, shapes):
    params = [torch.nn.Parameter(torch.randn(s, device="cuda")) for s in shapes]
    for p in params:
        p.grad = torch.randn_like(p)
    grads = [p.grad for p in params]
    opt = fastopt.Adam(params, lr=1e-3)
    return (lambda: opt.step(grads)), (lambda: torch.cuda.Event(enable_timing=True)), (params, grads, opt)


def torch_fused(torch, shapes):
    params = [torch.nn.Parameter(torch.randn(s, device="cuda")) for s in shapes]
    for p in params:
        p.grad = torch.randn_like(p)
    opt = torch.optim.Adam(params, lr=1e-3, fused=True)
    return opt.step, (lambda: torch.cuda.Event(enable_timing=True)), (params, opt)


def main() -> int:
    try:
        import cupy as cp
        import torch
        from fastopt import _cuda
    except ImportError as e:
        print(f"bench_cuda: skipped ({e}); needs CuPy, torch and fastopt built with FASTOPT_CUDA=ON")
        return 0
    if not torch.cuda.is_available() or _cuda.device_count() == 0:
        print("bench_cuda: skipped, no CUDA device")
        return 0
    name = torch.cuda.get_device_name(0)
    print(f"device: {name}; CUDA runtime {_cuda.runtime_version()}; fastopt {fastopt.build_info()['cuda_architectures']}")
    copy_bw = copy_bandwidth(torch)
    torch.cuda.empty_cache()
    print(f"device-to-device copy: {copy_bw / 1e12:.3f} TB/s (read + written)")
    layouts = {"1 x 1e8": [(100_000_000,)], "10,000 x 10,000": [(10_000,)] * 10_000}
    rows = []
    for layout, shapes in layouts.items():
        elements = sum(int(np.prod(s)) for s in shapes)
        times = {}
        impls = [("fastopt (CuPy arrays)", fastopt_cupy, cp), ("torch fused", torch_fused, torch)]
        if len(shapes) > 1:
            impls.insert(1, ("fastopt (torch tensors)", fastopt_torch, torch))
        for impl, make, lib in impls:
            step, event, keep = make(lib, shapes)
            times[impl] = timed(step, event, steps=STEPS if len(shapes) == 1 else 5)
            del step, keep
            cp.get_default_memory_pool().free_all_blocks()
            torch.cuda.empty_cache()
        for impl, seconds in times.items():
            bw = elements * ADAM_BYTES_PER_ELEMENT / seconds
            rows.append(dict(layout=layout, impl=impl, ms=seconds * 1e3, tb_s=bw / 1e12, of_copy=bw / copy_bw,
                             vs_torch_fused=times["torch fused"] / seconds))
    print("\n| layout | implementation | ms/step | TB/s | of copy bandwidth | speed vs torch fused |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['layout']} | {r['impl']} | {r['ms']:.3f} | {r['tb_s']:.2f} | {r['of_copy']:.0%} | "
              f"{r['vs_torch_fused']:.2f}x |")
    big = next(r for r in rows if r["layout"] == "1 x 1e8" and r["impl"].startswith("fastopt"))
    many = next(r for r in rows if r["layout"] != "1 x 1e8" and r["impl"] == "fastopt (CuPy arrays)")
    print(f"\ntargets: 1e8 at >= 85% of copy bandwidth: {big['of_copy']:.0%} "
          f"({'met' if big['of_copy'] >= 0.85 else 'NOT met'}); no slower than torch fused: "
          f"{big['vs_torch_fused']:.2f}x at 1e8, {many['vs_torch_fused']:.2f}x at 10,000 tensors "
          f"({'met' if min(big['vs_torch_fused'], many['vs_torch_fused']) >= 1.0 else 'NOT met'})")
    out = os.environ.get("FASTOPT_BENCH_JSON")
    if out:
        with open(out, "w") as f:
            json.dump(dict(device=name, copy_tb_s=copy_bw / 1e12, rows=rows), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
