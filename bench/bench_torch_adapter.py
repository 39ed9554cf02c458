"""fastopt.torch.Adam against torch.optim.Adam (fused, foreach, and torch's CPU default), DeepSpeed's CPU Adam, and
the adapter's own cost per step.

    python bench/bench_torch_adapter.py [--repeats R] [--threads N] [--layouts 1e7,100x1e5,10000x1000]
                                        [--deepspeed]

Every implementation steps its own copy of the params (float32) with the same gradients.  "wrapper overhead" is
the time of a fastopt.torch step minus a NumPy-API fastopt.Adam step on the very same arrays (zero-copy
views of the tensors): what going from torch tensors to the kernel costs, with the C++ reader of the tensors'
addresses (fastopt.torch.native, built on first use) and with the Python path it replaces.  ``--deepspeed``
adds ``deepspeed.ops.adam.DeepSpeedCPUAdam`` (Adam mode, fp32 state) when DeepSpeed is installed
(``pip install 'fastopt[bench]'``; its CPU op compiles on first use; without it the column is left out with a
note).  The overhead is also given against the adapter's own kernel call on its own state (the state the adapter
made), which leaves out where the state lives.  Times are medians of rounds that visit every implementation
in turn; the overhead is timed apart, in rounds of the fastopt steps only.  The load average is printed: on a
shared machine compare within a run.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import fastopt  # noqa: E402
import fastopt.torch  # noqa: E402
from fastopt.torch import native  # noqa: E402
from workloads import set_threads, time_steps  # noqa: E402

LAYOUTS = {"1e7": [10_000_000], "100x1e5": [100_000] * 100, "10000x1000": [1_000] * 10_000}
TORCH_FLAGS = {"torch fused": dict(fused=True), "torch foreach": dict(foreach=True), "torch default": {}}


def deepspeed_adam():
    """DeepSpeed's CPU Adam class, or None when DeepSpeed is not installed (the bench's only hook for it)."""
    try:
        from deepspeed.ops.adam import DeepSpeedCPUAdam
    except ImportError:
        return None
    return DeepSpeedCPUAdam


def kernel_call(adapter):
    """The native call an adapter's step makes, on its own arrays and state, without the reading of the tensors
    around it: the adapter's step minus this is what going from torch tensors to the kernel costs, apart from
    where the state lives (the adapter's buffer per slot, the NumPy API's array per param)."""
    adapter.step()  # makes the plan
    (plan,) = adapter._plans.values()
    hyper, spec = adapter._hyper(adapter.param_groups[0]), adapter._rules.spec
    addresses = [p.grad.data_ptr() for p in plan.params]
    (_, arrays, grads, slots, names, carry, step), = plan.calls(addresses)
    return lambda: spec.step_addresses(arrays, grads, slots, names, hyper, carry, step)


def steppers(sizes: list[int], with_deepspeed: bool) -> dict:
    """name -> a zero-argument step, each over its own params (torch tensors) with the same gradients."""
    rng = np.random.default_rng(0)
    start = [rng.standard_normal(n, dtype=np.float32) for n in sizes]
    grads = [rng.standard_normal(n, dtype=np.float32) for n in sizes]

    def tensors():
        ts = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in start]
        for t, g in zip(ts, grads):
            t.grad = torch.from_numpy(g.copy())
        return ts

    out = {}
    shared = tensors()
    adapter = fastopt.torch.Adam(shared, lr=1e-3)
    out["fastopt.torch"] = adapter.step
    python_path = fastopt.torch.Adam(shared, lr=1e-3)  # the same tensors, its own state

    def python_step():
        native.use(False)
        try:
            python_path.step()
        finally:
            native.use(True)

    out["fastopt.torch, Python reader"] = python_step
    out["fastopt.torch's kernel call alone"] = kernel_call(adapter)
    numpy_opt = fastopt.Adam([t.detach().numpy() for t in shared], lr=1e-3)  # the same arrays, its own state
    numpy_grads = [t.grad.numpy() for t in shared]
    out["fastopt (NumPy API, same arrays)"] = lambda: numpy_opt.step(numpy_grads)
    for name, flags in TORCH_FLAGS.items():
        out[name] = torch.optim.Adam(tensors(), lr=1e-3, **flags).step
    cls = deepspeed_adam() if with_deepspeed else None
    if cls is not None:
        out["DeepSpeedCPUAdam"] = cls(tensors(), lr=1e-3, adamw_mode=False).step
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--deepspeed", action="store_true", help="add DeepSpeedCPUAdam (needs DeepSpeed installed)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    print(f"threads {args.threads}, torch {torch.__version__}, fastopt {fastopt.__version__}, float32 Adam, "
          f"median of {args.repeats} rounds; fastopt.torch reads the tensors with: {native.status()}")
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    if args.deepspeed and deepspeed_adam() is None:
        print("DeepSpeed is not installed: its column is left out (pip install deepspeed to add it)")
    for layout in args.layouts.split(","):
        seconds = time_steps(steppers(LAYOUTS[layout], args.deepspeed), args.repeats)
        ours = seconds["fastopt.torch"]
        print(f"\n{layout}:")
        for name, s in seconds.items():
            ratio = "" if name == "fastopt.torch" else f"  {s / ours:6.2f}x fastopt.torch's time"
            print(f"  {name:34s} {s * 1e3:9.2f} ms{ratio}")
        # The overhead is a small difference of two times: measured apart from torch's implementations (which take
        # seconds per step on many tensors, while the machine's load drifts), in rounds of the fastopt steps only.
        # Against the NumPy API it includes where the state lives; against the adapter's own kernel call it does not.
        trio = {k: v for k, v in steppers(LAYOUTS[layout], False).items() if k.startswith("fastopt")}
        trio_seconds = time_steps(trio, 3 * args.repeats)
        for base in ("fastopt (NumPy API, same arrays)", "fastopt.torch's kernel call alone"):
            for name in ("fastopt.torch", "fastopt.torch, Python reader"):
                ours, reference = trio_seconds[name], trio_seconds[base]
                overhead = ours - reference
                print(f"  {name:28s} - {base:34s} {overhead * 1e3:6.2f} ms per step ({overhead / ours:4.0%} of "
                      f"its step; {ours * 1e3:.2f} vs {reference * 1e3:.2f} ms, {3 * args.repeats} rounds)")
        print("  load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))

if __name__ == "__main__":
    main()
