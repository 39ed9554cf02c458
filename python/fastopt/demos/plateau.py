"""Plateaus: a deep linear network started from small weights learns its target one mode at a time, each
after a long plateau and then a sudden drop of the loss (Saxe, McClelland & Ganguli, 2013).

With whitened inputs the loss of y = W₃W₂W₁x against a target map W* = Σᵢ sᵢ uᵢvᵢᵀ is
½‖W₃W₂W₁ - W*‖²_F. Projected on the target's modes, the product's strength aᵢ = uᵢᵀW₃W₂W₁vᵢ grows as
ȧᵢ ∝ aᵢ^(2 - 2/L)(sᵢ - aᵢ): near zero it barely moves (the plateau), then rises sigmoidally to sᵢ, and
stronger modes go first. A one-layer network (ȧ ∝ s - a) has no plateau: its loss falls from the start.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..optim import SGD
from .result import DemoResult

STRENGTHS = (4.0, 2.0, 1.0, 0.5)


def _target(size: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u, _ = np.linalg.qr(rng.standard_normal((size, size)))
    v, _ = np.linalg.qr(rng.standard_normal((size, size)))
    s = np.zeros(size)
    s[:len(STRENGTHS)] = STRENGTHS
    return (u * s) @ v.T, u, v


def _product(weights) -> np.ndarray:
    product = weights[0]
    for w in weights[1:]:
        product = w @ product
    return product


def train_linear_network(depth: int, target: np.ndarray, steps: int, lr: float, init_scale: float,
                         seed: int) -> tuple[np.ndarray, list]:
    """Full-batch gradient descent (fastopt's SGD) on ½‖W_depth ... W₁ - target‖²_F.

    Parameters
    ----------
    depth : int
        Number of weight matrices (1: a linear model, no plateau).
    target : numpy.ndarray, shape (n, n)
    steps : int
    lr : float
    init_scale : float
        Standard deviation of every initial weight.
    seed : int

    Returns
    -------
    tuple
        (loss after each step, with the initial one first; the products W_depth ... W₁ at every step)
    """
    rng = np.random.default_rng(seed)
    size = target.shape[0]
    weights = [rng.standard_normal((size, size)) * init_scale for _ in range(depth)]
    grads = [np.zeros_like(w) for w in weights]
    optimizer = SGD(weights, lr=lr)
    losses, products = [], []
    for _ in range(steps + 1):
        error = _product(weights) - target
        losses.append(0.5 * float(np.sum(error * error)))
        products.append(_product(weights).copy())  # depth 1: the weight itself, updated in place
        for i in range(depth):
            below = _product(weights[:i]) if i else np.eye(size)
            above = _product(weights[i + 1:]) if i + 1 < depth else np.eye(size)
            grads[i][...] = above.T @ error @ below.T
        optimizer.step(grads)
    return np.array(losses), products


def _half_times(strengths: np.ndarray) -> list:
    times = []
    for i, s in enumerate(STRENGTHS):
        reached = np.flatnonzero(strengths[:, i] >= s / 2)
        times.append(int(reached[0]) if reached.size else None)
    return times


def plateau_demo(out, quick: bool = False, seed: int = 0, depth: int = 3, lr: float = 0.02, init_scale: float = 0.05,
                 dpi: float = 100) -> DemoResult:
    """A deep linear network (``depth`` layers, width 8) against a one-layer one, from small weights.

    Parameters
    ----------
    out : path-like
        The folder of the figure and summary.
    quick : bool
        Fewer steps.
    seed : int
        Seeds the target's singular vectors and the initial weights.
    depth : int
        Layers of the deep network (>= 2).
    lr : float
        Gradient descent's step size (both networks).
    init_scale : float
        Standard deviation of the initial weights.
    dpi : float
        Resolution of the figure.

    Returns
    -------
    DemoResult
        ``numbers``: for each network, the step at which each mode reaches half its strength
        (``STRENGTHS`` order), and the loss's relative drop over the first 30 steps.
    """
    from ..plots.style import new_figure, save_figure
    if depth < 2:
        raise ValueError(f"depth: expected at least 2 layers (a plateau needs depth), got {depth}")
    out = Path(out)
    steps = 1500 if quick else 4000
    target, u, v = _target(8, np.random.default_rng(seed))
    runs = {}
    for layers in (1, depth):
        losses, products = train_linear_network(layers, target, steps, lr, init_scale, seed + 1)
        strengths = np.array([[u[:, i] @ p @ v[:, i] for i in range(len(STRENGTHS))] for p in products])
        runs[layers] = (losses, strengths)
    figure = new_figure(12, 4.5, dpi)
    loss_ax, mode_ax = figure.subplots(1, 2)
    for layers, (losses, strengths) in runs.items():
        label = f"{layers} layer{'s' if layers > 1 else ''}"
        style = "-" if layers > 1 else ":"
        loss_ax.plot(losses, style, label=label)
        for i, s in enumerate(STRENGTHS):
            mode_ax.plot(strengths[:, i], style, color=f"C{i}", label=f"mode s={s:g} ({label})")
    for i, s in enumerate(STRENGTHS):
        mode_ax.axhline(s, color=f"C{i}", lw=0.6, ls="--")
    loss_ax.set(xlabel="gradient descent step", ylabel="loss ½‖W - W*‖²", yscale="log",
                title="plateaus, then sudden drops (deep) against a smooth fall (1 layer)")
    mode_ax.set(xlabel="gradient descent step", ylabel="mode strength uᵢᵀ W vᵢ",
                title="each mode is learned in turn, strongest first")
    for ax in (loss_ax, mode_ax):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    figure.suptitle(f"Deep linear network ({depth} layers, width 8) from small weights (σ = {init_scale:g}), lr {lr:g}")
    path = out / "plateaus.png"
    save_figure(figure, path)
    early = 30  # steps: before the deep network's first drop
    numbers = {f"{layers}_layers": {"half_times": _half_times(strengths),
                                    "early_drop": float(1 - losses[early] / losses[0]),
                                    "final_loss": float(losses[-1])} for layers, (losses, strengths) in runs.items()}
    deep, shallow = numbers[f"{depth}_layers"], numbers["1_layers"]
    text = (f"Over the first {early} steps the {depth}-layer network's loss falls by {100 * deep['early_drop']:.1f}% "
            f"(a plateau), the 1-layer network's by {100 * shallow['early_drop']:.1f}%. The deep network reaches half "
            f"of each mode's strength ({', '.join(f's={s:g}' for s in STRENGTHS)}) at steps {deep['half_times']}: one "
            f"drop per mode, strongest first; the 1-layer network at steps {shallow['half_times']}.")
    return DemoResult("plateau", "Plateaus in deep linear networks (Saxe et al., 2013)", text, numbers,
                      [path]).write(out)
