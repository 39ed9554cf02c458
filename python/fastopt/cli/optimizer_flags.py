"""The optimizer hyperparameter flags of ``fastopt train`` and ``lr-find``, derived from the registry: every
constructor keyword of every optimizer is one flag, typed by its default."""
from __future__ import annotations

import argparse

from ..optim import REGISTRY, entry
from .args import float_tuple, positive_int


def float_or_tuple(text: str):
    """``"1e-8"`` -> ``1e-8``, ``"1e-30,1e-3"`` -> ``(1e-30, 1e-3)``: a keyword one optimizer takes as a number
    and another as a tuple (``eps``; Adafactor's is a pair).

    Parameters
    ----------
    text : str
        A number, or numbers separated by commas.
    """
    if "," in text:
        return float_tuple(text)
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or numbers separated by commas, got {text!r}") from None


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
            previous = kinds.get(keyword)
            if previous not in (None, kind) and {previous, kind} <= {float, float_tuple, float_or_tuple}:
                kinds[keyword] = kind = float_or_tuple  # eps: a number, but Adafactor's is a pair
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
