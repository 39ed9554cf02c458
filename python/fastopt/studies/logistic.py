"""Second-order methods against Adam on a full-batch problem: softmax regression on MNIST (``fastopt logreg``).

::

    from fastopt import studies
    result = studies.logistic_study(out="docs/second_order")   # figures, logreg.json, logreg.csv
    result.table()                                               # rows of strings

Every method minimises the same native objective (:class:`fastopt.curvature.LogisticRegression`,
7,850 parameters) from the same start (zeros).  L-BFGS, BFGS, CG and Newton-CG (where
``fastopt.curvature.methods()`` has it) run in C++ through ``fastopt.minimize``; Adam runs full-batch
with ``fastopt.Adam``, one gradient per step, at each learning rate given.  Each run stops at its
iteration cap or its time budget, whichever comes first.  After every iteration the study records the
wall time, the evaluations spent (value-and-gradient calls plus Hessian-vector products, each one
pass over the data) and the training loss, and computes the test accuracy on a clock that is paused
meanwhile, so the time axis holds only the method's own work and its evaluations.
"""
from __future__ import annotations

import csv
import json
import resource
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..curvature import LogisticRegression, methods, minimize

SECOND_ORDER = ("lbfgs", "bfgs", "cg", "newton-cg")
LOGREG_METHODS = (*SECOND_ORDER, "adam")
# Full-batch Adam rates: a sweep over decades (the best one is the tuned rate the table names).
ADAM_LRS = (0.001, 0.01, 0.1)


@dataclass
class Trace:
    """One run: per recorded iteration the time, evaluations, training loss and test accuracy.

    Parameters
    ----------
    label : str
        ``"lbfgs"``, ..., ``"adam lr=0.01"``.
    method : str
        The method's name.
    seconds, evaluations, loss, test_accuracy : list
        One entry per iterate, the start first (time 0, one evaluation).
    status : str
        How the run ended.
    objective_seconds : float
        Wall seconds spent inside the objective's evaluations during the run.
    iterations : int
        Iterations (steps) made.
    """

    label: str
    method: str
    seconds: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    test_accuracy: list = field(default_factory=list)
    status: str = ""
    objective_seconds: float = 0.0
    iterations: int = 0

    @property
    def wall(self) -> float:
        """The run's recorded wall time in seconds (bookkeeping excluded)."""
        return self.seconds[-1]


@dataclass
class LogisticResult:
    """What :func:`logistic_study` ran and wrote.

    Parameters
    ----------
    traces : list of Trace
        One per run.
    f_star : float
        The lowest training loss any run reached (the reference of the figures' f - f*).
    bfgs_cost : dict
        BFGS's measured cost (empty when BFGS did not run).
    setup : dict
        Samples, l2, budgets.
    files : list of Path
        The figures, logreg.json and logreg.csv.
    """

    traces: list
    f_star: float
    bfgs_cost: dict
    setup: dict
    files: list

    def table(self) -> list[list[str]]:
        """The summary as rows of strings, header first (for ``fastopt.cli.common.print_table``)."""
        rows = [["run", "iters", "evals", "time s", "ms/iter", "in f %", "final loss", "f - f*", "test acc",
                 "status"]]
        for t in self.traces:
            share = 100 * t.objective_seconds / t.wall if t.wall > 0 else 0.0
            per_iter = 1e3 * t.wall / t.iterations if t.iterations else 0.0
            rows.append([t.label, str(t.iterations), str(t.evaluations[-1]), f"{t.wall:.2f}", f"{per_iter:.1f}",
                         f"{share:.0f}", f"{t.loss[-1]:.6f}", f"{t.loss[-1] - self.f_star:.2e}",
                         f"{t.test_accuracy[-1]:.4f}", t.status])
        return rows


def available_methods() -> tuple[str, ...]:
    """The methods of :data:`LOGREG_METHODS` this build has (Newton-CG only once fastopt.minimize has it)."""
    native = methods()
    return tuple(m for m in LOGREG_METHODS if m == "adam" or m in native)


# fastopt.minimize's status codes in a word each (6: the callback stopped it, here the time budget).
_STATUS = {0: "converged", 1: "max_iter", 2: "line search failed", 3: "nonfinite", 4: "small change", 5: "max_eval",
           6: "time budget"}


