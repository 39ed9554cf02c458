"""What the commands share when they run: threads, calling a study, printing its results."""
from __future__ import annotations

import sys

from ..datasets import DatasetError


def set_threads(args) -> None:
    """Apply ``--threads`` (None: leave fastopt's thread count as it is).

    Parameters
    ----------
    args : argparse.Namespace
        With ``threads``.
    """
    if args.threads is not None:
        from .. import set_num_threads
        set_num_threads(args.threads)


def call_study(parser, study, **kwargs):
    """Run ``study(**kwargs)`` and turn its errors into exit statuses.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser: an argument the study rejects (ValueError, FileNotFoundError) exits
        through ``parser.error`` with status 2.
    study : callable
        A function of fastopt.studies.
    **kwargs
        Its arguments.

    Returns
    -------
    tuple
        (exit status, result): (0, the study's result), or (1, None) for a missing or corrupt dataset.
    """
    try:
        return 0, study(**kwargs)
    except DatasetError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1, None
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))


def print_table(rows) -> None:
    """Print rows of strings as aligned columns (the first left-aligned, the others right-aligned).

    Parameters
    ----------
    rows : list of list of str
        The header first, as fastopt.report.results_table gives it.
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))))


def print_files(files) -> None:
    """Print ``wrote <path>`` for each file.

    Parameters
    ----------
    files : iterable of path-like
    """
    for path in files:
        print(f"wrote {path}")
