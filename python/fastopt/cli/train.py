"""``fastopt train``: fastopt's MLP trained on MNIST or Fashion-MNIST with any fastopt optimizer.

The run folder is written by :func:`fastopt.runs.train_run`, as for ``compare`` and ``batchsize``.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

from ..checkpoint import RunMismatch
from ..curvature.surface_runs import keep_epoch_checkpoints
from ..datasets import DatasetError
from ..optim import REGISTRY
from ..optim.schedules import SCHEDULES, by_name
from ..runs import load_data, model_config, train_run
from .args import (
    DefaultsHelpFormatter,
    add_data_flags,
    add_hyper_flags,
    add_threads_progress_flags,
    flag_of,
    int_list,
    optimizer_hyper,
    percentage,
    positive_int,
)
from .common import set_threads

RESUME_HELP = ("continue the interrupted run from the checkpoint in --out. Give the flags of that run: a flag "
               "that would change it (dataset, --limit, model, --seed, optimizer and its hyperparameters, "
               "--batch-size, --schedule, --warmup, and --epochs unless the schedule is constant) is refused, "
               "naming the flag and both values; --target-accuracy, --data, --threads and --no-progress may change")
# Run settings that no flag of their own sets: the flag that decides them.
SETTING_FLAGS = {"inputs": "--dataset", "classes": "--dataset", "n_train": "--limit"}


def add_command(subparsers) -> None:
    """Declare ``fastopt train`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "train", help="train an MLP on MNIST or Fashion-MNIST",
        description="Train fastopt's MLP with any fastopt optimizer. Writes history.json, history.csv, "
                    "config.json and checkpoint.npz (after every epoch) into --out. The defaults (Adam 1e-3 with "
                    "a cosine decay over 10 epochs, batch 128, hidden 512,256) reach 98% on MNIST.",
        formatter_class=DefaultsHelpFormatter)
    add_data_flags(p)
    model = p.add_argument_group("model")
    model.add_argument("--hidden", type=int_list, default=[512, 256], metavar="H1,H2,...",
                       help="hidden layer widths")
    model.add_argument("--activation", default="relu", choices=["relu", "leaky_relu", "tanh", "sigmoid", "gelu"],
                       help="activation of the hidden layers")
    model.add_argument("--init", default="he", choices=["he", "xavier", "glorot", "normal", "zeros"],
                       help="weight initialisation")
    model.add_argument("--dropout", type=float, default=0.0, help="dropout rate of the hidden layers (training only)")
    run_flags = p.add_argument_group("training")
    run_flags.add_argument("--optimizer", choices=list(REGISTRY), default="adam", help="optimizer by name")
    run_flags.add_argument("--lr", type=float, help="learning rate (default: the optimizer's, e.g. 1e-3 for adam)")
    run_flags.add_argument("--epochs", type=positive_int, default=10, help="passes over the training set")
    run_flags.add_argument("--batch-size", type=positive_int, default=128,
                           help="samples per step (1: stochastic, the training-set size: full batch)")
    run_flags.add_argument("--schedule", choices=SCHEDULES, default="cosine",
                           help="learning-rate schedule over the epochs")
    run_flags.add_argument("--warmup", type=int, default=0, metavar="EPOCHS", help="epochs of linear warmup")
    run_flags.add_argument("--seed", type=int, default=0, help="seeds the initialisation, dropout and shuffling")
    run_flags.add_argument("--target-accuracy", type=percentage, metavar="PERCENT",
                           help="stop once the test accuracy reaches this percentage")
    run_flags.add_argument("--out", type=Path, help="output folder (default: runs/<optimizer>)")
    run_flags.add_argument("--resume", action="store_true", help=RESUME_HELP)
    run_flags.add_argument("--keep-checkpoints", action="store_true",
                           help="also keep every epoch's checkpoint in --out/checkpoints/ (the path that "
                                "'fastopt surface --kind pca' draws)")
    add_threads_progress_flags(run_flags)
    add_hyper_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p))  # errors then read "fastopt train: error: ..."


def _conflict(e: RunMismatch) -> str:
    """The message of a flag that would change the checkpoint's run, naming the flag and both values."""
    flag = SETTING_FLAGS.get(e.key) or flag_of(e.key)
    return (f"{flag} conflicts with the checkpoint's run: {e}. --resume continues that run with its own "
            f"settings: give {flag} as it was, or train into another --out")


def run(args, parser) -> int:
    """``fastopt train``: the data, model, optimizer and schedule from the flags, trained into ``--out``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The command's parser: invalid flags, and checkpoints that ``--resume`` cannot continue (missing,
        corrupt, or of another run), exit through it with status 2.

    Returns
    -------
    int
        The exit status (1: the dataset is missing or corrupt).
    """
    out = args.out if args.out is not None else Path("runs") / args.optimizer
    hyper = optimizer_hyper(args, parser)
    if args.resume and not (out / "checkpoint.npz").is_file():
        parser.error(f"--resume: no checkpoint at {out / 'checkpoint.npz'}")
    try:
        by_name(args.schedule, args.epochs, args.warmup)
    except ValueError as e:
        parser.error(f"--warmup: {e}")
    set_threads(args)
    try:
        loaded, train, test = load_data(args.dataset, args.data, args.limit, args.progress)
    except DatasetError as e:
        print(f"fastopt train: error: {e}", file=sys.stderr)
        return 1
    if args.batch_size > len(train):
        parser.error(f"--batch-size {args.batch_size} is larger than the {len(train)} training samples")
    config = model_config(loaded, train, args.hidden, args.seed, args.dataset, args.data, args.limit,
                          args.activation, args.init, args.dropout)
    if args.progress:
        print(f"training {args.optimizer} on {loaded.name} ({len(train)} samples, {args.epochs} epochs) -> {out}")
    target = None if args.target_accuracy is None else args.target_accuracy / 100
    try:
        history = train_run(args.optimizer, args.optimizer, hyper, train, test, config, out, args.epochs,
                            args.batch_size, args.schedule, args.warmup, target, args.resume, args.progress,
                            callbacks=[keep_epoch_checkpoints(out)] if args.keep_checkpoints else ()).history
    except RunMismatch as e:
        parser.error(_conflict(e))
    except ValueError as e:  # invalid hyperparameters or model settings, a corrupt checkpoint
        parser.error(str(e))
    if args.progress and len(history):
        best = max(history, key=lambda r: r["test_accuracy"])
        print(f"best test accuracy {100 * best['test_accuracy']:.2f}% at epoch {best['epoch']} "
              f"({best['total_time']:.1f} s); stopped: {history.stop_reason}; wrote {out}/history.json, "
              f"history.csv, checkpoint.npz")
    return 0
