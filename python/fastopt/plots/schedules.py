"""Figures of learning-rate schedules: every schedule's curve, trainings under several schedules, the range test."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .style import new_figure, save_figure

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf")


def schedule_curves(schedules: Mapping, steps: int = 100, columns: int = 4, save=None, dpi: float = 100):
    """Small multiples: one panel per schedule, its factor of the base rate against the step.

    Parameters
    ----------
    schedules : mapping
        Title -> a callable ``t -> factor`` (fastopt.optim.schedules), or a sequence of the factors.
    steps : int, default 100
        The steps drawn for callables.
    columns : int, default 4
        Panels per row.
    save : path-like or list of path-like, optional
        .png or .svg file(s).
    dpi : float, default 100

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``schedules`` is empty, or ``steps`` or ``columns`` is not a positive integer.
    """
    if not isinstance(schedules, Mapping) or not schedules:
        raise ValueError("schedules: expected a non-empty mapping of title -> schedule")
    if not isinstance(steps, int) or steps < 1 or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"steps and columns: expected positive integers, got {steps!r}, {columns!r}")
    rows = -(-len(schedules) // columns)
    figure = new_figure(3.0 * columns, 2.2 * rows + 0.5, dpi)
    axes = np.asarray(figure.subplots(rows, columns, squeeze=False, sharex=False)).ravel()
    for k, (ax, (title, schedule)) in enumerate(zip(axes, schedules.items())):
        values = [schedule(t) for t in range(steps)] if callable(schedule) else list(schedule)
        ax.plot(range(len(values)), values, color=_PALETTE[k % len(_PALETTE)], lw=1.6, gid=f"schedule:{title}")
        ax.set_title(str(title), fontsize="medium")
        ax.set_ylim(-0.05, max(1.05, 1.05 * max(values)))
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize="small")
    for ax in axes[len(schedules):]:
        ax.set_visible(False)
    figure.supxlabel("step t")
    figure.supylabel("learning rate / base rate")
    figure.suptitle("learning-rate schedules (fastopt.optim.schedules)")
    return save_figure(figure, save)


def schedule_trainings(histories: Mapping, lr_curves: Mapping | None = None, save=None, dpi: float = 100):
    """The same network trained under several schedules: test accuracy and train loss against the epoch,
    and (if given) each run's learning rate, with one shared legend.

    Parameters
    ----------
    histories : mapping
        Schedule name -> :class:`fastopt.train.History` (or its records).
    lr_curves : mapping, optional
        Schedule name -> the rate at each step, drawn in a third panel.
    save : path-like or list of path-like, optional
    dpi : float, default 100

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories: expected a non-empty mapping of schedule name -> history")
    panels = 3 if lr_curves else 2
    figure = new_figure(4.2 * panels, 3.8, dpi)
    axes = figure.subplots(1, panels)
    for k, (name, history) in enumerate(histories.items()):
        records = list(history)
        color = _PALETTE[k % len(_PALETTE)]
        epochs = [r["epoch"] for r in records]
        axes[0].plot(epochs, [100 * r["test_accuracy"] for r in records], marker="o", ms=3, color=color, label=name)
        axes[1].plot(epochs, [r["train_loss"] for r in records], marker="o", ms=3, color=color)
        if lr_curves:
            curve = lr_curves[name]
            axes[2].plot(np.arange(len(curve)) / max(1, len(curve)) * len(records), curve, color=color)
    axes[0].set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy")
    axes[1].set(xlabel="epoch", ylabel="mean training loss", title="training loss", yscale="log")
    if lr_curves:
        axes[2].set(xlabel="epoch", ylabel="learning rate", title="learning rate (per step)")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    return save_figure(figure, save)


def lr_find(result, save=None, dpi: float = 100):
    """The range test's curve: raw and smoothed loss against the rate (log axis), the suggestion marked.

    Parameters
    ----------
    result : fastopt.lr_find.LRFindResult
    save : path-like or list of path-like, optional
    dpi : float, default 100

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure = new_figure(6.4, 4.2, dpi)
    ax = figure.subplots()
    ax.plot(result.lrs, result.losses, color="#bbbbbb", lw=0.8, label="mini-batch loss")
    ax.plot(result.lrs, result.smoothed, color="#1f77b4", lw=1.8, label="smoothed loss")
    finite = [v for v in result.smoothed if np.isfinite(v)]
    if finite:  # keep the divergence from flattening the interesting part
        ax.set_ylim(min(finite) * 0.9, min(max(finite), 4 * min(finite)) * 1.1)
    marks = {"valley": "#d62728", "steepest": "#2ca02c", "minimum": "#9467bd"}
    for rule, rate in result.suggestions.items():
        if rate is not None:
            chosen = " (suggested)" if rule == result.rule else ""
            ax.axvline(rate, color=marks.get(rule, "k"), ls="-" if chosen else ":", lw=1.2,
                       label=f"{rule}: {rate:.2e}{chosen}")
    ax.set(xscale="log", xlabel="learning rate", ylabel="training loss",
           title=f"learning-rate range test ({len(result.lrs)} steps, stopped: {result.stop_reason})")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize="small")
    return save_figure(figure, save)
