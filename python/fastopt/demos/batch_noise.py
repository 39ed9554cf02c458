"""The gradient noise scale and the critical batch size (McCandlish, Kaplan, Amodei et al., 2018).

A mini-batch gradient G_B of B samples is the true gradient G plus noise of covariance Σ / B, so
E‖G_B‖² = ‖G‖² + tr(Σ) / B. Measured at two batch sizes, B_small and B_big, this gives unbiased estimates

    ‖G‖² ≈ (B_big ‖G_big‖² - B_small ‖G_small‖²) / (B_big - B_small),
    tr(Σ) ≈ (‖G_small‖² - ‖G_big‖²) / (1/B_small - 1/B_big),

and the *simple noise scale* B_simple = tr(Σ) / ‖G‖²: below it, doubling the batch nearly halves the
steps needed; far above it, a bigger batch buys almost nothing. Measured steps to a target follow
S(B) ≈ S_min (1 + B_crit / B), and B_crit is of the order of B_simple.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..nn import MLP
from ..optim import Adam
from ..runs import load_data
from .result import DemoResult


def noise_scale(model: MLP, train, small: int, big: int, pairs: int, rng) -> dict:
    """B_simple at the model's current weights from ``pairs`` gradients at each of two batch sizes.

    Parameters
    ----------
    model : fastopt.nn.MLP
    train : fastopt.datasets.Split
    small, big : int
        The two batch sizes (small < big).
    pairs : int
        Gradients drawn at each size; the squared norms are averaged before the ratio.
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``grad_sq`` (‖G‖²), ``trace`` (tr Σ) and ``b_simple``.
    """
    if not 0 < small < big:
        raise ValueError(f"small, big: expected 0 < small < big, got {small}, {big}")
    squares = {}
    for size in (small, big):
        total = 0.0
        for _ in range(pairs):
            batch = rng.choice(len(train), size, replace=False)
            model.forward_backward(train.x[batch], train.y[batch], train=False)
            total += float(np.dot(model.flat_grads, model.flat_grads))
        squares[size] = total / pairs
    grad_sq = (big * squares[big] - small * squares[small]) / (big - small)
    trace = (squares[small] - squares[big]) / (1.0 / small - 1.0 / big)
    return {"grad_sq": grad_sq, "trace": trace, "b_simple": trace / grad_sq if grad_sq > 0 else float("inf")}


def _lr(batch: int) -> float:
    # Adam's rate grows as the square root of the batch (Malladi et al., 2022), from 1e-3 at 64, capped.
    return min(1e-3 * np.sqrt(batch / 64), 1e-2)


def steps_to_target(train, test, hidden: int, batch: int, target: float, max_steps: int, seed: int) -> int | None:
    """Adam steps (at :func:`_lr`'s rate for the batch) until the test accuracy reaches ``target``.

    Returns
    -------
    int or None
        None if ``max_steps`` were not enough.
    """
    model = MLP((784, hidden, 10), seed=seed)
    optimizer = Adam([model.flat_params], lr=_lr(batch))
    rng = np.random.default_rng(seed)
    every = 5 if batch >= 256 else 20
    for step in range(1, max_steps + 1):
        index = rng.integers(0, len(train), batch)
        model.forward_backward(train.x[index], train.y[index])
        optimizer.step([model.flat_grads])
        if step % every == 0 and model.evaluate(test.x, test.y)[1] >= target:
            return step
    return None


def batch_noise_demo(out, quick: bool = False, seed: int = 0, dataset: str = "mnist", data=None,
                     dpi: float = 100) -> DemoResult:
    """B_simple measured along an Adam training run of a 784-128-10 MLP on MNIST, beside the measured Adam
    steps to a test-accuracy target at several batch sizes and the fit S_min (1 + B_crit / B).

    Parameters
    ----------
    out : path-like
        The folder of the figure and summary.
    quick : bool
        A smaller network, subset, target and fewer batch sizes.
    seed : int
        Seeds the initialisation and batches.
    dataset, data :
        The dataset's name and folder (:func:`fastopt.runs.load_data`).
    dpi : float
        Resolution of the figure.

    Returns
    -------
    DemoResult
        ``numbers``: ``noise_scale`` (step -> B_simple), ``steps`` (batch -> steps to target),
        ``s_min`` and ``b_crit`` of the fit.
    """
    from ..plots.style import new_figure, save_figure
    out = Path(out)
    hidden, target = (64, 0.85) if quick else (128, 0.95)
    batches = (16, 128, 1024) if quick else (16, 64, 256, 1024, 4096)
    checkpoints = (0, 50, 200) if quick else (0, 100, 300, 1000, 2000)
    _, train, test = load_data(dataset, data, limit=5000 if quick else None, progress=False)
    test = test.take(slice(0, 2000))
    rng = np.random.default_rng(seed)
    model = MLP((784, hidden, 10), seed=seed)
    optimizer = Adam([model.flat_params], lr=1e-3)
    scales = {}
    for step in range(checkpoints[-1] + 1):
        if step in checkpoints:
            scales[step] = noise_scale(model, train, 32, 1024, 4 if quick else 16, rng)
        index = rng.integers(0, len(train), 64)
        model.forward_backward(train.x[index], train.y[index])
        optimizer.step([model.flat_grads])
    max_steps = 1500 if quick else 6000
    steps = {b: steps_to_target(train, test, hidden, b, target, max_steps, seed) for b in batches}
    reached = [(b, s) for b, s in steps.items() if s is not None]
    if len(reached) >= 2:  # S = a + b / B by least squares: S_min = a, B_crit = b / a
        design = np.array([[1.0, 1.0 / b] for b, _ in reached])
        (a, slope), *_ = np.linalg.lstsq(design, np.array([s for _, s in reached], float), rcond=None)
        s_min, b_crit = float(a), float(slope / a) if a > 0 else float("inf")
    else:
        s_min = b_crit = float("nan")
    figure = new_figure(11, 4.5, dpi)
    scale_ax, steps_ax = figure.subplots(1, 2)
    scale_ax.plot(list(scales), [v["b_simple"] for v in scales.values()], "o-")
    scale_ax.set(xlabel="Adam step (batch 64, lr 1e-3)", ylabel="B_simple = tr(Σ) / ‖G‖² (samples)", yscale="log",
                 title="gradient noise scale along training")
    steps_ax.plot([b for b, _ in reached], [s for _, s in reached], "o", label="measured")
    if np.isfinite(b_crit):
        curve = np.geomspace(min(batches), max(batches), 100)
        steps_ax.plot(curve, s_min * (1 + b_crit / curve), "-",
                      label=f"S_min (1 + B_crit/B): S_min={s_min:.0f}, B_crit={b_crit:.0f}")
        steps_ax.axvline(b_crit, color="0.5", ls="--", lw=0.8, label=f"B_crit of the fit: {b_crit:.0f}")
    last = scales[checkpoints[-1]]["b_simple"]
    steps_ax.axvline(last, color="tab:red", ls=":", lw=1, label=f"B_simple at step {checkpoints[-1]}: {last:.0f}")
    steps_ax.set(xscale="log", yscale="log", xlabel="batch size B (samples)",
                 ylabel=f"Adam steps to {100 * target:.0f}% test accuracy",
                 title="steps to target (Adam, lr 1e-3·√(B/64), capped at 1e-2)")
    for ax in (scale_ax, steps_ax):
        ax.grid(True, which="both", alpha=0.3)
    steps_ax.legend(fontsize=8)
    figure.suptitle(f"Gradient noise scale and critical batch size (784-{hidden}-10 MLP, MNIST)")
    path = out / "batch_noise.png"
    save_figure(figure, path)
    numbers = {"noise_scale": {str(k): v["b_simple"] for k, v in scales.items()},
               "steps": {str(b): s for b, s in steps.items()}, "s_min": s_min, "b_crit": b_crit, "target": target}
    text = (f"B_simple grows during training, from {scales[0]['b_simple']:.0f} at initialisation to {last:.0f} "
            f"after {checkpoints[-1]} steps (the gradient shrinks faster than its noise). Steps to {100 * target:.0f}% "
            f"test accuracy: {', '.join(f'B={b}: {s}' for b, s in steps.items())}; the fit S_min (1 + B_crit/B) "
            f"gives S_min = {s_min:.0f} steps and B_crit = {b_crit:.0f}: beyond a few times B_crit a bigger batch "
            "saves few steps, and so costs more samples.")
    return DemoResult("batch-noise", "Gradient noise scale and the critical batch size (McCandlish et al., 2018)",
                      text, numbers, [path]).write(out)
