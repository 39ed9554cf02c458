"""L-BFGS on the 1,000,000-dimensional extended Rosenbrock function: fastopt against scipy and torch,
each given the same NumPy value-and-gradient callable, and fastopt fully native.

The problem (issue 10): n/2 independent Rosenbrock pairs, from (-1.2, 1, -1.2, 1, ...), history
m = 10, stop at max |g_i| <= 1e-5.  The runs, in one process and in turn, --repeats times:

  fastopt   fastopt.minimize(value_grad, x0, jac=True, method="lbfgs", history_size=10, gtol=1e-5)
  scipy     scipy.optimize.minimize(value_grad, x0, jac=True, method="L-BFGS-B", maxcor=10, gtol=1e-5)
  torch     torch.optim.LBFGS([p], line_search_fn="strong_wolfe", history_size=10, tolerance_grad=1e-5,
            max_iter=10000), one step(closure); p float64, the closure calls value_grad on p's NumPy view
  native    fastopt.minimize(landscape.get("extended_rosenbrock", dim=n), x0, method="lbfgs"): no Python
  native-cb fastopt.minimize with the native function wrapped as a Python callable (f.value, f.grad)

value_grad is vectorised NumPy and timed from inside (a wrapper adds up the seconds spent in it);
"overhead" is the wall time outside it: the method's own work (two-loop recursion, line search, copies
of x and g between the method and the callable).  Overhead per iteration is compared with the memory
the recursion must stream: each direction reads the 2m history vectors of n doubles twice (once per
loop), 2 x 160 MB for n = 1e6, over the bandwidth of bench/triad.py measured in the same run.

Targets: fastopt's overhead <= 0.5x scipy's and <= torch's; fastopt's evaluations <= 1.2x scipy's; the
native run's total time <= 0.5x scipy's.

    python bench/bench_lbfgs_large.py                  # n = 1e6, 3 repeats, markdown tables
    python bench/bench_lbfgs_large.py --dim 100000 --repeats 1
"""
from __future__ import annotations

import argparse
import datetime
import os

# NumPy's OpenBLAS would otherwise thread the two dot products inside the callable and leave its threads
# spinning on the cores the methods run on; the callable is the same for every method, so one thread.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import platform
import statistics
import sys
import time

import numpy as np
import scipy
import scipy.optimize

import fastopt
from fastopt import landscape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import triad  # noqa: E402
from report import cpu_model  # noqa: E402

HISTORY, GTOL = 10, 1e-5


def extended_rosenbrock(x: np.ndarray) -> tuple[float, np.ndarray]:
    """f = sum_i 100 (x_{2i+1} - x_{2i}^2)^2 + (1 - x_{2i})^2 and its gradient, vectorised NumPy."""
    u, v = x[0::2], x[1::2]
    valley, off = v - u * u, 1.0 - u
    g = np.empty_like(x)
    g[0::2] = -400.0 * u * valley - 2.0 * off
    g[1::2] = 200.0 * valley
    return float(100.0 * (valley @ valley) + off @ off), g


class Timed:
    """A callable that adds up the wall time spent inside ``fn`` and counts the calls."""

    def __init__(self, fn):
        self.fn, self.seconds, self.calls = fn, 0.0, 0

    def __call__(self, x):
        start = time.perf_counter()
        out = self.fn(x)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return out


def run_fastopt(x0, value_grad):
    timed = Timed(value_grad)
    start = time.perf_counter()
    res = fastopt.minimize(timed, x0, jac=True, method="lbfgs", options={"history_size": HISTORY, "gtol": GTOL})
    return time.perf_counter() - start, timed.seconds, res.nit, timed.calls, np.abs(res.jac).max(), res.message


def run_scipy(x0, value_grad):
    timed = Timed(value_grad)
    start = time.perf_counter()
    res = scipy.optimize.minimize(timed, x0, jac=True, method="L-BFGS-B", options={"maxcor": HISTORY, "gtol": GTOL})
    return time.perf_counter() - start, timed.seconds, res.nit, timed.calls, np.abs(res.jac).max(), res.message


def run_torch(torch, x0, value_grad):
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = torch.optim.LBFGS([p], lr=1, max_iter=10000, max_eval=12500, tolerance_grad=GTOL, history_size=HISTORY,
                            line_search_fn="strong_wolfe")
    timed = Timed(value_grad)

    def closure():
        f, g = timed(p.detach().numpy())  # a view of p's storage: no copy on the way in
        p.grad = torch.from_numpy(g)
        return torch.tensor(f, dtype=torch.float64)

    start = time.perf_counter()
    opt.step(closure)
    total = time.perf_counter() - start
    state = opt.state[p]
    _, g = extended_rosenbrock(p.detach().numpy())
    return total, timed.seconds, state["n_iter"], timed.calls, np.abs(g).max(), "one step(closure)"


def run_native(fn, x0):
    start = time.perf_counter()
    res = fastopt.minimize(fn, x0, method="lbfgs", options={"history_size": HISTORY, "gtol": GTOL})
    return time.perf_counter() - start, float("nan"), res.nit, res.nfev, np.abs(res.jac).max(), res.message


