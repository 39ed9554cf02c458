"""``fastopt compare``: one MLP trained per optimizer, then figures and report.html."""
from __future__ import annotations

import functools
from pathlib import Path

from .. import report, studies
from ..optim.schedules import SCHEDULES
from ..optim import REGISTRY
from .args import DefaultsHelpFormatter, add_data_flags, add_run_flags, check_lrs, optimizer_list, positive_int
from .common import call_study, print_table, set_threads
from .rates import add_lr_flag, rates_for


def add_command(subparsers) -> None:
    """Declare ``fastopt compare`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "compare", help="train an MLP with several optimizers and write figures and report.html",
        description="Train the same MLP (same initialisation, same batches) once per optimizer, each into "
                    "<out>/runs/<optimizer>/ (config.json, history.json, history.csv, checkpoint.npz), then write "
                    "history_<optimizer>.png, comparison.png (against epochs and wall time), confusion.png and "
                    "misclassified.png of the best run and report.html (results table: final test accuracy, "
                    "epoch and time to 97% and 98%, time per epoch) into <out>. Learning rates default to "
                    "fastopt.studies.MNIST_LR: "
                    + ", ".join(f"{k} {studies.mnist_lr(k):g}" for k in REGISTRY) + ".",
        formatter_class=DefaultsHelpFormatter)
    add_data_flags(p)
    p.add_argument("--optimizers", type=optimizer_list, default=",".join(studies.COMPARE_OPTIMIZERS), metavar="A,B,...",
                   help="optimizers to compare")
    p.add_argument("--epochs", type=positive_int, default=5, help="passes over the training set")
    p.add_argument("--batch-size", type=positive_int, default=128, help="samples per step")
    add_lr_flag(p, "each optimizer's MNIST rate")
    p.add_argument("--schedule", choices=SCHEDULES, default="constant", help="learning-rate schedule over the epochs")
    p.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    add_run_flags(p, "512,256")
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """``fastopt compare``: the trainings, figures and report of fastopt.studies.compare_study.

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
    args.lr = rates_for(args.lr, args.optimizers)
    check_lrs(parser, args.lr, args.optimizers)
    set_threads(args)
    status, result = call_study(parser, studies.compare_study, optimizers=args.optimizers, dataset=args.dataset,
                                epochs=args.epochs, out=args.out, batch_size=args.batch_size, hidden=args.hidden,
                                lrs=args.lr, limit=args.limit, seed=args.seed, schedule=args.schedule,
                                data=args.data, progress=args.progress)
    if status:
        return status
    print_table(report.results_table({label: training.history for label, training in result.runs.items()}))
    print(f"best: {result.best}; runs in {args.out / 'runs'}; figures and report in {result.report}")
    return 0
