"""``fastopt lr-find``: the learning-rate range test (fastopt.lr_find) on fastopt's MLP, with its figure."""
from __future__ import annotations

import functools
import json
import math
import sys
from pathlib import Path

from .. import nn
from ..datasets import DatasetError
from ..lr_find import RULES, lr_find
from ..optim import REGISTRY, create, entry
from ..runs import load_data
from .args import (
    DefaultsHelpFormatter,
    add_data_flags,
    add_threads_progress_flags,
    check_figure_path,
    int_list,
    positive_float,
    positive_int,
)
from .common import set_threads
from .optimizer_flags import add_hyper_flags, optimizer_hyper


def add_command(subparsers) -> None:
    """Declare ``fastopt lr-find`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "lr-find", help="learning-rate range test: the loss against an exponentially growing rate",
        description="Train for --steps mini-batches while the learning rate grows exponentially from --start-lr to "
                    "--end-lr, stop once the smoothed loss passes 4x its minimum, and suggest a rate (--rule; valley: "
                    "half-way down the longest decreasing stretch of the smoothed loss, fastai's rule). Writes the "
                    "figure to --out and the curve and suggestions to the same name with .json. Smith (2017); "
                    "fastai's lr_find.",
        formatter_class=DefaultsHelpFormatter)
    add_data_flags(p)
    p.add_argument("--optimizer", choices=list(REGISTRY), default="adam", help="optimizer by name")
    p.add_argument("--start-lr", type=positive_float, default=1e-7, help="first rate of the sweep")
    p.add_argument("--end-lr", type=positive_float, default=10.0, help="last rate of the sweep")
    p.add_argument("--steps", type=positive_int, default=100, help="mini-batches of the full sweep (>= 3)")
    p.add_argument("--batch-size", type=positive_int, default=128, help="samples per step")
    p.add_argument("--rule", choices=RULES, default="valley", help="how the suggestion is chosen")
    p.add_argument("--hidden", type=int_list, default=[512, 256], metavar="H1,H2,...", help="hidden layer widths")
    p.add_argument("--seed", type=int, default=0, help="seeds the initialisation and the batches")
    p.add_argument("--out", type=Path, default=Path("lrfind.png"), help="figure file, .png or .svg")
    add_threads_progress_flags(p)
    add_hyper_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p), lr=None)


def run(args, parser) -> int:
    """``fastopt lr-find``: the range test, its figure and its JSON.

    Parameters
    ----------
    args : argparse.Namespace
    parser : argparse.ArgumentParser

    Returns
    -------
    int
        0, or 1 if the dataset is missing or corrupt; bad flags exit with status 2 before any data is loaded.
    """
    check_figure_path(parser, "--out", args.out)
    if args.start_lr >= args.end_lr:
        parser.error(f"--start-lr {args.start_lr:g} must be below --end-lr {args.end_lr:g}")
    if args.steps < 3:
        parser.error(f"--steps {args.steps}: the sweep needs at least 3 steps")
    if entry(args.optimizer).takes_model:
        parser.error(f"--optimizer {args.optimizer}: the range test runs first-order optimizers")
    hyper = optimizer_hyper(args, parser)
    try:
        model = nn.MLP([784, *args.hidden, 10], seed=args.seed)
        optimizer = create(args.optimizer, model.params, **hyper)
    except (TypeError, ValueError) as e:
        parser.error(str(e))
    set_threads(args)
    try:
        _, train, _ = load_data(args.dataset, args.data, args.limit, args.progress)
    except DatasetError as e:
        print(f"fastopt lr-find: error: {e}", file=sys.stderr)
        return 1
    batch_size = min(args.batch_size, len(train))
    print(f"lr-find: {args.optimizer} on {args.dataset} ({len(train)} samples), rates {args.start_lr:g} to "
          f"{args.end_lr:g} over {args.steps} steps of {batch_size}")
    result = lr_find(model, optimizer, train, start_lr=args.start_lr, end_lr=args.end_lr, num_steps=args.steps,
                     batch_size=batch_size, rule=args.rule, seed=args.seed, progress=args.progress)
    from .. import plots
    plots.lr_find(result, save=args.out)
    data = args.out.with_suffix(".json")
    data.write_text(json.dumps({"optimizer": args.optimizer, "rule": result.rule, "suggestion": result.suggestion,
                                "suggestions": result.suggestions, "stop_reason": result.stop_reason,
                                "lrs": result.lrs, "losses": _finite(result.losses),
                                "smoothed": _finite(result.smoothed)}, indent=1))
    shown = "none (too few steps before divergence)" if result.suggestion is None else f"{result.suggestion:.3g}"
    print(f"{len(result.lrs)} steps, stopped: {result.stop_reason}; suggested lr ({result.rule}): {shown}; "
          + ", ".join(f"{r} {v:.3g}" for r, v in result.suggestions.items() if v is not None))
    print(f"wrote {args.out}, {data}")
    return 0


def _finite(values) -> list:
    """The values with NaN and Inf as None (JSON has no such numbers)."""
    return [v if math.isfinite(v) else None for v in values]
