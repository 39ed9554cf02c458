"""Classification metrics and training-history summaries, in NumPy (no scikit-learn needed).

A training history has one row per epoch with the columns of :data:`fastopt.train.FIELDS`:
``epoch``, ``lr``, ``train_loss``, ``train_accuracy``, ``test_loss``, ``test_accuracy``,
``epoch_time`` (seconds), ``total_time`` (cumulative seconds), ...; accuracies are fractions in
[0, 1].  :func:`as_history` accepts a :class:`fastopt.train.History`, its ``to_dict()`` or JSON
form, a mapping of column lists or a sequence of per-epoch dicts; the short names ``train_acc``,
``test_acc`` and ``elapsed`` are read as ``train_accuracy``, ``test_accuracy`` and ``total_time``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

HISTORY_COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "epoch_time",
                   "total_time")
ACCURACY_COLUMNS = ("train_accuracy", "test_accuracy")
ALIASES = {"train_acc": "train_accuracy", "test_acc": "test_accuracy", "elapsed": "total_time"}


def _labels(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of class labels, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name}: expected integer class labels, got dtype {array.dtype}")
    if array.size and array.min() < 0:
        raise ValueError(f"{name}: class labels must be non-negative, got {array.min()}")
    return array.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes: int | None = None, normalize: bool = False) -> np.ndarray:
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
        True and predicted class labels, non-negative integers (an empty array of any dtype is accepted).
    num_classes : int, optional
        Number of rows and columns; defaults to one more than the largest label seen.
    normalize : bool, default False
        Divide each row by its total (the recall of class ``i`` sits on the diagonal); rows of
        classes with no samples stay zero.

    Returns
    -------
    numpy.ndarray, shape (num_classes, num_classes)
        Integer counts as int64, normalised rows as float64.

    Raises
    ------
    ValueError
        If the labels are not 1-D, are negative, or the two shapes differ, or ``num_classes`` is smaller
        than the largest label plus one.
    TypeError
        If the labels are not of an integer dtype.
    """
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_pred: shape {y_pred.shape} does not match y_true's {y_true.shape}")
    seen = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    if num_classes is None:
        num_classes = seen
    elif num_classes < seen:
        raise ValueError(f"num_classes: {num_classes} is too small for label {seen - 1}")
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    counts = counts.reshape(num_classes, num_classes).astype(np.int64)
    if not normalize:
        return counts
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def accuracy(y_true, y_pred) -> float:
    """Fraction of predictions equal to the true labels.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (N,)
        True and predicted class labels, non-negative integers.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If the labels are not 1-D, are negative, or the two shapes differ, or they are empty.
    TypeError
        If the labels are not of an integer dtype.
    """
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"y_pred: expected a non-empty shape matching y_true's {y_true.shape}, got {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def _records(history):
    """Per-epoch dicts or a mapping of columns, unwrapped from History objects and their dict form."""
    if hasattr(history, "records"):
        history = history.records() if callable(history.records) else history.records
    elif hasattr(history, "to_dict"):
        history = history.to_dict()
    if isinstance(history, Mapping) and "records" in history:  # History.to_dict() / its JSON
        history = history["records"]
    return history


