"""Figures of training runs: history, confusion matrix, misclassified images, comparisons.

Histories are anything :func:`fastopt.metrics.as_history` accepts; accuracies are fractions in
[0, 1] and are drawn in percent.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib import colormaps
from matplotlib.ticker import MaxNLocator

from .. import metrics
from .style import color_for, new_figure, save_figure

_AXIS_LABELS = {
    "epoch": "epoch",
    "total_time": "wall time (s)",
    "train_loss": "train loss",
    "test_loss": "test loss",
    "train_accuracy": "train accuracy (%)",
    "test_accuracy": "test accuracy (%)",
}


def _column(columns, name: str) -> np.ndarray:
    return columns[name] * 100.0 if name in metrics.ACCURACY_COLUMNS else columns[name]


def history(run, title: str | None = None, save=None, dpi: float = 100):
    """Loss (log scale) and accuracy per epoch, train against test.

    Parameters
    ----------
    run : object
        A training history (anything :func:`fastopt.metrics.as_history` accepts) with ``epoch``,
        ``train_loss``, ``test_loss``, ``train_accuracy`` and ``test_accuracy``.
    title : str, optional
        The figure's title.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg to write the figure to (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError, TypeError
        As :func:`fastopt.metrics.as_history` (e.g. a missing column); ValueError also for a ``save``
        path ending in neither .png nor .svg.
    """
    columns = metrics.as_history(run, required=("epoch", "train_loss", "test_loss", "train_accuracy",
                                                "test_accuracy"))
    figure = new_figure(10.0, 4.0, dpi)
    loss_ax, acc_ax = figure.subplots(1, 2)
    for ax, kind in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        for split, style in (("train", "-"), ("test", "--")):
            ax.plot(columns["epoch"], _column(columns, f"{split}_{kind}"), style, marker="o", markersize=3,
                    label=split, gid=f"{split}_{kind}")
        ax.set(xlabel="epoch", ylabel=_AXIS_LABELS[f"test_{kind}"].removeprefix("test "))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(True, alpha=0.3)
        ax.legend()
    loss_ax.set_yscale("log")
    loss_ax.set_title("loss")
    acc_ax.set_title("accuracy")
    if title:
        figure.suptitle(title)
    return save_figure(figure, save)


def confusion(y_true, y_pred, normalize: bool = False, num_classes: int | None = None, class_names=None,
              save=None, dpi: float = 100):
    """Confusion matrix (rows: true class, columns: predicted) with every cell annotated.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
        True and predicted class labels, non-negative integers.
    normalize : bool, default False
        Show each true class's row as fractions (recall on the diagonal) instead of counts.
    num_classes : int, optional
        Number of classes; default one more than the largest label seen.
    class_names : sequence, optional
        One tick label per class; default the class indices.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg to write the figure to (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``class_names`` does not have one name per class, for bad labels or ``num_classes`` (see
        :func:`fastopt.metrics.confusion_matrix`), or a ``save`` path ending in neither .png nor .svg.
    TypeError
        If the labels are not of an integer dtype.
    """
    matrix = metrics.confusion_matrix(y_true, y_pred, num_classes=num_classes, normalize=normalize)
    size = matrix.shape[0]
    names = [str(i) for i in range(size)] if class_names is None else [str(name) for name in class_names]
    if len(names) != size:
        raise ValueError(f"class_names: expected {size} names, got {len(names)}")
    figure = new_figure(1.2 + 0.55 * size, 0.8 + 0.5 * size, dpi)
    ax = figure.add_subplot()
    image = ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0 if normalize else max(int(matrix.max()), 1))
    figure.colorbar(image, ax=ax, label="fraction of true class" if normalize else "count")
    threshold = (1.0 if normalize else matrix.max()) / 2.0
    for (row, col), value in np.ndenumerate(matrix):
        ax.text(col, row, f"{value:.2f}" if normalize else f"{value:d}", ha="center", va="center",
                fontsize="small", color="white" if value > threshold else "black")
    ax.set(xticks=range(size), yticks=range(size), xticklabels=names, yticklabels=names,
           xlabel="predicted label", ylabel="true label",
           title="confusion matrix" + (" (normalised)" if normalize else ""))
    return save_figure(figure, save)


def _as_images(images) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 2:  # flattened square images, e.g. (N, 784)
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"images: rows of length {images.shape[1]} are not square images")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3:
        raise ValueError(f"images: expected shape (N, H, W) or (N, H*W), got {images.shape}")
    return images


def misclassified(images, y_true, y_pred, max_images: int = 25, columns: int = 5, save=None, dpi: float = 100):
    """A grid of the first ``max_images`` wrongly predicted images, titled with true and predicted labels.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, H*W)
        The images; flattened rows must be square images (e.g. 784 = 28 x 28).
    y_true, y_pred : array_like, shape (N,)
        True and predicted labels.
    max_images : int, default 25
        The most images shown.
    columns : int, default 5
        Images per row of the grid.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg to write the figure to (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``images`` has another shape, rows that are not square images, the three lengths differ,
        or a ``save`` path ends in neither .png nor .svg.
    """
    images = _as_images(images)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if not (len(images) == y_true.shape[0] == y_pred.shape[0]):
        raise ValueError(f"images, y_true, y_pred: lengths differ ({len(images)}, {len(y_true)}, {len(y_pred)})")
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    rows = max(1, -(-len(wrong) // columns))
    figure = new_figure(1.5 * columns, 1.7 * rows + 0.4, dpi)
    figure.suptitle(f"misclassified: {np.count_nonzero(y_true != y_pred)} of {len(y_true)}"
                    + (f" (first {len(wrong)} shown)" if len(wrong) else ""))
    for position, index in enumerate(wrong):
        ax = figure.add_subplot(rows, columns, position + 1)
        ax.imshow(images[index], cmap="gray_r")
        ax.set_title(f"true {y_true[index]}, pred {y_pred[index]}", fontsize="small", color="firebrick")
        ax.set_axis_off()
    return save_figure(figure, save)


def _curve_grid(histories: Mapping, rows, colors, title: str, save, dpi: float):
    """Rows of metrics against epochs (left) and wall time (right), one line per run."""
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories: expected a non-empty mapping of run label -> history")
    runs = {str(label): metrics.as_history(run, required=("epoch", "total_time", *rows))
            for label, run in histories.items()}
    figure = new_figure(10.5, 3.6 * len(rows) + 0.4, dpi)
    axes = np.asarray(figure.subplots(len(rows), 2, squeeze=False))
    for (label, columns), color in zip(runs.items(), colors):
        for row, name in enumerate(rows):
            for col, x in enumerate(("epoch", "total_time")):
                axes[row, col].plot(columns[x], _column(columns, name), marker="o", markersize=3, color=color,
                                    label=label, gid=f"{name}:{label}")
    for row, name in enumerate(rows):
        for col, x in enumerate(("epoch", "total_time")):
            ax = axes[row, col]
            ax.set(xlabel=_AXIS_LABELS[x], ylabel=_AXIS_LABELS[name])
            if x == "epoch":
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if name.endswith("loss"):
                ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()  # one legend for every panel: the same runs
    figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), fontsize="small",
                  frameon=False)
    figure.suptitle(title)
    return save_figure(figure, save)


def optimizer_comparison(histories: Mapping, rows=("train_loss", "test_accuracy"), save=None, dpi: float = 100):
    """Several optimizers' runs (mapping optimizer name -> history) against epochs and wall time.

    Parameters
    ----------
    histories : mapping
        Optimizer name -> training history (anything :func:`fastopt.metrics.as_history` accepts,
        with ``epoch``, ``total_time`` and the ``rows``); each run is drawn in the colour
        :func:`color_for` gives its name.
    rows : sequence of str, default ("train_loss", "test_accuracy")
        The history columns drawn, one row of axes each, among ``train_loss``, ``test_loss``,
        ``train_accuracy`` and ``test_accuracy``; losses on a log scale, accuracies in percent.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg to write the figure to (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``histories`` is not a non-empty mapping, a history lacks a needed column (see
        :func:`fastopt.metrics.as_history`), or a ``save`` path ends in neither .png nor .svg.
    TypeError
        As :func:`fastopt.metrics.as_history`.
    """
    colors = [color_for(name) for name in histories]
    return _curve_grid(histories, tuple(rows), colors, "optimizers compared", save, dpi)


def batch_size_tradeoff(histories: Mapping, rows=("train_loss",), save=None, dpi: float = 100):
    """Runs at several batch sizes (mapping label -> history, e.g. "stochastic (1)", "mini-batch (64)",
    "full batch (60000)", smallest first) against epochs and wall time.

    Per-sample updates make more progress per epoch; large batches make each epoch cheaper.  Batch
    sizes are coloured along a sequential colour map in the given order.

    Parameters
    ----------
    histories : mapping
        Label -> training history (anything :func:`fastopt.metrics.as_history` accepts, with
        ``epoch``, ``total_time`` and the ``rows``), smallest batch first.
    rows : sequence of str, default ("train_loss",)
        The history columns drawn, one row of axes each, among ``train_loss``, ``test_loss``,
        ``train_accuracy`` and ``test_accuracy``.
    save : path-like or list of path-like, optional
        File(s) ending in .png or .svg to write the figure to (:func:`~fastopt.plots.style.save_figure`).
    dpi : float, default 100
        Dots per inch.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``histories`` is not a non-empty mapping, a history lacks a needed column (see
        :func:`fastopt.metrics.as_history`), or a ``save`` path ends in neither .png nor .svg.
    TypeError
        As :func:`fastopt.metrics.as_history`.
    """
    colors = colormaps["viridis"](np.linspace(0.0, 0.85, max(len(histories), 1)))
    return _curve_grid(histories, tuple(rows), colors, "batch size: progress per epoch and per second", save, dpi)
