"""``fastopt tune``: a hyperparameter search on Optuna (grid, random, TPE; pruning), trials in parallel
worker processes or on a Dask or Ray cluster, stored as they finish and resumable with ``--resume``."""
from __future__ import annotations

import argparse
import functools
import sys
from concurrent.futures import BrokenExecutor
from pathlib import Path

from .. import datasets, landscape
from ..optim import REGISTRY
from .args import DefaultsHelpFormatter, add_data_flags, int_list, positive_int
from .common import print_files

EXAMPLES = """examples:
  fastopt tune --dataset mnist --optimizer adam --grid lr=1e-4,3e-4,1e-3,3e-3 --grid batch_size=64,128,256 \\
      --epochs 2 --out tune/
  fastopt tune --dataset mnist --sampler tpe --trials 30 --space lr=loguniform:1e-5:1e-1 \\
      --space optimizer=choice:sgd,adam --space momentum=uniform:0.8:0.99 --pruner median --out tune-tpe/
  fastopt tune --function rosenbrock --optimizer adam --steps 500 --sampler tpe --trials 2000 \\
      --space lr=loguniform:1e-4:1 --out tune-rosenbrock/
  fastopt tune --out tune/ --resume ...the same flags...    (after Ctrl-C or a killed search)
"""


def _entry(kind: str):
    """An argparse type checking one --grid or --space entry at parse time (exit status 2 naming it)."""
    from ..tune.space import parse_grid_param, parse_param
    parse = parse_grid_param if kind == "grid" else parse_param

    def check(text: str) -> str:
        try:
            parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        return text
    check.__name__ = f"{kind} entry"
    return check