class _Recorder:
    """Records a run's iterates on a clock that stops while it records (test accuracy, progress).

    The clock and the evaluation count start when the recorder is made; :meth:`start` notes the
    start point (time 0, one evaluation), evaluated before."""

    def __init__(self, trace: Trace, objective, test, time_limit: float, progress: bool, every: float = 5.0):
        self.trace, self.objective, self.test = trace, objective, test
        self.time_limit, self.progress, self.every = time_limit, progress, every
        self.evals0 = objective.nfev + objective.nhev
        self.seconds0 = objective.seconds
        self.paused = 0.0
        self.last_print = 0.0
        self.start_time = time.perf_counter()

    def _append(self, seconds: float, evaluations: int, x, f) -> None:
        t = self.trace
        t.seconds.append(seconds)
        t.evaluations.append(evaluations)
        t.loss.append(float(f))
        t.test_accuracy.append(self.objective.accuracy(x, self.test.x, self.test.y))
        t.iterations = len(t.loss) - 1

    def start(self, x, f) -> None:
        """Note the start point x with loss f (off the clock)."""
        now = time.perf_counter()
        self._append(0.0, 1, x, f)
        self.paused += time.perf_counter() - now

    def record(self, x, f) -> bool:
        """Record iterate x with loss f; True when the time budget is spent."""
        now = time.perf_counter()
        elapsed = now - self.start_time - self.paused
        t = self.trace
        self._append(elapsed, self.objective.nfev + self.objective.nhev - self.evals0, x, f)
        t.objective_seconds = self.objective.seconds - self.seconds0
        if self.progress and (elapsed - self.last_print >= self.every):
            self.last_print = elapsed
            print(f"  [{t.label}] iter {t.iterations:5d}  loss {f:.6f}  evals {t.evaluations[-1]:5d}  "
                  f"test acc {t.test_accuracy[-1]:.4f}  {elapsed:6.1f} s", flush=True)
        self.paused += time.perf_counter() - now
        return elapsed >= self.time_limit


def _run_method(method: str, objective, test, max_iter: int, time_limit: float, gtol: float, progress: bool) -> Trace:
    trace = Trace(method, method)
    x0 = np.zeros(objective.dim)
    f0 = objective.value(x0)  # f(0) = log(classes), before the clock
    rec = _Recorder(trace, objective, test, time_limit, progress)
    rec.start(x0, f0)

    def callback(intermediate_result):
        if rec.record(intermediate_result.x, intermediate_result.fun):
            raise StopIteration

    res = minimize(objective, x0, method=method, options={"maxiter": max_iter, "gtol": gtol}, callback=callback)
    trace.status = _STATUS.get(res.status, str(res.status))
    return trace


def _run_adam(lr: float, objective, test, max_iter: int, time_limit: float, progress: bool) -> Trace:
    from ..optim import Adam
    trace = Trace(f"adam lr={lr:g}", "adam")
    x = np.zeros(objective.dim)
    opt = Adam([x], lr=lr)
    rec = _Recorder(trace, objective, test, time_limit, progress)
    f, g = objective.value_grad(x)
    rec.start(x, f)
    trace.status = "max_iter"
    for _ in range(max_iter):
        opt.step([g])
        f, g = objective.value_grad(x)
        if not np.isfinite(f):
            trace.status = "nonfinite"
            break
        if rec.record(x, f):
            trace.status = "time budget"
            break
    return trace


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _bfgs_cost(trace: Trace, dim: int, peak_growth_mb: float, lbfgs: Trace | None) -> dict:
    """BFGS's cost: H's memory, time per iteration, and the share of its own linear algebra."""
    own = trace.wall - trace.objective_seconds  # dsymm + dsyr2 on H, plus vector ops and line search
    cost = {"dim": dim, "H_megabytes": dim * dim * 8 / 1e6, "peak_rss_growth_megabytes": peak_growth_mb,
            "iterations": trace.iterations, "seconds_per_iteration": trace.wall / max(trace.iterations, 1),
            "objective_share": trace.objective_seconds / trace.wall if trace.wall else 0.0,
            "method_seconds_per_iteration": own / max(trace.iterations, 1),
            # an update reads the triangle twice (dsymm) and writes it once (dsyr2): 1.5 n^2 doubles
            "streamed_gigabytes_per_iteration": 1.5 * dim * dim * 8 / 1e9}
    own_per_iteration = max(cost["method_seconds_per_iteration"], 1e-12)
    cost["streamed_gb_per_s"] = cost["streamed_gigabytes_per_iteration"] / own_per_iteration
    if lbfgs is not None and lbfgs.iterations:
        cost["lbfgs_method_seconds_per_iteration"] = (lbfgs.wall - lbfgs.objective_seconds) / lbfgs.iterations
    return cost


def _write_csv(path: Path, traces) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["run", "method", "iteration", "seconds", "evaluations", "loss", "test_accuracy"])
        for t in traces:
            for i, row in enumerate(zip(t.seconds, t.evaluations, t.loss, t.test_accuracy)):
                w.writerow([t.label, t.method, i, f"{row[0]:.6f}", row[1], repr(row[2]), f"{row[3]:.6f}"])


