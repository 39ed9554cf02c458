"""Flags of a training's schedule and gradient clipping, and building the run's model and optimizer before any
data is loaded (so that every bad flag exits with status 2 without touching the dataset)."""
from __future__ import annotations

from .. import nn
from ..optim import create, entry
from ..optim.schedules import SCHEDULES
from ..optim.schedules.compose import WARMUP_SHAPES
from ..train import SCHEDULE_UNITS
from .args import positive_float

# The input width and class count of every dataset the CLI trains on (MNIST and Fashion-MNIST: 28x28, 10).
IMAGE_INPUTS, IMAGE_CLASSES = 784, 10
# fastopt train's default recipe (with Adam at its default rate, batch 128, hidden 512,256, 10 epochs).
RECIPE = {"schedule": "cosine", "schedule_unit": "epoch", "warmup": 0}


def add_schedule_flags(group) -> None:
    """``--schedule``, ``--schedule-unit``, ``--warmup`` and ``--warmup-shape`` (defaults: :data:`RECIPE`).

    Parameters
    ----------
    group : argparse.ArgumentParser or argument group
    """
    group.add_argument("--schedule", choices=SCHEDULES, default=RECIPE["schedule"],
                       help="learning-rate schedule over the run (onecycle: --lr is the peak; wsd: warmup-stable-"
                            "decay, the last 20%% decaying)")
    group.add_argument("--schedule-unit", choices=SCHEDULE_UNITS, default=RECIPE["schedule_unit"],
                       help="set the rate once per epoch, or before every step (a smooth schedule)")
    group.add_argument("--warmup", type=int, default=RECIPE["warmup"], metavar="N",
                       help="warm-up length in --schedule-unit units (epochs or steps), from 0 to --lr")
    group.add_argument("--warmup-shape", choices=WARMUP_SHAPES, default="linear", help="the warm-up's ramp")


def add_clip_flags(group) -> None:
    """``--clip-grad-norm`` and ``--clip-grad-value``.

    Parameters
    ----------
    group : argparse.ArgumentParser or argument group
    """
    group.add_argument("--clip-grad-norm", type=positive_float, metavar="X",
                       help="clip the global gradient norm of every step to X (fused into the optimizer's pass)")
    group.add_argument("--clip-grad-value", type=positive_float, metavar="X",
                       help="clip every gradient element to [-X, X], after the norm clipping")


def build_early(parser, args, hyper: dict):
    """Build the network and the optimizer the flags describe, on the image datasets' sizes, before any data is
    loaded: a bad model or optimizer flag exits through ``parser.error`` (status 2).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    args : argparse.Namespace
        With ``hidden``, ``activation``, ``init``, ``dropout``, ``seed`` and ``optimizer``.
    hyper : dict
        The optimizer's hyperparameters from the flags.

    Returns
    -------
    float
        The optimizer's effective learning rate (its default where ``--lr`` is not given).
    """
    config = {"inputs": IMAGE_INPUTS, "classes": IMAGE_CLASSES, "hidden": args.hidden, "activation": args.activation,
              "init": args.init, "dropout": args.dropout, "seed": args.seed}
    try:
        model = nn.make_model(config)
        if entry(args.optimizer).takes_model:
            opt = create(args.optimizer, model, **hyper)
        else:
            opt = create(args.optimizer, model.params, **hyper)
    except (TypeError, ValueError) as e:
        parser.error(str(e))
    return float(opt.param_groups[0]["lr"])

