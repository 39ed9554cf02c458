"""``fastopt logreg``: L-BFGS, BFGS, CG, Newton-CG and full-batch Adam on MNIST softmax regression."""
from __future__ import annotations

import argparse
import functools
from pathlib import Path

from ..studies.logistic import ADAM_LRS, available_methods, logistic_study
from .args import (DefaultsHelpFormatter, add_data_flags, add_threads_progress_flags, float_list, positive_float,
                   positive_int)
from .common import call_study, print_files, print_table, set_threads


def method_list(text: str) -> list[str]:
    """``"lbfgs,adam"`` -> ``["lbfgs", "adam"]``: names of :func:`fastopt.studies.logistic.available_methods`.

    Parameters
    ----------
    text : str
        Method names separated by commas.
    """
    names = [t.strip() for t in text.split(",") if t.strip()]
    known = available_methods()
    bad = [n for n in names if n not in known]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"unknown method(s) {', '.join(bad) or repr(text)}; choose from "
                                         f"{', '.join(known)}")
    return names


def add_command(subparsers) -> None:
    """Declare ``fastopt logreg`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "logreg", help="second-order methods against Adam on MNIST softmax regression (loss against time/evals)",
        description="Minimise multinomial logistic regression on MNIST (7,850 parameters, value, gradient and "
                    "Hessian-vector products in C++) from zero with each method, each run capped by iterations "
                    "and a time budget, and write logreg_time.png and logreg_evals.png (training loss above the "
                    "best reached, and test accuracy, against wall time and against evaluations), logreg.json "
                    "(summary, BFGS's measured cost) and logreg.csv (every iterate) into <out>. Methods: "
                    + ", ".join(available_methods()) + ".",
        formatter_class=DefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("logreg"), help="output folder")
    p.add_argument("--quick", action="store_true",
                   help="CI-sized: 2,000 samples, 2 s and 30 iterations per run (under ~30 s in all)")
    p.add_argument("--methods", type=method_list, default=",".join(available_methods()), metavar="A,B,...",
                   help="methods to run ('adam' runs once per --adam-lrs rate)")
    p.add_argument("--adam-lrs", type=float_list, default=",".join(f"{lr:g}" for lr in ADAM_LRS),
                   metavar="LR1,LR2,...", help="Adam's full-batch learning rates")
    p.add_argument("--l2", type=float, default=1e-4, help="weight decay (on W, not b)")
    p.add_argument("--time-limit", type=positive_float, metavar="SECONDS",
                   help="time budget per run (default 60, 2 with --quick)")
    p.add_argument("--max-iter", type=positive_int, help="iterations per run (default 1000, Adam 20x; 30 with --quick)")
    p.add_argument("--bfgs-max-iter", type=positive_int, help="BFGS's iterations (default 300, 15 with --quick)")
    p.add_argument("--dpi", type=positive_float, default=100, help="figure resolution")
    add_data_flags(p, choose_dataset=False)
    add_threads_progress_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """``fastopt logreg``: fastopt.studies.logistic.logistic_study, then its table and files.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The command's parser, which reports bad flags (exit status 2).

    Returns
    -------
    int
        The exit status (1: the dataset is missing).
    """
    set_threads(args)
    if args.l2 < 0 or args.l2 != args.l2 or args.l2 == float("inf"):
        parser.error(f"argument --l2: expected a finite number >= 0, got {args.l2}")
    status, result = call_study(parser, logistic_study, out=args.out, methods=args.methods, quick=args.quick,
                                limit=args.limit, l2=args.l2, time_limit=args.time_limit, max_iter=args.max_iter,
                                bfgs_max_iter=args.bfgs_max_iter, adam_lrs=args.adam_lrs, data=args.data,
                                progress=args.progress, dpi=args.dpi)
    if status:
        return status
    print_table(result.table())
    if result.bfgs_cost:
        c = result.bfgs_cost
        print(f"BFGS: H is {c['H_megabytes']:.0f} MB (peak memory grew {c['peak_rss_growth_megabytes']:.0f} MB); "
              f"{1e3 * c['seconds_per_iteration']:.0f} ms per iteration, {100 * c['objective_share']:.0f}% in the "
              f"objective; its own work {1e3 * c['method_seconds_per_iteration']:.0f} ms per iteration "
              f"({c['streamed_gb_per_s']:.1f} GB/s over the 1.5 n^2 doubles an update streams)")
    print_files(result.files)
    return 0
