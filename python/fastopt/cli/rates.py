"""The ``--lr`` flag, one syntax in every command: ``RATE`` for every optimizer, or ``OPT=RATE,...`` pairs.

``fastopt train --lr 3e-4``, ``fastopt train --optimizer adam --lr adam=3e-4``, ``fastopt compare --lr 0.01``
(every optimizer at 0.01) and ``fastopt compare --lr sgd=0.1,adam=1e-3`` all parse; a rate must be a
positive finite number, so ``--lr -1`` exits with status 2 before any data is loaded.
"""
from __future__ import annotations

import argparse

from .args import float_list, lr_map

LR_METAVAR = "RATE|OPT=RATE,..."
LR_HELP = "learning rate: one RATE for every optimizer, or OPT=RATE pairs separated by commas"


def learning_rates(text: str) -> float | dict[str, float]:
    """``"1e-3"`` -> 0.001; ``"sgd=0.1,adam=1e-3"`` -> ``{"sgd": 0.1, "adam": 0.001}``.

    Parameters
    ----------
    text : str
        The flag's value.
    """
    if "=" in text:
        return lr_map(text)
    if "," in text:
        raise argparse.ArgumentTypeError(f"expected one rate (or OPT=RATE pairs), got {text!r}")
    try:
        return float_list(text)[0]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive learning rate or OPT=RATE pairs, got {text!r}") from None


def add_lr_flag(p, help_default: str) -> None:
    """Declare ``--lr`` of :func:`learning_rates` on a command.

    Parameters
    ----------
    p : argparse.ArgumentParser or argument group
    help_default : str
        What applies without the flag, appended to the help.
    """
    p.add_argument("--lr", type=learning_rates, metavar=LR_METAVAR, help=f"{LR_HELP} (default: {help_default})")


def rate_for(parser, value, optimizer: str) -> float | None:
    """The rate of a one-optimizer command from its ``--lr`` (None: not given); exit 2 if it names another.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    value : float, dict or None
        The parsed ``--lr``.
    optimizer : str
        The command's optimizer.
    """
    if value is None or not isinstance(value, dict):
        return value
    others = sorted(set(value) - {optimizer})
    if others:
        parser.error(f"--lr names {', '.join(others)}, but this run uses optimizer {optimizer!r}")
    return value.get(optimizer)


def rates_for(value, optimizers) -> dict[str, float] | None:
    """The rate map of a several-optimizer command: a single rate given applies to all of them.

    Parameters
    ----------
    value : float, dict or None
        The parsed ``--lr``.
    optimizers : sequence of str
    """
    if value is None or isinstance(value, dict):
        return value
    return {name: value for name in optimizers}
