"""Optimizers by name: one registry entry per name holds everything the package asks about it.

An entry is declared beside its class, in the optimizer's own module (``register("adam", Adam, ...)``):
the class and the hyperparameters its name presets (``"momentum"`` is SGD with momentum 0.9), the
learning rates the landscapes and the MNIST studies default to, and its plot colour.  The CLI derives
its flags from the class's signature and docstring, the landscapes and studies read the rates, the
plots the colour, the tests and benches the list::

    fastopt.optim.create("adam", params, lr=1e-2)
    fastopt.optim.entry("adam").mnist_lr
"""
from __future__ import annotations

import fnmatch
import functools
import inspect
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """What the package knows about one registry name.

    Parameters
    ----------
    name : str
        The registry name, lower case, as the CLI and the figures spell it.
    cls : type
        The optimizer class (a :class:`~fastopt.optim.Optimizer`, or a wrapper such as Ranger).
    preset : dict
        Hyperparameters the name sets over the class's defaults (``{"momentum": 0.9}``).
    mnist_lr : float or None
        The learning rate of an MLP on MNIST (batches of 128, constant rate) in ``fastopt compare``; None:
        the optimizer's default.
    landscape_lr : dict
        Test-function name -> the learning rate of its paths in ``fastopt landscape``, as found by
        ``tools/search_default_lr.py`` (functions left out use the optimizer's default).
    color : str
        Its colour in every figure (a hex string).
    takes_model : bool
        The class is built over the model, not its params (the curvature optimizers: K-FAC, EKFAC,
        natural gradient): :func:`create` passes it the model, and it trains only networks.
    """

    name: str
    cls: type
    preset: dict = field(default_factory=dict)
    mnist_lr: float | None = None
    landscape_lr: dict = field(default_factory=dict)
    color: str = "#000000"
    takes_model: bool = False

    def hyperparameters(self) -> dict:
        """The constructor's keywords -> their defaults (the preset applied), in signature order."""
        signature = inspect.signature(self.cls.__init__)
        return {k: self.preset.get(k, p.default) for k, p in signature.parameters.items()
                if k not in ("self", "params", "model") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def describe(self, keyword: str) -> str:
        """The first sentence of ``keyword``'s entry in the class docstring's Parameters section, or ''."""
        return parameter_docs(self.cls).get(keyword, "")


@functools.lru_cache(maxsize=None)  # a class's docstring does not change; the CLI asks per keyword
def parameter_docs(cls) -> dict:
    """keyword -> the first sentence of its description in ``cls``'s numpy-style Parameters section."""
    doc = inspect.getdoc(cls) or ""
    section = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, re.S | re.M)
    if not section:
        return {}
    out = {}
    for match in re.finditer(r"^(\w+)(?: : [^\n]*)?\n((?:    [^\n]*\n?)+)", section.group(1), re.M):
        text = " ".join(match.group(2).split())
        text = re.sub(r"``([^`]*)``", r"\1", re.sub(r"\s*:math:`[^`]*`", "", text))  # plain text for --help
        out[match.group(1)] = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;")
    return out


REGISTRY: dict[str, Entry] = {}
# name -> (class, preset): the short view older code and the tests read.
OPTIMIZERS: dict[str, tuple[type, dict]] = {}


def register(name: str, cls: type, **fields) -> Entry:
    """Add the registry entry ``name`` for ``cls`` (``fields`` as :class:`Entry` takes them) and return it.

    Parameters
    ----------
    name : str
        The registry name; registering it twice is an error.
    cls : type
        The optimizer class.
    **fields
        ``preset``, ``mnist_lr``, ``landscape_lr``, ``color``, ``takes_model``.
    """
    name = name.lower()
    if name in REGISTRY:
        raise ValueError(f"optimizer {name!r} is registered twice")
    entry = Entry(name, cls, **fields)
    REGISTRY[name] = entry
    OPTIMIZERS[name] = (cls, entry.preset)
    return entry


def entry(name: str) -> Entry:
    """The registry entry called ``name``; ValueError listing the names otherwise.

    Parameters
    ----------
    name : str
        A registry name, in any case.
    """
    try:
        return REGISTRY[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(REGISTRY)}") from None


def create(name: str, params, **hyper):
    """Build the optimizer called ``name`` over ``params``.

    Parameters
    ----------
    name : str
        A registry name (``"sgd"``, ``"momentum"``, ``"adam"``, ...).
    params : list, dict or list of param groups, or fastopt.nn.MLP
        As the optimizer's constructor takes them: the model itself for an entry that ``takes_model``.
    **hyper
        Hyperparameters overriding the entry's preset and the class's defaults.
    """
    e = entry(name)
    return e.cls(params, **{**e.preset, **hyper})


def available(pattern="*") -> list[str]:
    """The registry names matching ``pattern``, in registration order (pytorch-optimizer's
    ``get_supported_optimizers``).

    Parameters
    ----------
    pattern : str or list of str, default "*"
        Shell-style wildcards (``fnmatch``: ``*``, ``?``, ``[seq]``), matched case-insensitively; a list
        matches a name if any of its patterns does.

    Examples
    --------
    >>> fastopt.optim.available("adam*")
    ['adam', 'adamw', 'adamax']
    >>> fastopt.optim.available(["sgd*", "*prop"])
    ['sgd', 'sgdw', 'rmsprop', 'rprop']
    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    if not all(isinstance(p, str) for p in patterns):
        raise TypeError(f"pattern: expected a string or a list of strings, got {pattern!r}")
    return [name for name in REGISTRY if any(fnmatch.fnmatchcase(name, p.lower()) for p in patterns)]
