"""Side by side: the speed of two builds of fastopt, measured in the same rounds, with a verdict.

    python bench/compare_commits.py                       # base HEAD~1, new = the working tree
    python bench/compare_commits.py --base 596c578        # any revision git understands
    python bench/compare_commits.py --base main --new my-branch [--rounds 10] [--repeats 20] [--threads 2]

Builds: the base revision is checked out with ``git worktree add`` into a temporary folder (the new one
too when ``--new`` names a revision; by default "new" is the working tree, uncommitted changes
included), and each is built by ``pip install --no-deps --no-build-isolation --target`` with its own
``-Cbuild-dir``, all under one temporary folder removed at the end.  The build uses the current
environment's scikit-build-core, pybind11 and scipy-openblas32, and a build takes a minute or two.

Measurement: two builds of the module cannot share one interpreter (same module name), so each build
gets one worker process that lives for the whole comparison: ``python -S`` with ``PYTHONPATH`` = that
build's target folder, then this environment's site-packages.  ``-S`` skips the ``.pth`` files, so a
developer's editable install of fastopt (an import hook that would take precedence over sys.path)
cannot stand in for a build under test; each worker checks where its ``fastopt`` came from.  The
parent sends the workers one benchmark at a time, alternately (base then new in even rounds, new then
base in odd ones), so only one runs at any moment and both see the machine in the same state, round
after round; the other waits on its pipe without using the CPU.  The benchmarks are this folder's
(the new side's harness for both builds) and use only the public API (``fastopt.<Optimizer>(params,
**hyper).step(grads)``, ``fastopt.nn.MLP``, ``fastopt.set_num_threads``):

- optimizer steps: ``workloads.time_steps`` (median seconds per step over ``--repeats`` samples) for
  adam, momentum, rmsprop and lion on the layouts 1e7 and 10000x1000, a fresh optimizer per round;
- MLP training: ``bench_mlp.time_epoch``, one epoch of 60,000 random MNIST-shaped samples at batch 128
  with ``bench_mlp.fastopt_trainer`` (784-512-256-10, Adam), one model per worker trained on.

Each benchmark's time is the median over ``--rounds`` rounds; the ratio is new / base, and "spread" is
the lowest and highest of the per-round ratios, the noise of this machine at this moment.  A ratio
above 1.05 (new more than 5% slower) is a FAIL, and the exit status is then 1.  On a machine busier than
its core count, OpenMP steps wait for descheduled threads and time the contention rather than the
code: use ``--threads 1`` there (bench/README.md shows the noise floor measured both ways).
"""
from __future__ import annotations

import argparse
import json
import os
import site
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
# The cases as both sides' public API builds them (class, hyperparameters, state arrays per param).
CASES = {"adam": ("Adam", {}, 2), "momentum": ("SGD", {"momentum": 0.9}, 1), "rmsprop": ("RMSprop", {}, 1),
         "lion": ("Lion", {}, 1)}
LAYOUTS = ["1e7", "10000x1000"]
MAX_SLOWDOWN = 1.05
BENCHMARKS = [("optim", name, layout) for name in CASES for layout in LAYOUTS] + [("mlp", "epoch", "60000")]



def git(*args: str, cwd: str = BENCH_DIR) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def build(source: str, folder: str) -> str:
    """Build and install fastopt from ``source`` into ``folder``/site; return that folder."""
    target = os.path.join(folder, "site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", target, f"-Cbuild-dir={os.path.join(folder, 'build')}", source], check=True)
    return target


