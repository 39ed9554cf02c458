"""The sections of ``fastopt study``: the seeds' experiments, each a function of the :class:`Settings` that
trains or draws what it needs under ``<out>/<key>/`` and returns its :class:`~fastopt.study.record.Section`."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .. import demos, plots
from ..optim.registry import REGISTRY
from ..report import results_table
from ..runs import load_data, model_config, train_run
from ..studies import batch_size_study, landscape_study, lr_sensitivity_study, mnist_lr, momentum_study
from .record import Section


@dataclass
class Settings:
    """What every section shares: the output folder, the data and the size of the study.

    Parameters
    ----------
    out : Path
        The study's folder; each section writes under ``out/<key>/``.
    quick : bool
        A small version (a 2,000-sample subset, one epoch, a few optimizers) for smoke tests and CI.
    dataset, data : str, path-like
        The dataset (:func:`fastopt.runs.load_data`).
    seed : int
        Seeds every initialisation, shuffle and draw.
    progress : bool
        Per-run progress bars and epoch lines.
    """

    out: Path
    quick: bool = False
    dataset: str = "mnist"
    data: object = None
    seed: int = 0
    progress: bool = True
    dpi: float = 90
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def limit(self) -> int | None:
        return 2000 if self.quick else None

    @cached_property
    def splits(self):
        """(dataset, train, test), loaded once (the first 2,000 samples of each split when quick)."""
        return load_data(self.dataset, self.data, self.limit, progress=self.progress)

    @property
    def epochs(self) -> int:
        return 1 if self.quick else 3

    @property
    def hidden(self) -> tuple:
        return (64,) if self.quick else (512, 256)

    def train(self, label: str, optimizer: str, lr: float, hidden=None, epochs=None, batch_size: int = 128):
        """One training run, in ``out/runs/`` under a name made of its settings: sections that need the same
        run share it, and a run an interruption cut short continues from its checkpoint."""
        loaded, train, test = self.splits
        hidden = tuple(self.hidden if hidden is None else hidden)
        epochs = epochs or self.epochs
        name = f"{optimizer}_lr{lr:g}_h{'-'.join(map(str, hidden))}_e{epochs}_b{batch_size}"
        folder = self.out / "runs" / name
        config = model_config(loaded, train, hidden, self.seed, self.dataset, self.data, self.limit)
        if self.progress:
            print(f"  [{label}] {optimizer} lr={lr:g}, batch {batch_size}, network {self.network(hidden)}", flush=True)
        return train_run(label, optimizer, {"lr": lr}, train, test, config, folder, epochs, batch_size,
                         resume=(folder / "checkpoint.npz").is_file(), progress=self.progress)

    def network(self, hidden=None) -> str:
        """``784-512-256-10``."""
        loaded, train, _ = self.splits
        sizes = (train.x.shape[1], *(self.hidden if hidden is None else hidden), len(loaded.classes))
        return "-".join(map(str, sizes))

    def figure(self, key: str, name: str) -> Path:
        """Where section ``key`` writes its figure ``name``: ``out/key/name``."""
        return self.out / key / name

    def relative(self, path: Path) -> str:
        """``path`` relative to the report's folder, as the page links it."""
        return str(Path(path).relative_to(self.out))


def _accuracy(run) -> str:
    return f"{100 * run.history[-1]['test_accuracy']:.2f}%"


def _comparison(s: Settings, key: str, runs: dict, name: str = "comparison.png") -> Path:
    path = s.figure(key, name)
    plots.optimizer_comparison({label: run.history for label, run in runs.items()},
                               rows=("train_loss", "test_accuracy"), save=path, dpi=s.dpi)
    return path


def first_order(s: Settings) -> Section:
    names = ("sgd", "momentum", "rmsprop", "adam") if s.quick else [n for n, e in REGISTRY.items() if not e.takes_model]
    runs = {n: s.train(n, n, mnist_lr(n)) for n in names}
    figure = _comparison(s, "first-order", runs)
    best = max(runs, key=lambda n: runs[n].history[-1]["test_accuracy"])
    text = [f"Every first-order optimizer of fastopt trains the same MLP {s.network()} for {s.epochs} epoch(s) (batch 128, "
            "the same initial weights and batches), each at its tabulated MNIST learning rate "
            "(fastopt.studies.mnist_lr). The table gives the final test accuracy, when each run first reached 97% "
            f"and 98%, and the time per epoch. Best: {best} at {_accuracy(runs[best])}."]
    return Section("first-order", "All first-order optimizers on MNIST", text,
                   [(s.relative(figure), "training loss and test accuracy of every optimizer, against epochs and "
                     "against wall-clock seconds")], results_table({n: r.history for n, r in runs.items()}))


