"""Where a second thread starts to pay: the serial-below thresholds of src/cpp/common/parallel.hpp.

    python bench/thresholds.py [--repeats 15] [--unthresholded]

For the optimizer driver (Adam, one float32 array), the landscape grid (rosenbrock) and the MLP
(forward_backward of a 64-64-10 network), times one call with fastopt.set_num_threads(1) and with 2
threads at sizes around the threshold (the settings alternate, best of --repeats, the worker woken
before each sample).  Below its threshold a job runs serially whatever the setting, so to see the
crossing itself run this against a build with the three constants set to 1 (edit them, then
``pip install --no-deps --no-build-isolation --target DIR .`` and ``PYTHONPATH=DIR:... python -S``)
and pass --unthresholded: the crossing is then the smallest size from which 2 threads win at every
larger size, and a constant is worth changing when it is more than 2x away from it.
"""
import argparse
import os
import platform
import time

import numpy as np

import fastopt

THRESHOLDS = {"driver": 1 << 15, "grid": 512, "mlp": 1 << 17}  # as in common/parallel.hpp
UNITS = {"driver": "elements", "grid": "points", "mlp": "rows x parameters"}
MLP_SIZES = [64, 64, 10]


def driver_job(n):
    p, g = np.zeros(n, np.float32), np.full(n, 1e-3, np.float32)
    opt = fastopt.Adam([p], lr=1e-3)
    return lambda: opt.step([g]), n


def grid_job(n):
    fn = fastopt.landscape.get("rosenbrock")
    x = np.linspace(-2, 2, n)
    return lambda: fn.grid(x, x), n


def mlp_job(rows):
    model = fastopt.nn.MLP(MLP_SIZES, seed=0)
    rng = np.random.default_rng(0)
    x, y = rng.random((rows, MLP_SIZES[0]), dtype=np.float32), rng.integers(0, MLP_SIZES[-1], rows)
    return lambda: model.forward_backward(x, y), rows * model.num_params


JOBS = {  # sizes: elements, points, rows (x parameters = the work the threshold compares)
    "driver": (driver_job, [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144]),
    "grid": (grid_job, [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768]),
    "mlp": (mlp_job, [1, 2, 4, 8, 16, 32, 64, 128, 256]),
}


def best_time(call, repeats_inner):
    start = time.perf_counter()
    for _ in range(repeats_inner):
        call()
    return (time.perf_counter() - start) / repeats_inner


def measure(call, repeats):
    """Best seconds per call with 1 and with 2 threads, the settings alternating."""
    fastopt.set_num_threads(1)
    call()
    inner = max(5, int(2e-3 / max(best_time(call, 5), 1e-7)))  # about 2 ms of serial work per sample
    best = {1: float("inf"), 2: float("inf")}
    for _ in range(repeats):
        for threads in (1, 2):
            fastopt.set_num_threads(threads)
            best_time(call, 3)  # wakes the OpenMP worker (asleep after a serial sample): not what is measured
            best[threads] = min(best[threads], best_time(call, inner))
    return best[1], best[2]


def crossing(work, t1, t2):
    """The smallest work from which 2 threads are faster at every larger size (None if never)."""
    cross = None
    for units, one, two in zip(reversed(work), reversed(t1), reversed(t2)):
        if two >= one:
            break
        cross = units
    return cross


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="alternating 1/2-thread samples per size")
    parser.add_argument("--unthresholded", action="store_true", help="the build has the three constants set to 1")
    args = parser.parse_args()
    before = fastopt.get_num_threads()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d')}, fastopt {fastopt.__version__} "
          f"({fastopt.build_info()['simd']})")
    try:
        for name, (make, sizes) in JOBS.items():
            threshold = THRESHOLDS[name]
            print(f"\n{name}: threshold {threshold} {UNITS[name]}")
            print(f"{'size':>8}{'work':>10}{'1 thread us':>14}{'2 threads us':>14}{'speedup':>9}")
            work, t1s, t2s = [], [], []
            for size in sizes:
                call, units = make(size)
                t1, t2 = measure(call, args.repeats)
                work.append(units), t1s.append(t1), t2s.append(t2)
                serial = units < threshold and not args.unthresholded
                print(f"{size:>8}{units:>10}{t1 * 1e6:>14.2f}{t2 * 1e6:>14.2f}{t1 / t2:>8.2f}x"
                      f"{'  (serial either way)' if serial else ''}")
            if args.unthresholded:
                cross = crossing(work, t1s, t2s)
                verdict = "keep" if cross and threshold / 2 <= cross <= threshold * 2 else "revisit"
                print(f"2 threads win from {cross} work units on ({threshold} in parallel.hpp): {verdict}")
    finally:
        fastopt.set_num_threads(before)


if __name__ == "__main__":
    main()
