"""Symmetry breaking: hidden units that start identical get identical gradients and stay identical, so a
layer of 64 units started from zeros or a constant learns no more than one unit would; random
initialisation breaks the symmetry.

If every weight into hidden unit j equals every weight into unit k, both compute the same activation, and
the loss's gradient (which only sees each unit through its output weights, also equal) is the same for
both: gradient descent keeps them equal forever. All-zero weights are the extreme case; with ReLU the
hidden units are then exactly off and their weights never move at all.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..nn import MLP
from ..optim import SGD
from ..runs import load_data
from .result import DemoResult

INITS = ("zeros", "constant 0.01", "He (random)")


def _model(init: str, hidden: int, seed: int) -> MLP:
    if init == "He (random)":
        return MLP((784, hidden, 10), init="he", seed=seed)
    model = MLP((784, hidden, 10), init="zeros", seed=seed)
    if init.startswith("constant"):
        model.flat_params[...] = float(init.split()[1])
    return model


def unit_spread(model: MLP) -> float:
    """How different the hidden units are: the largest difference between two hidden units' incoming weights
    (0 when all are identical).

    Parameters
    ----------
    model : fastopt.nn.MLP

    Returns
    -------
    float
    """
    w = model.params["0.weight"]
    return float(np.max(np.abs(w - w[0])))


def symmetry_demo(out, quick: bool = False, seed: int = 0, dataset: str = "mnist", data=None, hidden: int = 64,
                  lr: float = 0.1, dpi: float = 100) -> DemoResult:
    """The same 784-``hidden``-10 ReLU network trained by SGD from zero, constant and He initialisation.

    Parameters
    ----------
    out : path-like
        The folder of the figure and summary.
    quick : bool
        Fewer steps and samples.
    seed : int
        Seeds the random initialisation and the batches.
    dataset, data :
        The dataset's name and folder (:func:`fastopt.runs.load_data`).
    hidden : int
        Hidden units.
    lr : float
        SGD's learning rate.
    dpi : float
        Resolution of the figure.

    Returns
    -------
    DemoResult
        ``numbers``: per initialisation, the final test accuracy and the spread of the hidden units'
        weights (:func:`unit_spread`) at the end.
    """
    from ..plots.style import new_figure, save_figure
    out = Path(out)
    steps, every = (100, 20) if quick else (1500, 50)
    _, train, test = load_data(dataset, data, limit=5000 if quick else None, progress=False)
    test_x, test_y = test.x[:2000], test.y[:2000]
    rng = np.random.default_rng(seed)
    batches = rng.integers(0, len(train), (steps, 128))
    runs, models = {}, {}
    for init in INITS:
        model = _model(init, hidden, seed)
        optimizer = SGD([model.flat_params], lr=lr)
        record = {"step": [], "accuracy": [], "spread": []}
        for step in range(steps + 1):
            if step % every == 0 or step == steps:
                record["step"].append(step)
                record["accuracy"].append(model.evaluate(test_x, test_y)[1])
                record["spread"].append(unit_spread(model))
            if step < steps:
                model.forward_backward(train.x[batches[step]], train.y[batches[step]])
                optimizer.step([model.flat_grads])
        runs[init], models[init] = record, model
    figure = new_figure(12, 7.5, dpi)
    top, bottom = figure.subfigures(2, 1, height_ratios=(1.2, 1))
    acc_ax, spread_ax = top.subplots(1, 2)
    for init, record in runs.items():
        acc_ax.plot(record["step"], 100 * np.array(record["accuracy"]), "o-", ms=3, label=init)
        spread_ax.plot(record["step"], np.maximum(record["spread"], 1e-12), "o-", ms=3, label=init)
    acc_ax.set(xlabel="SGD step (batch 128)", ylabel="test accuracy (%)", title="accuracy")
    spread_ax.set(xlabel="SGD step (batch 128)", ylabel="max |w_j - w_1| over hidden units j", yscale="log",
                  title="how different the hidden units are (1e-12 = identical)")
    for ax in (acc_ax, spread_ax):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    units = bottom.subplots(2, 8)
    for row, init in zip(units, ("constant 0.01", "He (random)")):
        weights = models[init].params["0.weight"]
        for j, ax in enumerate(row):
            ax.imshow(weights[j].reshape(28, 28), cmap="RdBu_r")
            ax.set_xticks([]), ax.set_yticks([])
        row[0].set_ylabel(init, fontsize=8)
    bottom.suptitle("incoming weights of the first 8 hidden units after training (as 28x28 images)", fontsize=10)
    figure.suptitle(f"Breaking symmetry: 784-{hidden}-10 ReLU network, SGD lr {lr:g}")
    path = out / "symmetry.png"
    save_figure(figure, path)
    numbers = {init: {"final_accuracy": float(r["accuracy"][-1]), "final_spread": float(r["spread"][-1])}
               for init, r in runs.items()}
    lines = [f"- **{init}**: test accuracy {100 * v['final_accuracy']:.1f}%, hidden units differ by at most "
             f"{v['final_spread']:.2g}." for init, v in numbers.items()]
    text = (f"After {steps} SGD steps the hidden units of the zero- and constant-initialised networks are still "
            "identical (every unit computes the same feature, so the layer is as good as one unit), while He's "
            "random start gives each unit its own feature:\n\n" + "\n".join(lines))
    return DemoResult("symmetry", "Symmetric initialisation cannot be broken by gradient descent", text, numbers,
                      [path]).write(out)