def run_native_callable(fn, x0):
    return run_fastopt(x0, lambda x: (fn.value(x), fn.grad(x)))


def median_and_spread(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=10**6, help="n, even")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; each runs every implementation once")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="fastopt's and torch's threads")
    args = parser.parse_args(argv)
    fastopt.set_num_threads(args.threads)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    n = args.dim
    fn = landscape.get("extended_rosenbrock", dim=n)
    x0 = fn.start.copy()
    np.testing.assert_allclose(extended_rosenbrock(x0)[1], fn.grad(x0), rtol=1e-14)  # the two agree

    bandwidth_before = triad.measure(args.threads)
    runs = {"fastopt": lambda: run_fastopt(x0, extended_rosenbrock),
            "scipy": lambda: run_scipy(x0, extended_rosenbrock),
            "torch": (lambda: run_torch(torch, x0, extended_rosenbrock)) if torch is not None else None,
            "native": lambda: run_native(fn, x0),
            "native-cb": lambda: run_native_callable(fn, x0)}
    results: dict[str, list[tuple]] = {name: [] for name, run in runs.items() if run is not None}
    for _ in range(args.repeats):
        for name in results:
            results[name].append(runs[name]())
        np.testing.assert_array_equal(x0, fn.start)  # nobody modified the start
    bandwidth_after = triad.measure(args.threads)
    bandwidth = max(bandwidth_before.ceiling_gbs, bandwidth_after.ceiling_gbs)

    history_bytes = 2 * HISTORY * n * 8
    floor_ms = 2 * history_bytes / (bandwidth * 1e9) * 1e3  # two loops, each streams every s_i and y_i
    torch_version = torch.__version__ if torch is not None else "not installed"
    print(f"date      {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine   {cpu_model()}, {os.cpu_count()} logical cores; threads: fastopt {args.threads}, "
          f"torch {args.threads}, NumPy (OpenBLAS) {os.environ['OPENBLAS_NUM_THREADS']}; "
          f"load avg {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    print(f"versions  Python {platform.python_version()}, NumPy {np.__version__}, scipy {scipy.__version__}, "
          f"torch {torch_version}, fastopt {fastopt.__version__}")
    print(f"problem   extended Rosenbrock, n = {n:,}, m = {HISTORY}, gtol = {GTOL:g}; {args.repeats} rounds, "
          "median (min-max)")
    print(f"memory    history 2m x n doubles = {history_bytes / 1e6:.0f} MB per recursion pass; bandwidth "
          f"(triad ceiling, best before/after) {bandwidth:.1f} GB/s -> two passes >= {floor_ms:.1f} ms per iteration\n")

    header = ["run", "total s", "inside f s", "overhead s", "iterations", "evaluations", "final max|g|",
              "overhead ms/iter", "x recursion floor"]
    print("| " + " | ".join(header) + " |\n|---|" + "---:|" * (len(header) - 1))
    summary = {}
    for name, rows in results.items():
        total = [r[0] for r in rows]
        inside = [r[1] for r in rows]
        overhead = [t - i for t, i in zip(total, inside)]
        per_iter = [1e3 * o / r[2] for o, r in zip(overhead, rows)]
        summary[name] = dict(total=statistics.median(total), overhead=statistics.median(overhead),
                             nfev=statistics.median(r[3] for r in rows))
        native = name == "native"
        print(f"| {name} | {median_and_spread(total, '.3f')} | "
              f"{'-' if native else median_and_spread(inside, '.3f')} | "
              f"{'-' if native else median_and_spread(overhead, '.3f')} | "
              f"{rows[0][2]} | {rows[0][3]} | {rows[0][4]:.1e} | "
              f"{'-' if native else median_and_spread(per_iter, '.1f')} | "
              f"{'-' if native else f'{statistics.median(per_iter) / floor_ms:.1f}'} |")
    for name, rows in results.items():
        if len({(r[2], r[3]) for r in rows}) > 1:
            print(f"\nnote: {name}'s counts varied between rounds: {[(r[2], r[3]) for r in rows]}")

    s, f = summary["scipy"], summary["fastopt"]
    targets = [("fastopt overhead <= 0.5x scipy's", f["overhead"] / s["overhead"], 0.5),
               ("fastopt evaluations <= 1.2x scipy's", f["nfev"] / s["nfev"], 1.2),
               ("native total time <= 0.5x scipy's total", summary["native"]["total"] / s["total"], 0.5),
               ("native-cb total time <= 0.5x scipy's total", summary["native-cb"]["total"] / s["total"], 0.5)]
    if "torch" in summary:
        targets.insert(1, ("fastopt overhead <= torch's", f["overhead"] / summary["torch"]["overhead"], 1.0))
    print("\n| target | measured | |\n|---|---:|---|")
    for text, ratio, limit in targets:
        print(f"| {text} | {ratio:.2f}x | {'PASS' if ratio <= limit else 'FAIL'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
