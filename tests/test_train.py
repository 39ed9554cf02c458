"""fastopt.train.fit: seeded shuffling, batch sizes, history, stopping, atomic checkpoints and exact resume.

The loop is tested with SoftmaxRegression, a small NumPy model with fastopt.nn.MLP's training interface
(params/grads dicts, forward_backward, evaluate); the real network's MNIST run is at the end.
"""
import json

import numpy as np
import pytest

import fastopt
from fastopt import train as training
from fastopt.optim.schedules import CosineDecay
from fastopt.checkpoint import load_checkpoint, save_checkpoint
from fastopt.train import History, fit
from mnist_data import MNIST_DIR, needs_mnist



class SoftmaxRegression:
    """Multinomial logistic regression in NumPy float32 with the MLP's interface; records every batch it sees."""

    def __init__(self, n_in: int, n_classes: int = 10, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.params = {"0.weight": (0.01 * rng.standard_normal((n_classes, n_in))).astype(np.float32),
                       "0.bias": np.zeros(n_classes, np.float32)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.batches = []

    def _log_probs(self, x):
        z = x @ self.params["0.weight"].T + self.params["0.bias"]
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def forward_backward(self, x, y):
        self.batches.append(y.copy())
        log_p = self._log_probs(x)
        delta = np.exp(log_p)
        delta[np.arange(len(y)), y] -= 1.0
        delta /= len(y)
        self.grads["0.weight"][...] = delta.T @ x
        self.grads["0.bias"][...] = delta.sum(axis=0)
        return float(-log_p[np.arange(len(y)), y].mean())

    def predict(self, x):
        return self._log_probs(x).argmax(axis=1)

    def evaluate(self, x, y, batch_size=1000):
        log_p = self._log_probs(x)
        return float(-log_p[np.arange(len(y)), y].mean()), float((log_p.argmax(axis=1) == y).mean())


def blobs(n, seed, n_in=20, n_classes=10):
    """Gaussian clusters around fixed class centres: linearly separable enough for softmax regression."""
    centres = np.random.default_rng(123).standard_normal((n_classes, n_in)) * 2.0
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    x = (centres[y] + rng.standard_normal((n, n_in))).astype(np.float32)
    return x, y.astype(np.int64)


TRAIN, TEST = blobs(300, seed=1), blobs(100, seed=2)


def make(seed=0, lr=1e-2):
    model = SoftmaxRegression(20, seed=seed)
    return model, fastopt.Adam(model.params, lr=lr)


def test_fit_learns_and_records_a_history():
    model, opt = make()
    history = fit(model, opt, TRAIN, TEST, epochs=4, batch_size=32, progress=False)
    assert len(history) == 4 and history.stop_reason == "epochs"
    assert history["epoch"] == [1, 2, 3, 4]
    assert set(history[0]) == set(training.FIELDS)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history[-1]["test_accuracy"] > 0.9
    assert history["lr"] == [1e-2] * 4
    assert all(r["epoch_time"] >= r["train_time"] > 0 and r["samples_per_second"] > 0 for r in history)
    assert history["total_time"] == pytest.approx(np.cumsum(history["epoch_time"]).tolist())
    # the loss recorded is the mean over the epoch's batches, the accuracies those of evaluate()
    assert (history[-1]["test_loss"], history[-1]["test_accuracy"]) == model.evaluate(*TEST)


def test_shuffling_is_seeded_and_every_epoch_visits_every_sample_once():
    x = np.zeros((30, 20), np.float32)
    x[:, 0] = np.arange(30)  # each sample's id

    def order(seed):
        model, opt = make()
        model.forward_backward = lambda xb, yb: model.batches.append(xb[:, 0].astype(int)) or 0.0
        fit(model, opt, (x, np.arange(30) % 10), epochs=3, batch_size=7, seed=seed, progress=False)
        return model.batches

    a, b, c = order(5), order(5), order(6)
    assert [len(batch) for batch in a] == [7, 7, 7, 7, 2] * 3  # the last batch is the remainder
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))
    epochs = [np.concatenate(a[i:i + 5]) for i in range(0, 15, 5)]
    assert all(sorted(e.tolist()) == list(range(30)) for e in epochs)
    assert not np.array_equal(epochs[0], epochs[1])  # a new permutation each epoch


def test_batch_size_one_is_sgd_and_full_batch_is_gradient_descent():
    x, y = TRAIN[0][:40], TRAIN[1][:40]
    model, opt = make()
    fit(model, opt, (x, y), epochs=1, batch_size=1, progress=False)
    assert len(model.batches) == 40 and all(len(b) == 1 for b in model.batches)

    model = SoftmaxRegression(20)
    expected = SoftmaxRegression(20)
    opt = fastopt.SGD(model.params, lr=0.5)
    fit(model, opt, (x, y), epochs=2, batch_size=40, progress=False)
    assert [len(b) for b in model.batches] == [40, 40]
    for _ in range(2):  # two plain gradient-descent steps on the whole set, in the same float32 arithmetic
        expected.forward_backward(x, y)
        for k in expected.params:
            expected.params[k] -= np.float32(0.5) * expected.grads[k]
    for k in model.params:
        np.testing.assert_allclose(model.params[k], expected.params[k], rtol=1e-6, atol=1e-7)


