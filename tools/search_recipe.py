"""Search a faster default recipe for `fastopt train`: training time to 98% test accuracy on MNIST, 3 seeds.

The time is the history's summed ``train_time`` (the optimisation steps; evaluation excluded) up to and
including the first epoch whose test accuracy reaches the target.  The machine may be shared: every
candidate is measured in the same run as the current default, and the table shows times relative to it.

    OMP_NUM_THREADS=1 nice -n 10 python tools/search_recipe.py --out recipe.json [--seeds 0,1,2] [--only "A;B"]

(One thread: on a machine shared with other jobs, two OpenMP threads spin against them and every time
grows several-fold; one thread keeps the comparison fair.)
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from fastopt import nn
from fastopt.optim import create
from fastopt.optim.schedules import by_name
from fastopt.runs import load_data
from fastopt.train import fit

TARGET = 0.98
# name -> (schedule, unit, epochs, lr, batch size, warmup in the unit)
CANDIDATES = {
    "default (cosine/epoch, 10 ep, 1e-3, b128)": ("cosine", "epoch", 10, 1e-3, 128, 0),
    "onecycle/step 3 ep, 3e-3, b128": ("onecycle", "step", 3, 3e-3, 128, 0),
    "onecycle/step 3 ep, 4e-3, b256": ("onecycle", "step", 3, 4e-3, 256, 0),
    "wsd/step 3 ep, 2e-3, b128, warmup 100": ("wsd", "step", 3, 2e-3, 128, 100),
    "wsd/step 3 ep, 3e-3, b256, warmup 50": ("wsd", "step", 3, 3e-3, 256, 50),
    "cosine/step 3 ep, 2e-3, b256, warmup 50": ("cosine", "step", 3, 2e-3, 256, 50),
    "linear/step 3 ep, 2e-3, b128, warmup 100": ("linear", "step", 3, 2e-3, 128, 100),
    "onecycle/step 2 ep, 3e-3, b128": ("onecycle", "step", 2, 3e-3, 128, 0),
    "onecycle/step 2 ep, 2e-3, b128": ("onecycle", "step", 2, 2e-3, 128, 0),
    "onecycle/step 2 ep, 2e-3, b64": ("onecycle", "step", 2, 2e-3, 64, 0),
    "wsd/step 2 ep, 2e-3, b64, warmup 100": ("wsd", "step", 2, 2e-3, 64, 100),
}


def measure(train, test, schedule, unit, epochs, lr, batch_size, warmup, seed):
    model = nn.make_model({"inputs": 784, "classes": 10, "hidden": [512, 256], "activation": "relu", "init": "he",
                           "dropout": 0.0, "seed": seed})
    opt = create("adam", model.params, lr=lr)
    units = epochs * -(-len(train) // batch_size) if unit == "step" else epochs
    history = fit(model, opt, train, test, epochs=epochs, batch_size=batch_size, seed=seed,
                  schedule=by_name(schedule, units, warmup), schedule_unit=unit, progress=False,
                  record_grad_norm=False, target_accuracy=TARGET)
    reached = history.first_epoch_reaching(TARGET)
    train_time = sum(r["train_time"] for r in history.records[:reached["epoch"]]) if reached else None
    return {"seed": seed, "reached_epoch": reached["epoch"] if reached else None, "train_time": train_time,
            "best": max(history["test_accuracy"]), "epochs_run": len(history)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--only", default=None, help="substrings of candidate names, separated by ';'")
    parser.add_argument("--out", default="recipe.json")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    _, train, test = load_data("mnist", progress=False)
    names = [n for n in CANDIDATES if n.startswith("default") or args.only is None
             or any(part in n for part in args.only.split(";"))]
    results = {n: [] for n in names}
    for seed in seeds:  # interleaved, so a load spike hits every candidate alike
        for name in names:
            start = time.perf_counter()
            results[name].append(measure(train, test, *CANDIDATES[name], seed))
            r = results[name][-1]
            print(f"seed {seed} {name:45s} epoch {r['reached_epoch']} train {r['train_time']} best {r['best']:.4f} "
                  f"({time.perf_counter() - start:.1f} s wall)", flush=True)
    base = results[names[0]]
    base_mean = np.mean([r["train_time"] for r in base if r["train_time"] is not None])
    print(f"\n{'recipe':45s} reached  epochs  train s (mean, max)  vs default  best acc (min)")
    for name, rs in results.items():
        times = [r["train_time"] for r in rs]
        ok = all(t is not None for t in times)
        mean, worst = (np.mean(times), max(times)) if ok else (float("nan"), float("nan"))
        print(f"{name:45s} {sum(t is not None for t in times)}/{len(rs)}  "
              f"{','.join(str(r['reached_epoch']) for r in rs):>7}  {mean:6.2f} {worst:6.2f}  "
              f"{mean / base_mean:9.2f}x  {min(r['best'] for r in rs):.4f}")
    with open(args.out, "w") as f:
        json.dump({"target": TARGET, "candidates": {n: CANDIDATES[n] for n in names}, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
