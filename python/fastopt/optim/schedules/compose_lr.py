"""Composed scheduler objects: SequentialLR (one after another) and ChainedScheduler (all at once), as in PyTorch."""
from __future__ import annotations

from bisect import bisect_right

from ..validation import check_hyper
from .decay import check_int
from .plateau import ReduceLROnPlateau
from .scheduler import LRScheduler, check_optimizer, group_lrs


def _check_schedulers(schedulers, optimizer, owner: str) -> list:
    schedulers = list(schedulers)
    check_hyper(len(schedulers) >= 1, "schedulers", schedulers, f"{owner} needs at least one scheduler")
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"schedulers[{i}]: expected a fastopt scheduler, got {type(s).__name__}")
        check_hyper(not isinstance(s, ReduceLROnPlateau), f"schedulers[{i}]", type(s).__name__,
                    f"cannot be composed by {owner} (its step needs a metric)")
        check_hyper(s.optimizer is optimizer, f"schedulers[{i}]", type(s).__name__,
                    f"schedules another optimizer than the {owner}'s")
    return schedulers


class SequentialLR(LRScheduler):
    r"""The schedulers one after another: scheduler :math:`k` runs from milestone :math:`m_k` on, restarted
    there (closed form :class:`Sequential`), e.g. a warm-up then a decay::

        SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, T_max=95)], milestones=[5])

    Parameters
    ----------
    optimizer : Optimizer
    schedulers : list of LRScheduler
        Built on ``optimizer``; not ReduceLROnPlateau.
    milestones : list of int
        One fewer than the schedulers, increasing, each >= 1.
    last_epoch : int, default -1
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        check_optimizer(optimizer)
        self._schedulers = _check_schedulers(schedulers, optimizer, "SequentialLR")
        self._milestones = [check_int(m, "milestones", 1) for m in milestones]
        check_hyper(len(self._milestones) == len(self._schedulers) - 1, "milestones", milestones,
                    f"must be one fewer than the {len(self._schedulers)} schedulers")
        check_hyper(all(a < b for a, b in zip(self._milestones, self._milestones[1:])), "milestones", milestones,
                    "must be increasing")
        self.last_epoch = check_int(last_epoch + 1, "last_epoch + 1", 0)
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # undo the rates the schedulers' construction set
            group["lr"] = group["initial_lr"]
        self._undo_construction_steps(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_construction_steps(self, scheduler) -> None:
        for s in getattr(scheduler, "_schedulers", ()):
            if hasattr(s, "_schedulers"):
                self._undo_construction_steps(s)
            else:
                s.last_epoch -= 1

    def step(self) -> None:
        """Advance one step: the scheduler whose phase it is steps, or restarts at its milestone."""
        self.last_epoch += 1
        k = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[k]
        if k > 0 and self._milestones[k - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        """The sequence's counters and each scheduler's own state.

        Returns
        -------
        dict
        """
        return {"last_epoch": self.last_epoch, "_milestones": list(self._milestones),
                "_last_lr": list(self._last_lr), "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` of a SequentialLR of the same schedulers.

        Parameters
        ----------
        state_dict : dict
        """
        _load_composed(self, state_dict, ("last_epoch", "_milestones", "_last_lr", "_schedulers"))


class ChainedScheduler(LRScheduler):
    r"""Several schedulers stepped together, their changes multiplied (closed form :class:`Product` for
    multiplicative schedulers)::

        ChainedScheduler([ConstantLR(opt, 0.1, total_iters=2), ExponentialLR(opt, gamma=0.9)])

    Parameters
    ----------
    schedulers : list of LRScheduler
        On one optimizer; not ReduceLROnPlateau.
    optimizer : Optimizer, optional
        Default: the first scheduler's.
    """

    def __init__(self, schedulers, optimizer=None):
        schedulers = list(schedulers)
        check_hyper(len(schedulers) >= 1, "schedulers", schedulers, "ChainedScheduler needs at least one scheduler")
        optimizer = optimizer if optimizer is not None else getattr(schedulers[0], "optimizer", None)
        check_optimizer(optimizer)
        self._schedulers = _check_schedulers(schedulers, optimizer, "ChainedScheduler")
        self.optimizer = optimizer
        self._last_lr = group_lrs(self)

    def step(self) -> None:
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = group_lrs(self)

    def state_dict(self) -> dict:
        """Each scheduler's state.

        Returns
        -------
        dict
        """
        return {"_last_lr": list(self._last_lr), "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` of a ChainedScheduler of the same schedulers.

        Parameters
        ----------
        state_dict : dict
        """
        _load_composed(self, state_dict, ("_last_lr", "_schedulers"))


def _load_composed(owner, state_dict: dict, keys) -> None:
    """Check the whole state first (its keys, one state per scheduler, each loadable), then load it."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"state_dict: expected a dict, got {type(state_dict).__name__}")
    if sorted(state_dict) != sorted(keys) or len(state_dict["_schedulers"]) != len(owner._schedulers):
        raise ValueError(f"state_dict: not the state of this {type(owner).__name__} (keys {sorted(state_dict)}, "
                         f"expected {sorted(keys)} with {len(owner._schedulers)} scheduler states)")
    saved = [s.state_dict() for s in owner._schedulers]
    try:
        for s, state in zip(owner._schedulers, state_dict["_schedulers"]):
            s.load_state_dict(state)
    except (TypeError, ValueError):
        for s, state in zip(owner._schedulers, saved):  # all or nothing
            s.load_state_dict(state)
        raise
    for key in keys:
        if key != "_schedulers":
            setattr(owner, key, list(state_dict[key]) if isinstance(state_dict[key], list) else state_dict[key])


__all__ = ["ChainedScheduler", "SequentialLR"]
