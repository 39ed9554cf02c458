"""Optimizers with PyTorch's constructor names and defaults, updating NumPy arrays in place."""
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer
from .lion import Lion
from .lookahead import Lookahead, Ranger
from .nadam import NAdam
from .radam import RAdam
from .registry import OPTIMIZERS, create
from .rmsprop import RMSprop
from .schedules import Constant, CosineDecay, ExponentialDecay, LinearWarmup, StepDecay
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
           "Lion", "Lookahead", "Ranger", "OPTIMIZERS", "create", "schedules", "Constant", "StepDecay",
           "ExponentialDecay", "CosineDecay", "LinearWarmup"]
