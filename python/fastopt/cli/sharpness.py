"""``fastopt sharpness``: the two curvature studies of training (:mod:`fastopt.studies.sharpness`).

``--study flat`` trains the MLP with SGD at batch 128, 16 and 2048 and with Adam, then compares the
Hessian at the weights each reached (top eigenvalue, trace, density) beside its test accuracy.
``--study eos`` runs full-batch gradient descent at several learning rates and tracks the top eigenvalue
against 2 / lr, the edge of stability.
"""
from __future__ import annotations

import functools
from dataclasses import replace

from ..studies import sharpness
from .args import (
    DefaultsHelpFormatter,
    add_threads_progress_flags,
    float_list,
    int_list,
    positive_int,
)
from .common import call_study, print_files, set_threads

QUICK = {"flat": {"epochs": 1, "limit": 1000, "samples": 500, "trace_samples": 10, "lanczos_steps": 20},
         "eos": {"samples": 500, "steps": 40, "every": 10}}
DESCRIPTION = ("Curvature studies of training on MNIST. flat: SGD (lr 0.1) at batch 128, 16 and 2048 and Adam "
               "(1e-3), then the Hessian of the training loss at each result (top eigenvalue, trace, SLQ density) "
               "beside its test accuracy: sharp_vs_flat.png/.json and runs/. eos: full-batch gradient descent at "
               "each --lrs on --samples training samples, the top Hessian eigenvalue every --every steps against "
               "2/lr: edge_of_stability.png/.json.")


def add_command(subparsers) -> None:
    """Declare ``fastopt sharpness`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser("sharpness", help="sharp vs flat minima; sharpness vs the edge of stability",
                              description=DESCRIPTION, formatter_class=DefaultsHelpFormatter)
    p.add_argument("--study", choices=("flat", "eos"), default="flat", help="which study")
    p.add_argument("--out", default=None, help="output folder (default: sharpness/ or eos/)")
    p.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    p.add_argument("--data", metavar="PATH", help="folder holding the dataset's IDX files")
    p.add_argument("--seed", type=int, default=0, help="seeds the initial weights, shuffling and random vectors")
    p.add_argument("--hidden", type=int_list, default=None,
                   help="hidden layer widths (default: 512,256 for flat, 200,200 for eos)")
    p.add_argument("--samples", type=positive_int, default=None,
                   help="flat: training samples of the Hessian (default 10000); eos: the training set (default 5000)")
    flat = p.add_argument_group("flat")
    flat.add_argument("--epochs", type=positive_int, default=5, help="epochs of each training")
    flat.add_argument("--limit", type=positive_int, help="use only the first N training and N test samples")
    flat.add_argument("--trace-samples", type=positive_int, default=50, help="Hutchinson probes")
    flat.add_argument("--lanczos-steps", type=positive_int, default=80, help="Lanczos steps of the density")
    eos = p.add_argument_group("eos")
    eos.add_argument("--lrs", type=float_list, default=[0.05, 0.1, 0.2], help="learning rates, comma separated")
    eos.add_argument("--steps", type=positive_int, default=1000, help="full-batch gradient steps")
    eos.add_argument("--every", type=positive_int, default=20, help="steps between eigenvalue measurements")
    p.add_argument("--quick", action="store_true", help="a smoke run on a few hundred samples")
    add_threads_progress_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """``fastopt sharpness``: run the chosen study and list its files.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The command's parser.

    Returns
    -------
    int
        The exit status (1: the dataset is missing or corrupt).
    """
    if args.quick:
        for name, most in QUICK[args.study].items():
            current = getattr(args, name)
            setattr(args, name, most if current is None else min(current, most))
    set_threads(args)
    common = {"dataset": args.dataset, "seed": args.seed, "data": args.data, "progress": args.progress}
    if args.study == "flat":
        out = args.out or "sharpness"
        setups = sharpness.SHARPNESS_SETUPS
        if args.quick:  # batch 2048 is a single step on the quick run's samples
            setups = tuple(replace(s, batch_size=min(s.batch_size, 256)) for s in setups)
        status, minima = call_study(
            parser, sharpness.sharp_vs_flat_study, setups=setups, epochs=args.epochs,
            samples=args.samples or 10000, hidden=args.hidden or (512, 256), limit=args.limit, out=out,
            trace_samples=args.trace_samples, lanczos_steps=args.lanczos_steps, **common)
        if status == 0:
            for m in minima:
                print(f"{m.label}: test accuracy {100 * m.test_accuracy:.2f}%, top eigenvalue "
                      f"{m.summary.eigenvalues[0]:.4g}, trace {m.summary.trace.value:.4g} "
                      f"+- {m.summary.trace.stderr:.2g}")
            print_files([f"{out}/sharp_vs_flat.png", f"{out}/sharp_vs_flat.json"])
        return status
    out = args.out or "eos"
    status, traces = call_study(parser, sharpness.edge_of_stability_study, lrs=args.lrs, samples=args.samples or 5000,
                                hidden=args.hidden or (200, 200), steps=args.steps, every=args.every, out=out,
                                **common)
    if status == 0:
        for t in traces:
            print(f"lr {t.lr:g} (2/lr = {2 / t.lr:.4g}): top eigenvalue {t.sharpness.min():.4g} to "
                  f"{t.sharpness.max():.4g}, final loss {t.loss[-1]:.4g} ({t.status}, {t.seconds:.1f} s)")
        print_files([f"{out}/edge_of_stability.png", f"{out}/edge_of_stability.json"])
    return status
