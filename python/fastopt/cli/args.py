"""What the commands share: argument types and flag groups (the optimizer flags: :mod:`.optimizer_flags`).

The types raise ``argparse.ArgumentTypeError``, so a bad value exits with status 2 and a message naming
the flag; where fastopt.studies validates the same thing, the type calls its validator.
"""
from __future__ import annotations

import argparse

from .. import datasets, studies
from ..optim import REGISTRY


# ---------------------------------------------------------------------------------------------- types
def positive_int(text: str) -> int:
    """``"3"`` -> 3: an integer >= 1.

    Parameters
    ----------
    text : str
        The flag's value.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def int_list(text: str) -> list[int]:
    """``"512,256"`` -> ``[512, 256]`` (an empty string: no hidden layer).

    Parameters
    ----------
    text : str
        Positive integers separated by commas.
    """
    return [positive_int(t) for t in text.split(",")] if text.strip() else []


def _positive_finite(text: str) -> float | None:
    """``text`` as a positive finite float, or None if it is not one."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < float("inf") else None


def positive_float(text: str) -> float:
    """``"30"`` -> 30.0: a positive finite number.

    Parameters
    ----------
    text : str
        The flag's value.
    """
    value = _positive_finite(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def float_list(text: str) -> list[float]:
    """``"1e-3,1e-2"`` -> ``[0.001, 0.01]``: positive finite numbers.

    Parameters
    ----------
    text : str
        Numbers separated by commas.
    """
    values = [_positive_finite(part) for part in text.split(",")]
    if None in values:
        bad = text.split(",")[values.index(None)]
        raise argparse.ArgumentTypeError(f"expected positive numbers separated by commas, got {bad!r}")
    return values


def optimizer_list(text: str) -> list[str]:
    """``"sgd,adam"`` -> ``["sgd", "adam"]``: names checked by :func:`fastopt.studies.check_optimizers`.

    Parameters
    ----------
    text : str
        Optimizer names separated by commas.
    """
    try:
        return studies.check_optimizers(text.split(","), name="")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def path_optimizer_list(text: str) -> list[str]:
    """``"sgd,adam,bfgs"`` -> ``["sgd", "adam", "bfgs"]``: first-order optimizers and second-order methods,
    checked by :func:`fastopt.studies.check_optimizers` (the landscape paths take both).

    Parameters
    ----------
    text : str
        Names separated by commas.
    """
    try:
        return studies.check_optimizers(text.split(","), name="", second_order=True)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def lr_map(text: str) -> dict[str, float]:
    """``"sgd=0.1,adam=3e-4"`` -> ``{"sgd": 0.1, "adam": 0.0003}``.

    Parameters
    ----------
    text : str
        ``OPTIMIZER=RATE`` pairs separated by commas; which optimizers may appear is checked against
        the command's optimizers by :func:`check_lrs`.
    """
    rates = {}
    for part in text.split(","):
        name, equals, value = part.partition("=")
        name = name.strip().lower()
        if name not in REGISTRY or not equals:
            raise argparse.ArgumentTypeError(f"expected OPTIMIZER=RATE pairs (e.g. sgd=0.1,adam=1e-3), got {part!r}")
        rates[name] = float_list(value)[0]
    return rates


def batch_sizes(text: str) -> list[int | str]:
    """``"1,64,full"`` -> ``[1, 64, "full"]``.

    Parameters
    ----------
    text : str
        Positive integers or ``full`` separated by commas.
    """
    return [t if t == "full" else positive_int(t) for t in (t.strip().lower() for t in text.split(","))]


def float_tuple(text: str) -> tuple[float, ...]:
    """``"0.9,0.999"`` -> ``(0.9, 0.999)``: two or more numbers (the optimizer checks how many it takes).

    Parameters
    ----------
    text : str
        Numbers separated by commas.
    """
    parts = text.split(",")
    try:
        if len(parts) >= 2:
            return tuple(float(p) for p in parts)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected numbers separated by commas (e.g. 0.9,0.999), got {text!r}")


def percentage(text: str) -> float:
    """``"98"`` -> 98.0: a percentage in (0, 100].

    Parameters
    ----------
    text : str
        The flag's value.
    """
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value <= 100.0:
        raise argparse.ArgumentTypeError(f"expected a percentage in (0, 100], got {text!r}")
    return value


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows the defaults that are values, not those that mean "unset" (None) or on/off switches.

    Parameters
    ----------
    prog : str
        As :class:`argparse.HelpFormatter`.
    """

    def _get_help_string(self, action):
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


# ---------------------------------------------------------------------------------------------- checks
def check_figure_path(parser, flag: str, path, suffixes=studies.FIGURE_SUFFIXES) -> None:
    """Exit with status 2 unless ``path`` (None: not given) ends in one of ``suffixes``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser, which reports the error.
    flag : str
        The flag named in the message.
    path : Path or None
        The flag's value.
    suffixes : tuple of str
        Accepted suffixes.
    """
    if path is not None:
        try:
            studies.figure_path(path, flag, suffixes)
        except ValueError as e:
            parser.error(str(e))


def check_lrs(parser, lrs: dict | None, optimizers) -> None:
    """Exit with status 2 if ``--lr`` names an optimizer the command does not run.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    lrs : dict or None
        The ``--lr`` map.
    optimizers : sequence of str
        The command's optimizers.
    """
    try:
        studies.check_lrs(lrs, optimizers, "--lr")
    except ValueError as e:
        parser.error(str(e))


# ---------------------------------------------------------------------------------------------- flag groups
def add_data_flags(p, limit_default=None, choose_dataset: bool = True) -> None:
    """``--dataset``, ``--data`` and ``--limit``.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    limit_default : int, optional
        The default of ``--limit`` (None: all samples).
    choose_dataset : bool, default True
        Whether to add ``--dataset`` (False: a command that runs on MNIST only).
    """
    data = p.add_argument_group("data")
    if choose_dataset:
        data.add_argument("--dataset", choices=list(datasets.DATASETS), default="mnist", help="which dataset")
    data.add_argument("--data", metavar="PATH", help="folder holding the IDX files: the only place looked in, "
                                                     "nothing is downloaded (default: $FASTOPT_DATA, "
                                                     "~/.cache/fastopt, /usr/share/datasets, else a download)")
    data.add_argument("--limit", type=positive_int, metavar="N", default=limit_default,
                      help="use only the first N training and N test samples (quick runs)")


def add_run_flags(p, hidden_default) -> None:
    """``--hidden``, ``--seed``, ``--threads`` and ``--no-progress`` of the studies' trainings.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    hidden_default : str
        The default hidden widths, e.g. ``"512,256"``.
    """
    run = p.add_argument_group("training")
    run.add_argument("--hidden", type=int_list, default=hidden_default, metavar="H1,H2,...", help="hidden layer widths")
    run.add_argument("--seed", type=int, default=0, help="seeds the initialisation and the shuffling")
    add_threads_progress_flags(run)


def add_threads_progress_flags(group) -> None:
    """``--threads`` (applied by :func:`fastopt.cli.common.set_threads`) and ``--no-progress``.

    Parameters
    ----------
    group : argparse.ArgumentParser or argument group
        Where the flags go.
    """
    group.add_argument("--threads", type=positive_int, help="threads of fastopt's native code")
    group.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars or summaries")
