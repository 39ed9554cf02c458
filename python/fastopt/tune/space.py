"""A search space written once: ``lr=loguniform:1e-5:1e-1``, ``batch_size=choice:64,128,256``,
``momentum=uniform:0.8:0.99``, ``hidden=int:32:256``, ``optimizer=choice:sgd,adam``; and grids,
``lr=1e-4,3e-4,1e-3``.

Parsing needs no Optuna: :func:`parse_space` and :func:`parse_grid` return a :class:`Space`, which
suggests a trial's parameters through Optuna's define-by-run ``trial.suggest_*`` calls
(:meth:`Space.suggest`) and gives the grid that ``optuna.samplers.GridSampler`` walks (:meth:`Space.grid`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

KINDS = ("loguniform", "uniform", "int", "choice")


@dataclass(frozen=True)
class Param:
    """One searched parameter.

    Parameters
    ----------
    name : str
        The parameter (``lr``, ``batch_size``, ``optimizer``, an optimizer keyword, ...).
    kind : str
        ``"loguniform"``, ``"uniform"``, ``"int"`` (a range of integers, bounds included) or ``"choice"``
        (also every grid parameter).
    low, high : float or int, optional
        The range of the three continuous kinds.
    choices : tuple, optional
        The values of a ``"choice"``.
    """

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def spec(self) -> str:
        """The parameter written back as the flag's text (``lr=loguniform:1e-05:0.1``)."""
        if self.kind == "choice":
            return f"{self.name}=choice:{','.join(str(c) for c in self.choices)}"
        return f"{self.name}={self.kind}:{self.low!r}:{self.high!r}"

    def suggest(self, trial):
        """This parameter's value for an Optuna trial (``trial.suggest_float/int/categorical``)."""
        if self.kind == "loguniform":
            return trial.suggest_float(self.name, self.low, self.high, log=True)
        if self.kind == "uniform":
            return trial.suggest_float(self.name, self.low, self.high)
        if self.kind == "int":
            return trial.suggest_int(self.name, self.low, self.high)
        return trial.suggest_categorical(self.name, list(self.choices))


def parse_value(text: str):
    """``"64"`` -> 64, ``"3e-4"`` -> 0.0003, ``"true"`` -> True, ``"adam"`` -> ``"adam"``.

    Parameters
    ----------
    text : str
        One value of a choice or a grid.
    """
    text = text.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            continue
        if kind is float and not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        return value
    if not text:
        raise ValueError("an empty value")
    return text


