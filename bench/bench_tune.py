"""How well ``fastopt tune`` fills the cores: a 12-trial grid (4 learning rates x 3 batch sizes), 2 epochs per
trial of the default MLP (784-512-256-10, Adam, cosine) on the full MNIST, trials in local worker processes.

Printed:

- wall time of the whole search (start of the worker pool, dataset loading in every worker, the store, the
  result files; figures off), against the sum of the trials' own times divided by the cores: once for the
  trials' training steps (the history's ``train_time``), once for the whole trial (training and the per-epoch
  evaluations). Target: wall <= 1.15x the second.
- core utilisation: CPU seconds of the search and its workers (``getrusage`` of this process and of its
  reaped children) over wall time x cores, and the machine's busy share over the same interval from
  /proc/stat (other users included). Target: >= 90% each core.

    FASTOPT_DATA=/path/to/mnist python bench/bench_tune.py [--jobs 2] [--epochs 2] [--limit N]

The machine must be quiet for the numbers to mean anything: other processes take cores from the workers.
"""
import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def proc_stat_busy():
    """(busy, total) jiffies of all CPUs from /proc/stat, or None off Linux."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_seconds():
    """CPU seconds (user + system) of this process and of its children that have been waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main():
    from fastopt.tune import MnistObjective, parse_grid, search
    from fastopt.tune.executors import usable_cores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=None, help="trials at once (default: the cores)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="samples per split (default: all)")
    args = parser.parse_args()
    cores = usable_cores()
    objective = MnistObjective(optimizer="adam", data=os.environ.get("FASTOPT_DATA"), limit=args.limit,
                               epochs=args.epochs)
    space = parse_grid(["lr=1e-4,3e-4,1e-3,3e-3", "batch_size=64,128,256"])
    with tempfile.TemporaryDirectory() as out:
        stat_before, cpu_before, start = proc_stat_busy(), cpu_seconds(), time.perf_counter()
        result = search(objective, space, out, jobs=args.jobs, progress=False, figures=False)
        wall = time.perf_counter() - start
        cpu, stat_after = cpu_seconds() - cpu_before, proc_stat_busy()
        trials = result.study.trials  # read while the store is still there
    train = sum(t.user_attrs["train_time"] for t in trials)
    whole = sum(t.user_attrs["duration"] for t in trials)
    print(f"{len(trials)} trials, {args.epochs} epochs each, {cores} cores, "
          f"{trials[0].user_attrs['threads']} thread(s) per trial")
    print(f"wall {wall:.1f} s; trials' training steps {train:.1f} s, whole trials {whole:.1f} s (summed)")
    print(f"wall / (training steps / cores) = {wall / (train / cores):.3f}")
    print(f"wall / (whole trials / cores)   = {wall / (whole / cores):.3f}   (target <= 1.15)")
    print(f"search CPU / (wall x cores)     = {cpu / (wall * cores):.1%}   (target >= 90%)")
    if stat_before and stat_after:
        busy = (stat_after[0] - stat_before[0]) / max(1, stat_after[1] - stat_before[1])
        print(f"machine busy (/proc/stat)       = {busy:.1%}   (every process on the machine)")
    best = result.best
    print(f"best test accuracy {100 * best['value']:.2f}% at {best['params']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