def adam_rmsprop(s: Settings) -> Section:
    runs = {n: s.train(n, n, 1e-3) for n in ("adam", "rmsprop")}
    figure = _comparison(s, "adam-rmsprop", runs)
    text = ["Adam is RMSprop's per-coordinate scaling by a running mean of squared gradients, plus momentum (a "
            "running mean of the gradients) and bias correction of both averages. At the same learning rate, 1e-3, "
            f"Adam reaches {_accuracy(runs['adam'])} and RMSprop {_accuracy(runs['rmsprop'])} (on {s.network()}, "
            f"{s.epochs} epoch(s)). Without momentum each RMSprop step follows the current mini-batch gradient alone; "
            "without bias correction its first steps are larger, as its average of squares starts at zero."]
    return Section("adam-rmsprop", "Adam against RMSprop", text,
                   [(s.relative(figure), "Adam and RMSprop at lr 1e-3: loss and accuracy against epochs and seconds")],
                   results_table({n: r.history for n, r in runs.items()}))


def notebook(s: Settings) -> Section:
    setups = (("SGD 0.01", "sgd", 1e-2), ("Adam 1e-3", "adam", 1e-3), ("RMSprop 1e-3", "rmsprop", 1e-3))
    epochs = 1 if s.quick else 5
    runs = {label: s.train(label, name, lr, hidden=(128,), epochs=epochs, batch_size=64)
            for label, name, lr in setups}
    figure = _comparison(s, "notebook", runs)
    text = [f"The seeds' notebook experiment as written there: a 784-128-10 network, batch 64, {epochs} epoch(s), "
            "plain SGD at 0.01 against Adam and RMSprop at 1e-3. Final test accuracy: "
            + ", ".join(f"{label} {_accuracy(run)}" for label, run in runs.items())
            + ". The adaptive methods divide each weight's step by the root of its running mean squared gradient, "
            "so weights with small gradients still move; SGD's one rate must suit the steepest weight."]
    return Section("notebook", "The seeds' notebook: SGD, Adam and RMSprop on a 784-128-10 network", text,
                   [(s.relative(figure), "784-128-10, batch 64: SGD 0.01, Adam 1e-3, RMSprop 1e-3")],
                   results_table({n: r.history for n, r in runs.items()}))


def sgd_learning_rates(s: Settings) -> Section:
    runs = {f"SGD lr {lr:g}": s.train(f"SGD lr {lr:g}", "sgd", lr) for lr in (1.0, 0.1, 0.01, 0.001)}
    figure = _comparison(s, "sgd-lr", runs)
    text = ["Plain SGD at learning rates 1, 0.1, 0.01 and 0.001: too small a rate crawls, too large a one is "
            "unstable or diverges, and the best lies in between. Final test accuracy: "
            + ", ".join(f"{label} {_accuracy(run)}" for label, run in runs.items()) + "."]
    return Section("sgd-lr", "SGD's learning rate", text,
                   [(s.relative(figure), "SGD at lr 1, 0.1, 0.01 and 0.001: loss and accuracy")],
                   results_table({n: r.history for n, r in runs.items()}))


def momentum(s: Settings) -> Section:
    setups = (("SGD", "sgd"), ("momentum 0.9", "momentum"), ("Nesterov 0.9", "nesterov"))
    runs = {label: s.train(label, name, 0.01) for label, name in setups}
    figure = _comparison(s, "momentum", runs)
    landscape = momentum_study(out=s.figure("momentum", "momentum_quadratic.png"), steps=300 if s.quick else 2000,
                               dpi=s.dpi)
    text = ["The same learning rate, 0.01, with and without momentum: momentum 0.9 accumulates about ten past "
            "gradients, so it moves about ten times as far per step along a consistent direction, and damps the "
            "zig-zag across a narrow valley. Final test accuracy: "
            + ", ".join(f"{label} {_accuracy(run)}" for label, run in runs.items()) + "."]
    return Section("momentum", "SGD with and without momentum", text,
                   [(s.relative(figure), "SGD, momentum and Nesterov at lr 0.01 on MNIST"),
                    (s.relative(landscape.files[0]), "the same methods on an ill-conditioned quadratic")],
                   results_table({n: r.history for n, r in runs.items()}))


