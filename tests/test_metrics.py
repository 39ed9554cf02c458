"""fastopt.metrics: confusion matrix against a plain loop, history adapter, run summaries."""
import json

import numpy as np
import pytest

from fastopt import metrics
from fastopt.train import History


def confusion_by_loop(y_true, y_pred, k):
    counts = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        counts[t, p] += 1
    return counts


def test_confusion_matrix_matches_a_loop_and_normalises_rows(rng):
    y_true = rng.integers(0, 10, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 10, 500))
    counts = metrics.confusion_matrix(y_true, y_pred)
    assert counts.dtype == np.int64 and counts.shape == (10, 10)
    np.testing.assert_array_equal(counts, confusion_by_loop(y_true, y_pred, 10))
    assert counts.sum() == 500
    normalised = metrics.confusion_matrix(y_true, y_pred, normalize=True)
    np.testing.assert_allclose(normalised, counts / counts.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(normalised.sum(axis=1), 1.0)


def test_confusion_matrix_class_count_and_empty_rows():
    counts = metrics.confusion_matrix([0, 2, 2], [0, 2, 0], num_classes=4)
    np.testing.assert_array_equal(counts, [[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    normalised = metrics.confusion_matrix([0, 2, 2], [0, 2, 0], num_classes=4, normalize=True)
    np.testing.assert_array_equal(normalised[1], 0.0)  # a class with no samples stays zero, no NaN
    np.testing.assert_array_equal(normalised[2], [0.5, 0.0, 0.5, 0.0])
    assert metrics.confusion_matrix(np.array([], dtype=int), np.array([], dtype=int), num_classes=2).sum() == 0


@pytest.mark.parametrize("y_true, y_pred, num_classes, error, message", [
    ([0, 1], [0], None, ValueError, r"y_pred: shape \(1,\) does not match y_true's \(2,\)"),
    ([0.0, 1.0], [0, 1], None, TypeError, "y_true: expected integer class labels, got dtype float64"),
    ([[0, 1]], [[0, 1]], None, ValueError, "y_true: expected a 1-D array"),
    ([0, -1], [0, 1], None, ValueError, "y_true: class labels must be non-negative, got -1"),
    ([0, 5], [0, 1], 3, ValueError, "num_classes: 3 is too small for label 5"),
])
def test_confusion_matrix_rejects_bad_labels(y_true, y_pred, num_classes, error, message):
    with pytest.raises(error, match=message):
        metrics.confusion_matrix(y_true, y_pred, num_classes=num_classes)


def test_accuracy():
    assert metrics.accuracy([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    with pytest.raises(ValueError, match="y_pred: expected a non-empty shape"):
        metrics.accuracy([], [])


RECORDS = [
    {"epoch": 1, "lr": 0.1, "train_loss": 0.5, "train_accuracy": 0.90, "test_loss": 0.40, "test_accuracy": 0.955,
     "epoch_time": 2.0, "total_time": 2.0},
    {"epoch": 2, "lr": 0.1, "train_loss": 0.2, "train_accuracy": 0.97, "test_loss": 0.20, "test_accuracy": 0.975,
     "epoch_time": 3.0, "total_time": 5.0},
    {"epoch": 3, "lr": 0.1, "train_loss": 0.1, "train_accuracy": 0.99, "test_loss": 0.15, "test_accuracy": None,
     "epoch_time": 1.0, "total_time": 6.0},
    {"epoch": 4, "lr": 0.1, "train_loss": 0.05, "train_accuracy": 0.995, "test_loss": 0.10, "test_accuracy": 0.981,
     "epoch_time": 2.0, "total_time": 8.0},
]


def test_as_history_reads_every_form_alike():
    columns = {name: [record[name] for record in RECORDS] for name in RECORDS[0]}
    short = {{"test_accuracy": "test_acc", "train_accuracy": "train_acc", "total_time": "elapsed"}.get(k, k): v
             for k, v in columns.items()}
    history = History(RECORDS)
    forms = [RECORDS, columns, short, history, history.to_dict(), json.loads(history.to_json())]
    expected = metrics.as_history(RECORDS)
    assert set(expected) == set(metrics.HISTORY_COLUMNS)
    np.testing.assert_array_equal(expected["test_accuracy"], [0.955, 0.975, np.nan, 0.981])
    for form in forms:
        got = metrics.as_history(form)
        assert set(got) == set(expected)
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name])


def test_as_history_rejects_missing_ragged_and_percent_columns():
    with pytest.raises(ValueError, match="history: missing column.*test_accuracy"):
        metrics.as_history({"epoch": [1]}, required=("epoch", "test_accuracy"))
    with pytest.raises(ValueError, match="history: columns must be 1-D and of equal length"):
        metrics.as_history({"epoch": [1, 2], "test_accuracy": [0.5]}, required=())
    with pytest.raises(ValueError, match="history: test_accuracy must be a fraction in \\[0, 1\\], got 97.0"):
        metrics.as_history({"epoch": [1], "test_accuracy": [97.0]}, required=())
    with pytest.raises(TypeError, match="history: expected a History"):
        metrics.as_history([1, 2, 3])


def test_first_reaching_and_run_summary():
    assert metrics.first_reaching(RECORDS, 0.97) == (2, 5.0)
    assert metrics.first_reaching(RECORDS, 0.98) == (4, 8.0)  # epoch 3 was not evaluated
    assert metrics.first_reaching(RECORDS, 0.99) is None
    summary = metrics.run_summary(History(RECORDS), thresholds=(0.97, 0.98, 0.99))
    assert summary == {"epochs": 4, "final_test_accuracy": 0.981, "best_test_accuracy": 0.981,
                       "time_per_epoch": 2.0, "total_time": 8.0,
                       "reached": {0.97: (2, 5.0), 0.98: (4, 8.0), 0.99: None}}
    with pytest.raises(ValueError, match="history: no epochs recorded"):
        metrics.run_summary([])
