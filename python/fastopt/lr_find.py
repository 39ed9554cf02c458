r"""The learning-rate range test (Smith, 2017, "Cyclical learning rates", section 3.3; fastai's ``lr_find``).

::

    result = lr_find(model, fastopt.Adam(model.params), data.train)
    result.suggestion          # the rate the rule picks
    fastopt.plots.lr_find(result, save="lrfind.png")

Train for ``num_steps`` mini-batches while the rate grows exponentially from ``start_lr`` to ``end_lr``
(:math:`\eta_i = \eta_\text{start} (\eta_\text{end}/\eta_\text{start})^{i/(n-1)}`), record the loss, smooth it
with a bias-corrected exponential moving average (:math:`a_i = \beta a_{i-1} + (1-\beta) \ell_i`,
:math:`\bar\ell_i = a_i / (1 - \beta^{i+1})`), and stop early once the smoothed loss exceeds ``diverge``
times its minimum (or is not finite).  The model's parameters and the optimizer's state are restored
afterwards, so the test can be run before the real training on the same objects.

The suggestion rules (``rule``):

- ``"valley"`` (default; fastai's since 2.4): find the longest decreasing subsequence of the smoothed
  losses, from index ``a`` to ``b``, and take the rate at ``a + int(s) + int(s / 2)`` with
  ``s = (b - a) / 3``: about half-way down the valley, past its steep start and well before its bottom.
- ``"steepest"``: the rate where the smoothed loss falls fastest against :math:`\log \eta` (its most
  negative finite-difference slope), the classic "steepest descent" point.
- ``"minimum"``: the rate at the smallest smoothed loss divided by 10 (Smith's rule of thumb: an order
  of magnitude below where the loss stops improving).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from tqdm import tqdm

from .optim.validation import check_hyper

RULES = ("valley", "steepest", "minimum")


@dataclass
class LRFindResult:
    """What the range test measured.

    Parameters
    ----------
    lrs : list of float
        The rate of each step taken.
    losses : list of float
        Each step's mini-batch loss.
    smoothed : list of float
        The bias-corrected moving average of the losses.
    suggestion : float or None
        The rate ``rule`` picks (None if fewer than 3 steps were taken).
    rule : str
        One of :data:`RULES`.
    stop_reason : str
        ``"diverged"`` (the smoothed loss passed ``diverge`` times its minimum, or was not finite) or ``"end"``.
    suggestions : dict
        The rate of every rule.
    """

    lrs: list
    losses: list
    smoothed: list
    suggestion: float | None
    rule: str
    stop_reason: str
    suggestions: dict = field(default_factory=dict)


def _check_positive(value, name: str) -> float:
    check_hyper(isinstance(value, Real) and not isinstance(value, bool) and 0 < value < math.inf, name, value,
                "must be a finite number > 0")
    return float(value)


def suggest(lrs, smoothed, rule: str = "valley") -> float | None:
    """The rate ``rule`` picks from a range test's curve (see the module docstring).

    Parameters
    ----------
    lrs, smoothed : sequence of float
        The rates and smoothed losses, same length.
    rule : {"valley", "steepest", "minimum"}

    Returns
    -------
    float or None
        None when fewer than 3 finite points exist.
    """
    check_hyper(rule in RULES, "rule", rule, f"must be one of {', '.join(RULES)}")
    lrs, losses = np.asarray(lrs, float), np.asarray(smoothed, float)
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite], losses[finite]
    n = len(losses)
    if n < 3:
        return None
    if rule == "minimum":
        return float(lrs[int(np.argmin(losses))] / 10)
    if rule == "steepest":
        slopes = np.diff(losses) / np.diff(np.log(lrs))
        return float(lrs[int(np.argmin(slopes))])
    longest = np.ones(n, int)  # longest decreasing subsequence ending at each point
    best_end, best_start = 0, 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and longest[i] < longest[j] + 1:
                longest[i] = longest[j] + 1
        if longest[best_end] < longest[i]:
            best_end, best_start = i, i - longest[i] + 1  # (fastai counts the start one point earlier)
    sections = (best_end - best_start) / 3
    return float(lrs[best_start + int(sections) + int(sections / 2)])


def lr_find(model, optimizer, train, start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
            batch_size: int = 128, beta: float = 0.98, diverge: float = 4.0, rule: str = "valley", seed: int = 0,
            progress: bool = True) -> LRFindResult:
    """Run the range test (module docstring) and restore the model and optimizer.

    Parameters
    ----------
    model
        As :func:`fastopt.train.fit` takes it (``params``, ``grads``, ``forward_backward``).
    optimizer : fastopt.Optimizer
        Built over ``model.params``; every param group's ``lr`` is set at each step.
    train : fastopt.datasets.Split or (x, y)
        Training data, visited in a seeded permutation (and again if ``num_steps`` batches exceed it).
    start_lr, end_lr : float
        The sweep's ends, 0 < start_lr < end_lr.
    num_steps : int
        Steps of the full sweep, >= 3.
    batch_size : int
        >= 1 (no larger than the data).
    beta : float
        Smoothing of the loss, in [0, 1).
    diverge : float
        Stop once the smoothed loss exceeds this multiple of its minimum, > 1.
    rule : {"valley", "steepest", "minimum"}
        The suggestion's rule.
    seed : int
        Seeds the order of the batches.
    progress : bool
        A progress bar of the steps, showing the rate and the smoothed loss.

    Returns
    -------
    LRFindResult

    Raises
    ------
    ValueError
        For an argument out of range, before anything is trained.
    """
    from .train import _xy
    x, y = _xy(train, "train")
    start_lr, end_lr = _check_positive(start_lr, "start_lr"), _check_positive(end_lr, "end_lr")
    check_hyper(start_lr < end_lr, "end_lr", end_lr, f"must be larger than start_lr={start_lr:g}")
    check_hyper(isinstance(num_steps, Integral) and num_steps >= 3, "num_steps", num_steps, "must be an integer >= 3")
    check_hyper(isinstance(batch_size, Integral) and 1 <= batch_size <= len(x), "batch_size", batch_size,
                f"must be an integer in [1, {len(x)}]")
    check_hyper(isinstance(beta, Real) and 0 <= beta < 1, "beta", beta, "must be in [0, 1)")
    check_hyper(isinstance(diverge, Real) and 1 < diverge < math.inf, "diverge", diverge, "must be a number > 1")
    check_hyper(rule in RULES, "rule", rule, f"must be one of {', '.join(RULES)}")

    saved_params = {k: v.copy() for k, v in model.params.items()}
    saved_state = optimizer.state_dict()
    saved_lrs = [g["lr"] for g in optimizer.param_groups]
    rng = np.random.default_rng(seed)
    order, cursor = rng.permutation(len(x)), 0
    lrs, losses, smoothed = [], [], []
    average, best, stop_reason = 0.0, math.inf, "end"
    try:
        with tqdm(total=num_steps, desc="lr-find", unit="step", disable=not progress, leave=False) as bar:
            for i in range(num_steps):
                lr = start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))
                for group in optimizer.param_groups:
                    group["lr"] = lr
                if cursor + batch_size > len(x):
                    order, cursor = rng.permutation(len(x)), 0
                batch = order[cursor:cursor + batch_size]
                cursor += batch_size
                loss = float(model.forward_backward(x[batch], y[batch]))
                optimizer.step(model.grads)
                average = beta * average + (1 - beta) * loss
                smooth = average / (1 - beta ** (i + 1))
                lrs.append(lr)
                losses.append(loss)
                smoothed.append(smooth)
                bar.set_postfix(lr=f"{lr:.2e}", loss=f"{smooth:.4f}")
                bar.update()
                if not math.isfinite(smooth) or smooth > diverge * best:
                    stop_reason = "diverged"
                    break
                best = min(best, smooth)
    finally:  # the test must leave the model and the optimizer as it found them
        for k, v in saved_params.items():
            model.params[k][...] = v
        optimizer.load_state_dict(saved_state)
        for group, lr in zip(optimizer.param_groups, saved_lrs):
            group["lr"] = lr
    # The points after divergence would drag the rules towards rates that blew up: keep those before it.
    kept = len(lrs) - 1 if stop_reason == "diverged" else len(lrs)
    suggestions = {r: suggest(lrs[:kept], smoothed[:kept], r) for r in RULES}
    return LRFindResult(lrs, losses, smoothed, suggestions[rule], rule, stop_reason, suggestions)
