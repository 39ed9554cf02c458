"""Optimizers by name, as the CLI, the landscape tools and the comparisons spell them.

``"momentum"`` and ``"nesterov"`` are SGD with momentum 0.9 (and Nesterov's variant); every other
name is one optimizer class with PyTorch's defaults.  ``create("adam", params, lr=1e-2)`` overrides
any hyperparameter.
"""
from __future__ import annotations

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lion import Lion
from .lookahead import Ranger
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

OPTIMIZERS: dict[str, tuple[type, dict]] = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (Adagrad, {}),
    "rmsprop": (RMSprop, {}),
    "adadelta": (Adadelta, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "adamax": (Adamax, {}),
    "nadam": (NAdam, {}),
    "radam": (RAdam, {}),
    "lion": (Lion, {}),
    "ranger": (Ranger, {}),
}


def create(name: str, params, **hyper):
    """Build the optimizer called ``name`` over ``params``; ``hyper`` overrides its defaults."""
    try:
        cls, preset = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}") from None
    return cls(params, **{**preset, **hyper})
