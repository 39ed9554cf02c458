"""Second-order paths on the 2-D landscapes: the issue's 10 configurations (lbfgs, bfgs, cg in its three
variants PR+, FR and HS, newton, saddle-free-newton, newton-cg, trust-ncg and lm) for at least 1,000
iterations each, natively, against the same runs driven from Python and scipy.optimize.

A method converges on rosenbrock in 20-40 iterations, so one path is not 1,000 iterations: each method
runs from a grid of starts over the function's domain (the same starts for every method and every
peer), with the landscape path options (gtol 1e-10, ftol 0, maxiter 1000), until its paths add up to
1,000 iterations or more.  Times are best of --repeats, per method:

- native: ``landscape.trajectory(fn, method, x0=...)`` for each start, the whole call (option checks,
  the C++ run with its path recorded, the Trajectory);
- core: the C++ run alone (``_core.curvature.minimize``, or ``_core.curvature.least_squares`` for lm,
  with settings built once);
- python: ``fastopt.minimize`` with Python callables ``fn.value``/``fn.grad`` (and ``fn.hessian`` where
  the method needs curvature), for lm ``fastopt.least_squares`` with ``fn.residuals``/``fn.jacobian``:
  the same C++ iteration calling back into Python per evaluation;
- scipy: ``scipy.optimize.minimize`` (lm: ``scipy.optimize.least_squares(method="lm")``, MINPACK) with
  the same callables and tolerance, where scipy has the method (its iteration counts differ: they are
  printed; lm's column is MINPACK's residual evaluations, as it reports no iterations).

The target (issue 10): 10 methods x 1,000 iterations in under 50 ms in all.  The total is scaled to
1,000 iterations per method (time / iterations made x 1,000).

    python bench/bench_second_order_paths.py [--function rosenbrock] [--iterations 1000] [--repeats 5]

On a function without residuals (six_hump_camel, ...) lm is skipped and the target counts as missed.
"""
import argparse
import os
import platform
import time
import warnings

import numpy as np

import fastopt
from fastopt import _core, landscape
from fastopt.curvature.minimize import settings
from fastopt.landscape.second_order import LEAST_SQUARES_METHODS, path_options

TARGET_MS = 50.0
# The configurations the target counts: label -> (method, options).
CONFIGURATIONS = {"lbfgs": ("lbfgs", {}), "bfgs": ("bfgs", {}), "cg PR+": ("cg", {"variant": "PR+"}),
                  "cg FR": ("cg", {"variant": "FR"}), "cg HS": ("cg", {"variant": "HS"}), "newton": ("newton", {}),
                  "saddle-free-newton": ("saddle-free-newton", {}), "newton-cg": ("newton-cg", {}),
                  "trust-ncg": ("trust-ncg", {}), "lm": ("lm", {})}
# scipy's counterpart of a configuration, with the options that ask it to stop where the path does
# (scipy's CG is Polak-Ribiere+; MINPACK refuses tolerances below machine epsilon).
SCIPY = {"lbfgs": ("L-BFGS-B", {"gtol": 1e-10, "ftol": 0.0}), "bfgs": ("BFGS", {"gtol": 1e-10}),
         "cg PR+": ("CG", {"gtol": 1e-10}), "newton-cg": ("Newton-CG", {"xtol": 1e-10}),
         "trust-ncg": ("trust-ncg", {"gtol": 1e-10}),
         "lm": ("lm", {"gtol": 1e-10, "ftol": np.finfo(float).eps, "xtol": np.finfo(float).eps})}


def starts(fn, per_axis: int = 12) -> np.ndarray:
    """A per_axis x per_axis grid inside the domain (its edges left out), the minima left out too."""
    (x0, x1), (y0, y1) = fn.domain
    xs, ys = np.linspace(x0, x1, per_axis + 2)[1:-1], np.linspace(y0, y1, per_axis + 2)[1:-1]
    grid = np.array([[x, y] for x in xs for y in ys])
    minima = np.asarray(fn.minima, dtype=float).reshape(-1, 2)
    return np.array([p for p in grid if not any(np.allclose(p, m) for m in minima)])


