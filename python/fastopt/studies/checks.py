"""The checks the studies and the command line share: figure paths, optimizer lists, learning-rate maps."""
from __future__ import annotations

import math
from pathlib import Path

from ..landscape import second_order_methods
from ..optim import REGISTRY

FIGURE_SUFFIXES = (".png", ".svg")
ANIMATION_SUFFIXES = (".gif", ".mp4")


def figure_path(out, name: str = "out", suffixes=FIGURE_SUFFIXES) -> Path:
    """``out`` as a Path, after checking it ends in one of ``suffixes``.

    Parameters
    ----------
    out : path-like
        The figure file.
    name : str
        The argument's name that starts the error message.
    suffixes : tuple of str
        Accepted suffixes, lower case.
    """
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise ValueError(f"{name}: {str(out)!r} must end in {' or '.join(suffixes)}")
    return out


def beside(out: Path, tag: str) -> Path:
    """``rosenbrock.png`` -> ``rosenbrock_<tag>.png``: a companion figure in the same folder and format.

    Parameters
    ----------
    out : Path
        The main figure.
    tag : str
        What the companion shows.
    """
    return out.with_name(f"{out.stem}_{tag}{out.suffix}")


def check_optimizers(optimizers, name: str = "optimizers", second_order: bool = False) -> list[str]:
    """The optimizer names, lower-cased, after checking each is known and named once.

    Parameters
    ----------
    optimizers : iterable of str
        Registry names (``fastopt.optim.REGISTRY``), and with ``second_order`` the second-order methods
        (:func:`fastopt.landscape.second_order_methods`).
    name : str
        The argument's name that starts each error message ("" for none, as argparse adds its own).
    second_order : bool, default False
        Whether second-order methods are accepted too (the landscape paths; not the trainings); the
        optimizers that train networks only (``takes_model``: K-FAC, ...) are then refused.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        No name, an unknown one, or one named twice.
    """
    prefix = f"{name}: " if name else ""
    names = [str(o).strip().lower() for o in optimizers]
    if not names:
        raise ValueError(f"{prefix}expected at least one optimizer")
    methods = second_order_methods()
    known = [*REGISTRY, *(methods if second_order else [])]
    unknown = [o for o in names if o not in known]
    on_networks = [o for o in names if second_order and o in REGISTRY and REGISTRY[o].takes_model]
    if on_networks:  # K-FAC and the like precondition with a network's layer statistics
        raise ValueError(f"{prefix}{on_networks[0]!r} trains networks only (it needs their layer statistics), "
                         "not test functions")
    if unknown:
        choices = f"choose from {', '.join(REGISTRY)}"
        if second_order:
            choices = f"choose first-order optimizers from {', '.join(REGISTRY)} or second-order methods from " \
                      f"{', '.join(methods)}"
        elif unknown[0] in methods:
            choices += f"; {unknown[0]} is a second-order method, not accepted here"
        raise ValueError(f"{prefix}unknown optimizer {unknown[0]!r} ({choices})")
    if len(set(names)) != len(names):
        raise ValueError(f"{prefix}an optimizer is named twice in {','.join(names)!r}")
    return names


def check_lrs(lrs, optimizers, name: str = "lrs") -> dict[str, float]:
    """Learning rates per optimizer, after checking each optimizer is among ``optimizers`` and each rate positive.

    Parameters
    ----------
    lrs : mapping or None
        Optimizer name -> learning rate.
    optimizers : sequence of str
        The optimizers of the study.
    name : str
        The argument's name that starts each error message.

    Returns
    -------
    dict
        Name -> float rate (empty for None).
    """
    lrs = dict(lrs or {})
    extra = [o for o in lrs if o not in optimizers]
    if extra:
        raise ValueError(f"{name}: {extra[0]!r} is not among the optimizers ({', '.join(optimizers)})")
    bad = {o: v for o, v in lrs.items() if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0)}
    if bad:
        raise ValueError(f"{name}: learning rates must be positive numbers, got {bad}")
    return {o: float(v) for o, v in lrs.items()}
