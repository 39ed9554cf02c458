"""One table: fastopt against careful NumPy and torch.optim, with bandwidth and the issue's targets.

    python bench/report.py [--quick] [--threads N] [--repeats R] [--markdown]
                           [--optimizers adam,momentum] [--layouts 1e7,10000x1000]

Everything runs in this one process: a STREAM-like triad (bench/triad.py) measures the memory
bandwidth, every implementation is checked to compute the same update as fastopt, then each
(optimizer, layout) is timed: median seconds per step over ``--repeats`` rounds after warm-up.

Columns: ms per step of each implementation; fastopt's effective GB/s = bytes the update must move
(read p, g and every state array, write p and every state array: 4*(3 + 2*states) B per float32
param, e.g. Adam 28 B) / time; fastopt's speed-up over NumPy and over torch (fused where torch has a
fused CPU kernel, marked F, else torch's CPU default, marked d: the single-tensor path, as torch.optim
enables foreach by default only on CUDA-like devices; foreach is shown beside it); and fastopt's GB/s
as a fraction of the triad bandwidth.  That triad is the in-place form ``a += s*c`` (12 B per element, all of them moved; see
triad.py), timed in the same rounds as the row's optimizers for the layouts of 1e7 params: this host's
memory bandwidth swings by up to 2x within a minute, so only a measurement of the same moment is a
fair ceiling.  Smaller layouts fit in the caches (a few MB) and are compared with the best whole-run
triad (before or after the optimizers, STREAM's best-of-20), which they can exceed; so is every row
when no C compiler is available.  "of wall" (layout 1e7 only): the time of a C loop that moves exactly
the optimizer's bytes with no arithmetic to speak of (triad.c's same_traffic, same rounds) over
fastopt's time; 100% means the step costs no more than its memory traffic.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import sys

import numpy as np
from tqdm import tqdm

import fastopt
import triad
import workloads
from workloads import CASES_BY_NAME, LAYOUTS, QUICK_CASES, QUICK_LAYOUTS

# (optimizer, layout, what, threshold): what is "numpy", "torch" (the torch column the ratio uses), "triad" or
# "wall" (the same_traffic loop's time over fastopt's).  Issue 2's, then issue 15's for its elementwise optimizers.
TARGETS = [
    ("adam", "1e7", "numpy", 4.0),
    ("adam", "1e7", "torch", 1.0),
    ("adam", "1e7", "triad", 0.70),
    ("momentum", "1e7", "numpy", 4.0),
    ("momentum", "1e7", "torch", 1.0),
    ("momentum", "1e7", "triad", 0.70),
    ("adam", "10000x1000", "torch", 5.0),
] + [(name, "1e7", "torch", 5.0) for name in ("rmsprop", "adadelta", "adamax", "nadam", "radam")] + [
    (name, "1e7", "wall", 0.90) for name in ("sgdw", "adabelief", "adopt", "ademamix", "adan", "rprop", "asgd")
] + [(name, "10000x1000", "torch", 5.0) for name in ("rprop", "asgd", "adafactor")]


class Row:
    """The measurement of one optimizer on one layout."""

    def __init__(self, case: workloads.Case, layout: str, seconds: dict[str, float], ceiling_gbs: float,
                 wall_seconds: float | None):
        self.case, self.layout, self.seconds = case, layout, seconds
        self.gbs = case.bytes_per_param() * sum(LAYOUTS[layout]) / seconds["fastopt"] / 1e9
        self.vs_numpy = seconds["numpy"] / seconds["fastopt"] if "numpy" in seconds else None  # no NumPy twin
        self.torch_impl = next((i for i in ("torch_fused", "torch_default") if i in seconds), None)
        self.vs_torch = seconds[self.torch_impl] / seconds["fastopt"] if self.torch_impl else None
        self.ceiling_gbs = ceiling_gbs
        self.of_triad = self.gbs / ceiling_gbs
        self.of_wall = wall_seconds / seconds["fastopt"] if wall_seconds else None

    def cells(self) -> list[str]:
        def ms(impl):
            return f"{self.seconds[impl] * 1e3:.3f}" if impl in self.seconds else "-"
        flavour = "F" if self.torch_impl == "torch_fused" else "d"
        torch_ratio = "-" if self.vs_torch is None else f"{self.vs_torch:.2f} {flavour}"
        return [self.case.name, self.layout, ms("fastopt"), ms("numpy"), ms("torch_default"), ms("torch_foreach"),
                ms("torch_fused"), f"{self.gbs:.1f}", "-" if self.vs_numpy is None else f"{self.vs_numpy:.2f}",
                torch_ratio,
                f"{self.ceiling_gbs:.1f}", f"{self.of_triad:.0%}", "-" if self.of_wall is None else f"{self.of_wall:.0%}"]


HEADER = ["optimizer", "layout", "fastopt ms", "numpy ms", "torch default ms", "torch foreach ms", "torch fused ms",
          "fastopt GB/s", "x numpy", "x torch", "triad GB/s", "of triad", "of wall"]


def plain_table(rows: list[Row]) -> str:
    cells = [HEADER] + [r.cells() for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
             for line in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(HEADER) - 2)) + "|"]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header(threads: int, bandwidth: triad.Bandwidth) -> str:
    torch_version = workloads.torch.__version__ if workloads.torch is not None else "not installed"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join([
        f"date      {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"machine   {cpu_model()}, {os.cpu_count()} logical cores; threads: fastopt {threads}, torch {threads}, "
        f"NumPy 1 (ufuncs are single-threaded)",
        f"versions  Python {platform.python_version()}, NumPy {np.__version__}, torch {torch_version}, "
        f"fastopt {fastopt.__version__}",
        f"build     {fastopt.build_info()}",
        f"load avg  {load} (1, 5, 15 min) at start" + busy_warning(),
        f"triad     {bandwidth.method}",
        f"          before the optimizers: {describe(bandwidth)}",
    ])


def describe(bandwidth: triad.Bandwidth) -> str:
    return (f"a = b + s*c {bandwidth.triad_gbs:.1f} GB/s, a += s*c {bandwidth.in_place_gbs:.1f} GB/s "
            f"(ceiling {bandwidth.ceiling_gbs:.1f})")


def busy_warning() -> str:
    """A warning when other processes compete for the cores: OpenMP steps then wait for descheduled threads."""
    load = os.getloadavg()[0]
    return "  WARNING: machine busy, timings unreliable" if load > 0.5 * os.cpu_count() else ""


def check_targets(rows: list[Row]) -> list[str]:
    """One PASS/FAIL/SKIP line per target of issues 2 and 15."""
    by_key = {(r.case.name, r.layout): r for r in rows}
    lines = []
    for name, layout, what, threshold in TARGETS:
        row = by_key.get((name, layout))
        if what == "numpy":
            label = f"{name} {layout}: >= {threshold:g}x NumPy"
            value = row.vs_numpy if row else None
            shown = f"{value:.2f}x" if value is not None else ""
        elif what == "torch":
            flavour = "fused" if CASES_BY_NAME[name].torch_fused else "CPU default"
            label = (f"{name} {layout}: no slower than torch {flavour}" if threshold == 1.0
                     else f"{name} {layout}: >= {threshold:g}x torch {flavour}")
            value = row.vs_torch if row else None
            shown = f"{value:.2f}x" if value is not None else ""
        elif what == "wall":
            label = f"{name} {layout}: >= {threshold:.0%} of the same-traffic wall"
            value = row.of_wall if row else None
            shown = f"{value:.0%}" if value is not None else ""
        else:
            label = f"{name} {layout}: >= {threshold:.0%} of triad bandwidth"
            value = row.of_triad if row else None
            shown = f"{value:.0%} ({row.gbs:.1f} GB/s)" if value is not None else ""
        if value is None:
            lines.append(f"SKIP  {label}  (not measured in this run)")
        else:
            lines.append(f"{'PASS' if value >= threshold else 'FAIL'}  {label}  measured {shown}")
    return lines


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"only {','.join(QUICK_CASES)} on {','.join(QUICK_LAYOUTS)}, fewer repeats")
    parser.add_argument("--threads", type=int, default=fastopt.get_num_threads(),
                        help="threads for fastopt, torch and the triad (default: fastopt's current count)")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per case (default 9, quick 3)")
    parser.add_argument("--optimizers", help=f"comma-separated subset of {','.join(CASES_BY_NAME)}")
    parser.add_argument("--layouts", help=f"comma-separated subset of {','.join(LAYOUTS)}")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown for README.md")
    args = parser.parse_args(argv)
    names = args.optimizers.split(",") if args.optimizers else (QUICK_CASES if args.quick else list(CASES_BY_NAME))
    layouts = args.layouts.split(",") if args.layouts else (QUICK_LAYOUTS if args.quick else list(LAYOUTS))
    for value, known, what in ((names, CASES_BY_NAME, "optimizer"), (layouts, LAYOUTS, "layout")):
        unknown = [v for v in value if v not in known]
        if unknown:
            parser.error(f"unknown {what} {unknown}; choose from {', '.join(known)}")
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    args.names, args.layout_names = names, layouts
    args.repeats = args.repeats or (3 if args.quick else 9)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    workloads.set_threads(args.threads)
    cases = [CASES_BY_NAME[n] for n in args.names]
    for case in cases:
        workloads.check_agreement(case)
    bandwidth = triad.measure(args.threads)
    print(header(args.threads, bandwidth), flush=True)

    same_moment = triad.in_place_stepper(args.threads)
    timings = []
    for case, layout in tqdm([(c, l) for c in cases for l in args.layout_names], desc="benchmark", file=sys.stderr):
        workload = workloads.Workload(LAYOUTS[layout])
        steppers = {impl: workload.stepper(case, impl) for impl in workloads.available_impls(case)}
        # Only beside layouts far larger than the caches: streaming 256 MiB would evict a small layout's arrays.
        beside = same_moment is not None and sum(LAYOUTS[layout]) >= 10**7
        if beside:
            steppers["triad"] = same_moment[0]
            if len(LAYOUTS[layout]) == 1:
                steppers["wall"] = triad.same_traffic_stepper(workload.grads[0], case.num_states, args.threads)
        seconds = workloads.time_steps(steppers, args.repeats)
        triad_gbs = same_moment[1] / seconds.pop("triad") / 1e9 if beside else None
        wall = seconds.pop("wall", None)
        timings.append((case, layout, seconds, triad_gbs, wall))
        del steppers, workload
        gc.collect()

    # Measured again at the end; the best whole-run rate is the ceiling only without the native triad.
    after = triad.measure(args.threads)
    ceiling = max(bandwidth.ceiling_gbs, after.ceiling_gbs)
    print(f"          after the optimizers:  {describe(after)}")
    print(f"load avg  {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1, 5, 15 min) at end, this run included")
    rows = [Row(case, layout, seconds, triad_gbs or ceiling, wall) for case, layout, seconds, triad_gbs, wall in timings]
    print(f"\nms per step: median of {args.repeats} rounds after 2 warm-up steps; x = speed-up of fastopt "
          f"(F: over torch fused, d: over torch's CPU default)\n")
    print(plain_table(rows))
    if args.markdown:
        print("\n" + markdown_table(rows))
    print("\nTargets (issues 2 and 15):")
    print("\n".join(check_targets(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
