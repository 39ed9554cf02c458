"""``fastopt hessian``: the Hessian spectrum of trained networks (``fastopt train`` run folders): top
eigenvalues by Lanczos, the trace by Hutchinson's estimator with its standard error, and the eigenvalue
density by stochastic Lanczos quadrature, drawn on a log scale; several runs share one density figure.
Writes ``density.png`` and ``hessian.json`` (the numbers, one record per run) into ``--out``.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

from ..atomic import atomic_write
from ..studies.sharpness import KINDS, SPLITS, hessian_of_run
from .args import (
    DefaultsHelpFormatter,
    add_threads_progress_flags,
    positive_float,
    positive_int,
)
from .common import call_study, print_files, set_threads

QUICK = {"samples": 500, "trace_samples": 10, "lanczos_steps": 20}
DESCRIPTION = ("The Hessian spectrum of trained networks: top eigenvalues (Lanczos with full reorthogonalisation), "
               "the trace (Hutchinson, with its standard error) and the eigenvalue density (stochastic Lanczos "
               "quadrature, log scale) of the mean loss over the first --samples samples of the run's training "
               "split (or of --dataset for a model file written by MLP.save). Several RUN_DIRs share one density "
               "figure. Writes density.png and hessian.json into --out.")


def add_command(subparsers) -> None:
    """Declare ``fastopt hessian`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser("hessian", help="Hessian spectrum of trained runs (eigenvalues, trace, density)",
                              description=DESCRIPTION, formatter_class=DefaultsHelpFormatter)
    p.add_argument("folders", type=Path, nargs="+", metavar="RUN_DIR",
                   help="run folder(s) of fastopt train (config.json, checkpoint.npz), or model files written "
                        "by MLP.save")
    p.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist",
                   help="the dataset of a model file (a run folder names its own)")
    p.add_argument("--samples", type=positive_int, default=10000, help="samples the loss averages (the first N)")
    p.add_argument("--split", choices=SPLITS, default="train", help="which split's loss")
    p.add_argument("--kind", choices=KINDS, default="hessian",
                   help="the exact Hessian, the Gauss-Newton matrix, or the empirical Fisher")
    p.add_argument("--top-k", type=positive_int, default=5, help="top eigenvalues")
    p.add_argument("--tol", type=positive_float, default=1e-3, help="relative tolerance of the eigenvalues")
    p.add_argument("--smallest", action="store_true",
                   help="also the most negative eigenvalue and |lambda_min / lambda_max| (Li et al. 2018)")
    p.add_argument("--trace-samples", type=int, default=100, help="Hutchinson probes (0: no trace)")
    p.add_argument("--lanczos-steps", type=positive_int, default=100, help="Lanczos steps of each density run")
    p.add_argument("--density-runs", type=int, default=1, help="SLQ start vectors (0: no density)")
    p.add_argument("--batch-size", type=positive_int, default=1000, help="samples per native product call")
    p.add_argument("--seed", type=int, default=0, help="seeds the random vectors")
    p.add_argument("--out", type=Path, default=Path("hessian"), help="output folder")
    p.add_argument("--data", metavar="PATH", help="folder holding the dataset's IDX files (default: the run's)")
    p.add_argument("--quick", action="store_true",
                   help=f"a smoke run: at most {QUICK['samples']} samples, {QUICK['trace_samples']} probes and "
                        f"{QUICK['lanczos_steps']} Lanczos steps")
    add_threads_progress_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p))


def _label(folder: Path, folders) -> str:
    names = [f.name for f in folders]
    return folder.name if names.count(folder.name) == 1 else str(folder)


def _measure(args) -> tuple[list, dict]:
    """Each run's spectrum, printed as it comes: (JSON records, densities by label)."""
    records, densities = [], {}
    for folder in args.folders:
        summary, about = hessian_of_run(
            folder, args.samples, args.split, args.kind, args.batch_size, args.data, args.progress, args.dataset,
            k=args.top_k, tol=args.tol, trace_samples=args.trace_samples, lanczos_steps=args.lanczos_steps,
            runs=args.density_runs, smallest=args.smallest, seed=args.seed)
        records.append({**about, **summary.to_dict()})
        if summary.density is not None:
            densities[_label(folder, args.folders)] = summary.density
        line = f"{folder}: top eigenvalues {', '.join(f'{v:.5g}' for v in summary.eigenvalues)}"
        if summary.trace is not None:
            line += f"; trace {summary.trace.value:.5g} +- {summary.trace.stderr:.2g}"
        if summary.bottom is not None:
            line += f"; lambda_min {summary.bottom.values[0]:.5g}"
        print(f"{line} ({about['samples']} {args.split} samples, {sum(summary.seconds.values()):.1f} s)")
    return records, densities


def run(args, parser) -> int:
    """``fastopt hessian``: measure each run's spectrum, print it, draw the densities, write the numbers.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The command's parser: a folder that is not a run, or a bad count, exits with status 2.

    Returns
    -------
    int
        The exit status (1: the dataset is missing or corrupt).
    """
    if args.quick:
        for name, most in QUICK.items():
            setattr(args, name, min(getattr(args, name), most))
    for flag in ("trace_samples", "density_runs"):
        if getattr(args, flag) < 0:
            parser.error(f"--{flag.replace('_', '-')}: must be >= 0, got {getattr(args, flag)}")
    set_threads(args)
    status, measured = call_study(parser, _measure, args=args)
    if status:
        return status
    records, densities = measured
    args.out.mkdir(parents=True, exist_ok=True)
    files = []
    if densities:
        from ..plots.spectrum import spectral_density
        files.append(args.out / "density.png")
        what = {"hessian": "Hessian", "ggn": "Gauss-Newton matrix", "fisher": "empirical Fisher"}[args.kind]
        spectral_density(densities, title=f"{what} eigenvalue density ({records[0]['samples']} {args.split} samples)",
                         save=files[-1])
    files.append(args.out / "hessian.json")
    with atomic_write(files[-1]) as tmp:
        tmp.write_text(json.dumps(records, indent=1))
    print_files(files)
    return 0
