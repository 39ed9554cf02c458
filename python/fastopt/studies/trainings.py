"""Training studies: one MLP per optimizer (``compare``) or per batch size (``batchsize``), with figures and report."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import report
from ..optim import REGISTRY, entry
from ..optim.schedules import by_name
from ..runs import load_data, model_config, train_run
from .checks import check_lrs, check_optimizers

# Learning rates for an MLP on MNIST with mini-batches of 128 and a constant rate, by registry name: each
# entry's mnist_lr (fastopt.optim.entry(name); its module says how the value was chosen).
MNIST_LR = {name: e.mnist_lr for name, e in REGISTRY.items() if e.mnist_lr is not None}
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
        Its registry entry's ``mnist_lr``, or the optimizer's own default rate where the entry has none.
    """
    rate = entry(name).mnist_lr
    return entry(name).hyperparameters()["lr"] if rate is None else rate


def _train(label: str, optimizer: str, lr: float, train, test, config: dict, folder: Path, epochs: int,
           batch_size: int, schedule: str, progress: bool):
    """One run of a study, announced on the terminal."""
    if progress:
        print(f"[{label}] {optimizer} lr={lr:g}, batch {batch_size}, {epochs} epochs on {len(train)} samples "
              f"-> {folder}", flush=True)
    return train_run(label, optimizer, {"lr": lr}, train, test, config, folder, epochs, batch_size, schedule,
                     progress=progress)


def prediction_figures(model, test, class_names, files, dpi: float) -> list[Path]:
    """The confusion matrix (``files[0]``) and misclassified test images (``files[1]``) of ``model``.

    Parameters
    ----------
    model : fastopt.nn.MLP
        The trained network.
    test : fastopt.datasets.Split
        The test split it is evaluated on.
    class_names : sequence of str
        The classes' names.
    files : sequence of path-like
        The two figure files.
    dpi : float
        Their resolution.

    Returns
    -------
    list of Path
    """
    from .. import plots
    predicted = np.asarray(model.predict(test.x))
    plots.confusion(test.y, predicted, num_classes=len(class_names), class_names=class_names, save=files[0], dpi=dpi)
    plots.misclassified(test.images, test.y, predicted, save=files[1], dpi=dpi)
    return list(files)


@dataclass
class StudyResult:
    """What a training study ran and wrote.

    Parameters
    ----------
    runs : dict
        Label -> :class:`fastopt.runs.TrainingRun`.
    figures : list of Path
        The figures written.
    report : Path
        ``report.html``.
    best : str
        The label of the run with the best final test accuracy.
    """

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
    run with the best final test accuracy) and ``report.html`` with the results table.

    Parameters
    ----------
    optimizers : sequence of str
        Optimizer names.
    dataset : str
        A name of :data:`fastopt.datasets.DATASETS`.
    epochs : int
        Passes over the training set.
    out : path-like
        Output folder.
    batch_size : int
        Samples per step.
    lrs : dict, optional
        Optimizer -> learning rate, over :func:`mnist_lr`.
    schedule : str
        Learning-rate schedule over the epochs (:data:`fastopt.optim.schedules.SCHEDULES`).
    hidden : sequence of int
        Hidden layer widths of the MLP.
    limit : int, optional
        Keep the first ``limit`` training and test samples.
    seed : int
        Seeds the initialisation and the shuffling (the same for every run).
    data : path-like, optional
        Folder holding the dataset's files, searched first.
    progress : bool
        Progress bars and per-epoch summaries.
    dpi : float
        Resolution of the figures.

    Returns
    -------
    StudyResult
    """
    from .. import plots
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
    best_figures = prediction_figures(runs[best].model, test, loaded.classes,
                                       [out / "confusion.png", out / "misclassified.png"], dpi)
    intro = (_settings(loaded, train, test, epochs, hidden, schedule, seed) + " Batch size "
             f"{batch_size}; learning rates: " + ", ".join(f"{o} {lrs[o]:g}" for o in optimizers) + ".")
    captions = {"comparison.png": "Training loss, test loss and test accuracy of every optimizer against the epoch "
                                  "(left) and the wall time (right); one colour per optimizer.",
                "confusion.png": f"Confusion matrix of the best run ({best}) on the test set.",
                "misclassified.png": f"Test images the best run ({best}) gets wrong, with its guess and the truth.",
                **{f"history_{name}.png": f"{name} at lr {lrs[name]:g}: loss and accuracy per epoch"
                   for name in optimizers}}
    page = report.write_report(out, f"fastopt compare: {', '.join(optimizers)} on {loaded.name}", [
        ("Optimizers against epochs and wall time", [figures[-1]]),
        ("Training history per optimizer", figures[:-1]),
        (f"Best run: {best}", best_figures)], runs=histories, intro=intro, embed=True, captions=captions)
    return StudyResult(runs, figures + best_figures, page, best)


def batch_label(batch_size: int, n: int) -> str:
    """``stochastic (1)``, ``mini-batch (64)`` or ``full batch (60000)``.

    Parameters
    ----------
    batch_size : int
        The batch size.
    n : int
        The training-set size.
    """
    kind = "stochastic" if batch_size == 1 else "full batch" if batch_size == n else "mini-batch"
    return f"{kind} ({batch_size})"


def batch_size_study(optimizer: str = "sgd", batch_sizes=(1, 64, "full"), dataset: str = "mnist", epochs: int = 3,
                     out="batchsize", lr: float | None = None, hidden=(128,), limit: int | None = 2000,
                     seed: int = 0, data=None, progress: bool = True, dpi: float = 90) -> StudyResult:
    """One optimizer at several batch sizes (``"full"``: the whole training set): loss and accuracy against
    epochs and wall time in ``out/batch_size.png``, the runs in ``out/runs/batch-<size>/``, and
    ``report.html``.  Per-sample steps make the most progress per epoch, full batches the cheapest epochs.

    Parameters
    ----------
    optimizer : str
        An optimizer name.
    batch_sizes : sequence of int or "full"
        Batch sizes in [1, training-set size].
    dataset : str
        A name of :data:`fastopt.datasets.DATASETS`.
    epochs : int
        Passes over the training set.
    out : path-like
        Output folder.
    lr : float, optional
        Learning rate (default: :func:`mnist_lr`).
    hidden : sequence of int
        Hidden layer widths of the MLP.
    limit : int, optional
        Keep the first ``limit`` training and test samples.
    seed : int
        Seeds the initialisation and the shuffling (the same for every run).
    data : path-like, optional
        Folder holding the dataset's files, searched first.
    progress : bool
        Progress bars and per-epoch summaries.
    dpi : float
        Resolution of the figures.

    Returns
    -------
    StudyResult
    """
    from .. import plots
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
