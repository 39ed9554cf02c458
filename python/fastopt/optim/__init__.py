"""Optimizers with PyTorch's constructor names and defaults, updating NumPy arrays in place.

Each optimizer lives in one module (its family's): the class, whose ``spec`` names its C++ declaration,
and its registry entry.  Importing a module registers its entries; ``__all__`` collects the classes.
"""
# Imported in this order on purpose: importing registers, and this is the order the names are listed in.
from . import sgd, adagrad, rmsprop, adadelta, adam, adamax, nadam, radam, lion, lookahead  # noqa: I001
from . import adabelief, adopt, ademamix, adan, rprop, asgd, trust_ratio, stable_adamw, schedule_free, prodigy  # noqa: I001
from . import muon, adafactor  # noqa: I001
from . import schedules
from .adabelief import *  # noqa: F401,F403
from .adafactor import *  # noqa: F401,F403
from .adadelta import *  # noqa: F401,F403
from .adagrad import *  # noqa: F401,F403
from .adam import *  # noqa: F401,F403
from .adamax import *  # noqa: F401,F403
from .adan import *  # noqa: F401,F403
from .ademamix import *  # noqa: F401,F403
from .adopt import *  # noqa: F401,F403
from .asgd import *  # noqa: F401,F403
from .base import Optimizer
from .ema import EMA
from .lion import *  # noqa: F401,F403
from .lookahead import *  # noqa: F401,F403
from .muon import *  # noqa: F401,F403
from .nadam import *  # noqa: F401,F403
from .prodigy import *  # noqa: F401,F403
from .radam import *  # noqa: F401,F403
from .registry import OPTIMIZERS, REGISTRY, Entry, available, create, entry, register
from .rmsprop import *  # noqa: F401,F403
from .rprop import *  # noqa: F401,F403
from .schedule_free import *  # noqa: F401,F403
from .schedules import Constant, CosineDecay, ExponentialDecay, LinearWarmup, StepDecay
from .sgd import *  # noqa: F401,F403
from .stable_adamw import *  # noqa: F401,F403
from .state import GroupState, KernelCall
from .trust_ratio import *  # noqa: F401,F403

CLASSES = [name for family in (sgd, adagrad, rmsprop, adadelta, adam, adamax, nadam, radam, lion, lookahead, adabelief,
                                adopt, ademamix, adan, rprop, asgd, trust_ratio, stable_adamw, schedule_free, prodigy,
                                muon, adafactor)
           for name in family.__all__]

__all__ = ["Optimizer", "EMA", *CLASSES, "GroupState", "KernelCall", "OPTIMIZERS", "REGISTRY", "Entry", "available", "create",
           "entry", "register", "schedules", "Constant", "StepDecay", "ExponentialDecay", "CosineDecay", "LinearWarmup"]
