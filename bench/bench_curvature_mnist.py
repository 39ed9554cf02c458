"""The curvature-aware optimizers on MNIST: epochs and training seconds to 98.0% test accuracy.

    python bench/bench_curvature_mnist.py [--methods adam,kfac,ekfac,adahessian,shampoo,soap]
        [--seeds 0 1 2] [--epochs 10] [--target 0.98] [--batch-size 128] [--out docs/curvature]
        [--set kfac:damping=0.01 kfac:batch_size=512 ...] [--lr kfac=0.05 ...] [--limit N] [--quick]

The default MNIST MLP (784-512-256-10, ReLU, He initialisation, float32), batches of 128, a constant
learning rate (each method's ``mnist_lr`` from the registry unless ``--lr`` sets it; ``--set`` gives
other hyperparameters, ``METHOD:batch_size=N`` a method its own batch size, ``METHOD:cosine_epochs=N`` a
cosine decay of its rate to 0 over N epochs instead of the constant rate), one run per seed
(the seed sets the initialisation and the batch order) until the test accuracy reaches ``--target`` or
``--epochs`` passes are done. Seconds are the history's summed ``train_time`` (the training passes;
the evaluations after each epoch excluded). Names not in the registry are skipped with a note.

Writes ``curvature_optimizers_mnist.json`` (every history and the settings) and
``curvature_optimizers_mnist.png`` (test accuracy against epochs and against seconds; each seed a faint
line, their mean a bold one) into ``--out``, and prints the markdown table. ``--quick``: one seed, one
epoch, 5,000 training samples (a smoke test). Timings depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

import fastopt
from fastopt.datasets import load_mnist
from fastopt.optim import REGISTRY, create
from fastopt.optim.schedules import CosineDecay
from fastopt.train import fit

SIZES = [784, 512, 256, 10]
METHODS = ["adam", "kfac", "ekfac", "adahessian", "shampoo", "soap"]
STEM = "curvature_optimizers_mnist"


def parse_assignments(items, what):
    """['kfac:damping=0.01', ...] (or 'kfac=0.05' for --lr) -> {method: {key: value}} / {method: value}."""
    out = {}
    for item in items or ():
        if what == "lr":
            method, _, value = item.partition("=")
            out[method] = float(value)
            continue
        method, _, assignment = item.partition(":")
        key, _, value = assignment.partition("=")
        if not key or not value:
            raise SystemExit(f"--set {item!r}: expected METHOD:KEY=VALUE")
        out.setdefault(method, {})[key] = json.loads(value) if value[0] in "[{tf0123456789-." else value
    return out


def make_optimizer(name, model, lr, extra, seed):
    """The registry's optimizer ``name`` at rate ``lr`` (the model for the curvature ones, else its params)."""
    entry = REGISTRY[name]
    hyper = {"lr": lr, **extra}
    if "seed" in entry.hyperparameters():
        hyper.setdefault("seed", seed)
    return create(name, model if entry.takes_model else model.params, **hyper)


def run_one(name, lr, extra, seed, data, args):
    extra = dict(extra)
    batch_size = int(extra.pop("batch_size", args.batch_size))  # --set kfac:batch_size=512: fit's, not the optimizer's
    # --set kfac:cosine_epochs=2: the rate decays to 0 over that many epochs (a run that has not reached the
    # target by then will not), instead of the constant rate every method gets by default
    cosine_epochs = extra.pop("cosine_epochs", None)
    schedule = None if cosine_epochs is None else CosineDecay(int(cosine_epochs))
    model = fastopt.nn.MLP(SIZES, seed=seed)
    optimizer = make_optimizer(name, model, lr, extra, seed)
    history = fit(model, optimizer, data.train, data.test, epochs=args.epochs, batch_size=batch_size,
                  seed=seed, schedule=schedule, target_accuracy=None if args.full else args.target,
                  progress=args.progress)
    if cosine_epochs is not None:
        extra["cosine_epochs"] = cosine_epochs  # shown with the configuration
    records = [dict(r) for r in history]
    reached = next((r["epoch"] for r in records if r["test_accuracy"] >= args.target), None)
    seconds = None if reached is None else sum(r["train_time"] for r in records[:reached])
    return {"method": name, "lr": lr, "hyper": extra, "batch_size": batch_size, "seed": seed,
            "epochs_to_target": reached,
            "seconds_to_target": seconds, "history": records}