def logistic_study(out="logreg", methods=None, quick: bool = False, limit: int | None = None, l2: float = 1e-4,
                   time_limit: float | None = None, max_iter: int | None = None, bfgs_max_iter: int | None = None,
                   adam_lrs=ADAM_LRS, gtol: float = 1e-6, data=None, progress: bool = True,
                   dpi: float = 100) -> LogisticResult:
    """Minimise MNIST softmax regression with each method; write the figures and the numbers.

    Writes ``logreg_time.png`` (f - f* and test accuracy against seconds), ``logreg_evals.png``
    (against evaluations), ``logreg.json`` (setup, summary, BFGS's cost) and ``logreg.csv`` (every
    recorded iterate) into ``out``.

    Parameters
    ----------
    out : path-like
        The output folder (created).
    methods : sequence of str, optional
        Names from :func:`available_methods` (default: all of them).
    quick : bool
        A CI-sized run: 2,000 training and test samples, 2 s and 30 iterations per run.
    limit : int, optional
        Use only the first ``limit`` training and test samples (default: all; 2,000 with ``quick``).
    l2 : float
        Weight decay of the objective.
    time_limit : float, optional
        Seconds per run (default 60; 2 with ``quick``).
    max_iter : int, optional
        Iteration cap of each run (default 1000, Adam 20x that; 30 with ``quick``).
    bfgs_max_iter : int, optional
        BFGS's own cap (default 300; 15 with ``quick``): each iteration streams its 7,850^2 matrix.
    adam_lrs : sequence of float
        Adam's learning rates, one run each.
    gtol : float
        The second-order methods' gradient tolerance.
    data : path-like, optional
        Where the MNIST files are (searched before ``$FASTOPT_DATA``).
    progress : bool
        Print each run's progress every 5 s of its clock.
    dpi : float
        The figures' resolution.

    Returns
    -------
    LogisticResult
    """
    from .. import datasets
    from ..plots.logistic import convergence
    chosen = tuple(methods) if methods else available_methods()
    unknown = [m for m in chosen if m not in available_methods()]
    if unknown:
        raise ValueError(f"methods: {', '.join(unknown)} not available; choose from {', '.join(available_methods())}")
    if not adam_lrs or any(not (lr > 0) for lr in adam_lrs):
        raise ValueError(f"adam_lrs: expected positive learning rates, got {adam_lrs!r}")
    limit = limit if limit is not None else (2000 if quick else None)
    time_limit = time_limit if time_limit is not None else (2.0 if quick else 60.0)
    max_iter = max_iter if max_iter is not None else (30 if quick else 1000)
    bfgs_max_iter = bfgs_max_iter if bfgs_max_iter is not None else (15 if quick else 300)
    loaded = datasets.load("mnist", data, progress=progress)
    train, test = loaded.train, loaded.test
    if limit is not None:
        train, test = train.take(slice(0, limit)), test.take(slice(0, limit))
    objective = LogisticRegression(train.x, train.y, classes=len(loaded.classes), l2=l2)
    setup = {"train_samples": len(train), "test_samples": len(test), "dim": objective.dim, "l2": l2,
             "time_limit_s": time_limit, "max_iter": max_iter, "bfgs_max_iter": bfgs_max_iter, "gtol": gtol,
             "adam_lrs": list(adam_lrs), "data_dtype": objective.dtype}
    if progress:
        print(f"softmax regression on {len(train)} MNIST samples ({objective.dim} parameters, l2={l2:g}); "
              f"{time_limit:g} s per run", flush=True)
    traces, rss_growth = [], 0.0
    for method in chosen:
        runs = [("adam", lr) for lr in adam_lrs] if method == "adam" else [(method, None)]
        for name, lr in runs:
            if progress:
                print(f"[{name if lr is None else f'adam lr={lr:g}'}] running", flush=True)
            before = _peak_rss_mb()
            if name == "adam":
                trace = _run_adam(lr, objective, test, 20 * max_iter, time_limit, progress)
            else:
                cap = bfgs_max_iter if name == "bfgs" else max_iter
                trace = _run_method(name, objective, test, cap, time_limit, gtol, progress)
            if name == "bfgs":
                rss_growth = _peak_rss_mb() - before
            traces.append(trace)
    f_star = min(min(t.loss) for t in traces)
    by_label = {t.label: t for t in traces}
    bfgs_cost = (_bfgs_cost(by_label["bfgs"], objective.dim, rss_growth, by_label.get("lbfgs"))
                 if "bfgs" in by_label else {})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    title = f"softmax regression on MNIST ({len(train)} samples, {objective.dim} parameters, l2={l2:g})"
    convergence(traces, f_star, "seconds", title, save=out / "logreg_time.png", dpi=dpi)
    convergence(traces, f_star, "evaluations", title, save=out / "logreg_evals.png", dpi=dpi)
    files = [out / "logreg_time.png", out / "logreg_evals.png", out / "logreg.json", out / "logreg.csv"]
    result = LogisticResult(traces, f_star, bfgs_cost, setup, files)
    summary = {"setup": setup, "f_star": f_star, "bfgs_cost": bfgs_cost,
               "runs": [dict(zip(result.table()[0], row)) for row in result.table()[1:]]}
    (out / "logreg.json").write_text(json.dumps({**summary, "traces": [asdict(t) for t in traces]}, indent=1))
    _write_csv(out / "logreg.csv", traces)
    return result