def as_history(history, required=HISTORY_COLUMNS) -> dict[str, np.ndarray]:
    """The columns of a training history as float64 arrays of equal length (missing values as NaN).

    Parameters
    ----------
    history : History, mapping or sequence of mappings
        A :class:`fastopt.train.History`, its ``to_dict()`` form (or its JSON, loaded), a mapping
        column -> values, a sequence of per-epoch dicts, or any object with ``records`` (attribute
        or method) or ``to_dict()`` giving one of those.  The short names ``train_acc``, ``test_acc``
        and ``elapsed`` are read as ``train_accuracy``, ``test_accuracy`` and ``total_time``.
    required : iterable of str, default HISTORY_COLUMNS
        The columns the caller needs.  An empty sequence of epochs gives these columns, empty.

    Returns
    -------
    dict of str to numpy.ndarray
        Column name -> float64 array of shape (epochs,); every column present is returned.

    Raises
    ------
    ValueError
        If a required column is missing, the columns are not 1-D of equal length, or an accuracy
        column holds a value above 1 (accuracies are fractions, not percent).
    TypeError
        If a sequence holds anything but mappings.
    """
    history = _records(history)
    if isinstance(history, Mapping):
        columns = {ALIASES.get(str(name), str(name)): np.asarray(values, dtype=float)
                   for name, values in history.items()}
    else:
        rows = list(history)
        if not all(isinstance(row, Mapping) for row in rows):
            raise TypeError("history: expected a History, a mapping of columns or a sequence of per-epoch dicts, "
                            f"got {type(history).__name__}")
        names = {name for row in rows for name in row} if rows else set(required)  # no epochs: empty columns
        columns = {ALIASES.get(str(name), str(name)): np.asarray([row.get(name) for row in rows], dtype=float)
                   for name in sorted(names)}
    missing = [name for name in required if name not in columns]
    if missing:
        raise ValueError(f"history: missing column(s) {', '.join(missing)}")
    lengths = {name: values.shape for name, values in columns.items()}
    if len(set(lengths.values())) > 1 or any(len(shape) != 1 for shape in lengths.values()):
        raise ValueError(f"history: columns must be 1-D and of equal length, got {lengths}")
    for name in ACCURACY_COLUMNS:
        if name in columns and np.nanmax(columns[name], initial=0.0) > 1.0:
            raise ValueError(f"history: {name} must be a fraction in [0, 1], got {np.nanmax(columns[name])}")
    return columns


def first_reaching(history, threshold: float, column: str = "test_accuracy") -> tuple[int, float] | None:
    """(epoch, total seconds) at the end of the first epoch whose ``column`` reaches ``threshold``, or None.

    Parameters
    ----------
    history : object
        Anything :func:`as_history` accepts, with the columns ``epoch``, ``total_time`` and ``column``.
    threshold : float
        The value to reach (``>=``); a fraction in [0, 1] for accuracies.
    column : str, default "test_accuracy"
        The column compared; NaN (not evaluated) never reaches.

    Returns
    -------
    tuple of (int, float) or None
        The epoch and the cumulative time in seconds; None when no epoch reaches ``threshold``.

    Raises
    ------
    ValueError, TypeError
        As :func:`as_history`, e.g. for a missing column.
    """
    columns = as_history(history, required=("epoch", "total_time", column))
    hits = np.flatnonzero(columns[column] >= threshold)  # NaN (not evaluated) never counts
    if hits.size == 0:
        return None
    return int(columns["epoch"][hits[0]]), float(columns["total_time"][hits[0]])


def run_summary(history, thresholds=(0.97, 0.98)) -> dict:
    """The results-table row of one run.

    Parameters
    ----------
    history : object
        Anything :func:`as_history` accepts, with the columns ``epoch``, ``test_accuracy``,
        ``epoch_time`` and ``total_time``.
    thresholds : iterable of float, default (0.97, 0.98)
        Test accuracies (fractions) whose first epoch and time are looked up (:func:`first_reaching`).

    Returns
    -------
    dict
        Keys: ``epochs``, ``final_test_accuracy``, ``best_test_accuracy``, ``time_per_epoch`` (mean
        seconds), ``total_time`` (seconds) and ``reached``: threshold (as float) -> (epoch, total
        seconds) or None.

    Raises
    ------
    ValueError
        If no epoch is recorded, or as :func:`as_history` (e.g. a missing column).
    TypeError
        As :func:`as_history`.
    """
    columns = as_history(history, required=("epoch", "test_accuracy", "epoch_time", "total_time"))
    if columns["epoch"].size == 0:
        raise ValueError("history: no epochs recorded")
    return {
        "epochs": int(columns["epoch"].size),
        "final_test_accuracy": float(columns["test_accuracy"][-1]),
        "best_test_accuracy": float(np.nanmax(columns["test_accuracy"])),
        "time_per_epoch": float(np.mean(columns["epoch_time"])),
        "total_time": float(columns["total_time"][-1]),
        "reached": {float(threshold): first_reaching(columns, threshold) for threshold in thresholds},
    }
