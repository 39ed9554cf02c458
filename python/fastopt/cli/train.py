"""``fastopt train``: fastopt's MLP trained on MNIST or Fashion-MNIST with any fastopt optimizer.

The run folder is written by :func:`fastopt.runs.train_run`, as for ``compare`` and ``batchsize``.
Exit statuses: 0, 1 (the dataset is missing or corrupt), 2 (a bad flag, found before any data is loaded),
3 (the run diverged: a loss that is not finite).
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

from ..checkpoint import RunMismatch
from ..curvature.surface_runs import keep_epoch_checkpoints
from ..datasets import DatasetError
from ..optim import REGISTRY
from ..optim.schedules import by_name
from ..runs import load_data, model_config, train_run
from .args import (
    DefaultsHelpFormatter,
    add_data_flags,
    add_threads_progress_flags,
    int_list,
    percentage,
    positive_int,
)
from .common import set_threads
from .optimizer_flags import add_hyper_flags, flag_of, optimizer_hyper
from .rates import add_lr_flag, rate_for
from .training_flags import RECIPE, add_clip_flags, add_schedule_flags, build_early

DIVERGED = 3  # the exit status of a run whose loss stopped being finite
RESUME_HELP = ("continue the interrupted run from the checkpoint in --out. Give the flags of that run: a flag "
               "that would change it (dataset, --limit, model, --seed, optimizer and its hyperparameters, "
               "--batch-size, --schedule and its flags, clipping, and --epochs unless the schedule is constant) is "
               "refused, "
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
                    "config.json and checkpoint.npz (after every epoch) into --out. The defaults (Adam 1e-3, "
                    f"{RECIPE['schedule']} schedule per {RECIPE['schedule_unit']}, batch 128, hidden 512,256) reach "
                    "98% on MNIST. Exit status 3: the run diverged.",
        formatter_class=DefaultsHelpFormatter)
    add_data_flags(p)
    model = p.add_argument_group("model")
    model.add_argument("--hidden", type=int_list, default=[512, 256], metavar="H1,H2,...",
                       help="hidden layer widths")
    model.add_argument("--activation", default="relu", choices=["relu", "leaky_relu", "tanh", "sigmoid", "gelu"],
                       help="activation of the hidden layers")
    model.add_argument("--init", default="he", choices=["he", "xavier", "glorot", "normal", "zeros"],
                       help="weight initialisation")
    model.add_argument("--dropout", type=float, default=0.0,
                       help="dropout rate of the hidden layers in [0, 1) (training only)")
    run_flags = p.add_argument_group("training")
    run_flags.add_argument("--optimizer", choices=list(REGISTRY), default="adam", help="optimizer by name")
    add_lr_flag(run_flags, "the optimizer's, e.g. 1e-3 for adam")
    run_flags.add_argument("--epochs", type=positive_int, default=10, help="passes over the training set")
    run_flags.add_argument("--batch-size", type=positive_int, default=128,
                           help="samples per step (1: stochastic, the training-set size: full batch; larger than "
                                "the training set: shrunk to it, with a note)")
    add_schedule_flags(run_flags)
    add_clip_flags(run_flags)
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
    args.lr = rate_for(parser, args.lr, args.optimizer)
    hyper = optimizer_hyper(args, parser)
    if args.resume and not (out / "checkpoint.npz").is_file():
        parser.error(f"--resume: no checkpoint at {out / 'checkpoint.npz'}")
    if args.schedule_unit == "epoch":  # (in steps, the run's length is known once the data is)
        _check_schedule(parser, args, args.epochs)
    build_early(parser, args, hyper)  # every model and optimizer flag checked before the data is touched
    set_threads(args)
    try:
        loaded, train, test = load_data(args.dataset, args.data, args.limit, args.progress)
    except DatasetError as e:
        print(f"fastopt train: error: {e}", file=sys.stderr)
        return 1
    batch_size = args.batch_size
    if batch_size > len(train):
        batch_size = len(train)
        print(f"note: --batch-size {args.batch_size} is larger than the {len(train)} training samples; "
              f"using batches of {batch_size} (full batch)", file=sys.stderr)
    if args.schedule_unit == "step":
        _check_schedule(parser, args, args.epochs * -(-len(train) // batch_size))
    config = model_config(loaded, train, args.hidden, args.seed, args.dataset, args.data, args.limit,
                          args.activation, args.init, args.dropout)
    print(f"training {args.optimizer} on {loaded.name} ({len(train)} samples, {args.epochs} epochs, "
          f"{args.schedule} schedule per {args.schedule_unit}) -> {out}")
    target = None if args.target_accuracy is None else args.target_accuracy / 100
    try:
        history = train_run(args.optimizer, args.optimizer, hyper, train, test, config, out, args.epochs,
                            batch_size, args.schedule, args.warmup, target, args.resume, args.progress,
                            callbacks=[keep_epoch_checkpoints(out)] if args.keep_checkpoints else (),
                            schedule_unit=args.schedule_unit, warmup_shape=args.warmup_shape,
                            clip_grad_norm=args.clip_grad_norm, clip_grad_value=args.clip_grad_value,
                            log=True).history
    except RunMismatch as e:
        parser.error(_conflict(e))
    except ValueError as e:  # invalid hyperparameters or model settings, a corrupt checkpoint
        parser.error(str(e))
    if history.stop_reason == "diverged":
        print(f"fastopt train: error: the run diverged at epoch {len(history)} (the training loss is "
              f"{history[-1]['train_loss']}); try a smaller --lr, a warm-up (--warmup) or --clip-grad-norm",
              file=sys.stderr)
        return DIVERGED
    if len(history):
        best = max(history, key=lambda r: r["test_accuracy"])
        print(f"best test accuracy {100 * best['test_accuracy']:.2f}% at epoch {best['epoch']} "
              f"({best['total_time']:.1f} s); stopped: {history.stop_reason}; wrote {out}/history.json, "
              f"history.csv, checkpoint.npz")
    return 0


def _check_schedule(parser, args, units: int) -> None:
    """Exit with status 2 if the schedule flags do not fit a run of ``units`` epochs or steps."""
    try:
        by_name(args.schedule, units, args.warmup, args.warmup_shape)
    except ValueError as e:
        parser.error(f"--schedule {args.schedule} with --warmup {args.warmup} over {units} "
                     f"{args.schedule_unit}s: {e}")
