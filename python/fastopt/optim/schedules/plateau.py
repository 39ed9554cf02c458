"""ReduceLROnPlateau: a stateful, metric-driven scheduler (PyTorch's semantics)."""
from __future__ import annotations

import math

from ..validation import check_hyper
from .decay import check_int, check_real
from .scheduler import LRScheduler, check_optimizer, non_negative, per_group


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the rate by ``factor`` once the metric has not improved for more than ``patience`` steps.

    ``step(metric)`` after each evaluation.  The metric improves on the best so far when
    :math:`m < b(1 - \theta)` (``min``, ``rel``), :math:`m < b - \theta` (``min``, ``abs``),
    :math:`m > b(1 + \theta)` (``max``, ``rel``) or :math:`m > b + \theta` (``max``, ``abs``).  When the bad steps
    exceed ``patience``, each group's rate becomes :math:`\max(\eta \cdot \text{factor}, \eta_\min)` (unless it
    would change by no more than ``eps``), and ``cooldown`` steps follow in which bad steps are not counted.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {"min", "max"}
        Whether a lower (loss) or higher (accuracy) metric is better.
    factor : float, default 0.1
        In [0, 1).
    patience : int, default 10
        >= 0.
    threshold : float, default 1e-4
        :math:`\theta`, >= 0.
    threshold_mode : {"rel", "abs"}
    cooldown : int, default 0
        >= 0.
    min_lr : float or list of float, default 0
        :math:`\eta_\min`, one or one per group, >= 0.
    eps : float, default 1e-8
        >= 0.
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: str = "rel", cooldown: int = 0, min_lr=0.0, eps: float = 1e-8):
        check_optimizer(optimizer)
        check_hyper(mode in ("min", "max"), "mode", mode, "must be 'min' or 'max'")
        check_hyper(threshold_mode in ("rel", "abs"), "threshold_mode", threshold_mode, "must be 'rel' or 'abs'")
        self.factor = check_real(factor, "factor", 0.0, 1.0, high_open=True)
        self.patience = check_int(patience, "patience", 0)
        self.cooldown = check_int(cooldown, "cooldown", 0)
        self.threshold = non_negative(threshold, "threshold")
        self.eps = non_negative(eps, "eps")
        self.min_lrs = per_group("min_lr", optimizer, min_lr, non_negative)
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics) -> None:  # the metric is required, unlike the other schedulers' step
        """Record one evaluation's metric and reduce the rates if it has stalled.

        Parameters
        ----------
        metrics : float
            The monitored value (e.g. the validation loss); NaN counts as no improvement.

        Raises
        ------
        TypeError
            If ``metrics`` is not a real number.
        """
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"metrics: expected a number, got {metrics!r}") from None
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` under ``mode`` and ``threshold``.

        Parameters
        ----------
        a, best : float
        """
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (1.0 + self.threshold) if self.threshold_mode == "rel" else a > best + self.threshold

    @property
    def in_cooldown(self) -> bool:
        """Whether bad steps are being ignored after a reduction."""
        return self.cooldown_counter > 0