def batch_sizes(s: Settings) -> Section:
    limit = 1000 if s.quick else 10000
    result = batch_size_study("sgd", (1, 64, "full"), s.dataset, epochs=s.epochs, out=s.out / "batch",
                              limit=limit, seed=s.seed, data=s.data, progress=s.progress, dpi=s.dpi)
    text = [f"SGD (lr {mnist_lr('sgd'):g}) on the first {limit} training samples with one sample per step "
            "(stochastic), 64 (mini-batch) and all of them (full batch): per epoch, stochastic steps make the most "
            "progress and full batches the least; per second, mini-batches win, as they keep the GEMMs efficient "
            "and still take many steps. Final test accuracy: "
            + ", ".join(f"{label} {_accuracy(run)}" for label, run in result.runs.items()) + "."]
    return Section("batch", "Stochastic, mini-batch and full-batch gradient descent", text,
                   [(s.relative(result.figures[0]), "batch size 1, 64 and full: loss and accuracy against epochs "
                     "and seconds")], results_table({n: r.history for n, r in result.runs.items()}))


def landscapes(s: Settings) -> Section:
    steps = 300 if s.quick else 2000
    rosenbrock = landscape_study("rosenbrock", steps=steps, out=s.figure("landscapes", "rosenbrock.png"), dpi=s.dpi)
    himmelblau = landscape_study("himmelblau", steps=steps, out=s.figure("landscapes", "himmelblau.png"), dpi=s.dpi)
    sensitivity = lr_sensitivity_study(steps=steps, out=s.figure("landscapes", "lr_sensitivity.png"), dpi=s.dpi)
    text = ["Six first-order optimizers on two-dimensional test functions, each at its tabulated learning rate: "
            "Rosenbrock's curved valley (where plain gradient descent zig-zags and momentum and Adam follow the "
            "floor), Himmelblau's four minima (the start decides which one a method finds), and SGD on Rosenbrock at "
            "0.1, 0.3, 1 and 2 times its rate."]
    return Section("landscapes", "Optimizers on loss landscapes", text,
                   [(s.relative(rosenbrock.files[0]), "paths on Rosenbrock's function"),
                    (s.relative(rosenbrock.files[1]), "loss along the paths on Rosenbrock"),
                    (s.relative(himmelblau.files[0]), "paths on Himmelblau's function"),
                    (s.relative(sensitivity.files[0]), "SGD on Rosenbrock at four learning rates")])


def challenges(s: Settings) -> Section:
    text, figures = ["The challenges of optimization, one demo each (fastopt demo NAME); what each figure shows:"], []
    for name in demos.DEMOS:
        result = demos.run(name, s.out / "challenges" / name, quick=s.quick, seed=s.seed, dataset=s.dataset,
                           data=s.data, dpi=s.dpi)
        text.append(f"{result.title}. " + result.text.replace("**", "").replace("\n- ", " ").replace("\n", " "))
        figures += [(s.relative(p), result.title) for p in result.files if p.suffix == ".png"]
    return Section("challenges", "The challenges of optimization", text, figures)


def curvature(s: Settings) -> Section:
    from ..studies import hessian_of_run
    run = s.train("adam", "adam", 1e-3)
    samples = 500 if s.quick else 5000
    summary, _ = hessian_of_run(run.folder, samples=samples, data=s.data, k=3, trace_samples=10 if s.quick else 30,
                                lanczos_steps=20 if s.quick else 60)
    figure = s.figure("curvature", "spectral_density.png")
    plots.spectral_density({"adam": summary.density}, save=figure, dpi=s.dpi)
    eigen = ", ".join(f"{v:.3g}" for v in summary.eigenvalues)
    text = [f"The Hessian of the training loss (on {samples} samples) at the weights Adam reached after "
            f"{s.epochs} epoch(s): top eigenvalues {eigen}, trace {summary.trace.value:.3g} (± {summary.trace.stderr:.2g}). Most eigenvalues sit near zero "
            "(a flat bulk) and a few outliers stand apart: the directions in which the loss curves most."]
    return Section("curvature", "The curvature of the trained network", text,
                   [(s.relative(figure), "eigenvalue density of the Hessian (stochastic Lanczos quadrature, log scale)")])


SECTIONS = {"first-order": first_order, "adam-rmsprop": adam_rmsprop, "notebook": notebook,
            "sgd-lr": sgd_learning_rates, "momentum": momentum, "batch": batch_sizes, "landscapes": landscapes,
            "challenges": challenges, "curvature": curvature}
