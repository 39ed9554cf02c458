"""The studies behind ``fastopt landscape``, ``compare``, ``batchsize`` and ``plot``, callable from Python.

::

    from fastopt import studies
    studies.landscape_study("rosenbrock", out="rosenbrock.png", animate="rosenbrock.gif")
    result = studies.compare_study(["sgd", "adam"], epochs=3, out="report")   # result.report: report.html
    studies.redraw_history("report/runs/adam")                                # report/runs/adam/history.png

Each study runs its optimizers, writes its figures (and, for trainings, one run folder per
optimizer plus ``report.html``) and returns what it computed with the paths it wrote.  A run folder
holds ``config.json``, ``history.json``, ``history.csv`` and ``checkpoint.npz``, the same files as
``fastopt train`` writes, so the ``redraw_*`` functions read either.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import landscape, report
from .optim.schedules import by_name
from .runs import default_lr, load_data, load_run, model_config, optimizer_names, restore_model, train_run

FIGURE_SUFFIXES = (".png", ".svg")
ANIMATION_SUFFIXES = (".gif", ".mp4")

# ---------------------------------------------------------------------------------------------- landscapes
LANDSCAPE_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
MOMENTUM_OPTIMIZERS = ("sgd", "momentum", "nesterov")
# Learning-rate sensitivity: the tabulated rate (fastopt.landscape.DEFAULT_LR) times these factors, from
# too small to too large: on rosenbrock, sgd at twice its rate oscillates across the valley (its loss
# peaks near 230, from 24 at the start) without diverging; at 2.5 times it diverges.
LR_FACTORS = (0.1, 0.3, 1.0, 2.0)


@dataclass
class LandscapeResult:
    """What a landscape study ran and wrote: its trajectories (label -> Trajectory) and files."""

    function: str
    trajectories: dict
    files: list[Path] = field(default_factory=list)


def figure_path(out, name: str = "out", suffixes=FIGURE_SUFFIXES) -> Path:
    """``out`` as a Path, after checking it ends in one of ``suffixes``.

    Parameters
    ----------
    out : path-like
        The figure file.
    name : str
        The argument's name that starts the error message.
    suffixes : tuple of str
        Accepted suffixes, lower case.
    """
    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise ValueError(f"{name}: {str(out)!r} must end in {' or '.join(suffixes)}")
    return out


def _beside(out: Path, tag: str) -> Path:
    """``rosenbrock.png`` -> ``rosenbrock_<tag>.png``: a companion figure in the same folder and format."""
    return out.with_name(f"{out.stem}_{tag}{out.suffix}")


def check_optimizers(optimizers, name: str = "optimizers") -> list[str]:
    """The optimizer names, lower-cased, after checking each is known and named once.

    Parameters
    ----------
    optimizers : iterable of str
        Names of :func:`fastopt.runs.optimizer_names`.
    name : str
        The argument's name that starts each error message ("" for none, as argparse adds its own).

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        No name, an unknown one, or one named twice.
    """
    prefix = f"{name}: " if name else ""
    names = [str(o).strip().lower() for o in optimizers]
    if not names:
        raise ValueError(f"{prefix}expected at least one optimizer")
    unknown = [o for o in names if o not in optimizer_names()]
    if unknown:
        raise ValueError(f"{prefix}unknown optimizer {unknown[0]!r} (choose from {', '.join(optimizer_names())})")
    if len(set(names)) != len(names):
        raise ValueError(f"{prefix}an optimizer is named twice in {','.join(names)!r}")
    return names


def check_lrs(lrs, optimizers, name: str = "lrs") -> dict[str, float]:
    """Learning rates per optimizer, after checking each optimizer is among ``optimizers`` and each rate positive.

    Parameters
    ----------
    lrs : mapping or None
        Optimizer name -> learning rate.
    optimizers : sequence of str
        The optimizers of the study.
    name : str
        The argument's name that starts each error message.

    Returns
    -------
    dict
        Name -> float rate (empty for None).
    """
    lrs = dict(lrs or {})
    extra = [o for o in lrs if o not in optimizers]
    if extra:
        raise ValueError(f"{name}: {extra[0]!r} is not among the optimizers ({', '.join(optimizers)})")
    bad = {o: v for o, v in lrs.items() if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0)}
    if bad:
        raise ValueError(f"{name}: learning rates must be positive numbers, got {bad}")
    return {o: float(v) for o, v in lrs.items()}


def _paths(function, optimizers, steps, lrs, noise, seed) -> dict:
    return {name: landscape.trajectory(function, name, steps=steps, lr=lrs.get(name), noise=noise, seed=seed)
            for name in optimizers}


def landscape_study(function: str = "rosenbrock", optimizers=LANDSCAPE_OPTIMIZERS, steps: int = 2000,
                    out="landscape.png", lrs=None, noise: float = 0.0, seed: int = 0, surface: bool = False,
                    animate=None, frames: int = 60, dpi: float = 100) -> LandscapeResult:
    """Paths of ``optimizers`` across ``function``: the contour map at ``out`` (.png or .svg), the loss
    curves beside it (``<out>_loss``), the 3-D surface (``<out>_surface``) with ``surface=True`` and
    an animation of ``frames`` frames at ``animate`` (.gif, or .mp4 with ffmpeg).

    ``lrs`` maps optimizer -> learning rate; the others use :data:`fastopt.landscape.DEFAULT_LR`.
    ``noise`` (standard deviation of Gaussian gradient noise) and ``seed`` go to every trajectory.
    """
    from . import plots
    out = figure_path(out)
    if animate is not None:
        figure_path(animate, "animate", ANIMATION_SUFFIXES)
    optimizers = check_optimizers(optimizers)
    fn = landscape.get(function)
    paths = _paths(fn, optimizers, steps, check_lrs(lrs, optimizers), noise, seed)
    files = [out, _beside(out, "loss")]
    plots.contour(fn, paths, save=files[0], dpi=dpi)
    plots.loss_curves(paths, function=fn, save=files[1], dpi=dpi)
    if surface:
        files.append(_beside(out, "surface"))
        plots.surface(fn, paths, save=files[-1], dpi=dpi)
    if animate is not None:
        files.append(plots.animate(fn, paths, animate, frames=frames, dpi=min(dpi, 80)))
    return LandscapeResult(fn.name, paths, files)


def lr_sensitivity_study(function: str = "rosenbrock", optimizer: str = "sgd", lrs=None, steps: int = 2000,
                         out="lr_sensitivity.png", noise: float = 0.0, seed: int = 0,
                         dpi: float = 100) -> LandscapeResult:
    """One optimizer at several learning rates (default: its tabulated rate times :data:`LR_FACTORS`)."""
    from . import plots
    out = figure_path(out)
    (optimizer,) = check_optimizers([optimizer], "optimizer")
    fn = landscape.get(function)
    if lrs is None:
        base = landscape.default_lr(fn.name, optimizer) or default_lr(optimizer)
        lrs = [base * factor for factor in LR_FACTORS]
    lrs = sorted({float(lr) for lr in lrs})
    if not lrs or not all(math.isfinite(lr) and lr > 0 for lr in lrs):
        raise ValueError(f"lrs: expected positive learning rates, got {lrs}")
    runs = [landscape.trajectory(fn, optimizer, steps=steps, lr=lr, noise=noise, seed=seed) for lr in lrs]
    plots.lr_sensitivity(fn, runs, save=out, dpi=dpi)
    return LandscapeResult(fn.name, {f"lr={t.lr:g}": t for t in runs}, [out])


def momentum_study(function: str = "quadratic", optimizers=MOMENTUM_OPTIMIZERS, steps: int = 2000,
                   out="momentum.png", lrs=None, noise: float = 0.0, seed: int = 0,
                   dpi: float = 100) -> LandscapeResult:
    """Plain gradient descent (``sgd``) against its momentum variants: paths and losses side by side.

    Every optimizer runs at the same learning rate, sgd's tabulated one, so the figure shows what
    momentum adds to the same step size (``lrs`` maps optimizer -> rate to override it).
    """
    from . import plots
    out = figure_path(out)
    optimizers = check_optimizers(optimizers)
    if "sgd" not in optimizers or len(optimizers) < 2:
        raise ValueError(f"optimizers: expected 'sgd' and at least one momentum variant, got {optimizers}")
    fn = landscape.get(function)
    shared = landscape.default_lr(fn.name, "sgd") or default_lr("sgd")
    lrs = {**{name: shared for name in optimizers}, **check_lrs(lrs, optimizers)}
    paths = _paths(fn, optimizers, steps, lrs, noise, seed)
    plots.momentum_vs_gd(fn, paths, save=out, dpi=dpi)
    return LandscapeResult(fn.name, paths, [out])


def convex_study(convex: str = "quadratic", nonconvex: str = "rastrigin", optimizers=LANDSCAPE_OPTIMIZERS,
                 steps: int = 2000, out="convex_vs_nonconvex.png", noise: float = 0.0, seed: int = 0,
                 dpi: float = 100) -> dict[str, LandscapeResult]:
    """The same optimizers (each at its tabulated rate for each function) on a convex and a non-convex function."""
    from . import plots
    out = figure_path(out)
    optimizers = check_optimizers(optimizers)
    functions = [landscape.get(convex), landscape.get(nonconvex)]
    runs = [_paths(fn, optimizers, steps, {}, noise, seed) for fn in functions]
    plots.convex_vs_nonconvex(functions[0], runs[0], functions[1], runs[1], save=out, dpi=dpi)
    return {fn.name: LandscapeResult(fn.name, paths, [out]) for fn, paths in zip(functions, runs)}


# ---------------------------------------------------------------------------------------------- trainings
# Learning rates for an MLP on MNIST with mini-batches of 128 and a constant rate: the values commonly
# used for these optimizers on this problem (SGD 0.1; heavy-ball momentum 0.9 at half that rate, an
# effective step of 0.5; the adaptive methods at their usual 1e-3; Adagrad 1e-2; Adadelta 1, its
# published setting; Lion ten times below Adam, as its paper advises); not tuned by a search.  In
# docs/mnist/ (`fastopt compare`, 3 epochs, MLP 784-512-256-10) sgd reaches 96.5% and momentum,
# rmsprop and adam 97.7-97.8% test accuracy.
MNIST_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.01, "rmsprop": 1e-3, "adadelta": 1.0,
            "adam": 1e-3, "adamw": 1e-3, "adamax": 2e-3, "nadam": 1e-3, "radam": 1e-3, "lion": 1e-4,
            "ranger": 1e-3}
COMPARE_OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


def mnist_lr(name: str) -> float:
    """The learning rate of the optimizer called ``name`` in the MNIST trainings when none is given.

    Parameters
    ----------
    name : str
        An optimizer name.

    Returns
    -------
    float
        Its :data:`MNIST_LR` entry, or the optimizer's own default rate for one without an entry.
    """
    return MNIST_LR[name] if name in MNIST_LR else default_lr(name)


def _train(label: str, optimizer: str, lr: float, train, test, config: dict, folder: Path, epochs: int,
           batch_size: int, schedule: str, progress: bool):
    """One run of a study, announced on the terminal."""
    if progress:
        print(f"[{label}] {optimizer} lr={lr:g}, batch {batch_size}, {epochs} epochs on {len(train)} samples "
              f"-> {folder}", flush=True)
    return train_run(label, optimizer, {"lr": lr}, train, test, config, folder, epochs, batch_size, schedule,
                     progress=progress)


def _prediction_figures(model, test, class_names, files, dpi: float) -> list[Path]:
    """The confusion matrix (``files[0]``) and misclassified test images (``files[1]``) of ``model``."""
    from . import plots
    predicted = np.asarray(model.predict(test.x))
    plots.confusion(test.y, predicted, num_classes=len(class_names), class_names=class_names, save=files[0], dpi=dpi)
    plots.misclassified(test.images, test.y, predicted, save=files[1], dpi=dpi)
    return list(files)


@dataclass
class StudyResult:
    """What a training study ran and wrote: its runs (label -> TrainingRun), figures and report.html."""

    runs: dict
    figures: list[Path]
    report: Path
    best: str


def _settings(loaded, train, test, epochs, hidden, schedule, seed) -> str:
    layers = " -> ".join(str(n) for n in [train.x.shape[1], *hidden, len(loaded.classes)])
    return (f"{loaded.name}: {len(train)} training and {len(test)} test samples; MLP {layers}; {epochs} epochs; "
            f"{schedule} learning rate; seed {seed}.")


def compare_study(optimizers=COMPARE_OPTIMIZERS, dataset: str = "mnist", epochs: int = 5, out="report",
                  batch_size: int = 128, hidden=(512, 256), lrs=None, limit: int | None = None, seed: int = 0,
                  schedule: str = "constant", data=None, progress: bool = True, dpi: float = 90) -> StudyResult:
    """Train one MLP per optimizer (same initialisation, same batches) and write the comparison.

    ``out/runs/<optimizer>/`` holds each run; ``out/`` the figures (``history_<optimizer>.png``,
    ``comparison.png`` against epochs and wall time, ``confusion.png`` and ``misclassified.png`` of the
    run with the best final test accuracy) and ``report.html`` with the results table.  ``lrs`` maps
    optimizer -> learning rate over :func:`mnist_lr`.
    """
    from . import plots
    optimizers = check_optimizers(optimizers)
    given = check_lrs(lrs, optimizers)
    lrs = {o: given[o] if o in given else mnist_lr(o) for o in optimizers}
    by_name(schedule, epochs)  # an unknown schedule fails before any training
    out = Path(out)
    loaded, train, test = load_data(dataset, data, limit, progress)
    if batch_size > len(train):
        raise ValueError(f"batch_size: {batch_size} is larger than the {len(train)} training samples")
    config = model_config(loaded, train, hidden, seed, dataset, data, limit)
    runs = {name: _train(name, name, lrs[name], train, test, config, out / "runs" / name, epochs, batch_size,
                         schedule, progress) for name in optimizers}
    histories = {name: run.history for name, run in runs.items()}

    figures = []
    for name, run in runs.items():
        figures.append(out / f"history_{name}.png")
        plots.history(run.history, title=f"{name} (lr {lrs[name]:g})", save=figures[-1], dpi=dpi)
    figures.append(out / "comparison.png")
    plots.optimizer_comparison(histories, rows=("train_loss", "test_loss", "test_accuracy"), save=figures[-1],
                               dpi=dpi)
    best = max(runs, key=lambda name: runs[name].history[-1]["test_accuracy"])
    best_figures = _prediction_figures(runs[best].model, test, loaded.classes,
                                       [out / "confusion.png", out / "misclassified.png"], dpi)
    intro = (_settings(loaded, train, test, epochs, hidden, schedule, seed) + " Batch size "
             f"{batch_size}; learning rates: " + ", ".join(f"{o} {lrs[o]:g}" for o in optimizers) + ".")
    page = report.write_report(out, f"fastopt compare: {', '.join(optimizers)} on {loaded.name}", [
        ("Optimizers against epochs and wall time", [figures[-1]]),
        ("Training history per optimizer", figures[:-1]),
        (f"Best run: {best}", best_figures)], runs=histories, intro=intro)
    return StudyResult(runs, figures + best_figures, page, best)


def batch_label(batch_size: int, n: int) -> str:
    """``stochastic (1)``, ``mini-batch (64)`` or ``full batch (60000)``."""
    kind = "stochastic" if batch_size == 1 else "full batch" if batch_size == n else "mini-batch"
    return f"{kind} ({batch_size})"


def batch_size_study(optimizer: str = "sgd", batch_sizes=(1, 64, "full"), dataset: str = "mnist", epochs: int = 3,
                     out="batchsize", lr: float | None = None, hidden=(128,), limit: int | None = 2000,
                     seed: int = 0, data=None, progress: bool = True, dpi: float = 90) -> StudyResult:
    """One optimizer at several batch sizes (``"full"``: the whole training set): loss and accuracy against
    epochs and wall time in ``out/batch_size.png``, the runs in ``out/runs/batch-<size>/``, and
    ``report.html``.  Per-sample steps make the most progress per epoch, full batches the cheapest epochs."""
    from . import plots
    (optimizer,) = check_optimizers([optimizer], "optimizer")
    lr = mnist_lr(optimizer) if lr is None else check_lrs({optimizer: lr}, [optimizer], "lr")[optimizer]
    out = Path(out)
    loaded, train, test = load_data(dataset, data, limit, progress)
    sizes = []
    for size in batch_sizes:
        size = len(train) if size == "full" else size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= len(train):
            raise ValueError(f"batch_sizes: {size!r} is not a batch size in [1, {len(train)}] or 'full'")
        sizes.append(size)
    sizes = sorted(set(sizes))
    config = model_config(loaded, train, hidden, seed, dataset, data, limit)
    runs = {batch_label(size, len(train)): _train(batch_label(size, len(train)), optimizer, lr, train, test, config,
                                                  out / "runs" / f"batch-{size}", epochs, size, "constant", progress)
            for size in sizes}
    histories = {label: run.history for label, run in runs.items()}
    figure = out / "batch_size.png"
    plots.batch_size_tradeoff(histories, rows=("train_loss", "test_accuracy"), save=figure, dpi=dpi)
    intro = (_settings(loaded, train, test, epochs, hidden, "constant", seed)
             + f" Optimizer {optimizer} at lr {lr:g}; batch sizes " + ", ".join(map(str, sizes)) + ".")
    page = report.write_report(out, f"fastopt batchsize: {optimizer} on {loaded.name}",
                               [("Batch size: progress per epoch and per second", [figure])],
                               runs=histories, intro=intro)
    best = max(runs, key=lambda label: runs[label].history[-1]["test_accuracy"])
    return StudyResult(runs, [figure], page, best)


# ---------------------------------------------------------------------------------------------- redrawing
def _run_label(folder: Path, config: dict) -> str:
    return folder.name or config.get("optimizer", "run")


def redraw_history(folder, out=None, dpi: float = 90) -> Path:
    """``history.png`` (or ``out``) of a saved run: loss and accuracy per epoch, train against test."""
    from . import plots
    folder = Path(folder)
    config, history = load_run(folder)
    out = folder / "history.png" if out is None else figure_path(out)
    lr = config.get("lr")  # None: a run folder without config.json
    plots.history(history, title=_run_label(folder, config) + ("" if lr is None else f" (lr {lr:g})"), save=out,
                  dpi=dpi)
    return out


def redraw_comparison(folders, out="comparison.png", dpi: float = 90) -> Path:
    """Several saved runs in one figure against epochs and wall time, labelled by their folder names."""
    from . import plots
    out = figure_path(out)
    folders = [Path(f) for f in folders]
    if not folders:
        raise ValueError("folders: expected at least one run folder")
    histories = {}
    for folder in folders:
        config, history = load_run(folder)
        label = _run_label(folder, config)
        if label in histories:
            raise ValueError(f"folders: two runs are labelled {label!r} (same folder name)")
        histories[label] = history
    rows = ("train_loss", "test_loss", "test_accuracy")
    # A registry name as a label keeps that optimizer's colour; other labels get their stable spare colours.
    plots.optimizer_comparison(histories, rows=rows, save=out, dpi=dpi)
    return out


def redraw_confusion(folder, out=None, data=None, dpi: float = 90) -> list[Path]:
    """``confusion.png`` and ``misclassified.png`` (in the run folder, or ``out`` and the file beside it)
    from the model in a saved run's checkpoint, evaluated on its test split."""
    folder = Path(folder)
    out = folder / "confusion.png" if out is None else figure_path(out)
    model, test, classes = restore_model(folder, data)
    return _prediction_figures(model, test, classes, [out, out.with_name("misclassified" + out.suffix)
                               if out.stem == "confusion" else _beside(out, "misclassified")], dpi)


__all__ = ["FIGURE_SUFFIXES", "ANIMATION_SUFFIXES", "LANDSCAPE_OPTIMIZERS", "MOMENTUM_OPTIMIZERS", "LR_FACTORS",
           "MNIST_LR", "COMPARE_OPTIMIZERS", "LandscapeResult", "StudyResult", "figure_path", "check_optimizers",
           "check_lrs", "mnist_lr", "landscape_study", "lr_sensitivity_study", "momentum_study", "convex_study",
           "compare_study", "batch_label", "batch_size_study", "redraw_history", "redraw_comparison",
           "redraw_confusion"]
