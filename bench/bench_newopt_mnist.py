"""Issue 15's MNIST comparison: epochs and wall time to 98% test accuracy, three seeds per optimizer.

    python bench/bench_newopt_mnist.py [--epochs 10] [--seeds 0,1,2] [--optimizers muon,adam,...] [--quick]
                                       [--out docs/optim]

MLP 784-512-256-10 (ReLU), batches of 128, each optimizer at its registry MNIST rate
(``fastopt.optim.entry(name).mnist_lr``) held constant.  Wall time is the summed ``train_time`` of the epochs up to
the first that reaches 98% (the optimisation steps only, without evaluations).  Names not registered in this build
(Schedule-Free AdamW and LAMB arrive with another branch) are skipped with a note.  Writes a markdown table
(printed and ``newopt_mnist.md``), the raw records (``newopt_mnist.json``) and the figure ``newopt_mnist.png``:
test accuracy against epochs and against seconds, one line per optimizer (the mean over seeds).

Timings on a shared, loaded machine are noisy: compare within one run only.  ``--quick``: one seed, one epoch on
6,000 samples (a smoke test of the script, not a result).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

import numpy as np

import fastopt

OPTIMIZERS = ("muon", "schedule_free_adamw", "adopt", "ademamix", "lamb", "adam")
TARGET = 0.98


def run_one(name: str, train, test, epochs: int, seed: int, progress: bool) -> dict:
    model = fastopt.nn.MLP((784, 512, 256, 10), seed=seed)
    e = fastopt.optim.entry(name)
    lr = e.mnist_lr if e.mnist_lr is not None else e.hyperparameters()["lr"]
    opt = fastopt.optim.create(name, model if e.takes_model else model.params, lr=lr)
    history = fastopt.train.fit(model, opt, train, test, epochs=epochs, batch_size=128, seed=seed,
                                progress=progress)
    accuracy = [r["test_accuracy"] for r in history]
    seconds = np.cumsum([r["train_time"] for r in history]).tolist()
    hit = next((i for i, a in enumerate(accuracy) if a >= TARGET), None)
    return {"optimizer": name, "lr": lr, "seed": seed, "test_accuracy": accuracy, "train_seconds": seconds,
            "epochs_to_target": None if hit is None else hit + 1,
            "seconds_to_target": None if hit is None else seconds[hit]}


def summary(runs: list, names: list, epochs: int) -> str:
    lines = [f"| optimizer | lr | epochs to {TARGET:.0%} (per seed) | seconds to {TARGET:.0%} (mean) | "
             f"final test accuracy (mean) |", "|---|---:|---|---:|---:|"]
    for name in names:
        mine = [r for r in runs if r["optimizer"] == name]
        reached = [r["seconds_to_target"] for r in mine if r["seconds_to_target"] is not None]
        per_seed = ", ".join("-" if r["epochs_to_target"] is None else str(r["epochs_to_target"]) for r in mine)
        seconds = f"{statistics.mean(reached):.1f}" if len(reached) == len(mine) else \
            f"{len(mine) - len(reached)} of {len(mine)} not in {epochs} epochs"
        final = statistics.mean(r["test_accuracy"][-1] for r in mine)
        lines.append(f"| `{name}` | {mine[0]['lr']:g} | {per_seed} | {seconds} | {final:.2%} |")
    return "\n".join(lines)


def figure(runs: list, names: list, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(11, 4.2))
    lowest = 100 * min(min(r["test_accuracy"]) for r in runs)
    for name in names:
        mine = [r for r in runs if r["optimizer"] == name]
        color = fastopt.optim.entry(name).color
        accuracy = np.mean([r["test_accuracy"] for r in mine], axis=0) * 100
        seconds = np.mean([r["train_seconds"] for r in mine], axis=0)
        label = f"{name} (lr {mine[0]['lr']:g})"
        by_epoch.plot(np.arange(1, len(accuracy) + 1), accuracy, marker="o", color=color, label=label)
        by_time.plot(seconds, accuracy, marker="o", color=color, label=label)
    for ax, xlabel in ((by_epoch, "epoch"), (by_time, "training time (s, optimisation steps only)")):
        ax.axhline(TARGET * 100, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(min(96.0, np.floor(lowest)), 99.2)  # the 98% region, and every point of a short run
        ax.grid(alpha=0.3)
    by_epoch.legend(fontsize=8, loc="lower right")
    seeds = len({r["seed"] for r in runs})
    fig.suptitle(f"MNIST, MLP 784-512-256-10, batch 128, constant rate: mean of {seeds} seed(s)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--out", default="docs/optim")
    parser.add_argument("--quick", action="store_true", help="one seed, one epoch on 6,000 samples (smoke test)")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args(argv)
    known = set(fastopt.optim.available())
    names = [n for n in args.optimizers.split(",") if n in known]
    for n in args.optimizers.split(","):
        if n not in known:
            print(f"note: {n!r} is not registered in this build; skipped")
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    epochs = 1 if args.quick else args.epochs
    data = fastopt.datasets.load_mnist(os.environ.get("FASTOPT_DATA"), download_missing=False)
    train = data.train.take(np.arange(6000)) if args.quick else data.train
    runs = []
    for name in names:
        for seed in seeds:
            print(f"[{name} seed {seed}] {epochs} epochs", flush=True)
            runs.append(run_one(name, train, data.test, epochs, seed, args.progress))
    table = summary(runs, names, epochs)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "newopt_mnist_quick" if args.quick else "newopt_mnist"
    (out / f"{stem}.md").write_text(table + "\n")
    (out / f"{stem}.json").write_text(json.dumps({"epochs": epochs, "seeds": seeds, "runs": runs}, indent=1))
    figure(runs, names, out / f"{stem}.png")
    print(f"wrote {out / stem}.md, .json, .png")


if __name__ == "__main__":
    main()
