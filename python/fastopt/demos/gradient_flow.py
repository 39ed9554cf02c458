"""Vanishing and exploding gradients: the gradient norm of each layer of a deep network, from the output
back to the input, at initialisation and during training (Glorot & Bengio, 2010; He et al., 2015).

Back-propagation multiplies the output's gradient by one Jacobian per layer, ``W_l^T diag(f'(z_l))``.
With sigmoid units ``f' <= 1/4``, so unless the weights grow to compensate each layer shrinks the
gradient by a constant factor and the first layers learn orders of magnitude more slowly than the last:
the gradient *vanishes*. tanh saturates with large weights (``f' -> 0``) and shrinks it the same way.
Weights too large for ReLU (``f' = 1`` where active) multiply it instead: it *explodes*. He
initialisation, ``W ~ N(0, 2 / fan_in)``, keeps a ReLU network's per-layer gain near one, so every layer
gets a gradient of the same order.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..nn import MLP
from ..optim import SGD
from ..runs import load_data
from .result import DemoResult


@dataclass(frozen=True)
class Network:
    """One deep network of the demo: its activation and initialisation (``init_std`` for ``normal``)."""

    label: str
    activation: str
    init: str
    init_std: float = 0.01


# Each kind's networks; ReLU with He initialisation is the fix shown beside the failures.
NETWORKS = {
    "vanishing": (Network("sigmoid, N(0, 0.01²)", "sigmoid", "normal", 0.01),
                  Network("sigmoid, Xavier", "sigmoid", "xavier"),
                  Network("tanh, N(0, 0.01²)", "tanh", "normal", 0.01),
                  Network("tanh, Xavier", "tanh", "xavier"),
                  Network("ReLU, He", "relu", "he")),
    "exploding": (Network("ReLU, N(0, 0.25²)", "relu", "normal", 0.25),
                  Network("ReLU, N(0, 0.2²)", "relu", "normal", 0.2),
                  Network("tanh, N(0, 1)", "tanh", "normal", 1.0),
                  Network("ReLU, He", "relu", "he")),
}


def layer_gradient_norms(model: MLP, x, y) -> np.ndarray:
    """The norm of each layer's back-propagated gradient ∂L/∂z_l (the bias gradient) on one batch, input
    layer first.

    Parameters
    ----------
    model : fastopt.nn.MLP
    x, y : numpy.ndarray
        The batch.

    Returns
    -------
    numpy.ndarray, shape (layers,)
    """
    model.forward_backward(x, y)
    return np.array([np.linalg.norm(model.grads[f"{i}.bias"]) for i in range(len(model.sizes) - 1)])


def _train_and_record(network: Network, sizes, train, batch_size: int, steps: int, every: int, lr: float,
                      seed: int) -> dict:
    model = MLP(sizes, activation=network.activation, init=network.init, init_std=network.init_std, seed=seed)
    optimizer = SGD([model.flat_params], lr=lr)
    rng = np.random.default_rng(seed)
    norms, losses, at = [], [], []
    for step in range(steps + 1):
        batch = rng.integers(0, len(train), batch_size)
        x, y = train.x[batch], train.y[batch]
        if step % every == 0:
            norms.append(layer_gradient_norms(model, x, y))
            at.append(step)
        loss = model.forward_backward(x, y)
        losses.append(loss)
        if step < steps:
            optimizer.step([model.flat_grads])
    return {"steps": at, "norms": np.array(norms), "loss": np.array(losses)}


def _figure(kind: str, runs: dict, depth: int, out: Path, dpi: float) -> list[Path]:
    from ..plots.style import log_panel, new_figure, save_figure
    figure = new_figure(12, 4.6, dpi)
    at_init, during, loss = figure.subplots(1, 3)
    layers = np.arange(1, depth + 1)
    for label, run in runs.items():
        line, = at_init.plot(layers, run["norms"][0], "o-", label=label)
        ratio = run["norms"][:, 0] / run["norms"][:, -1]
        during.plot(run["steps"], ratio, color=line.get_color(), label=label)
        loss.plot(np.arange(len(run["loss"])), run["loss"], color=line.get_color(), lw=0.8, label=label)
    log_panel(at_init, "layer (1 = input side)", "‖∂L/∂z‖ (the bias gradient)", "at initialisation")
    at_init.set_xticks(layers)
    log_panel(during, "SGD step", "‖∂L/∂z₁‖ / ‖∂L/∂z_last‖", "first layer against last during training")
    during.axhline(1.0, color="0.5", lw=0.8, ls="--")
    loss.set(xlabel="SGD step", ylabel="training loss (cross-entropy)", title="training loss")
    loss.set_yscale("log")
    loss.grid(True, alpha=0.3)
    at_init.legend(fontsize=8)
    figure.suptitle(f"{kind.capitalize()} gradients in a {depth}-layer network on MNIST")
    path = out / f"{kind}_gradients.png"
    save_figure(figure, path)
    return [path]


def gradient_flow_demo(kind: str, out, quick: bool = False, seed: int = 0, dataset: str = "mnist", data=None,
                       dpi: float = 100) -> DemoResult:
    """Per-layer gradient norms of deep networks (``kind``: ``"vanishing"`` or ``"exploding"``).

    Each network of :data:`NETWORKS` (``kind``) has ``depth`` dense layers of width 128 on MNIST; its
    back-propagated gradient norms are recorded at initialisation and every few steps of SGD (lr 0.01).

    Parameters
    ----------
    kind : str
        ``"vanishing"`` or ``"exploding"``.
    out : path-like
        The folder of the figure and summary.
    quick : bool
        Fewer steps and samples (a smoke run).
    seed : int
        Seeds the initialisation and the batches.
    dataset, data :
        The dataset's name and folder (:func:`fastopt.runs.load_data`).
    dpi : float
        Resolution of the figure.

    Returns
    -------
    DemoResult
        ``numbers``: per network, the norms at initialisation (input layer first) and the ratio of the
        first layer's norm to the last's at initialisation and at the end.
    """
    if kind not in NETWORKS:
        raise ValueError(f"kind: expected one of {', '.join(NETWORKS)}, got {kind!r}")
    out = Path(out)
    depth = 10
    sizes = (784, *([128] * (depth - 1)), 10)
    steps, every = (20, 5) if quick else (300, 10)
    _, train, _ = load_data(dataset, data, limit=2000 if quick else 20000, progress=False)
    runs = {n.label: _train_and_record(n, sizes, train, 128, steps, every, 0.01, seed) for n in NETWORKS[kind]}
    files = _figure(kind, runs, depth, out, dpi)
    numbers = {label: {"norms_at_init": run["norms"][0].tolist(),
                       "first_over_last_at_init": float(run["norms"][0, 0] / run["norms"][0, -1]),
                       "first_over_last_at_end": float(run["norms"][-1, 0] / run["norms"][-1, -1]),
                       "final_loss": float(run["loss"][-1])} for label, run in runs.items()}
    lines = [f"- **{label}**: the gradient reaching the first layer is {v['first_over_last_at_init']:.1e} times the "
             f"last layer's at initialisation, {v['first_over_last_at_end']:.1e} after {steps} steps; loss "
             f"{v['final_loss']:.3f}." for label, v in numbers.items()]
    if kind == "vanishing":
        lead = ("Sigmoid networks (small or Xavier weights) and tanh networks with small weights pass back a "
                "gradient that shrinks layer after layer (sigmoid's slope is at most 1/4, small weights scale it "
                "down), so the layers near the input barely learn; tanh with Xavier's and ReLU with He's "
                "initialisation keep every layer's gradient of the same order.")
    else:
        lead = ("With weights larger than He's, each layer multiplies the back-propagated gradient by more than "
                "one, so it grows by orders of magnitude towards the input and the steps blow up (a NaN loss); "
                "tanh with weights of variance 1 is in the same chaotic regime although its units saturate. "
                "He initialisation keeps the gain near one.")
    text = f"{lead} In a {depth}-layer network (width 128) on MNIST, SGD lr 0.01:\n\n" + "\n".join(lines)
    title = f"{kind.capitalize()} gradients (Glorot & Bengio, 2010)"
    return DemoResult(f"{kind}-gradients", title, text, numbers, files).write(out)
