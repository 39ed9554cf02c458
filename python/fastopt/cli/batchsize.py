"""``fastopt batchsize``: one optimizer at several batch sizes, progress per epoch against per second."""
from __future__ import annotations

import functools
from pathlib import Path

from .. import report, studies
from ..optim import REGISTRY
from .args import DefaultsHelpFormatter, add_data_flags, add_run_flags, batch_sizes, positive_int
from .common import call_study, print_files, print_table, set_threads
from .rates import add_lr_flag, rate_for


def add_command(subparsers) -> None:
    """Declare ``fastopt batchsize`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "batchsize", help="one optimizer at several batch sizes: progress per epoch against per second",
        description="Train the same MLP with one optimizer at each batch size (1: stochastic, 'full': the whole "
                    "training set) into <out>/runs/batch-<size>/, then write batch_size.png (loss and accuracy "
                    "against epochs and wall time) and report.html into <out>. Batch size 1 takes one step per "
                    "sample: keep --limit small.",
        formatter_class=DefaultsHelpFormatter)
    add_data_flags(p, limit_default=2000)
    p.add_argument("--optimizer", choices=list(REGISTRY), default="sgd", help="optimizer by name")
    p.add_argument("--batch-sizes", type=batch_sizes, default="1,64,full", metavar="B1,B2,...",
                   help="batch sizes ('full': the whole training set)")
    p.add_argument("--epochs", type=positive_int, default=3, help="passes over the training set")
    add_lr_flag(p, "fastopt.studies.MNIST_LR's")
    p.add_argument("--out", type=Path, default=Path("batchsize"), help="output folder")
    add_run_flags(p, "128")
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """``fastopt batchsize``: fastopt.studies.batch_size_study.

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
    lr = rate_for(parser, args.lr, args.optimizer)
    set_threads(args)
    status, result = call_study(parser, studies.batch_size_study, optimizer=args.optimizer,
                                batch_sizes=args.batch_sizes, dataset=args.dataset, epochs=args.epochs, out=args.out,
                                lr=lr, hidden=args.hidden, limit=args.limit, seed=args.seed, data=args.data,
                                progress=args.progress)
    if status:
        return status
    print_table(report.results_table({label: training.history for label, training in result.runs.items()}))
    print_files([*result.figures, result.report])
    return 0