def test_schedule_sets_each_epochs_rate():
    model, opt = make(lr=0.1)
    history = fit(model, opt, TRAIN, epochs=4, batch_size=64, schedule=CosineDecay(4), progress=False)
    assert history["lr"] == pytest.approx([0.1 * CosineDecay(4)(t) for t in range(4)])
    assert history[0]["test_accuracy"] is None


def test_stops_at_the_target_accuracy():
    model, opt = make()
    history = fit(model, opt, TRAIN, TEST, epochs=20, batch_size=16, target_accuracy=0.8, progress=False)
    assert history.stop_reason == "target" and len(history) < 20
    assert history[-1]["test_accuracy"] >= 0.8 > max(history["test_accuracy"][:-1], default=0.0)
    assert history.first_epoch_reaching(0.8) is history[-1]


def test_callbacks_see_every_epoch_and_can_stop():
    seen = []
    model, opt = make()
    history = fit(model, opt, TRAIN, epochs=5, batch_size=64, progress=False,
                  callbacks=[lambda h: seen.append(len(h)), lambda h: len(h) == 2])
    assert seen == [1, 2] and history.stop_reason == "callback" and len(history) == 2


def test_stops_when_the_loss_is_not_finite():
    model, opt = make()
    model.forward_backward = lambda x, y: float("nan")
    history = fit(model, opt, TRAIN, epochs=5, batch_size=64, progress=False)
    assert history.stop_reason == "diverged" and len(history) == 1


def test_progress_prints_one_summary_line_per_epoch(capsys):
    model, opt = make()
    fit(model, opt, TRAIN, TEST, epochs=2, batch_size=64)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert len(lines) == 2 and lines[1].startswith("epoch   2/2  lr 0.01  train loss")
    assert "test loss" in lines[1] and "samples/s" in lines[1]


def test_history_json_and_csv(tmp_path):
    model, opt = make()
    history = fit(model, opt, TRAIN, epochs=2, batch_size=64, progress=False)
    history.to_json(tmp_path / "h.json")
    back = History.from_json(tmp_path / "h.json")
    assert back.records == history.records and back.stop_reason == "epochs"
    assert json.loads(history.to_json())["records"][1]["epoch"] == 2
    rows = history.to_csv(tmp_path / "h.csv").splitlines()
    assert rows[0] == ",".join(training.FIELDS) and len(rows) == 3
    assert rows[1].split(",")[training.FIELDS.index("test_loss")] == ""  # no test split: empty cell
    assert (tmp_path / "h.csv").read_text().splitlines() == rows


# ---------------------------------------------------------------------------------------------- checkpoints
class Interrupt(Exception):
    pass


def interrupt_after(epochs):
    def callback(history):
        if len(history) == epochs:
            raise Interrupt
    return callback


