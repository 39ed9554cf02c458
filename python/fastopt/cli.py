"""The ``fastopt`` command line.

Each subcommand is one ``add_<name>_command(subparsers)`` function that declares its flags and sets
``run`` to its ``run_<name>(args, parser) -> exit status`` (bound to its own parser, so errors are
reported as ``fastopt <name>: error: ...``); :data:`COMMANDS` lists them, so a new subcommand
is one new pair of functions and one entry there.  Invalid flags exit with status 2 and a message
naming the flag (argparse's convention); a missing or corrupt dataset exits with status 1.
"""
from __future__ import annotations

import argparse
import functools
import inspect
import json
import sys
from pathlib import Path

from . import datasets
from .datasets import DatasetError, atomic_write
from .optim import OPTIMIZERS, create
from .optim.schedules import SCHEDULES, by_name
from .train import fit


# ---------------------------------------------------------------------------------------------- flag types
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def int_list(text: str) -> list[int]:
    """``"512,256"`` -> ``[512, 256]`` (an empty string: no hidden layer)."""
    return [positive_int(t) for t in text.split(",")] if text.strip() else []


def float_pair(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        if len(parts) == 2:
            return float(parts[0]), float(parts[1])
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected two numbers separated by a comma (e.g. 0.9,0.999), got {text!r}")


def percentage(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 100.0:
        raise argparse.ArgumentTypeError(f"expected a percentage in (0, 100], got {text!r}")
    return value


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows the defaults that are values, not those that mean "unset" (None) or on/off switches."""

    def _get_help_string(self, action):
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


# ---------------------------------------------------------------------------------------------- optimizers
# Optimizer hyperparameter flags: flag -> (constructor keyword, type or "flag", help).  A flag given
# to an optimizer whose constructor has no such keyword is an error, not silently ignored.
HYPER_FLAGS = {
    "--momentum": ("momentum", float, "momentum factor (sgd, momentum, nesterov, rmsprop)"),
    "--dampening": ("dampening", float, "dampening of the momentum (sgd)"),
    "--nesterov": ("nesterov", "flag", "Nesterov momentum (sgd)"),
    "--betas": ("betas", float_pair, "B1,B2: coefficients of the running averages (adam family, lion, ranger)"),
    "--beta1": ("betas", float, "first beta alone (the second keeps its default)"),
    "--beta2": ("betas", float, "second beta alone (the first keeps its default)"),
    "--eps": ("eps", float, "term added to the denominator for numerical stability"),
    "--weight-decay": ("weight_decay", float, "weight decay (L2, or decoupled for adamw)"),
    "--decoupled-weight-decay": ("decoupled_weight_decay", "flag", "decoupled weight decay (nadam, radam)"),
    "--amsgrad": ("amsgrad", "flag", "AMSGrad variant (adam, adamw)"),
    "--alpha": ("alpha", float, "smoothing constant (rmsprop) or Lookahead's interpolation (ranger)"),
    "--centered": ("centered", "flag", "centered RMSprop"),
    "--rho": ("rho", float, "coefficient of the running averages (adadelta)"),
    "--lr-decay": ("lr_decay", float, "learning-rate decay (adagrad)"),
    "--initial-accumulator-value": ("initial_accumulator_value", float, "starting value of the sums (adagrad)"),
    "--momentum-decay": ("momentum_decay", float, "momentum decay (nadam)"),
    "--k": ("k", positive_int, "fast steps between Lookahead syncs (ranger)"),
}


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def optimizer_keywords(name: str) -> dict[str, inspect.Parameter]:
    """The hyperparameters the optimizer called ``name`` accepts, with their defaults."""
    cls, _ = OPTIMIZERS[name]
    return {k: p for k, p in inspect.signature(cls.__init__).parameters.items() if k not in ("self", "params")}


def optimizer_hyper(args, parser) -> dict:
    """The hyperparameters given on the command line for ``args.optimizer``; errors exit with status 2."""
    accepted = optimizer_keywords(args.optimizer)
    hyper = {} if args.lr is None else {"lr": args.lr}
    for flag, (keyword, _, _) in HYPER_FLAGS.items():
        value = getattr(args, _dest(flag))
        if value is None:
            continue
        if keyword not in accepted:
            takes = ["--lr"] + [f for f, (k, _, _) in HYPER_FLAGS.items() if k in accepted]
            parser.error(f"{flag} does not apply to optimizer {args.optimizer!r} (it takes {', '.join(takes)})")
        if flag in ("--beta1", "--beta2"):
            if args.betas is not None:
                parser.error(f"{flag} and --betas both given; use one or the other")
            betas = list(hyper.get("betas", accepted["betas"].default))
            betas[flag == "--beta2"] = value
            value = tuple(betas)
        hyper[keyword] = value
    return hyper


# ---------------------------------------------------------------------------------------------- train
def make_model(args):
    """The network trained by ``fastopt train``: fastopt.nn.MLP over 784 inputs and 10 classes."""
    from .nn import MLP  # the compiled network; imported here so the other commands work without it
    return MLP(sizes=[784, *args.hidden, 10], activation=args.activation, init=args.init, dropout=args.dropout,
               seed=args.seed)


def add_train_command(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train an MLP on MNIST or Fashion-MNIST",
        description="Train fastopt's MLP with any fastopt optimizer. Writes history.json, history.csv, "
                    "config.json and checkpoint.npz (after every epoch) into --out. The defaults (Adam 1e-3 with "
                    "a cosine decay over 10 epochs, batch 128, hidden 512,256) reach 98% on MNIST.",
        formatter_class=DefaultsHelpFormatter)
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=list(datasets.DATASETS), default="mnist", help="which dataset")
    data.add_argument("--data", metavar="PATH", help="folder holding the IDX files (searched before $FASTOPT_DATA, "
                                                     "~/.cache/fastopt and /usr/share/datasets)")
    data.add_argument("--limit", type=positive_int, metavar="N",
                      help="use only the first N training and N test samples (quick runs)")
    model = p.add_argument_group("model")
    model.add_argument("--hidden", type=int_list, default=[512, 256], metavar="H1,H2,...",
                       help="hidden layer widths")
    model.add_argument("--activation", default="relu", choices=["relu", "leaky_relu", "tanh", "sigmoid", "gelu"],
                       help="activation of the hidden layers")
    model.add_argument("--init", default="he", choices=["he", "xavier", "glorot", "normal", "zeros"],
                       help="weight initialisation")
    model.add_argument("--dropout", type=float, default=0.0, help="dropout rate of the hidden layers (training only)")
    run = p.add_argument_group("training")
    run.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam", help="optimizer by name")
    run.add_argument("--lr", type=float, help="learning rate (default: the optimizer's, e.g. 1e-3 for adam)")
    run.add_argument("--epochs", type=positive_int, default=10, help="passes over the training set")
    run.add_argument("--batch-size", type=positive_int, default=128,
                     help="samples per step (1: stochastic, the training-set size: full batch)")
    run.add_argument("--schedule", choices=SCHEDULES, default="cosine", help="learning-rate schedule over the epochs")
    run.add_argument("--warmup", type=int, default=0, metavar="EPOCHS", help="epochs of linear warmup")
    run.add_argument("--seed", type=int, default=0, help="seeds the initialisation, dropout and shuffling")
    run.add_argument("--target-accuracy", type=percentage, metavar="PERCENT",
                     help="stop once the test accuracy reaches this percentage")
    run.add_argument("--threads", type=positive_int, help="threads of fastopt's native code")
    run.add_argument("--out", type=Path, help="output folder (default: runs/<optimizer>)")
    run.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    run.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars or summaries")
    hyper = p.add_argument_group("optimizer hyperparameters (default: the optimizer's own)")
    for flag, (_, kind, text) in HYPER_FLAGS.items():
        if kind == "flag":
            hyper.add_argument(flag, action="store_const", const=True, help=text)
        else:
            hyper.add_argument(flag, type=kind, help=text, metavar=flag.lstrip("-").upper().replace("-", "_"))
    p.set_defaults(run=functools.partial(run_train, parser=p))  # errors then read "fastopt train: error: ..."


def run_train(args, parser) -> int:
    """``fastopt train``: build the data, model, optimizer and schedule from the flags and fit."""
    out = args.out if args.out is not None else Path("runs") / args.optimizer
    checkpoint = out / "checkpoint.npz"
    hyper = optimizer_hyper(args, parser)
    if args.resume and not checkpoint.is_file():
        parser.error(f"--resume: no checkpoint at {checkpoint}")
    try:
        schedule = by_name(args.schedule, args.epochs, args.warmup)
    except ValueError as e:
        parser.error(f"--warmup: {e}")
    if args.threads is not None:
        from . import set_num_threads
        set_num_threads(args.threads)
    try:
        data = datasets.load(args.dataset, args.data, progress=args.progress)
    except DatasetError as e:
        print(f"fastopt train: error: {e}", file=sys.stderr)
        return 1
    train, test = data.train, data.test
    if args.limit is not None:
        train, test = train.take(slice(0, args.limit)), test.take(slice(0, args.limit))
    if args.batch_size > len(train):
        parser.error(f"--batch-size {args.batch_size} is larger than the {len(train)} training samples")
    try:
        model = make_model(args)
        optimizer = create(args.optimizer, model.params, **hyper)
    except (TypeError, ValueError) as e:
        parser.error(str(e))

    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "run"}
    with atomic_write(out / "config.json") as tmp:
        tmp.write_text(json.dumps({**config, "out": str(out), "hyper": hyper}, indent=1))
    if args.progress:
        print(f"training {args.optimizer} on {data.name} ({len(train)} samples, {args.epochs} epochs) -> {out}")
    try:
        history = fit(model, optimizer, train, test, epochs=args.epochs, batch_size=args.batch_size,
                      schedule=schedule, seed=args.seed, checkpoint=checkpoint, resume=args.resume,
                      target_accuracy=None if args.target_accuracy is None else args.target_accuracy / 100,
                      progress=args.progress)
    except ValueError as e:  # a checkpoint from another run, which --resume cannot continue
        parser.error(str(e))
    history.to_json(out / "history.json")
    history.to_csv(out / "history.csv")
    if args.progress and len(history):
        best = max(history, key=lambda r: r["test_accuracy"])
        print(f"best test accuracy {100 * best['test_accuracy']:.2f}% at epoch {best['epoch']} "
              f"({best['total_time']:.1f} s); stopped: {history.stop_reason}; wrote {out}/history.json, "
              f"history.csv, checkpoint.npz")
    return 0


# ---------------------------------------------------------------------------------------------- main
COMMANDS = (add_train_command,)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    parser = argparse.ArgumentParser(prog="fastopt", description="fastopt: fast, visible, understood optimizers.")
    parser.add_argument("--version", action="version", version=f"fastopt {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``fastopt`` script; returns the exit status (2 for invalid flags)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