def _number(text: str, spec: str, which: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{spec!r}: {which} bound {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{spec!r}: {which} bound {text!r} is not finite")
    return value


def _split(spec: str, what: str) -> tuple[str, str]:
    if not isinstance(spec, str):
        raise TypeError(f"{what}: expected a string NAME=..., got {type(spec).__name__}")
    name, equals, rest = spec.partition("=")
    name = name.strip()
    if not equals or not name.isidentifier() or not rest.strip():
        raise ValueError(f"{what}: expected NAME={'KIND:...' if what == 'space' else 'V1,V2,...'} "
                         f"(e.g. {'lr=loguniform:1e-5:1e-1' if what == 'space' else 'lr=1e-4,3e-4,1e-3'}), got {spec!r}")
    return name, rest.strip()


def _choices(spec: str, text: str) -> tuple:
    try:
        values = tuple(parse_value(v) for v in text.split(","))
    except ValueError as e:
        raise ValueError(f"{spec!r}: {e}") from None
    if len(set(values)) != len(values):
        raise ValueError(f"{spec!r}: a value is repeated")
    return values


def parse_param(spec: str) -> Param:
    """One ``--space`` entry: ``NAME=loguniform:LOW:HIGH``, ``NAME=uniform:LOW:HIGH``, ``NAME=int:LOW:HIGH`` or
    ``NAME=choice:V1,V2,...``.

    Parameters
    ----------
    spec : str
        The entry.

    Raises
    ------
    ValueError
        Naming the entry and what is wrong: no ``=``, an unknown kind, bounds that are not numbers,
        ``low >= high``, a log range not above 0, integer bounds that are not integers, a repeated choice.
    """
    name, rest = _split(spec, "space")
    kind, colon, args = rest.partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS or not colon:
        raise ValueError(f"{spec!r}: unknown kind {kind!r}; write NAME=KIND:..., KIND one of {', '.join(KINDS)}")
    if kind == "choice":
        return Param(name, "choice", choices=_choices(spec, args))
    bounds = args.split(":")
    if len(bounds) != 2:
        raise ValueError(f"{spec!r}: {kind} takes two bounds, {kind}:LOW:HIGH")
    low, high = (_number(b, spec, which) for b, which in zip(bounds, ("low", "high")))
    if not low < high:
        raise ValueError(f"{spec!r}: low {low:g} must be below high {high:g}")
    if kind == "loguniform" and low <= 0:
        raise ValueError(f"{spec!r}: loguniform needs 0 < low, got {low:g}")
    if kind == "int":
        if low != int(low) or high != int(high):
            raise ValueError(f"{spec!r}: int bounds must be integers")
        low, high = int(low), int(high)
    return Param(name, kind, low, high)


def parse_grid_param(spec: str) -> Param:
    """One ``--grid`` entry, ``NAME=V1,V2,...``, as a choice.

    Parameters
    ----------
    spec : str
        The entry.

    Raises
    ------
    ValueError
        No ``=``, an empty or repeated value.
    """
    name, rest = _split(spec, "grid")
    return Param(name, "choice", choices=_choices(spec, rest))


@dataclass(frozen=True)
class Space:
    """The searched parameters, in the order given (``optimizer`` first when present, since which
    hyperparameters apply depends on it).

    Parameters
    ----------
    params : tuple of Param
    is_grid : bool
        Whether the parameters came from ``--grid`` (searched exhaustively).
    """

    params: tuple
    is_grid: bool = False

    def __post_init__(self):
        names = [p.name for p in self.params]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"{'grid' if self.is_grid else 'space'}: {', '.join(repeated)} given twice")
        if not self.params:
            raise ValueError("space: no parameter to search (give --grid or --space)")
        object.__setattr__(self, "params", tuple(sorted(self.params, key=lambda p: p.name != "optimizer")))

    @property
    def names(self) -> list[str]:
        """The parameter names."""
        return [p.name for p in self.params]

    def __getitem__(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def grid(self) -> dict[str, list]:
        """``name -> values`` for ``optuna.samplers.GridSampler`` (a grid space only)."""
        if not self.is_grid:
            raise ValueError("space: a grid needs --grid values, not --space distributions")
        return {p.name: list(p.choices) for p in self.params}

    def size(self) -> int | None:
        """The number of grid points (None: a continuous space)."""
        return math.prod(len(p.choices) for p in self.params) if self.is_grid else None

    def suggest(self, trial, applies=lambda name, params: True) -> dict:
        """The trial's parameters, suggested in order; a parameter that does not apply to the values
        suggested so far (``applies(name, params)`` false: momentum for Adam) is not suggested, so
        Optuna's samplers and importances see it only where it acts.

        Parameters
        ----------
        trial : optuna.trial.Trial
        applies : callable
            ``applies(name, params_so_far) -> bool``.
        """
        params = {}
        for p in self.params:
            if applies(p.name, params):
                params[p.name] = p.suggest(trial)
        return params

    def specs(self) -> list[str]:
        """Every parameter as its flag's text (stored with the study, compared on resume)."""
        return [p.spec() for p in self.params]


def parse_space(specs) -> Space:
    """A :class:`Space` of ``--space`` entries (see :func:`parse_param`).

    Parameters
    ----------
    specs : iterable of str
    """
    return Space(tuple(parse_param(s) for s in specs), is_grid=False)


def parse_grid(specs) -> Space:
    """A grid :class:`Space` of ``--grid`` entries (see :func:`parse_grid_param`).

    Parameters
    ----------
    specs : iterable of str
    """
    return Space(tuple(parse_grid_param(s) for s in specs), is_grid=True)
