"""The scheduler object PyTorch users expect: ``sched = StepLR(opt, 30); ...; opt.step(grads); sched.step()``.

:class:`LRScheduler` follows ``torch.optim.lr_scheduler.LRScheduler``: constructing one records each param
group's ``initial_lr`` and sets the rate for step 0; each ``step()`` advances ``last_epoch`` by one and
writes the new rates into the param groups; ``get_last_lr()`` returns them; ``state_dict()`` holds
everything but the optimizer.  The subclasses compute the rates with PyTorch's own (recursive, chainable)
formulas in the same operation order, so that several schedulers on one optimizer compose as in PyTorch
and the rates agree with PyTorch's to rounding.
"""
from __future__ import annotations

import copy
import math
from numbers import Integral, Real

from ..validation import check_hyper
from .decay import check_t


def check_optimizer(optimizer) -> None:
    """TypeError unless ``optimizer`` has param groups holding ``lr``.

    Parameters
    ----------
    optimizer : object
    """
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) and "lr" in g for g in groups):
        raise TypeError(f"optimizer: expected an optimizer with param_groups holding 'lr' (a fastopt optimizer), "
                        f"got {type(optimizer).__name__}")


def check_last_epoch(last_epoch) -> None:
    """ValueError unless ``last_epoch`` is an integer >= -1.

    Parameters
    ----------
    last_epoch : object
    """
    check_hyper(isinstance(last_epoch, Integral) and not isinstance(last_epoch, bool) and last_epoch >= -1,
                "last_epoch", last_epoch, "must be an integer >= -1")


def per_group(name: str, optimizer, value, check) -> list:
    """``value`` (one for all groups, or a list/tuple with one per group), each checked by ``check(v, name)``.

    Parameters
    ----------
    name : str
        The argument, named in errors.
    optimizer : Optimizer
    value : object or list or tuple
    check : callable
        ``check(v, name) -> v``, raising ValueError.
    """
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        check_hyper(len(value) == n, name, value, f"must give one value per param group ({n})")
        return [check(v, name) for v in value]
    return [check(value, name)] * n


def non_negative(value, name: str) -> float:
    """``value`` as a float, or ValueError naming ``name`` unless it is a finite real >= 0.

    Parameters
    ----------
    value : object
    name : str
    """
    check_hyper(isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value >= 0,
                name, value, "must be a finite real number >= 0")
    return float(value)


class LRScheduler:
    """Base of the scheduler objects (``torch.optim.lr_scheduler.LRScheduler``'s protocol).

    Parameters
    ----------
    optimizer : Optimizer
        Any object with ``param_groups`` (fastopt optimizers, Lookahead, the curvature optimizers).
    last_epoch : int, default -1
        -1 starts the schedule (recording each group's ``lr`` as its ``initial_lr``); a value >= 0
        resumes at that point and needs ``initial_lr`` in every group.

    Raises
    ------
    TypeError
        If ``optimizer`` has no param groups.
    ValueError
        If ``last_epoch`` is not an integer >= -1, or resuming finds a group without ``initial_lr``.
    """

    def __init__(self, optimizer, last_epoch: int = -1):
        check_optimizer(optimizer)
        check_last_epoch(last_epoch)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            missing = [i for i, g in enumerate(optimizer.param_groups) if "initial_lr" not in g]
            check_hyper(not missing, "last_epoch", last_epoch,
                        f"resumes a schedule, but param groups {missing} hold no 'initial_lr' (load the "
                        "optimizer's state_dict first, or start with last_epoch=-1)")
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the rates of step 0 (PyTorch's first, implicit ``step()``)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rates at ``last_epoch`` (subclasses define it; here TypeError).

        Returns
        -------
        list of float
            One per param group.
        """
        raise TypeError(f"{type(self).__name__} must define get_lr()")

    def step(self, epoch: int | None = None) -> None:
        """Advance one step (or epoch) and write the new rates into the param groups.

        Call it after ``optimizer.step(grads)``: once per batch for a per-step schedule, once per epoch
        for a per-epoch one.

        Parameters
        ----------
        epoch : int, optional
            Jump to this ``last_epoch`` instead (PyTorch's deprecated form): the closed form where the
            scheduler has one, else its recursive rule from the current rates.
        """
        self._step_count += 1
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = check_t(epoch)
            values = self._closed_form_lr() if hasattr(self, "_closed_form_lr") else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates the last ``step()`` set, one per param group.

        Returns
        -------
        list of float
        """
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer (and callables, which cannot be saved), deep-copied.

        Returns
        -------
        dict
        """
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k not in self._unsaved()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` of a scheduler of the same class.

        Parameters
        ----------
        state_dict : dict

        Raises
        ------
        TypeError
            If ``state_dict`` is not a dict.
        ValueError
            If its keys are not this scheduler's (another class, or not a scheduler state); nothing changes then.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict: expected a dict, got {type(state_dict).__name__}")
        expected = set(self.__dict__) - set(self._unsaved())
        missing, unexpected = sorted(expected - set(state_dict)), sorted(set(state_dict) - expected)
        if missing or unexpected:
            raise ValueError(f"state_dict: not a {type(self).__name__} state (missing {missing}, "
                             f"unexpected {unexpected})")
        self.__dict__.update(copy.deepcopy(state_dict))

    def _unsaved(self) -> tuple[str, ...]:
        return ("optimizer",)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, last_lr={self._last_lr})"


def group_lrs(scheduler: LRScheduler) -> list[float]:
    """The current ``lr`` of each param group of the scheduler's optimizer.

    Parameters
    ----------
    scheduler : LRScheduler
    """
    return [group["lr"] for group in scheduler.optimizer.param_groups]
