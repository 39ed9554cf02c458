"""The Hessian of trained networks: one run's spectrum (``fastopt hessian``), sharp against flat minima
(SGD with small and large batches, Adam), and the top eigenvalue during training against the edge of
stability 2 / lr (Cohen et al., 2021).

::

    from fastopt import studies
    summary, about = studies.hessian_of_run("runs/adam", samples=10000)      # top eigenvalues, trace, density
    minima = studies.sharp_vs_flat_study(epochs=5, out="sharpness")          # sharpness/sharp_vs_flat.png
    traces = studies.edge_of_stability_study(lrs=(0.05, 0.1, 0.2), out="eos")  # eos/edge_of_stability.png

References: Keskar et al., "On large-batch training for deep learning: generalization gap and sharp minima"
(ICLR 2017); Ghorbani, Krishnan & Xiao, "An investigation into neural net optimization via Hessian
eigenvalue density" (ICML 2019); Yao et al., "PyHessian" (2020); Cohen et al., "Gradient descent on
neural networks typically occurs at the edge of stability" (ICLR 2021).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .. import curvature, nn
from ..atomic import atomic_write
from ..curvature.operator_input import positive_count
from ..optim import SGD
from ..optim.registry import entry
from ..runs import load_data, model_config, restore_run, train_run
from .checks import figure_path

SPLITS = ("train", "test")
KINDS = ("hessian", "ggn", "fisher")


def _check_choice(value, name: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")
    return value


def _operator(model, x, y, kind: str, batch_size: int):
    if kind == "fisher":
        return curvature.fisher(model, x, y, kind="empirical", batch_size=batch_size)
    return getattr(curvature, kind)(model, x, y, batch_size=batch_size)


def hessian_of_run(folder, samples: int = 10000, split: str = "train", kind: str = "hessian",
                   batch_size: int = 1000, data=None, progress: bool = False, dataset: str = "mnist",
                   **summary) -> tuple:
    """The spectrum of a trained network (a ``fastopt train`` run, or a model saved by
    :meth:`fastopt.nn.MLP.save`): top eigenvalues, trace and density
    (:func:`fastopt.curvature.spectrum_summary`) of the loss's curvature over its first ``samples``
    samples of ``split``.

    Parameters
    ----------
    folder : path-like
        A run folder (config.json and checkpoint.npz), or a file written by ``MLP.save``.
    samples : int, default 10000
        The first ``samples`` rows of the split (all of them if fewer).
    split : {"train", "test"}
        Which split's mean loss.
    kind : {"hessian", "ggn", "fisher"}
        The exact Hessian, the Gauss-Newton matrix, or the empirical Fisher.
    batch_size : int, default 1000
        Rows per native product call.
    data : path-like, optional
        Where the dataset's files are (default: the run's).
    progress : bool, default False
        A progress bar counting the products.
    dataset : str, default "mnist"
        The dataset of a saved model (a run folder names its own).
    **summary
        Passed to :func:`~fastopt.curvature.spectrum_summary` (``k``, ``tol``, ``trace_samples``,
        ``lanczos_steps``, ``runs``, ``smallest``, ``seed``).

    Returns
    -------
    tuple
        (SpectrumSummary, dict describing the run, the data and the model).

    Raises
    ------
    FileNotFoundError, ValueError
        If the folder is not a run, or an argument is out of range.
    """
    _check_choice(split, "split", SPLITS)
    _check_choice(kind, "kind", KINDS)
    samples = positive_count(samples, "samples")
    if Path(folder).is_file():
        model = nn.MLP.load(folder)
        _, train, test = load_data(dataset, data, None, progress)
        if train.x.shape[1] != model.sizes[0]:
            raise ValueError(f"model: {str(folder)!r} takes {model.sizes[0]} inputs, {dataset} has "
                             f"{train.x.shape[1]}")
    else:
        model, train, test, _ = restore_run(folder, data)
    chosen = train if split == "train" else test
    x, y = chosen.x[:samples], chosen.y[:samples]
    op = _operator(model, x, y, kind, batch_size)
    result = curvature.spectrum_summary(op, progress=progress, **summary)
    loss, accuracy = model.evaluate(x, y)
    about = {"run": str(folder), "kind": kind, "split": split, "samples": len(y), "parameters": op.shape[0],
             "network": list(model.sizes), "loss": float(loss), "accuracy": float(accuracy)}
    return result, about


# ------------------------------------------------------------------------------------- sharp against flat
@dataclass(frozen=True)
class Setup:
    """One training of the sharp-against-flat study: an optimizer at a learning rate and batch size."""

    name: str
    optimizer: str
    lr: float
    batch_size: int

    @property
    def label(self) -> str:
        return f"{self.name}, batch {self.batch_size}"


SHARPNESS_SETUPS = (Setup("SGD", "sgd", 0.1, 128), Setup("SGD", "sgd", 0.1, 16), Setup("SGD", "sgd", 0.1, 2048),
                    Setup("Adam", "adam", 1e-3, 128))


@dataclass
class MinimumCurvature:
    """The curvature at the weights one training reached.

    Attributes
    ----------
    setup : Setup
        What was trained.
    folder : Path
        Its run folder.
    test_accuracy, train_loss : float
        After the last epoch.
    samples : int
        Training samples the Hessian averages over.
    summary : fastopt.curvature.SpectrumSummary
        Top eigenvalue, trace and density.
    color : str
        Its colour in the figure (one per setup).
    """

    setup: Setup
    folder: Path
    test_accuracy: float
    train_loss: float
    samples: int
    summary: object
    color: str

    @property
    def label(self) -> str:
        return self.setup.label


_VARIANT_COLORS = ("#1f77b4", "#17becf", "#9467bd", "#d62728", "#2ca02c", "#8c564b", "#e377c2", "#7f7f7f")


def sharp_vs_flat_study(setups=SHARPNESS_SETUPS, dataset: str = "mnist", epochs: int = 5, samples: int = 10000,
                        hidden=(512, 256), seed: int = 0, limit: int | None = None, out="sharpness",
                        trace_samples: int = 50, lanczos_steps: int = 80, data=None,
                        progress: bool = True) -> list[MinimumCurvature]:
    """Train the MLP once per setup (constant learning rate), then measure the Hessian of the training loss
    at each result: top eigenvalue, trace and SLQ density, beside the test accuracy.  Keskar et al.
    found small-batch SGD in flatter minima than large-batch SGD, and flatness to go with better test
    accuracy; this study measures whether it holds here.

    Parameters
    ----------
    setups : sequence of Setup
        The trainings (default: SGD 0.1 at batch 128, 16 and 2048; Adam 1e-3 at batch 128); a batch larger
        than the training set is cut to it.
    dataset : str, default "mnist"
    epochs : int, default 5
        Epochs of every training.
    samples : int, default 10000
        Training samples the Hessian averages over.
    hidden : sequence of int, default (512, 256)
    seed : int, default 0
        Seeds the initialisation and shuffling (the same for every setup) and the spectrum's vectors.
    limit : int, optional
        Keep the first ``limit`` samples of each split (quick runs).
    out : path-like, default "sharpness"
        Folder for ``runs/<n>_<optimizer>``, ``sharp_vs_flat.png`` and ``sharp_vs_flat.json``.
    trace_samples : int, default 50
        Hutchinson probes.
    lanczos_steps : int, default 80
        Steps of the (one) SLQ run.
    data : path-like, optional
        Where the dataset's files are.
    progress : bool, default True

    Returns
    -------
    list of MinimumCurvature
    """
    setups = list(setups)
    if not setups:
        raise ValueError("setups: nothing to train")
    for s in setups:
        entry(s.optimizer)  # an unknown optimizer fails before any training
    out = Path(out)
    loaded, train, test = load_data(dataset, data, limit, progress)
    config = model_config(loaded, train, hidden, seed, dataset, data, limit)
    x, y = train.x[:samples], train.y[:samples]
    minima = []
    for i, setup in enumerate(setups):
        setup = replace(setup, batch_size=min(setup.batch_size, len(train)))
        if progress:
            print(f"[{setup.label}] {setup.optimizer} lr={setup.lr:g}, batch {setup.batch_size}, {epochs} epochs",
                  flush=True)
        run = train_run(setup.label, setup.optimizer, {"lr": setup.lr}, train, test, config,
                        out / "runs" / f"{i}_{setup.optimizer}_b{setup.batch_size}", epochs, setup.batch_size,
                        progress=progress)
        summary = curvature.spectrum_summary(curvature.hessian(run.model, x, y), k=1, trace_samples=trace_samples,
                                             lanczos_steps=min(lanczos_steps, run.model.num_params), seed=seed,
                                             progress=progress)
        last = run.history[-1]
        minima.append(MinimumCurvature(setup, run.folder, last["test_accuracy"], last["train_loss"], len(y), summary,
                                       _VARIANT_COLORS[i % len(_VARIANT_COLORS)]))
        if progress:
            print(f"[{setup.label}] test accuracy {100 * last['test_accuracy']:.2f}%, top eigenvalue "
                  f"{summary.eigenvalues[0]:.4g}, trace {summary.trace.value:.4g}", flush=True)
    from ..plots.spectrum import sharp_vs_flat
    out.mkdir(parents=True, exist_ok=True)
    sharp_vs_flat(minima, save=out / "sharp_vs_flat.png")
    records = [{"label": m.label, "optimizer": m.setup.optimizer, "lr": m.setup.lr,
                "batch_size": m.setup.batch_size, "epochs": epochs, "folder": str(m.folder),
                "test_accuracy": m.test_accuracy, "train_loss": m.train_loss, "samples": m.samples,
                **m.summary.to_dict()} for m in minima]
    with atomic_write(out / "sharp_vs_flat.json") as tmp:
        tmp.write_text(json.dumps(records, indent=1))
    return minima


# --------------------------------------------------------------------------------------- edge of stability
@dataclass
class SharpnessTrace:
    """The top Hessian eigenvalue during one full-batch gradient descent run.

    Attributes
    ----------
    lr : float
        The step size; 2 / lr is the edge of stability.
    steps : numpy.ndarray
        The steps at which the eigenvalue was measured (before that step's update).
    sharpness : numpy.ndarray
        The top eigenvalue of the training loss's Hessian there.
    loss : numpy.ndarray
        The training loss at every step.
    samples : int
        The training set's size (the batch of every step).
    seconds : float
        Wall time of the run, measurements included.
    status : str
        "done", or "diverged" when the loss stopped being finite.
    """

    lr: float
    steps: np.ndarray
    sharpness: np.ndarray
    loss: np.ndarray
    samples: int
    seconds: float
    status: str


def sharpness_during_gd(model, x, y, lr: float, steps: int, every: int = 20, tol: float = 1e-3,
                        progress: bool = False) -> SharpnessTrace:
    """Full-batch gradient descent theta <- theta - lr grad L(theta) on (x, y), measuring the top
    eigenvalue of the Hessian of L (Lanczos, ``tol`` relative) every ``every`` steps.

    Parameters
    ----------
    model : fastopt.nn.MLP
        Trained in place.
    x, y : array_like
        The whole training set (every step uses all of it).
    lr : float
        The step size.
    steps : int
        Gradient steps.
    every : int, default 20
        Steps between measurements (the first at step 0).
    tol : float, default 1e-3
        Relative tolerance of the eigenvalue.
    progress : bool, default False

    Returns
    -------
    SharpnessTrace
        Stops early with status "diverged" if the loss stops being finite.
    """
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0 and np.isfinite(lr)):
        raise ValueError(f"lr: expected a positive finite number, got {lr!r}")
    steps = positive_count(steps, "steps")
    every = positive_count(every, "every")
    optimizer = SGD(model.params, lr=lr)
    op = curvature.hessian(model, x, y, batch_size=len(y))
    measured_at, sharpness, losses, status = [], [], [], "done"
    started = time.perf_counter()
    from tqdm import tqdm
    for step in tqdm(range(steps), desc=f"full-batch GD, lr {lr:g}", unit="step", disable=not progress):
        if step % every == 0:
            measured_at.append(step)
            sharpness.append(float(curvature.top_eigenvalues(op, k=1, tol=tol, seed=step).values[0]))
        loss = float(model.forward_backward(x, y, train=False))
        losses.append(loss)
        if not np.isfinite(loss):
            status = "diverged"
            break
        optimizer.step(model.grads)
    return SharpnessTrace(float(lr), np.array(measured_at), np.array(sharpness), np.array(losses), len(y),
                          time.perf_counter() - started, status)


def edge_of_stability_study(lrs=(0.05, 0.1, 0.2), dataset: str = "mnist", samples: int = 5000,
                            hidden=(200, 200), steps: int = 1000, every: int = 20, seed: int = 0, out="eos",
                            data=None, progress: bool = True) -> list[SharpnessTrace]:
    """Full-batch gradient descent on the first ``samples`` training samples at each learning rate, from
    the same initial weights, with the top Hessian eigenvalue every ``every`` steps against 2 / lr.

    Parameters
    ----------
    lrs : sequence of float, default (0.05, 0.1, 0.2)
    dataset : str, default "mnist"
    samples : int, default 5000
    hidden : sequence of int, default (200, 200)
        A smaller MLP than the default, so that a thousand full-batch steps take minutes.
    steps, every : int
        As :func:`sharpness_during_gd`.
    seed : int, default 0
        Seeds the initial weights.
    out : path-like, default "eos"
        Folder for ``edge_of_stability.png`` and ``edge_of_stability.json``.
    data : path-like, optional
    progress : bool, default True

    Returns
    -------
    list of SharpnessTrace
    """
    lrs = [float(lr) for lr in lrs]
    if not lrs:
        raise ValueError("lrs: nothing to run")
    loaded, train, _ = load_data(dataset, data, samples, progress)
    x, y = train.x[:samples], train.y[:samples]
    config = model_config(loaded, train, hidden, seed, dataset, data, samples)
    traces = [sharpness_during_gd(nn.make_model(config), x, y, lr, steps, every, progress=progress) for lr in lrs]
    from ..plots.spectrum import sharpness_during_training
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sharpness_during_training(traces, save=figure_path(out / "edge_of_stability.png"))
    records = [{"lr": t.lr, "edge": 2 / t.lr, "steps": t.steps.tolist(), "sharpness": t.sharpness.tolist(),
                "loss": t.loss.tolist(), "samples": t.samples, "seconds": t.seconds, "status": t.status,
                "network": [int(x.shape[1]), *hidden, len(loaded.classes)]} for t in traces]
    with atomic_write(out / "edge_of_stability.json") as tmp:
        tmp.write_text(json.dumps(records, indent=1))
    return traces