def runs_for(fn, method: str, options: dict, points: np.ndarray, iterations: int):
    """The first starts whose paths add up to `iterations` or more, and the iterations they make."""
    chosen, total = [], 0
    for p in points:
        t = landscape.trajectory(fn, method, x0=p, **options)
        chosen.append(p)
        total += len(t.path) - 1
        if total >= iterations:
            break
    return np.array(chosen), total


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def runners(fn, method: str, options: dict, needs_curvature: bool):
    """(core, python) runs of one start: the C++ run alone, and fastopt driven by Python callables, both
    with the path's options."""
    path = path_options(method, 1000, options)
    if method in LEAST_SQUARES_METHODS:
        s = _core.curvature.LeastSquaresSettings()
        steps = path.pop("maxiter")
        for name, value in path.items():
            setattr(s, name, value)
        s.max_nfev = steps + 1
        return (lambda p: _core.curvature.least_squares(fn._fn, p.copy(), s, None, True),
                lambda p: fastopt.least_squares(fn.residuals, p, jac=fn.jacobian, max_nfev=steps + 1, path=True,
                                                **path))
    s = settings(method, path)
    curvature = {"hess": fn.hessian} if needs_curvature else {}
    return (lambda p: _core.curvature.minimize(fn._fn, p.copy(), s, None, True),
            lambda p: fastopt.minimize(fn.value, p, method=method, jac=fn.grad, options=path, path=True, **curvature))


def scipy_runner(fn, label: str):
    """scipy's run of one start for a configuration, and its iterations (MINPACK's lm: evaluations)."""
    import scipy.optimize as so
    name, options = SCIPY[label]
    if name == "lm":
        return (lambda p: so.least_squares(fn.residuals, p, jac=fn.jacobian, method="lm", **options)), "nfev"
    extra = {"hess": fn.hessian} if name in ("Newton-CG", "trust-ncg") else {}
    return (lambda p: so.minimize(fn.value, p, jac=fn.grad, method=name, options=options, **extra)), "nit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", default="rosenbrock")
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import scipy

    fn = landscape.get(args.function)
    points = starts(fn)
    infos = {name: (hess or hessp) for name, _, hess, hessp, *_ in _core.curvature.methods()}
    print(f"{platform.processor() or platform.machine()}, fastopt {fastopt.__version__}, scipy {scipy.__version__}, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"{args.function}: each configuration from the first of {len(points)} grid starts until >= "
          f"{args.iterations} iterations; best of {args.repeats}; times in ms for those runs")
    print(f"{'configuration':<19} {'runs':>4} {'iter':>5} {'evals':>6} {'native':>8} {'core':>7} {'python':>8} "
          f"{'scipy':>8} {'sp iter':>7} {'python/native':>13} {'scipy/native':>12}")
    total_native = total_core = 0.0
    measured = []
    for label, (method, options) in CONFIGURATIONS.items():
        try:
            chosen, iterations = runs_for(fn, method, options, points, args.iterations)
        except ValueError as e:  # lm needs a function with residuals
            print(f"{label:<19} skipped: {e}")
            continue
        evals = sum(int(landscape.trajectory(fn, method, x0=p, **options).evaluations[-1]) for p in chosen)
        native = best_of(args.repeats, lambda: [landscape.trajectory(fn, method, x0=p, **options) for p in chosen])
        core_run, python_run = runners(fn, method, options, infos.get(method, False))
        core = best_of(args.repeats, lambda: [core_run(p) for p in chosen])
        python = best_of(max(1, args.repeats // 2), lambda: [python_run(p) for p in chosen])
        scipy_ms = scipy_iter = scipy_ratio = "n/a"
        if label in SCIPY:
            run, count = scipy_runner(fn, label)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scipy_iter = str(sum(getattr(run(p), count) for p in chosen))
                seconds = best_of(max(1, args.repeats // 2), lambda: [run(p) for p in chosen])
            scipy_ms, scipy_ratio = f"{seconds * 1e3:.2f}", f"{seconds / native:.0f}x"
        total_native += native / iterations * 1000
        total_core += core / iterations * 1000
        measured.append(label)
        print(f"{label:<19} {len(chosen):>4} {iterations:>5} {evals:>6} {native * 1e3:>8.2f} {core * 1e3:>7.2f} "
              f"{python * 1e3:>8.2f} {scipy_ms:>8} {scipy_iter:>7} {python / native:>12.0f}x {scipy_ratio:>12}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min) at the end")
    met = len(measured) == len(CONFIGURATIONS) and total_native * 1e3 < TARGET_MS
    print(f"\n{len(measured)} of {len(CONFIGURATIONS)} configurations x 1000 iterations (scaled from the iterations "
          f"made): {total_native * 1e3:.2f} ms through landscape.trajectory, {total_core * 1e3:.2f} ms in the C++ "
          f"core; target {TARGET_MS:g} ms for all {len(CONFIGURATIONS)}: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