def configurations(runs):
    """The runs grouped by configuration (method, rate, batch size, other hyperparameters), in order."""
    groups = {}
    for r in runs:
        key = (r["method"], r["lr"], r["batch_size"], json.dumps(r["hyper"], sort_keys=True))
        groups.setdefault(key, []).append(r)
    return list(groups.values())


def summarize(runs, target):
    """Markdown table: one row per method over its seeds."""
    lines = [(f"| method | lr | batch | epochs to {100 * target:.1f}% (per seed) | seconds to {100 * target:.1f}% "
              "(median) | best test accuracy | seconds per epoch |"),
             "|---|---|---|---|---|---|---|"]
    for mine in configurations(runs):
        name = mine[0]["method"]
        epochs = [r["epochs_to_target"] for r in mine]
        seconds = [r["seconds_to_target"] for r in mine if r["seconds_to_target"] is not None]
        shown = ", ".join("not reached" if e is None else str(e) for e in epochs)
        reached = f"{np.median(seconds):.1f}" + ("" if len(seconds) == len(mine) else f" ({len(seconds)} of "
                                                 f"{len(mine)} reached)") if seconds else "not reached"
        best = max(max(h["test_accuracy"] for h in r["history"]) for r in mine)
        per_epoch = np.median([h["train_time"] for r in mine for h in r["history"]])
        extra = "".join(f", {k}={v}" for k, v in mine[0]["hyper"].items())
        lines.append(f"| {name}{extra} | {mine[0]['lr']:g} | {mine[0]['batch_size']} | {shown} | {reached} | "
                     f"{100 * best:.2f}% | "
                     f"{per_epoch:.1f} |")
    return "\n".join(lines)


