"""The loss-surface figures of docs/surface/: train the 784-512-256-10 MLP with Adam for 5 epochs on MNIST,
keeping every epoch's checkpoint, then draw every view with ``fastopt surface``.

    FASTOPT_DATA=/path/to/mnist python docs/surface/make_figures.py [--run runs/surface-adam] [--epochs 5]

The run is trained epoch by epoch through fastopt.runs.train_run (what ``fastopt train`` calls), each time
resuming its checkpoint under a constant learning rate, so ``checkpoints/epoch_NNN.npz`` holds the path
for the PCA plane (``fastopt train`` alone keeps only the last epoch).
"""
import argparse
from pathlib import Path

from fastopt import runs
from fastopt.cli import main as cli
from fastopt.curvature.surface_runs import keep_epoch_checkpoints

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=Path("runs/surface-adam"))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--resolution", default="31")
    parser.add_argument("--samples", default="2000")
    args = parser.parse_args()
    loaded, train, test = runs.load_data("mnist", progress=False)
    config = runs.model_config(loaded, train, [512, 256], 0, "mnist", None, None)
    keep = keep_epoch_checkpoints(args.run)
    for epoch in range(1, args.epochs + 1):
        done = runs.train_run("adam", "adam", {"lr": 1e-3}, train, test, config, args.run, epoch, 128,
                              resume=epoch > 1, progress=False)
        keep(done.history)
        print(f"epoch {epoch}: test accuracy {done.history[-1]['test_accuracy']:.4f}")
    for kind in ("1d", "2d", "interpolate", "pca"):
        cli(["surface", str(args.run), "--kind", kind, "--resolution", args.resolution, "--samples", args.samples,
             "--out", str(HERE), "--no-progress"])


if __name__ == "__main__":
    main()
