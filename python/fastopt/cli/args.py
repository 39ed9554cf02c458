"""What the commands share: argument types, flag groups, and the optimizer hyperparameter flags.

The types raise ``argparse.ArgumentTypeError``, so a bad value exits with status 2 and a message naming
the flag; where fastopt.studies validates the same thing, the type calls its validator.
"""
from __future__ import annotations

import argparse

from .. import datasets, studies
from ..optim import REGISTRY, entry


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
    data.add_argument("--data", metavar="PATH", help="folder holding the IDX files (searched before $FASTOPT_DATA, "
                                                     "~/.cache/fastopt and /usr/share/datasets)")
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


# ---------------------------------------------------------------------------------------------- optimizers
def _flag_type(default):
    """How the CLI parses a keyword, from the type of its default: a switch, a tuple, an int or a float."""
    if isinstance(default, bool):
        return "flag"
    if isinstance(default, tuple):
        return float_tuple
    if isinstance(default, str):
        return str
    return positive_int if isinstance(default, int) else float


def optimizer_flags() -> dict:
    """The optimizer hyperparameter flags, derived from the registry: every constructor keyword of every
    optimizer (but ``lr``, the command's own) is a flag, ``--weight-decay`` for ``weight_decay``, typed
    by its default and described by the class docstrings (the description most of them share), naming the
    optimizers that take it; ``--beta1``, ``--beta2`` (and ``--beta3`` where an optimizer takes three) set
    one of ``betas``.  A flag given to an optimizer without that keyword is an error, not silently ignored.

    Returns
    -------
    dict
        Flag -> (constructor keyword, type or ``"flag"``, help).
    """
    kinds, texts = {}, {}
    for name, e in REGISTRY.items():
        for keyword, default in e.hyperparameters().items():
            if keyword in ("lr", "seed"):  # the command's own flags (a curvature optimizer takes the run's --seed)
                continue
            kind = _flag_type(default)
            if kinds.setdefault(keyword, kind) != kind:
                raise TypeError(f"optimizer {name!r}: {keyword} is parsed as {kind}, elsewhere as {kinds[keyword]}")
            texts.setdefault(keyword, {}).setdefault(e.describe(keyword) or keyword, []).append(name)
    flags = {}
    for keyword, kind in kinds.items():
        # Two meanings, or several that no two optimizers share (alpha: rmsprop's, Lookahead's, AdEMAMix's,
        # ASGD's), are all shown; otherwise the description most optimizers share, then which take the flag.
        meanings = texts[keyword]
        if len(meanings) == 2 or max(len(names) for names in meanings.values()) == 1:
            text = "; ".join(f"{t} ({', '.join(names)})" for t, names in texts[keyword].items())
        else:
            text = max(texts[keyword].items(), key=lambda item: len(item[1]))[0]
            names = [name for name in REGISTRY if any(name in n for n in texts[keyword].values())]
            text += f" ({', '.join(names)})" if len(names) < len(REGISTRY) else ""
        flag = "--" + keyword.replace("_", "-")
        if flag in _BETA_INDEX and flag in flags:  # Prodigy's own beta3: the flag sets it there, a third beta elsewhere
            flags[flag] = (*flags[flag][:2], f"{flags[flag][2]}; {text}")
            continue
        flags[flag] = (keyword, kind, text)
        if keyword == "betas":
            flags["--beta1"] = ("betas", float, "first beta alone (the others keep their defaults)")
            flags["--beta2"] = ("betas", float, "second beta alone (the others keep their defaults)")
            triples = [n for n, e in REGISTRY.items() if len(e.hyperparameters().get("betas", ())) == 3]
            if triples:
                flags["--beta3"] = ("betas", float, f"third beta alone ({', '.join(triples)})")
    return flags


_BETA_INDEX = {"--beta1": 0, "--beta2": 1, "--beta3": 2}


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def flag_of(keyword: str) -> str:
    """The flag that sets an optimizer keyword (``lr`` -> ``--lr``, ``betas`` -> ``--betas``).

    Parameters
    ----------
    keyword : str
        A constructor keyword of an optimizer.
    """
    flags = [f for f, (k, _, _) in optimizer_flags().items() if k == keyword]
    return flags[0] if flags else f"--{keyword.replace('_', '-')}"


def add_hyper_flags(p) -> None:
    """One flag per optimizer hyperparameter of :func:`optimizer_flags` (``--lr`` is the command's own).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    """
    hyper = p.add_argument_group("optimizer hyperparameters (default: the optimizer's own)")
    on_by_default = {k for e in REGISTRY.values() for k, v in e.hyperparameters().items() if v is True}
    for flag, (keyword, kind, text) in optimizer_flags().items():
        if kind == "flag" and keyword in on_by_default:  # a switch some optimizer has on: --x and --no-x
            hyper.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif kind == "flag":
            hyper.add_argument(flag, action="store_const", const=True, help=text)
        else:
            hyper.add_argument(flag, type=kind, help=text, metavar=flag.lstrip("-").upper().replace("-", "_"))


def optimizer_hyper(args, parser) -> dict:
    """The hyperparameters given on the command line for ``args.optimizer``.

    Parameters
    ----------
    args : argparse.Namespace
        With ``optimizer``, ``lr`` and the :func:`add_hyper_flags` flags.
    parser : argparse.ArgumentParser
        Reports a flag that does not apply to the optimizer (exit status 2).

    Returns
    -------
    dict
        Constructor keyword -> value, for the flags given.
    """
    accepted = entry(args.optimizer).hyperparameters()
    hyper = {} if args.lr is None else {"lr": args.lr}
    for flag, (keyword, _, _) in optimizer_flags().items():
        value = getattr(args, _dest(flag))
        if value is None:
            continue
        if flag in _BETA_INDEX and _dest(flag) in accepted:  # an optimizer's own beta3 (Prodigy), not one of betas
            hyper[_dest(flag)] = value
            continue
        if keyword not in accepted:
            takes = ["--lr"] + [f for f, (k, _, _) in optimizer_flags().items() if k in accepted]
            parser.error(f"{flag} does not apply to optimizer {args.optimizer!r} (it takes {', '.join(takes)})")
        if flag in _BETA_INDEX:
            if args.betas is not None:
                parser.error(f"{flag} and --betas both given; use one or the other")
            betas = list(hyper.get("betas", accepted["betas"]))
            if _BETA_INDEX[flag] >= len(betas):
                parser.error(f"{flag} does not apply to optimizer {args.optimizer!r} (it takes {len(betas)} betas)")
            betas[_BETA_INDEX[flag]] = value
            value = tuple(betas)
        hyper[keyword] = value
    return hyper