def plot(runs, target, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    seen = {}  # a method's second configuration is dashed, its third dotted
    for mine in configurations(runs):
        name = mine[0]["method"]
        color = REGISTRY[name].color
        style = ("-", "--", ":", "-.")[min(seen.setdefault(name, -1) + 1, 3)]
        seen[name] += 1
        for r in mine:
            acc = [100 * h["test_accuracy"] for h in r["history"]]
            epochs = [h["epoch"] for h in r["history"]]
            seconds = np.cumsum([h["train_time"] for h in r["history"]])
            axes[0].plot(epochs, acc, color=color, alpha=0.3, lw=1, ls=style)
            axes[1].plot(seconds, acc, color=color, alpha=0.3, lw=1, ls=style)
        length = min(len(r["history"]) for r in mine)  # the mean over the epochs every seed ran
        mean_acc = np.mean([[100 * h["test_accuracy"] for h in r["history"][:length]] for r in mine], axis=0)
        mean_sec = np.mean([np.cumsum([h["train_time"] for h in r["history"][:length]]) for r in mine], axis=0)
        label = (f"{name} (lr {mine[0]['lr']:g}, batch {mine[0]['batch_size']}, {len(mine)} "
                 f"seed{'s' if len(mine) > 1 else ''})")
        axes[0].plot(range(1, length + 1), mean_acc, color=color, lw=2, ls=style, marker="o", ms=3, label=label)
        axes[1].plot(mean_sec, mean_acc, color=color, lw=2, ls=style, marker="o", ms=3, label=label)
    lowest = min(100 * h["test_accuracy"] for r in runs for h in r["history"])
    for ax, xlabel in zip(axes, ("epoch", "training time (s, evaluation excluded)")):
        ax.axhline(100 * target, color="grey", ls="--", lw=1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test accuracy (%)")
        ax.set_ylim(max(0.0, math.floor(lowest) - 0.5), 100.0)
        ax.grid(alpha=0.3)
    axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"MNIST, MLP 784-512-256-10: faint lines one seed each, bold their mean; dashed "
                 f"{100 * target:.0f}%", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(runs, args, earlier, argv, final):
    """The JSON (after every run, so an interrupted bench keeps what it finished), the table and the figure."""
    json_path = args.out / f"{args.stem}.json"
    table = summarize(runs, args.target) if runs else ""
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"sizes": SIZES, "batch_size": args.batch_size, "target": args.target, "epochs": args.epochs,
            "limit": args.limit, "seeds": args.seeds, "threads": fastopt.get_num_threads(),
            "machine": platform.processor() or platform.machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                        time.gmtime()),
            "commands": [*earlier, " ".join(["python", "bench/bench_curvature_mnist.py", *(argv or sys.argv[1:])])]}
    json_path.write_text(json.dumps({"meta": meta, "table": table, "runs": runs}, indent=1, default=str))
    if final and runs:
        print(table)
        plot(runs, args.target, args.out / f"{args.stem}.png")
        print(f"wrote {json_path} and {args.out / (args.stem + '.png')}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated registry names")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=10, help="most passes over the training set per run")
    p.add_argument("--target", type=float, default=0.98, help="test accuracy to reach (fraction)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", nargs="*", metavar="METHOD=RATE", help="learning rates over the registry's mnist_lr")
    p.add_argument("--set", nargs="*", metavar="METHOD:KEY=VALUE", help="other hyperparameters per method")
    p.add_argument("--limit", type=int, help="train on the first N training samples only")
    p.add_argument("--full", action="store_true", help="run every epoch (no stop at the target)")
    p.add_argument("--quick", action="store_true", help="smoke test: one seed, one epoch, 5,000 samples")
    p.add_argument("--threads", type=int, help="threads of fastopt's native code")
    p.add_argument("--out", type=Path, default=Path("docs/curvature"))
    p.add_argument("--stem", default=STEM, help="file name of the JSON and the figure, without suffix")
    p.add_argument("--merge", type=Path, nargs="*", default=[],
                   help="JSON files of earlier runs (of other configurations) to show with these ones")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds, args.epochs, args.limit = args.seeds[:1], 1, args.limit or 5000
    if args.threads:
        fastopt.set_num_threads(args.threads)
    lrs, sets = parse_assignments(args.lr, "lr"), parse_assignments(args.set, "set")
    methods = []
    for name in filter(None, args.methods.split(",")):
        if name in REGISTRY:
            methods.append(name)
        else:
            print(f"note: {name!r} is not registered on this branch; skipped", file=sys.stderr)
    dataset = load_mnist(download_missing=False, progress=False)
    train = dataset.train.take(slice(args.limit)) if args.limit else dataset.train
    data = argparse.Namespace(train=(train.x, train.y), test=(dataset.test.x, dataset.test.y))
    runs, earlier = [], []
    for path in args.merge:
        previous = json.loads(path.read_text())
        runs += previous["runs"]
        earlier += previous["meta"].get("commands", [previous["meta"].get("command")])
    done = len(runs)
    for name in methods:
        lr = lrs.get(name, REGISTRY[name].mnist_lr)
        for seed in args.seeds:
            print(f"[{len(runs) - done + 1}/{len(methods) * len(args.seeds)}] {name} lr {lr:g} seed {seed}",
                  flush=True)
            result = run_one(name, lr, sets.get(name, {}), seed, data, args)
            runs.append(result)
            e, s = result["epochs_to_target"], result["seconds_to_target"]
            print(f"    {'not reached' if e is None else f'{e} epochs, {s:.1f} s'} to {100 * args.target:.1f}%",
                  flush=True)
            write(runs, args, earlier, argv, final=False)
    write(runs, args, earlier, argv, final=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
