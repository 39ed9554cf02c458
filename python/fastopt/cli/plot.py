"""``fastopt plot``: figures redrawn from saved run folders, without training again."""
from __future__ import annotations

import functools
from pathlib import Path

from .. import studies
from .args import DefaultsHelpFormatter, check_figure_path
from .common import call_study, print_files


def add_command(subparsers) -> None:
    """Declare ``fastopt plot history|compare|confusion`` and their flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser("plot", help="redraw figures from saved runs without training again",
                              description="Redraw figures from run folders written by fastopt train, compare or "
                                          "batchsize (config.json, history.json, checkpoint.npz).")
    kinds = p.add_subparsers(dest="figure", required=True, metavar="FIGURE")
    history = kinds.add_parser("history", help="loss and accuracy per epoch of one run",
                               formatter_class=DefaultsHelpFormatter)
    history.add_argument("folder", type=Path, metavar="RUN", help="run folder")
    history.add_argument("--out", type=Path, help="figure file (default: <run>/history.png)")
    history.set_defaults(run=functools.partial(run_history, parser=history))
    compare = kinds.add_parser("compare", help="several runs against epochs and wall time",
                               formatter_class=DefaultsHelpFormatter)
    compare.add_argument("folders", type=Path, nargs="+", metavar="RUN", help="run folders (labelled by their names)")
    compare.add_argument("--out", type=Path, default=Path("comparison.png"), help="figure file")
    compare.set_defaults(run=functools.partial(run_compare, parser=compare))
    confusion = kinds.add_parser("confusion", help="confusion matrix and misclassified test images of a run's "
                                                   "checkpoint", formatter_class=DefaultsHelpFormatter)
    confusion.add_argument("folder", type=Path, metavar="RUN", help="run folder holding checkpoint.npz and config.json")
    confusion.add_argument("--out", type=Path, help="figure file (default: <run>/confusion.png; the misclassified "
                                                    "images go beside it)")
    confusion.add_argument("--data", metavar="PATH", help="folder holding the dataset's IDX files")
    confusion.set_defaults(run=functools.partial(run_confusion, parser=confusion))


def run_history(args, parser) -> int:
    """``fastopt plot history``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The figure's parser, which reports bad flags (exit status 2).

    Returns
    -------
    int
        The exit status.
    """
    check_figure_path(parser, "--out", args.out)
    _, path = call_study(parser, studies.redraw_history, folder=args.folder, out=args.out)
    print_files([path])
    return 0


def run_compare(args, parser) -> int:
    """``fastopt plot compare``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The figure's parser, which reports bad flags (exit status 2).

    Returns
    -------
    int
        The exit status.
    """
    check_figure_path(parser, "--out", args.out)
    _, path = call_study(parser, studies.redraw_comparison, folders=args.folders, out=args.out)
    print_files([path])
    return 0


def run_confusion(args, parser) -> int:
    """``fastopt plot confusion``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The figure's parser, which reports bad flags (exit status 2).

    Returns
    -------
    int
        The exit status.
    """
    check_figure_path(parser, "--out", args.out)
    status, paths = call_study(parser, studies.redraw_confusion, folder=args.folder, out=args.out, data=args.data)
    if status == 0:
        print_files(paths)
    return status
