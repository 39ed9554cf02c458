"""``fastopt study --out DIR``: the seeds' experiments end to end, one self-contained report (:mod:`fastopt.study`)."""
from __future__ import annotations

import functools

from .args import DefaultsHelpFormatter, add_threads_progress_flags
from .common import call_study, set_threads


def _sections(text: str) -> list:
    return [part.strip() for part in text.split(",") if part.strip()]


def add_command(subparsers) -> None:
    """Declare ``fastopt study`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    from ..study import SECTIONS
    p = subparsers.add_parser("study", help="the seeds' experiments end to end, one HTML report",
                              description="Run the seeds' experiments (" + ", ".join(SECTIONS) + ") and write "
                              "OUT/report.html with every figure embedded. Run again with the same --out to resume: "
                              "finished sections are kept, unfinished runs continue from their checkpoints.",
                              formatter_class=DefaultsHelpFormatter)
    p.add_argument("--out", default="study", help="output folder")
    p.add_argument("--quick", action="store_true", help="a small version in about a minute")
    p.add_argument("--sections", type=_sections, default=None,
                   help="comma-separated sections to include, in page order (default: all)")
    p.add_argument("--fresh", action="store_true", help="recompute every section, even finished ones")
    p.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    p.add_argument("--data", metavar="PATH", help="folder holding the dataset's IDX files")
    p.add_argument("--seed", type=int, default=0, help="seeds every run and draw")
    add_threads_progress_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """Run ``fastopt study``; returns the exit status (0, or 1 for a missing dataset)."""
    from ..study import run_study
    set_threads(args)
    status, _ = call_study(parser, run_study, out=args.out, quick=args.quick, sections=args.sections,
                           fresh=args.fresh, dataset=args.dataset, data=args.data, seed=args.seed,
                           progress=args.progress)
    return status
