"""Issue 16's quality check: the MNIST MLP trained with Adam keeping its state in float32, bfloat16 (round to
nearest, and stochastic rounding) and 8 bits, three seeds each: final test accuracy and state memory.

    python bench/bench_low_precision_mnist.py [--epochs 10] [--seeds 0,1,2] [--quick] [--out docs/lowprec]

MLP 784-512-256-10 (ReLU), batches of 128, Adam at lr 1e-3 held constant, float32 params (the native MLP keeps
float32 or float64 params: bfloat16 params are not in its reach, so only the state's precision varies here).
The state bytes are those of the optimizer's arrays after training (8-bit state: codes and absmax; its small
tensors, the biases, stay float32).  Writes a markdown table (printed and ``lowprec_mnist.md``) and the raw
records (``lowprec_mnist.json``).  ``--quick``: one seed, one epoch on 6,000 samples (a smoke test of the
script, not a result).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

import numpy as np

import fastopt

# label -> Adam's precision keywords
VARIANTS = {"float32": {}, "bfloat16": {"state_dtype": "bfloat16"},
            "bfloat16 + stochastic rounding": {"state_dtype": "bfloat16", "stochastic_rounding": True},
            "8-bit": {"state_dtype": "int8"}}


def run_one(label: str, train, test, epochs: int, seed: int, progress: bool) -> dict:
    model = fastopt.nn.MLP((784, 512, 256, 10), seed=seed)
    opt = fastopt.Adam(model.params, lr=1e-3, **VARIANTS[label])
    history = fastopt.train.fit(model, opt, train, test, epochs=epochs, batch_size=128, seed=seed, progress=progress)
    state_bytes = sum(a.nbytes for arrays in opt.state[0].slots.values() for a in arrays)
    return {"state": label, "seed": seed, "test_accuracy": [r["test_accuracy"] for r in history],
            "train_seconds": sum(r["train_time"] for r in history), "state_bytes": state_bytes,
            "params": model.num_params}


def summary(runs: list) -> str:
    base = statistics.mean(r["test_accuracy"][-1] for r in runs if r["state"] == "float32")
    lines = ["| Adam state | final test accuracy (per seed) | mean | vs float32 (points) | state bytes/param | "
             "train s (mean) |", "|---|---|---:|---:|---:|---:|"]
    for label in VARIANTS:
        mine = [r for r in runs if r["state"] == label]
        final = [r["test_accuracy"][-1] for r in mine]
        mean = statistics.mean(final)
        lines.append(f"| {label} | {', '.join(f'{a:.2%}' for a in final)} | {mean:.2%} | "
                     f"{100 * (mean - base):+.2f} | {mine[0]['state_bytes'] / mine[0]['params']:.2f} | "
                     f"{statistics.mean(r['train_seconds'] for r in mine):.1f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default="docs/lowprec")
    parser.add_argument("--quick", action="store_true", help="one seed, one epoch on 6,000 samples (smoke test)")
    parser.add_argument("--no-progress", dest="progress", action="store_false")
    args = parser.parse_args(argv)
    seeds = [0] if args.quick else [int(s) for s in args.seeds.split(",")]
    epochs = 1 if args.quick else args.epochs
    data = fastopt.datasets.load_mnist(os.environ.get("FASTOPT_DATA"), download_missing=False)
    train = data.train.take(np.arange(6000)) if args.quick else data.train
    runs = []
    for label in VARIANTS:
        for seed in seeds:
            print(f"[{label} seed {seed}] {epochs} epochs", flush=True)
            runs.append(run_one(label, train, data.test, epochs, seed, args.progress))
    table = summary(runs)
    print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "lowprec_mnist_quick" if args.quick else "lowprec_mnist"
    (out / f"{stem}.md").write_text(table + "\n")
    (out / f"{stem}.json").write_text(json.dumps({"epochs": epochs, "seeds": seeds, "runs": runs}, indent=1))
    print(f"wrote {out / stem}.md and .json")


if __name__ == "__main__":
    main()
