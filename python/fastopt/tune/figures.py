"""The figures of a search: the metric against the learning rate (log axis), a heat map of a grid over two
parameters, the optimisation history, and the parameter importances (Optuna's PED-ANOVA, which needs no
scikit-learn).  Each is drawn only when the search has what it shows (an ``lr`` parameter, a grid of two
or more parameters, two or more parameters with enough complete trials).
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from ..plots.style import color_for, new_figure, save_figure

DPI = 110
MIN_IMPORTANCE_TRIALS = 8


def _label(objective) -> str:
    """The metric's axis label, with its unit."""
    return {"test_accuracy": "test accuracy (%)", "test_loss": "test loss (cross-entropy)",
            "train_loss": "training loss (cross-entropy)", "final_loss": "final loss f(x)"}[objective.metric]


def _shown(objective, value):
    """The metric as drawn: accuracies in percent."""
    return 100 * value if objective.metric.endswith("accuracy") else value


def _title(objective) -> str:
    settings = objective.settings()
    if settings["objective"] == "LandscapeObjective":
        return f"{settings['function']}, {settings['steps']} steps"
    return f"{settings['dataset']}, {settings['epochs']} epoch(s) per trial"


def _finite(rows) -> list[dict]:
    return [r for r in rows if r["value"] is not None and math.isfinite(r["value"]) and r["state"] != "FAIL"]


def metric_vs_lr(rows, space, objective, path) -> Path | None:
    """The metric of every trial against its learning rate (log axis), one series per value of the
    searched categorical parameter with the fewest values (e.g. batch size), pruned trials hollow."""
    rows = [r for r in _finite(rows) if r.get("lr") is not None]
    if "lr" not in space or not rows:
        return None
    groups = [p for p in space.params if p.name != "lr" and p.kind == "choice"]
    by = min(groups, key=lambda p: len(p.choices)).name if groups else None
    figure = new_figure(6.4, 4.2, DPI)
    ax = figure.add_subplot()
    keys = sorted({r.get(by) for r in rows}, key=lambda k: (isinstance(k, str), k)) if by else [None]
    for i, key in enumerate(keys):
        series = sorted((r for r in rows if by is None or r.get(by) == key), key=lambda r: r["lr"])
        color = color_for(key) if by == "optimizer" else f"C{i}"
        label = None if by is None else f"{by} = {key}"
        lrs = [r["lr"] for r in series]
        values = [_shown(objective, r["value"]) for r in series]
        if space.is_grid:  # a grid's points along lr are one curve; sampled points are not
            ax.plot(lrs, values, "-", color=color, alpha=0.6)
        done = [r["state"] == "COMPLETE" for r in series]
        ax.scatter([x for x, d in zip(lrs, done) if d], [v for v, d in zip(values, done) if d], color=color,
                   label=label, zorder=3)
        if not all(done):
            ax.scatter([x for x, d in zip(lrs, done) if not d], [v for v, d in zip(values, done) if not d],
                       facecolors="none", edgecolors=color, zorder=3,
                       label=None if i else "pruned (value when stopped)")
    ax.set_xscale("log")
    if objective.metric != "test_accuracy":
        ax.set_yscale("log")
    ax.set(xlabel="learning rate (log scale)", ylabel=_label(objective),
           title=f"{_label(objective)} against learning rate — {_title(objective)}")
    ax.grid(True, which="major", alpha=0.3)
    if by is not None or not all(r["state"] == "COMPLETE" for r in rows):
        ax.legend(fontsize="small")
    save_figure(figure, path)
    return Path(path)


