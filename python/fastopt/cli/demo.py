"""``fastopt demo NAME --out DIR``: the challenges of optimization (:mod:`fastopt.demos`); ``--list`` names them."""
from __future__ import annotations

import functools

from .args import DefaultsHelpFormatter, add_threads_progress_flags
from .common import call_study, print_files, set_threads


def add_command(subparsers) -> None:
    """Declare ``fastopt demo`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    from ..demos import DEMOS
    p = subparsers.add_parser("demo", help="the challenges of optimization, one figure set each",
                              description="Run one demo of the challenges of optimization: its figures, summary.md "
                              "(what they show, with the measured numbers) and result.json. --list names them.",
                              formatter_class=DefaultsHelpFormatter)
    p.add_argument("name", nargs="?", choices=tuple(DEMOS), metavar="NAME", help="which demo (see --list)")
    p.add_argument("--list", action="store_true", help="list the demos and exit")
    p.add_argument("--out", default=None, help="output folder (default: demos/NAME)")
    p.add_argument("--quick", action="store_true", help="a small version in seconds")
    p.add_argument("--seed", type=int, default=0, help="seeds initialisations, batches and noise")
    p.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist",
                   help="the data of the network demos")
    p.add_argument("--data", metavar="PATH", help="folder holding the dataset's IDX files")
    add_threads_progress_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """Run ``fastopt demo``; returns the exit status (0, or 1 for a missing dataset)."""
    from .. import demos
    if args.list:
        width = max(map(len, demos.DEMOS))
        for name, (about, _) in demos.DEMOS.items():
            print(f"{name:<{width}}  {about}")
        return 0
    if args.name is None:
        parser.error("NAME: name a demo (fastopt demo --list shows them)")
    set_threads(args)
    out = args.out or f"demos/{args.name}"
    if args.progress:
        print(f"fastopt demo {args.name}: {demos.DEMOS[args.name][0]} ...", flush=True)
    status, result = call_study(parser, demos.run, name=args.name, out=out, quick=args.quick, seed=args.seed,
                                dataset=args.dataset, data=args.data)
    if status == 0:
        print(result.text)
        print_files(result.files)
    return status
