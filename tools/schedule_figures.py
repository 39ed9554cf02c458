"""The schedule figures of the README: every schedule's curve, and one network trained under five schedules.

    python tools/schedule_figures.py curves --out docs/schedules/curves.png
    python tools/schedule_figures.py training --out docs/schedules/training.png [--epochs 4] [--limit N]

``training`` trains fastopt's default MLP (784-512-256-10, Adam, batch 128, seed 0) once per schedule,
each set per step over the run with the same base (peak) rate, and draws test accuracy, training loss
and the rate itself.  It prints one line per schedule with the final and best test accuracy.
"""
from __future__ import annotations

import argparse

from fastopt import nn, plots
from fastopt.optim import create
from fastopt.optim import schedules as S
from fastopt.runs import load_data
from fastopt.train import fit

STEPS = 100


def curves() -> dict:
    """Every schedule of fastopt.optim.schedules over 100 steps, titled with its arguments."""
    return {
        "StepDecay(30, 0.5)": S.StepDecay(30, 0.5),
        "MultiStepDecay([30, 60, 80], 0.3)": S.MultiStepDecay([30, 60, 80], 0.3),
        "ConstantFactor(1/3, 20)": S.ConstantFactor(1 / 3, 20),
        "LinearFactor(1/3, 1, 40)": S.LinearFactor(1 / 3, 1.0, 40),
        "ExponentialDecay(0.97)": S.ExponentialDecay(0.97),
        "PolynomialDecay(100, 2)": S.PolynomialDecay(100, 2.0),
        "CosineDecay(100)": S.CosineDecay(100),
        "CosineRestarts(10, T_mult=2)": S.CosineRestarts(10, 2),
        "Cyclic(10) triangular": S.Cyclic(10, low=0.1),
        "Cyclic(10) triangular2": S.Cyclic(10, low=0.1, mode="triangular2"),
        "Cyclic(10) exp_range 0.98": S.Cyclic(10, low=0.1, mode="exp_range", gamma=0.98),
        "OneCycle(100)": S.OneCycle(100),
        "OneCycle(100) three-phase": S.OneCycle(100, three_phase=True, anneal_strategy="linear"),
        "Warmup(Cosine, 10) linear": S.Warmup(S.CosineDecay(90), 10),
        "Warmup(Cosine, 10) cosine": S.Warmup(S.CosineDecay(90), 10, shape="cosine"),
        "WSD(100, 10, 20) linear": S.WarmupStableDecay(100, 10, 20),
        "WSD(100, 10, 20) sqrt": S.WarmupStableDecay(100, 10, 20, decay_shape="sqrt"),
        "Sequential(Linear, Step)": S.Sequential([S.LinearFactor(0.1, 1.0, 10), S.StepDecay(30, 0.5)], [10]),
        "Product(Exp 0.98, Cyclic)": S.Product(S.ExponentialDecay(0.98), S.Cyclic(10, low=0.3)),
        "Multiplicative(0.95 on odd t)": S.Multiplicative(lambda t: 0.95 if t % 2 else 1.0),
    }


TRAINING = {"constant": ("constant", 0), "step": ("step", 0), "cosine": ("cosine", 0), "one-cycle": ("onecycle", 0),
            "WSD": ("wsd", 100)}


def training(epochs: int, limit: int | None, lr: float) -> tuple[dict, dict]:
    """The histories and per-step rates of the default network under each schedule of :data:`TRAINING`."""
    _, train, test = load_data("mnist", limit=limit, progress=False)
    histories, rates = {}, {}
    steps = epochs * -(-len(train) // 128)
    for label, (name, warmup) in TRAINING.items():
        model = nn.make_model({"inputs": 784, "classes": 10, "hidden": [512, 256], "activation": "relu",
                               "init": "he", "dropout": 0.0, "seed": 0})
        schedule = S.by_name(name, steps, warmup)
        history = fit(model, create("adam", model.params, lr=lr), train, test, epochs=epochs, batch_size=128,
                      schedule=schedule, schedule_unit="step", progress=False, record_grad_norm=False)
        histories[label], rates[label] = history, [lr * schedule(t) for t in range(steps)]
        print(f"{label:10s} final {100 * history[-1]['test_accuracy']:.2f}%  best "
              f"{100 * max(history['test_accuracy']):.2f}%  train time {sum(history['train_time']):.1f} s", flush=True)
    return histories, rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figure", choices=["curves", "training"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None, help="training and test samples kept (default: all)")
    parser.add_argument("--lr", type=float, default=2e-3, help="base (peak) learning rate of every schedule")
    parser.add_argument("--dpi", type=int, default=90)
    args = parser.parse_args()
    if args.figure == "curves":
        plots.schedule_curves(curves(), steps=STEPS, save=args.out, dpi=args.dpi)
    else:
        histories, rates = training(args.epochs, args.limit, args.lr)
        plots.schedule_trainings(histories, rates, save=args.out, dpi=args.dpi)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