def _executor(text: str) -> str:
    from ..tune.executors import check_executor
    try:
        return check_executor(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_command(subparsers) -> None:
    """Declare ``fastopt tune`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    from ..tune.algorithms import PRUNERS, SAMPLERS
    p = subparsers.add_parser(
        "tune", help="hyperparameter search (Optuna): grid, random, TPE, pruning; local processes, Dask or Ray",
        description="Search hyperparameters of an MLP on MNIST (the last epoch's --metric) or of an optimizer on a "
                    "test function (--function: the final loss after --steps steps). Every trial is stored in "
                    "<out>/study.journal as it ends; --resume continues an interrupted search without repeating a "
                    "finished trial. Writes trials.csv, trials.json, best.json and the figures metric_vs_lr.png, "
                    "heatmap.png (grids), history.png and importances.png into --out. Needs 'fastopt[tune]'.",
        epilog=EXAMPLES, formatter_class=type("Formatter", (DefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter),
                                              {}))
    space = p.add_argument_group("search space (give --grid or --space, repeatable)")
    space.add_argument("--grid", action="append", type=_entry("grid"), default=[], metavar="NAME=V1,V2,...",
                       help="a grid parameter: every combination of the --grid values is one trial")
    space.add_argument("--space", action="append", type=_entry("space"), default=[], metavar="NAME=KIND:...",
                       help="a searched parameter: loguniform:LOW:HIGH, uniform:LOW:HIGH, int:LOW:HIGH or "
                            "choice:V1,V2,... Names: lr, batch_size (MNIST), optimizer, or a hyperparameter "
                            "(momentum, weight_decay, beta1, beta2, eps, ...)")
    search = p.add_argument_group("search")
    search.add_argument("--sampler", choices=SAMPLERS, help="grid (default with --grid), random, or tpe (default "
                                                            "with --space)")
    search.add_argument("--trials", type=positive_int, help="trials in the study when done, earlier runs' included "
                                                            "(default: every grid point, or 20)")
    search.add_argument("--pruner", choices=PRUNERS, default="none",
                        help="stop weak trials from their per-epoch values: median or successive halving (MNIST)")
    search.add_argument("--seed", type=int, default=0, help="seeds the sampler and every trial's training")
    search.add_argument("--executor", type=_executor, default="process", metavar="process|dask|dask://HOST:PORT|ray|"
                                                                                 "ray://HOST:PORT",
                        help="where trials run: local worker processes, a local or remote Dask cluster, a local or "
                             "remote Ray cluster (a cluster's workers must reach the store)")
    search.add_argument("--jobs", type=positive_int, help="trials at once on a local executor (default: the cores)")
    search.add_argument("--threads", type=positive_int, help="fastopt threads per trial (default: the cores shared "
                                                             "among the trials at once)")
    search.add_argument("--storage", metavar="URL", help="an Optuna storage URL (sqlite:///..., postgresql://...) "
                                                         "instead of <out>/study.journal")
    search.add_argument("--out", type=Path, default=Path("tune"), help="output folder")
    search.add_argument("--resume", action="store_true", help="continue the search stored in --out (same flags)")
    search.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    search.add_argument("--no-figures", dest="figures", action="store_false", help="result files only")
    objective = p.add_argument_group("objective (MNIST unless --function)")
    objective.add_argument("--optimizer", choices=list(REGISTRY), default="adam",
                           help="optimizer of every trial unless 'optimizer' is searched")
    objective.add_argument("--function", choices=landscape.functions(), metavar="NAME",
                           help=f"tune on a test function instead: {', '.join(landscape.functions())}")
    objective.add_argument("--steps", type=positive_int, default=1000, help="steps per path (--function)")
    objective.add_argument("--noise", type=float, default=0.0, help="gradient noise (--function)")
    objective.add_argument("--epochs", type=positive_int, default=2, help="epochs per trial (MNIST)")
    objective.add_argument("--batch-size", type=positive_int, default=128, help="unless batch_size is searched")
    objective.add_argument("--hidden", type=int_list, default=[512, 256], metavar="H1,H2,...",
                           help="hidden layer widths (MNIST)")
    objective.add_argument("--schedule", default="cosine", choices=["constant", "step", "exponential", "cosine"],
                           help="learning-rate schedule over each trial's epochs (MNIST)")
    objective.add_argument("--metric", choices=["test_accuracy", "test_loss", "train_loss"], default="test_accuracy",
                           help="what a trial optimises (MNIST; accuracy is maximised, losses minimised)")
    add_data_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """``fastopt tune``: fastopt.tune.search with the flags' objective and space.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The command's parser: bad flags, spaces and resumes exit through it with status 2.

    Returns
    -------
    int
        0; 1 when the dataset is missing, a worker died or every trial failed; 130 when interrupted (both:
        continue with --resume).
    """
    try:
        from ..tune import LandscapeObjective, MnistObjective, parse_grid, parse_space, search
    except ImportError as e:
        print(f"fastopt tune: error: {e}", file=sys.stderr)
        return 1
    if bool(args.grid) == bool(args.space):
        parser.error("give the parameters to search with --grid NAME=V1,V2,... or --space NAME=KIND:..., not both "
                     "and not neither")
    try:
        space = parse_grid(args.grid) if args.grid else parse_space(args.space)
        if args.function is not None:
            objective = LandscapeObjective(optimizer=args.optimizer, function=args.function, steps=args.steps,
                                           noise=args.noise, seed=args.seed)
        else:
            objective = MnistObjective(optimizer=args.optimizer, dataset=args.dataset,
                                       data=None if args.data is None else str(args.data), limit=args.limit,
                                       hidden=tuple(args.hidden), epochs=args.epochs, batch_size=args.batch_size,
                                       schedule=args.schedule, seed=args.seed, metric=args.metric)
            datasets.load(args.dataset, args.data, progress=args.progress)  # a missing dataset fails here, once
        result = search(objective, space, args.out, sampler=args.sampler, trials=args.trials, pruner=args.pruner,
                        executor=args.executor, jobs=args.jobs, threads=args.threads, storage=args.storage,
                        seed=args.seed, resume=args.resume, progress=args.progress, figures=args.figures)
    except datasets.DatasetError as e:
        print(f"fastopt tune: error: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        parser.error(str(e))
    except BrokenExecutor as e:  # a worker died (killed, out of memory): its trial is re-run on resume
        print(f"fastopt tune: error: a worker stopped ({e}); the finished trials are stored in {args.out}. "
              "Continue with the same flags and --resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nfastopt tune: interrupted; the finished trials are stored in {args.out}. Continue with the same "
              "flags and --resume", file=sys.stderr)
        return 130
    for number, error in sorted(result.errors.items()):
        print(f"trial {number} failed: {error}", file=sys.stderr)
    if result.best is None:
        print("fastopt tune: error: no trial completed", file=sys.stderr)
        return 1
    params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.best["params"].items())
    print(f"best {result.best['metric']} {result.best['value']:.6g}: {params} (trial {result.best['number']}; "
          f"{result.ran} run now, {len(result.study.trials)} stored)")
    print_files(result.files)
    return 0
