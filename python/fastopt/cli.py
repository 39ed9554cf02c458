"""The ``fastopt`` command line: ``train``, ``landscape``, ``compare``, ``batchsize`` and ``plot``.

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

from . import datasets, studies
from .atomic import atomic_write
from .datasets import DatasetError
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


def float_list(text: str) -> list[float]:
    """``"1e-3,1e-2"`` -> ``[0.001, 0.01]``: positive numbers."""
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            value = -1.0
        if not (value > 0 and value != float("inf")):
            raise argparse.ArgumentTypeError(f"expected positive numbers separated by commas, got {part!r}")
        values.append(value)
    return values


def optimizer_list(text: str) -> list[str]:
    """``"sgd,adam"`` -> ``["sgd", "adam"]``: registry names, each once."""
    names = [t.strip().lower() for t in text.split(",")]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown optimizer {unknown[0]!r} (choose from {', '.join(OPTIMIZERS)})")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"an optimizer is named twice in {text!r}")
    return names


def lr_map(text: str) -> dict[str, float]:
    """``"sgd=0.1,adam=3e-4"`` -> ``{"sgd": 0.1, "adam": 0.0003}``."""
    rates = {}
    for part in text.split(","):
        name, equals, value = part.partition("=")
        name = name.strip().lower()
        if name not in OPTIMIZERS or not equals:
            raise argparse.ArgumentTypeError(f"expected OPTIMIZER=RATE pairs (e.g. sgd=0.1,adam=1e-3), got {part!r}")
        rates[name] = float_list(value)[0]
    return rates


def batch_sizes(text: str) -> list[int | str]:
    """``"1,64,full"`` -> ``[1, 64, "full"]``."""
    return [t if t == "full" else positive_int(t) for t in (t.strip().lower() for t in text.split(","))]


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
    return studies.make_model({"hidden": args.hidden, "activation": args.activation, "init": args.init,
                               "dropout": args.dropout, "seed": args.seed})


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


# ---------------------------------------------------------------------------------------------- shared
def check_figure_path(parser, flag: str, path: Path | None, suffixes=studies.FIGURE_SUFFIXES) -> None:
    if path is not None and path.suffix.lower() not in suffixes:
        parser.error(f"{flag}: {str(path)!r} must end in {' or '.join(suffixes)}")


def check_lrs(parser, lrs: dict | None, optimizers) -> None:
    extra = [name for name in lrs or {} if name not in optimizers]
    if extra:
        parser.error(f"--lr: {extra[0]!r} is not among the optimizers ({', '.join(optimizers)})")


def add_data_flags(p, limit_default=None) -> None:
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=list(datasets.DATASETS), default="mnist", help="which dataset")
    data.add_argument("--data", metavar="PATH", help="folder holding the IDX files (searched before $FASTOPT_DATA, "
                                                     "~/.cache/fastopt and /usr/share/datasets)")
    data.add_argument("--limit", type=positive_int, metavar="N", default=limit_default,
                      help="use only the first N training and N test samples (quick runs)")


def add_run_flags(p, hidden_default) -> None:
    run = p.add_argument_group("training")
    run.add_argument("--hidden", type=int_list, default=hidden_default, metavar="H1,H2,...", help="hidden layer widths")
    run.add_argument("--seed", type=int, default=0, help="seeds the initialisation and the shuffling")
    run.add_argument("--threads", type=positive_int, help="threads of fastopt's native code")
    run.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars or summaries")


def set_threads(args) -> None:
    if args.threads is not None:
        from . import set_num_threads
        set_num_threads(args.threads)


def call_study(parser, study, **kwargs):
    """Run a study; returns (exit status, result): a missing dataset gives 1, an argument it rejects 2."""
    try:
        return 0, study(**kwargs)
    except DatasetError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1, None
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))


def print_table(rows) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))))


def print_files(files) -> None:
    for path in files:
        print(f"wrote {path}")


# ---------------------------------------------------------------------------------------------- landscape
LANDSCAPE_FIGURES = ("paths", "lr-sensitivity", "momentum", "convex")


def add_landscape_command(subparsers) -> None:
    p = subparsers.add_parser(
        "landscape", help="optimizer paths across a test function: contour, loss, surface, animation",
        description="Run optimizers across a 2-D test function from its standard start (learning rates from "
                    "fastopt.landscape.DEFAULT_LR unless --lr) and draw them. --figure paths (default) writes the "
                    "contour map to --out, the loss curves beside it (<out>_loss), the 3-D surface with --surface "
                    "(<out>_surface) and an animation with --animate. --figure lr-sensitivity: one optimizer at "
                    "several learning rates (--lrs). --figure momentum: sgd against momentum and nesterov at sgd's "
                    "learning rate. --figure convex: the optimizers on --convex and on --function side by side.",
        formatter_class=DefaultsHelpFormatter)
    names = landscape_functions()
    p.add_argument("--function", choices=names, default="rosenbrock", metavar="NAME",
                   help=f"test function, one of {', '.join(names)} (the non-convex one of --figure convex)")
    p.add_argument("--figure", choices=LANDSCAPE_FIGURES, default="paths", help="which figure to draw")
    p.add_argument("--optimizers", type=optimizer_list, metavar="A,B,...",
                   help=f"optimizers (default: {','.join(studies.LANDSCAPE_OPTIMIZERS)}; with --figure momentum "
                        f"{','.join(studies.MOMENTUM_OPTIMIZERS)}; with lr-sensitivity one, sgd)")
    p.add_argument("--steps", type=positive_int, default=2000, help="steps per optimizer")
    p.add_argument("--lr", type=lr_map, default=None, metavar="OPT=RATE,...", help="learning rates per optimizer")
    p.add_argument("--lrs", type=float_list, metavar="R1,R2,...",
                   help="learning rates of --figure lr-sensitivity (default: the tabulated rate times "
                        f"{', '.join(f'{f:g}' for f in studies.LR_FACTORS)})")
    p.add_argument("--convex", choices=names, default="quadratic", metavar="NAME",
                   help="the convex function of --figure convex")
    p.add_argument("--noise", type=float, default=0.0, metavar="S",
                   help="standard deviation of Gaussian noise added to every gradient")
    p.add_argument("--seed", type=int, default=0, help="seeds the gradient noise")
    p.add_argument("--out", type=Path, help="figure file, .png or .svg (default: <function>.png, or "
                                            "<function>_<figure>.png for the other figures)")
    p.add_argument("--surface", action="store_true", help="also draw the 3-D surface (--figure paths)")
    p.add_argument("--animate", type=Path, metavar="PATH", help="also write an animation, .gif or .mp4 "
                                                                "(--figure paths)")
    p.add_argument("--frames", type=positive_int, default=60, help="frames of the animation (--animate)")
    p.add_argument("--dpi", type=positive_int, default=100, help="resolution of the figures (the animation's: at "
                                                                 "most 80)")
    p.set_defaults(run=functools.partial(run_landscape, parser=p))


def landscape_functions() -> list[str]:
    from . import landscape
    return landscape.functions()


def run_landscape(args, parser) -> int:
    """``fastopt landscape``: one of the landscape studies, then where its files are."""
    figure = args.figure
    if args.out is None:
        args.out = Path(f"{args.function}.png" if figure == "paths" else f"{args.function}_{figure}.png")
    check_figure_path(parser, "--out", args.out)
    check_figure_path(parser, "--animate", args.animate, (".gif", ".mp4"))
    for flag, given, applies in (("--surface", args.surface, "paths"), ("--animate", args.animate, "paths"),
                                 ("--lrs", args.lrs, "lr-sensitivity")):
        if given and figure != applies:
            parser.error(f"{flag} applies to --figure {applies}, not {figure}")
    if not (args.noise >= 0 and args.noise != float("inf")):
        parser.error(f"--noise: expected a finite number >= 0, got {args.noise}")
    if args.animate is not None and args.animate.suffix.lower() == ".mp4":
        from matplotlib import animation
        if not animation.writers.is_available("ffmpeg"):
            parser.error(f"--animate: writing {str(args.animate)!r} needs ffmpeg on PATH; write a .gif instead")
    common = {"steps": args.steps, "out": args.out, "noise": args.noise, "seed": args.seed, "dpi": args.dpi}
    if figure == "lr-sensitivity":
        optimizers = args.optimizers or ["sgd"]
        if len(optimizers) != 1:
            parser.error(f"--figure lr-sensitivity takes one optimizer, got --optimizers {','.join(optimizers)}")
        check_lrs(parser, args.lr, optimizers)
        lrs = args.lrs if args.lrs is not None else ([args.lr[optimizers[0]]] if args.lr else None)
        _, result = call_study(parser, studies.lr_sensitivity_study, function=args.function,
                               optimizer=optimizers[0], lrs=lrs, **common)
        files = result.files
    elif figure == "momentum":
        optimizers = args.optimizers or list(studies.MOMENTUM_OPTIMIZERS)
        check_lrs(parser, args.lr, optimizers)
        _, result = call_study(parser, studies.momentum_study, function=args.function, optimizers=optimizers,
                               lrs=args.lr, **common)
        files = result.files
    elif figure == "convex":
        if args.lr:
            parser.error("--lr does not apply to --figure convex (each function uses its tabulated rates)")
        _, results = call_study(parser, studies.convex_study, convex=args.convex, nonconvex=args.function,
                                optimizers=args.optimizers or list(studies.LANDSCAPE_OPTIMIZERS), **common)
        files = [args.out]
    else:
        optimizers = args.optimizers or list(studies.LANDSCAPE_OPTIMIZERS)
        check_lrs(parser, args.lr, optimizers)
        _, result = call_study(parser, studies.landscape_study, function=args.function, optimizers=optimizers,
                               lrs=args.lr, surface=args.surface, animate=args.animate, frames=args.frames,
                               **common)
        for name, path in result.trajectories.items():
            print(f"{name:>10}: lr {path.lr:<8g} final f {path.losses[-1]:.4g}")
        files = result.files
    print_files(files)
    return 0


# ---------------------------------------------------------------------------------------------- compare
def add_compare_command(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="train an MLP with several optimizers and write figures and report.html",
        description="Train the same MLP (same initialisation, same batches) once per optimizer, each into "
                    "<out>/runs/<optimizer>/ (config.json, history.json, history.csv, checkpoint.npz), then write "
                    "history_<optimizer>.png, comparison.png (against epochs and wall time), confusion.png and "
                    "misclassified.png of the best run and report.html (results table: final test accuracy, "
                    "epoch and time to 97% and 98%, time per epoch) into <out>. Learning rates default to "
                    "fastopt.studies.MNIST_LR: " + ", ".join(f"{k} {v:g}" for k, v in studies.MNIST_LR.items()) + ".",
        formatter_class=DefaultsHelpFormatter)
    add_data_flags(p)
    p.add_argument("--optimizers", type=optimizer_list, default=",".join(studies.COMPARE_OPTIMIZERS), metavar="A,B,...",
                   help="optimizers to compare")
    p.add_argument("--epochs", type=positive_int, default=5, help="passes over the training set")
    p.add_argument("--batch-size", type=positive_int, default=128, help="samples per step")
    p.add_argument("--lr", type=lr_map, default=None, metavar="OPT=RATE,...", help="learning rates per optimizer")
    p.add_argument("--schedule", choices=SCHEDULES, default="constant", help="learning-rate schedule over the epochs")
    p.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    add_run_flags(p, "512,256")
    p.set_defaults(run=functools.partial(run_compare, parser=p))


def run_compare(args, parser) -> int:
    """``fastopt compare``: the trainings, figures and report of fastopt.studies.compare_study."""
    check_lrs(parser, args.lr, args.optimizers)
    set_threads(args)
    status, result = call_study(parser, studies.compare_study, optimizers=args.optimizers, dataset=args.dataset,
                                epochs=args.epochs, out=args.out, batch_size=args.batch_size, hidden=args.hidden,
                                lrs=args.lr, limit=args.limit, seed=args.seed, schedule=args.schedule,
                                data=args.data, progress=args.progress)
    if status:
        return status
    print_table(studies.report.results_table({label: run.history for label, run in result.runs.items()}))
    print(f"best: {result.best}; runs in {args.out / 'runs'}; figures and report in {result.report}")
    return 0


# ---------------------------------------------------------------------------------------------- batchsize
def add_batchsize_command(subparsers) -> None:
    p = subparsers.add_parser(
        "batchsize", help="one optimizer at several batch sizes: progress per epoch against per second",
        description="Train the same MLP with one optimizer at each batch size (1: stochastic, 'full': the whole "
                    "training set) into <out>/runs/batch-<size>/, then write batch_size.png (loss and accuracy "
                    "against epochs and wall time) and report.html into <out>. Batch size 1 takes one step per "
                    "sample: keep --limit small.",
        formatter_class=DefaultsHelpFormatter)
    add_data_flags(p, limit_default=2000)
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default="sgd", help="optimizer by name")
    p.add_argument("--batch-sizes", type=batch_sizes, default="1,64,full", metavar="B1,B2,...",
                   help="batch sizes ('full': the whole training set)")
    p.add_argument("--epochs", type=positive_int, default=3, help="passes over the training set")
    p.add_argument("--lr", type=float, help="learning rate (default: fastopt.studies.MNIST_LR's)")
    p.add_argument("--out", type=Path, default=Path("batchsize"), help="output folder")
    add_run_flags(p, "128")
    p.set_defaults(run=functools.partial(run_batchsize, parser=p))


def run_batchsize(args, parser) -> int:
    """``fastopt batchsize``: fastopt.studies.batch_size_study."""
    set_threads(args)
    status, result = call_study(parser, studies.batch_size_study, optimizer=args.optimizer,
                                batch_sizes=args.batch_sizes, dataset=args.dataset, epochs=args.epochs, out=args.out,
                                lr=args.lr, hidden=args.hidden, limit=args.limit, seed=args.seed, data=args.data,
                                progress=args.progress)
    if status:
        return status
    print_table(studies.report.results_table({label: run.history for label, run in result.runs.items()}))
    print_files([*result.figures, result.report])
    return 0


# ---------------------------------------------------------------------------------------------- plot
def add_plot_command(subparsers) -> None:
    p = subparsers.add_parser("plot", help="redraw figures from saved runs without training again",
                              description="Redraw figures from run folders written by fastopt train, compare or "
                                          "batchsize (config.json, history.json, checkpoint.npz).")
    kinds = p.add_subparsers(dest="figure", required=True, metavar="FIGURE")
    history = kinds.add_parser("history", help="loss and accuracy per epoch of one run",
                               formatter_class=DefaultsHelpFormatter)
    history.add_argument("folder", type=Path, metavar="RUN", help="run folder")
    history.add_argument("--out", type=Path, help="figure file (default: <run>/history.png)")
    history.set_defaults(run=functools.partial(run_plot_history, parser=history))
    compare = kinds.add_parser("compare", help="several runs against epochs and wall time",
                               formatter_class=DefaultsHelpFormatter)
    compare.add_argument("folders", type=Path, nargs="+", metavar="RUN", help="run folders (labelled by their names)")
    compare.add_argument("--out", type=Path, default=Path("comparison.png"), help="figure file")
    compare.set_defaults(run=functools.partial(run_plot_compare, parser=compare))
    confusion = kinds.add_parser("confusion", help="confusion matrix and misclassified test images of a run's "
                                                   "checkpoint", formatter_class=DefaultsHelpFormatter)
    confusion.add_argument("folder", type=Path, metavar="RUN", help="run folder holding checkpoint.npz and config.json")
    confusion.add_argument("--out", type=Path, help="figure file (default: <run>/confusion.png; the misclassified "
                                                    "images go beside it)")
    confusion.add_argument("--data", metavar="PATH", help="folder holding the dataset's IDX files")
    confusion.set_defaults(run=functools.partial(run_plot_confusion, parser=confusion))


def run_plot_history(args, parser) -> int:
    check_figure_path(parser, "--out", args.out)
    _, path = call_study(parser, studies.redraw_history, folder=args.folder, out=args.out)
    print_files([path])
    return 0


def run_plot_compare(args, parser) -> int:
    check_figure_path(parser, "--out", args.out)
    _, path = call_study(parser, studies.redraw_comparison, folders=args.folders, out=args.out)
    print_files([path])
    return 0


def run_plot_confusion(args, parser) -> int:
    check_figure_path(parser, "--out", args.out)
    status, paths = call_study(parser, studies.redraw_confusion, folder=args.folder, out=args.out, data=args.data)
    if status == 0:
        print_files(paths)
    return status


# ---------------------------------------------------------------------------------------------- main
COMMANDS = (add_train_command, add_landscape_command, add_compare_command, add_batchsize_command,
            add_plot_command)


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