def heat_map(rows, space, objective, path) -> Path | None:
    """The metric over the grid of the two parameters with the most values (the best over any others)."""
    if not space.is_grid or len(space.params) < 2:
        return None
    x, y = sorted(space.params, key=lambda p: -len(p.choices))[:2]
    grid = np.full((len(y.choices), len(x.choices)), np.nan)
    better = np.fmax if objective.direction == "maximize" else np.fmin
    for r in _finite(rows):
        i, j = y.choices.index(r[y.name]), x.choices.index(r[x.name])
        grid[i, j] = better(grid[i, j], _shown(objective, r["value"]))
    figure = new_figure(1.2 + 1.1 * len(x.choices), 1.4 + 0.6 * len(y.choices), DPI)
    ax = figure.add_subplot()
    cmap = "viridis" if objective.direction == "maximize" else "viridis_r"
    image = ax.imshow(grid, cmap=cmap, aspect="auto")
    for (i, j), v in np.ndenumerate(grid):  # dark text on the light cells, light on the dark ones
        light = not np.isnan(v) and np.dot(image.cmap(image.norm(v))[:3], (0.299, 0.587, 0.114)) > 0.5
        ax.text(j, i, "—" if np.isnan(v) else f"{v:.3g}", ha="center", va="center", color="k" if light else "w",
                fontsize="small")
    ax.set_xticks(range(len(x.choices)), [f"{c:g}" if isinstance(c, float) else str(c) for c in x.choices])
    ax.set_yticks(range(len(y.choices)), [f"{c:g}" if isinstance(c, float) else str(c) for c in y.choices])
    rest = [p.name for p in space.params if p.name not in (x.name, y.name)]
    ax.set(xlabel=x.name, ylabel=y.name,
           title=_label(objective) + (f", best over {', '.join(rest)}" if rest else "") + f"\n{_title(objective)}")
    figure.colorbar(image, ax=ax, label=_label(objective))
    save_figure(figure, path)
    return Path(path)


def optimisation_history(rows, objective, path) -> Path | None:
    """Every trial's metric in trial order, with the best so far."""
    from matplotlib.ticker import MaxNLocator
    rows = sorted(_finite(rows), key=lambda r: r["number"])
    if not rows:
        return None
    figure = new_figure(6.4, 4.0, DPI)
    ax = figure.add_subplot()
    numbers = [r["number"] for r in rows]
    values = [_shown(objective, r["value"]) for r in rows]
    best = (np.maximum if objective.direction == "maximize" else np.minimum).accumulate(values)
    done = [r["state"] == "COMPLETE" for r in rows]
    ax.scatter([n for n, d in zip(numbers, done) if d], [v for v, d in zip(values, done) if d], s=14,
               label="complete trial")
    if not all(done):
        ax.scatter([n for n, d in zip(numbers, done) if not d], [v for v, d in zip(values, done) if not d], s=14,
                   facecolors="none", edgecolors="C0", label="pruned trial (value when stopped)")
    ax.step(numbers, best, where="post", color="C3", label="best so far")
    if objective.metric != "test_accuracy" and min(values) > 0:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="trial number", ylabel=_label(objective), title=f"Optimisation history — {_title(objective)}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    save_figure(figure, path)
    return Path(path)


def importances(study, space, objective, path) -> Path | None:
    """Optuna's parameter importances (PED-ANOVA) as horizontal bars; needs two parameters and at least
    :data:`MIN_IMPORTANCE_TRIALS` complete trials (with fewer the scores are noise)."""
    from ._optuna import optuna
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    count = len([t for t in complete if math.isfinite(t.value)])
    if len(space.params) < 2 or count < MIN_IMPORTANCE_TRIALS:
        return None
    with warnings.catch_warnings():  # PED-ANOVA warns when a parameter takes one value in the top trials
        warnings.simplefilter("ignore")
        scores = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(), normalize=True)
    if not scores:
        return None
    names = list(scores)[::-1]
    figure = new_figure(6.0, 1.4 + 0.45 * len(names), DPI)
    ax = figure.add_subplot()
    ax.barh(names, [scores[n] for n in names], color="C2")
    for i, n in enumerate(names):
        ax.text(scores[n], i, f" {scores[n]:.2f}", va="center", fontsize="small")
    ax.set_xlim(0, 1.15 * max(max(scores.values()), 1e-12))
    ax.set(xlabel=f"importance for {_label(objective)} (PED-ANOVA over {count} trials, normalised)",
           ylabel="parameter",
           title=f"Parameter importances — {_title(objective)}")
    save_figure(figure, path)
    return Path(path)


def draw_all(study, rows, space, objective, out) -> list[Path]:
    """Every figure the search can show, into ``out``; returns the paths written."""
    out = Path(out)
    drawn = [metric_vs_lr(rows, space, objective, out / "metric_vs_lr.png"),
             heat_map(rows, space, objective, out / "heatmap.png"),
             optimisation_history(rows, objective, out / "history.png"),
             importances(study, space, objective, out / "importances.png")]
    return [p for p in drawn if p is not None]
