"""The training loop: ``fit`` with seeded shuffling, a per-epoch History, atomic checkpoints and exact resume.

::

    model = fastopt.nn.MLP([784, 512, 256, 10])
    opt = fastopt.Adam(model.params, lr=1e-3)
    history = fit(model, opt, data.train, data.test, epochs=10, batch_size=128,
                  schedule=CosineDecay(10), checkpoint="runs/adam/checkpoint.npz")

``model`` is anything with ``params`` and ``grads`` (dicts name -> array, the grads filled in place by
``forward_backward(x, y) -> mean loss``) and ``evaluate(x, y, batch_size=...) -> (loss, accuracy)``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import time
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import _core
from .atomic import atomic_write
from .checkpoint import CheckpointError, check_same_run, corrupt, load_training_checkpoint, save_checkpoint
from .optim.schedules import apply

FIELDS = ("epoch", "lr", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "train_time", "epoch_time",
          "total_time", "samples_per_second", "grad_norm_mean", "grad_norm_max")
SCHEDULE_UNITS = ("epoch", "step")


class History:
    """One record per epoch (a dict with :data:`FIELDS`) and why training stopped.

    ``epoch`` counts from 1; ``lr`` is the first param group's rate during the epoch; ``train_loss`` is
    the mean mini-batch loss over the epoch and ``train_accuracy`` the accuracy at its end (on the
    ``train_eval`` samples of :func:`fit`); accuracies are fractions; ``train_time`` is the time of the
    optimisation steps, ``epoch_time`` includes the evaluations, ``total_time`` sums ``epoch_time``;
    ``grad_norm_mean`` and ``grad_norm_max`` are the mean and largest global gradient norm
    ``||g||_2`` (over all params, before clipping) of the epoch's steps (None if not recorded).
    ``history[i]`` is a record, ``history["test_accuracy"]`` a column.

    Parameters
    ----------
    records : iterable of dict
        The records so far (copied).
    stop_reason : str
        ``"epochs"``, ``"target"``, ``"callback"`` or ``"diverged"`` once fit returns.
    """

    def __init__(self, records=(), stop_reason: str = ""):
        self.records: list[dict] = [dict(r) for r in records]
        self.stop_reason = stop_reason  # "epochs", "target", "callback" or "diverged" once fit returns

    def append(self, record: dict) -> None:
        """Add one epoch's record (copied).

        Parameters
        ----------
        record : dict
            With :data:`FIELDS`.
        """
        self.records.append(dict(record))

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, key):
        if isinstance(key, str):
            return [r[key] for r in self.records]
        return self.records[key]

    def first_epoch_reaching(self, accuracy: float) -> dict | None:
        """The first record whose test accuracy is at least ``accuracy``, or None.

        Parameters
        ----------
        accuracy : float
            A fraction.
        """
        return next((r for r in self.records if r["test_accuracy"] is not None and r["test_accuracy"] >= accuracy),
                    None)

    def to_dict(self) -> dict:
        """``{"records": [...], "stop_reason": ...}``, copied."""
        return {"records": [dict(r) for r in self.records], "stop_reason": self.stop_reason}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        """The History of a :meth:`to_dict`.

        Parameters
        ----------
        d : dict
            With ``records`` and optionally ``stop_reason``.
        """
        return cls(d["records"], d.get("stop_reason", ""))

    def to_json(self, path=None) -> str:
        """The history as JSON.

        Parameters
        ----------
        path : path-like, optional
            Also written there, atomically.
        """
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            _write_text(path, text)
        return text

    @classmethod
    def from_json(cls, path) -> "History":
        """The History in a JSON file of :meth:`to_json`.

        Parameters
        ----------
        path : path-like
        """
        return cls.from_dict(json.loads(Path(path).read_text()))

    def to_csv(self, path=None) -> str:
        """One row per epoch with the :data:`FIELDS` as header; absent test metrics are empty cells.

        Parameters
        ----------
        path : path-like, optional
            Also written there, atomically.
        """
        out = io.StringIO()
        writer = csv.DictWriter(out, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if r.get(k) is None else r[k]) for k in FIELDS} for r in self.records)
        if path is not None:
            _write_text(path, out.getvalue())
        return out.getvalue()

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, stop_reason={self.stop_reason!r})"


def _write_text(path, text: str) -> None:
    with atomic_write(Path(path)) as tmp:
        tmp.write_text(text)


# ---------------------------------------------------------------------------------------------- resuming
def _restore(path, state: dict, model, optimizer, config: dict) -> None:
    """Put a checkpoint's params and optimizer state back after checking it belongs to this run.

    Everything is checked before anything changes, so a refused checkpoint leaves model and optimizer as they were.
    """
    check_same_run(path, state["config"], config)
    saved, params = state["params"], model.params
    if sorted(saved) != sorted(params) or any(saved[k].shape != params[k].shape or saved[k].dtype != params[k].dtype
                                              for k in params):
        raise CheckpointError(f"checkpoint {path}: its params {_layout(saved)} do not match the model's "
                              f"{_layout(params)}")
    for k, values in saved.items():
        if not np.isfinite(values).all():
            raise CheckpointError(f"checkpoint {path}: param {k!r} holds NaN or Inf; the run it saved diverged, "
                                  "so there is nothing to resume")
    try:
        optimizer.load_state_dict(state["optimizer"])  # validates before changing anything
    except (ValueError, KeyError, TypeError) as e:
        raise corrupt(path, f"its optimizer state does not load into {type(optimizer).__name__}: {e}") from None
    for k, p in params.items():
        p[...] = saved[k]
    if "dropout_calls" in state:  # the dropout masks continue where the interrupted run left them
        model.dropout_calls = int(state["dropout_calls"])


def _layout(params: dict) -> dict:
    return {k: f"{v.dtype}{tuple(v.shape)}" for k, v in params.items()}


# ---------------------------------------------------------------------------------------------- the loop
def _xy(data, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays (x, y) from a datasets.Split (its float32 .x, int64 .y) or a pair."""
    x, y = (data.x, data.y) if hasattr(data, "x") and hasattr(data, "y") else data
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) or x.ndim != 2 or y.ndim != 1:
        raise TypeError(f"{name}: expected a Split or a pair (x (N, features), y (N,)) of arrays")
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{name}: {len(x)} inputs and {len(y)} labels (must be equal and non-zero)")
    return x, y