@pytest.mark.parametrize("optimizer", ["adam", "ranger", "nadam"])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, optimizer):
    kwargs = dict(epochs=5, batch_size=24, schedule=CosineDecay(5), seed=3, progress=False)

    def run(seed):
        model = SoftmaxRegression(20, seed=seed)
        return model, fastopt.optim.create(optimizer, model.params, lr=1e-2)

    model, opt = run(0)
    full = fit(model, opt, TRAIN, TEST, **kwargs)

    path = tmp_path / "ckpt.npz"
    first, opt1 = run(0)
    with pytest.raises(Interrupt):
        fit(first, opt1, TRAIN, TEST, checkpoint=path, callbacks=[interrupt_after(2)], **kwargs)
    assert load_checkpoint(path)["epoch"] == 2
    resumed, opt2 = run(seed=99)  # another initialisation: everything must come from the checkpoint
    history = fit(resumed, opt2, TRAIN, TEST, checkpoint=path, resume=True, **kwargs)

    for k in model.params:
        assert np.array_equal(model.params[k], resumed.params[k]), k
    assert len(resumed.batches) == 3 * len(first.batches) // 2  # only the 3 remaining epochs were trained
    metrics = ["epoch", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy"]
    assert [[r[m] for m in metrics] for r in history] == [[r[m] for m in metrics] for r in full]
    assert _tree_equal(opt.state_dict(), opt2.state_dict())
    assert load_checkpoint(path)["epoch"] == 5


def _tree_equal(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_tree_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_tree_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def test_checkpoint_roundtrips_nested_state_exactly(tmp_path):
    state = {"a": np.arange(5, dtype=np.float32), "t": (0.9, 0.999), "n": [1, None, "x", {"deep": np.eye(2)}],
             "big": 2 ** 100, "f": 0.1 + 0.2, "nan": float("nan")}
    save_checkpoint(tmp_path / "c.npz", state)
    back = load_checkpoint(tmp_path / "c.npz")
    nan = back.pop("nan")
    assert nan != nan and _tree_equal(back, {k: v for k, v in state.items() if k != "nan"})


def test_a_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    model, opt = make()
    fit(model, opt, TRAIN, epochs=1, batch_size=64, checkpoint=path, progress=False)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(training.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        fit(model, opt, TRAIN, epochs=2, batch_size=64, checkpoint=path, resume=True, progress=False)
    assert path.read_bytes() == before and load_checkpoint(path)["epoch"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz"]  # no temporary file left


def test_resume_refuses_a_checkpoint_of_another_run(tmp_path):
    path = tmp_path / "ckpt.npz"
    model, opt = make()
    fit(model, opt, TRAIN, epochs=1, batch_size=64, checkpoint=path, progress=False)
    params = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match="written with batch_size=64, this run has batch_size=32"):
        fit(model, opt, TRAIN, epochs=2, batch_size=32, checkpoint=path, resume=True, progress=False)
    other = SoftmaxRegression(20, n_classes=3)
    with pytest.raises(ValueError, match="do not match the model's"):
        fit(other, fastopt.Adam(other.params), TRAIN, epochs=2, batch_size=64, checkpoint=path, resume=True,
            progress=False)
    assert all(np.array_equal(params[k], model.params[k]) for k in params)  # nothing changed
    with pytest.raises(FileNotFoundError, match="missing.npz does not exist"):
        fit(model, opt, TRAIN, epochs=2, checkpoint=tmp_path / "missing.npz", resume=True, progress=False)
    (tmp_path / "junk.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="junk.npz: not a fastopt checkpoint"):
        load_checkpoint(tmp_path / "junk.npz")


def test_resume_of_a_finished_run_trains_nothing(tmp_path):
    path = tmp_path / "ckpt.npz"
    model, opt = make()
    fit(model, opt, TRAIN, epochs=2, batch_size=64, checkpoint=path, progress=False)
    model.batches.clear()
    history = fit(model, opt, TRAIN, epochs=2, batch_size=64, checkpoint=path, resume=True, progress=False)
    assert len(history) == 2 and model.batches == []


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_size=0), ValueError, r"Invalid batch_size: 0 \(must be an integer in \[1, 300\]\)"),
    (dict(batch_size=301), ValueError, "Invalid batch_size: 301"),
    (dict(epochs=-1), ValueError, "Invalid epochs"),
    (dict(target_accuracy=98.0), ValueError, "Invalid target_accuracy: 98.0"),
    (dict(target_accuracy=0.9, test=None), ValueError, "needs a test split"),
    (dict(resume=True), ValueError, "resume=True needs the checkpoint"),
    (dict(test=(TEST[0], TEST[1][:5])), ValueError, "test: 100 inputs and 5 labels"),
    (dict(test=[1, 2]), TypeError, "test: expected a Split or a pair"),
])
def test_bad_arguments(kwargs, error, match):
    model, opt = make()
    kwargs = {"test": TEST, **kwargs}
    with pytest.raises(error, match=match):
        fit(model, opt, TRAIN, progress=False, **kwargs)
    assert model.batches == []


def test_accepts_dataset_splits():
    from fastopt.datasets import Split
    rng = np.random.default_rng(0)
    split = Split(rng.integers(0, 256, (50, 28, 28), dtype=np.uint8), rng.integers(0, 10, 50).astype(np.uint8))
    model = SoftmaxRegression(784)
    history = fit(model, fastopt.Adam(model.params), split, split, epochs=1, batch_size=25, progress=False)
    assert len(history) == 1 and model.batches[0].dtype == np.int64


# ---------------------------------------------------------------------------------------------- the real network
def test_resume_with_dropout_is_bit_identical(tmp_path):
    """The checkpoint carries the MLP's dropout mask counter, so resumed dropout masks match."""
    rng = np.random.default_rng(3)
    x, y = rng.random((96, 20), dtype=np.float32), rng.integers(0, 4, 96)

    def run(epochs, resume=False):
        model = fastopt.nn.MLP([20, 16, 4], dropout=0.3, seed=1)
        opt = fastopt.Adam(model.params, lr=1e-2)
        fit(model, opt, (x, y), epochs=epochs, batch_size=32, checkpoint=tmp_path / "ck.npz", resume=resume,
            progress=False)
        return model

    uninterrupted = run(4)
    (tmp_path / "ck.npz").unlink()
    run(2)
    resumed = run(4, resume=True)
    for k in uninterrupted.params:
        assert np.array_equal(uninterrupted.params[k], resumed.params[k]), k
    assert resumed.dropout_calls == uninterrupted.dropout_calls > 0


@needs_mnist
def test_default_training_reaches_98_percent_on_real_mnist(tmp_path):
    """The acceptance run: `fastopt train --dataset mnist` with every default, on the full MNIST."""
    from fastopt import cli
    assert cli.main(["train", "--dataset", "mnist", "--data", str(MNIST_DIR), "--out", str(tmp_path),
                     "--no-progress"]) == 0
    history = History.from_json(tmp_path / "history.json")
    assert history[-1]["test_accuracy"] >= 0.98, history["test_accuracy"]
