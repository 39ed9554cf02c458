"""The ``fastopt`` command line: ``train``, ``landscape``, ``compare``, ``batchsize``, ``plot``, ``logreg``,
``riemannian``, ``surface``, ``hessian``, ``sharpness``, ``lr-find``, ``tune``, ``demo``, ``study`` and
``dashboard``.

One module per command, each with ``add_command(subparsers)``, which declares its flags and sets
``run`` to its ``run(args, parser) -> exit status`` (bound to its own parser, so errors read
``fastopt <name>: error: ...``); :data:`COMMANDS` lists them, so a new command is one new module and
one entry there.  The argument types and flag groups the commands share are in :mod:`.args`.
Invalid flags exit with status 2 and a message naming the flag (argparse's convention); a missing or
corrupt dataset exits with status 1.
"""
from __future__ import annotations

import argparse

from . import (batchsize, compare, dashboard, demo, hessian, landscape, logreg, lr_find, plot, riemannian, sharpness,
               study, surface, train, tune)

# In the order `fastopt --help` lists them.
COMMANDS = tuple(command.add_command for command in (train, landscape, compare, batchsize, plot, logreg, riemannian,
                                                     surface, hessian, sharpness, lr_find, tune, demo, study,
                                                     dashboard))


def build_parser() -> argparse.ArgumentParser:
    """The ``fastopt`` parser with every command of :data:`COMMANDS`.

    Returns
    -------
    argparse.ArgumentParser
    """
    from .. import __version__
    parser = argparse.ArgumentParser(prog="fastopt", description="fastopt: fast, visible, understood optimizers.")
    parser.add_argument("--version", action="version", version=f"fastopt {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``fastopt`` script.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0, 1 for a missing or corrupt dataset; invalid flags raise SystemExit(2).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.run(args)


__all__ = ["COMMANDS", "build_parser", "main"]