class Worker:
    """A process importing one build, answering one benchmark request per line (JSON in, JSON out)."""

    def __init__(self, target: str, threads: int):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([target, *site.getsitepackages()]))
        self.process = subprocess.Popen(
            [sys.executable, "-S", os.path.abspath(__file__), "--worker", target, "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def seconds(self, request: dict) -> float:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        if not reply:
            raise RuntimeError(f"worker exited with status {self.process.wait()}")
        return json.loads(reply)["seconds"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def serve(target: str, threads: int) -> None:
    """Worker side: import the build in ``target`` and time what the parent asks, until stdin closes."""
    import numpy as np

    import bench_mlp
    import fastopt
    import workloads

    if not os.path.abspath(fastopt.__file__).startswith(os.path.abspath(target) + os.sep):
        raise SystemExit(f"imported {fastopt.__file__}, not the build in {target}")
    cases = {name: workloads.Case(name, *spec) for name, spec in CASES.items()}
    workloads.set_threads(threads)
    layouts, mlp = {}, None
    for line in sys.stdin:
        request = json.loads(line)
        if request["bench"] == "optim":
            layout = request["layout"]
            if layout not in layouts:
                layouts[layout] = workloads.Workload(workloads.LAYOUTS[layout])
            step = layouts[layout].stepper(cases[request["name"]], "fastopt")
            seconds = workloads.time_steps({"fastopt": step}, request["repeats"])["fastopt"]
        else:
            if mlp is None:
                rng = np.random.default_rng(0)
                x = rng.random((bench_mlp.SAMPLES, bench_mlp.SIZES[0]), dtype=np.float32)
                y = rng.integers(0, bench_mlp.SIZES[-1], bench_mlp.SAMPLES)
                mlp = bench_mlp.fastopt_trainer(threads)[0], x, y
                bench_mlp.time_epoch(*mlp, 128)  # warm-up epoch
            seconds = bench_mlp.time_epoch(*mlp, 128)
        print(json.dumps({"seconds": seconds}), flush=True)


def describe(revision: str | None) -> str:
    """The revision's short hash and subject; None is the working tree."""
    if revision is not None:
        return git("log", "-1", "--format=%h %s", revision)[:100]
    dirty = " + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"working tree: {describe('HEAD')[:70]}{dirty}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="revision to compare against (default HEAD~1)")
    parser.add_argument("--new", help="revision to compare (default: the working tree)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds, each timing every benchmark on both builds")
    parser.add_argument("--repeats", type=int, default=20, help="samples per optimizer timing within a round")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="fastopt threads")
    parser.add_argument("--worker", metavar="TARGET", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        serve(args.worker, args.threads)
        return

    toplevel = git("rev-parse", "--show-toplevel")
    revisions = {"base": args.base, "new": args.new}
    labels = {side: describe(revision) for side, revision in revisions.items()}
    with tempfile.TemporaryDirectory(prefix="fastopt-compare-") as tmp:
        sources, worktrees = {}, []
        try:
            for side, revision in revisions.items():
                if revision is None:
                    sources[side] = toplevel
                else:
                    sources[side] = os.path.join(tmp, f"{side}-src")
                    git("worktree", "add", "--detach", sources[side], revision, cwd=toplevel)
                    worktrees.append(sources[side])
            targets = {}
            for side in revisions:
                start = time.perf_counter()
                targets[side] = build(sources[side], os.path.join(tmp, side))
                print(f"built {side} in {time.perf_counter() - start:.0f} s: {labels[side]}", flush=True)
        finally:
            for path in worktrees:
                git("worktree", "remove", "--force", path, cwd=toplevel)

        workers = {side: Worker(targets[side], args.threads) for side in revisions}
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores before timing (timings are noisy "
              f"when it exceeds the core count); threads {args.threads}; {args.rounds} rounds", flush=True)
        times = {(side, bench): [] for side in revisions for bench in BENCHMARKS}
        try:
            for r in range(args.rounds):
                order = ["base", "new"] if r % 2 == 0 else ["new", "base"]
                for bench in BENCHMARKS:
                    request = {"bench": bench[0], "name": bench[1], "layout": bench[2], "repeats": args.repeats}
                    for side in order:
                        times[side, bench].append(workers[side].seconds(request))
                print(f"round {r + 1}/{args.rounds} done", flush=True)
        finally:
            for worker in workers.values():
                worker.close()
        print(f"load average {os.getloadavg()[0]:.2f} after timing")

    print(f"\nbase: {labels['base']}\nnew:  {labels['new']}\n")
    print(f"{'benchmark':26}{'base ms':>10}{'new ms':>10}{'new/base':>10}{'spread':>14}  verdict")
    failed = False
    for bench in BENCHMARKS:
        base, new = times["base", bench], times["new", bench]
        ratio = statistics.median(new) / statistics.median(base)
        per_round = [n / b for n, b in zip(new, base)]
        verdict = "FAIL" if ratio > MAX_SLOWDOWN else "ok"
        failed |= verdict == "FAIL"
        name = "mlp epoch (60000, b=128)" if bench[0] == "mlp" else f"{bench[1]} {bench[2]}"
        print(f"{name:26}{statistics.median(base) * 1e3:>10.3f}{statistics.median(new) * 1e3:>10.3f}{ratio:>10.3f}"
              f"{f'{min(per_round):.2f}-{max(per_round):.2f}':>14}  {verdict}")
    print(f"\nmedians over {args.rounds} rounds; FAIL: new more than {MAX_SLOWDOWN - 1:.0%} slower than base")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