def _check_int(value, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"Invalid {name}: {value!r} (must be an integer {bounds})")
    return int(value)


def grad_norm(grads) -> float:
    """The global L2 norm of a list of gradient arrays, in one native pass (accumulated in double).

    Parameters
    ----------
    grads : list of numpy.ndarray
    """
    return math.sqrt(_core.optim.grad_sum_squares(grads))


def _summary(r: dict, epochs: int) -> str:
    test = "" if r["test_accuracy"] is None else f"  test loss {r['test_loss']:.4f} acc {100 * r['test_accuracy']:.2f}%"
    return (f"epoch {r['epoch']:>3}/{epochs}  lr {r['lr']:.3g}  train loss {r['train_loss']:.4f} "
            f"acc {100 * r['train_accuracy']:.2f}%{test}  {r['epoch_time']:.1f} s  "
            f"{r['samples_per_second']:,.0f} samples/s")


def fit(model, optimizer, train, test=None, epochs: int = 10, batch_size: int = 128, schedule=None, seed: int = 0,
        callbacks=(), target_accuracy: float | None = None, checkpoint=None, resume: bool = False,
        progress: bool = True, train_eval: int | None = 10000, eval_batch_size: int = 1000,
        run: dict | None = None, schedule_unit: str = "epoch", clip_grad_norm: float | None = None,
        clip_grad_value: float | None = None, record_grad_norm: bool = True, log: bool | None = None) -> History:
    """Train ``model`` with ``optimizer`` for ``epochs`` passes over ``train``; return the :class:`History`.

    Each epoch visits ``train`` in a permutation drawn from a generator seeded with ``seed``, in
    mini-batches of ``batch_size``, after setting the learning rate to base * ``schedule(epoch)``
    (0-based epoch) when a schedule is given.  After each epoch: the train accuracy on ``train_eval``
    samples, the test loss and accuracy, a one-line summary, the checkpoint, then each callback.

    Parameters
    ----------
    model
        ``params`` and ``grads`` (dicts name -> array), ``forward_backward(x, y) -> mean loss`` filling
        the grads, ``evaluate(x, y, batch_size=...) -> (loss, accuracy)``; optionally ``dropout_calls``.
    optimizer : fastopt.Optimizer
        Built over ``model.params``; or a curvature optimizer built over the model (``fastopt.KFAC``,
        ``fastopt.EKFAC``, ``fastopt.NaturalGradient``), whose ``next_capture()`` is asked before every
        step and passed to ``forward_backward(x, y, capture=...)`` when it is not None.
    train, test : fastopt.datasets.Split or (x, y)
        Training data and optional test data: x (N, features), y (N,) integer labels.
    epochs : int
        Passes over ``train``; 0 trains nothing.
    batch_size : int
        Samples per step, in [1, len(train)] (1: stochastic gradient descent; len(train): full batch).
    schedule : callable, optional
        ``t -> lr factor`` (fastopt.optim.schedules), ``t`` the 0-based epoch or step (``schedule_unit``).
    seed : int
        Seeds the shuffling and the subset of ``train_eval`` samples.
    callbacks : sequence of callable
        ``callback(history)`` after each epoch; a true return stops training.
    target_accuracy : float, optional
        Stop once the test accuracy reaches this fraction in (0, 1]; needs ``test``.
    checkpoint : path-like, optional
        Written atomically after every epoch: params, optimizer state, generator state, history,
        the dropout counter and ``run``.
    resume : bool
        Continue from ``checkpoint``, which must be a complete checkpoint of a run with the same
        ``batch_size``, ``seed`` and training-set size, with finite params matching the model's names,
        shapes and dtypes (else :class:`fastopt.checkpoint.CheckpointError` or
        :class:`fastopt.checkpoint.RunMismatch`, both ValueErrors naming the file, and nothing changes).
        The result is bit-identical to an uninterrupted run, dropout included for models that expose
        their mask counter (``fastopt.nn.MLP.dropout_calls``).
    progress : bool
        A progress bar per epoch (and, unless ``log`` says otherwise, a summary line after it).
    train_eval : int or None
        Size of the fixed seeded subset of ``train`` the train accuracy is measured on (None: all).
    eval_batch_size : int
        Batch size of the evaluations.
    run : dict, optional
        The run's settings (a run folder's config.json), stored with every checkpoint so that a later
        resume can check it continues the same run.
    schedule_unit : {"epoch", "step"}
        Set the rate once per epoch (``t`` = epoch) or before every step (``t`` = epoch * steps per
        epoch + batch index, steps per epoch = ceil(N / batch_size)).
    clip_grad_norm, clip_grad_value : float, optional
        Passed to ``optimizer.step`` (> 0): clip the global gradient norm, then each element (fused
        into the optimizer's pass; see :meth:`fastopt.optim.Optimizer.step`).
    log : bool, optional
        Print the one-line summary of each epoch (default: as ``progress``).
    record_grad_norm : bool
        Record the mean and largest global gradient norm of each epoch's steps (one extra native pass
        over the grads per step, unless ``clip_grad_norm`` computes it anyway).

    Returns
    -------
    History
        One record per epoch; ``stop_reason`` is ``"epochs"``, ``"target"``, ``"callback"`` or
        ``"diverged"`` (a loss that is not finite).
    """
    x, y = _xy(train, "train")
    x_test, y_test = _xy(test, "test") if test is not None else (None, None)
    n = len(x)
    epochs = _check_int(epochs, "epochs", 0)
    batch_size = _check_int(batch_size, "batch_size", 1, n)
    if target_accuracy is not None:
        if not isinstance(target_accuracy, Real) or not 0.0 < target_accuracy <= 1.0:
            raise ValueError(f"Invalid target_accuracy: {target_accuracy!r} (must be a fraction in (0, 1])")
        if test is None:
            raise ValueError("target_accuracy: needs a test split to measure the accuracy on")
    if train_eval is not None:
        train_eval = _check_int(train_eval, "train_eval", 1)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs the checkpoint path to resume from")
    if schedule_unit not in SCHEDULE_UNITS:
        raise ValueError(f"Invalid schedule_unit: {schedule_unit!r} (must be one of {', '.join(SCHEDULE_UNITS)})")
    clip = {k: v for k, v in (("clip_grad_norm", clip_grad_norm), ("clip_grad_value", clip_grad_value))
            if v is not None}
    for key, value in clip.items():
        if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < math.inf:
            raise ValueError(f"Invalid {key}: {value!r} (must be a finite number > 0)")
    steps_per_epoch = -(-n // batch_size)

    config = {"batch_size": batch_size, "seed": int(seed), "n_train": n}
    rng = np.random.default_rng(seed)
    history = History()
    if resume:
        state = load_training_checkpoint(checkpoint)
        _restore(checkpoint, state, model, optimizer, config)
        rng.bit_generator.state = state["rng"]
        history = History.from_dict(state["history"])
    # A fixed subset for the train accuracy, drawn from its own stream so the shuffling does not depend on it.
    eval_idx = (np.sort(np.random.default_rng([seed, 1]).choice(n, train_eval, replace=False))
                if train_eval is not None and train_eval < n else slice(None))
    x_eval, y_eval = x[eval_idx], y[eval_idx]

    # A curvature optimizer (K-FAC, EKFAC, natural gradient) says before each step what forward_backward must
    # record for it (its layer statistics, the batch); the others are called exactly as before.
    next_capture = getattr(optimizer, "next_capture", None)
    history.stop_reason = "epochs"
    if target_accuracy is not None and history.first_epoch_reaching(target_accuracy):
        history.stop_reason = "target"
        return history
    per_step = schedule is not None and schedule_unit == "step"
    grad_list = list(model.grads.values()) if isinstance(model.grads, dict) else list(model.grads)
    for epoch in range(len(history), epochs):
        if schedule is not None:
            apply(optimizer, schedule(epoch * steps_per_epoch if per_step else epoch))
        lr = float(optimizer.param_groups[0]["lr"])
        order = rng.permutation(n)
        start = time.perf_counter()
        loss_sum, norms = 0.0, []
        with tqdm(total=n, desc=f"epoch {epoch + 1}/{epochs}", unit="sample", unit_scale=True, leave=False,
                  disable=not progress) as bar:
            for step, i in enumerate(range(0, n, batch_size)):
                if per_step and step:
                    apply(optimizer, schedule(epoch * steps_per_epoch + step))
                batch = order[i:i + batch_size]
                capture = next_capture() if next_capture is not None else None
                loss = float(model.forward_backward(x[batch], y[batch]) if capture is None
                             else model.forward_backward(x[batch], y[batch], capture=capture))
                norm = optimizer.step(model.grads, **clip) if clip else optimizer.step(model.grads)
                if record_grad_norm:
                    norms.append(norm if clip.get("clip_grad_norm") is not None else grad_norm(grad_list))
                loss_sum += loss * len(batch)
                bar.update(len(batch))
        train_time = time.perf_counter() - start
        train_loss = loss_sum / n
        _, train_acc = model.evaluate(x_eval, y_eval, batch_size=eval_batch_size)
        test_loss, test_acc = (model.evaluate(x_test, y_test, batch_size=eval_batch_size) if test is not None
                               else (None, None))
        epoch_time = time.perf_counter() - start
        previous = history[-1]["total_time"] if len(history) else 0.0
        history.append({"epoch": epoch + 1, "lr": lr, "train_loss": train_loss, "train_accuracy": float(train_acc),
                        "test_loss": None if test_loss is None else float(test_loss),
                        "test_accuracy": None if test_acc is None else float(test_acc),
                        "train_time": train_time, "epoch_time": epoch_time, "total_time": previous + epoch_time,
                        "samples_per_second": n / train_time,
                        "grad_norm_mean": float(np.mean(norms)) if norms else None,
                        "grad_norm_max": float(np.max(norms)) if norms else None})
        if progress if log is None else log:
            tqdm.write(_summary(history[-1], epochs))
        if checkpoint is not None:
            save_checkpoint(checkpoint, {"epoch": epoch + 1, "config": config, "params": dict(model.params),
                                         "optimizer": optimizer.state_dict(), "rng": rng.bit_generator.state,
                                         "history": history.to_dict(), **({} if run is None else {"run": run}),
                                         **({"dropout_calls": int(model.dropout_calls)}
                                            if hasattr(model, "dropout_calls") else {})})
        stop_asked = any([bool(cb(history)) for cb in callbacks])  # a list: every callback sees every epoch
        if not math.isfinite(train_loss):
            history.stop_reason = "diverged"
        elif target_accuracy is not None and test_acc >= target_accuracy:
            history.stop_reason = "target"
        elif stop_asked:
            history.stop_reason = "callback"
        if history.stop_reason != "epochs":
            break
    return history
