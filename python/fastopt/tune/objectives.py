"""What a trial measures: an MLP trained on MNIST (:class:`MnistObjective`, through :func:`fastopt.train.fit`)
or an optimizer's path across a test function (:class:`LandscapeObjective`, the native trajectory loop).

An objective is a small picklable record of the fixed settings, sent to whichever worker runs the trial.
``objective(params, report)`` runs one trial with the searched ``params`` and calls ``report(value, step)``
after every epoch; a true return (the pruner's verdict) stops the trial.  It returns a dict: ``value``
(the metric, ``inf`` or ``-inf`` when the run diverged), ``history`` (per-epoch records), ``train_time``
(seconds of optimisation steps), ``duration`` (seconds of the whole trial, data loading excluded),
``stopped`` (True when ``report`` stopped it).
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..optim import REGISTRY, entry

# Parameters of the run rather than of the optimizer.
_BETA_INDEX = {"beta1": 0, "beta2": 1, "beta3": 2}


def _check_optimizer(name) -> None:
    if name not in REGISTRY:
        raise ValueError(f"optimizer: unknown {name!r}; choose one of {', '.join(REGISTRY)}")


def takes(optimizer: str, name: str) -> bool:
    """Whether ``optimizer``'s constructor takes hyperparameter ``name`` (``beta1``.. set one of ``betas``).

    Parameters
    ----------
    optimizer : str
        A registry name.
    name : str
        A searched parameter.
    """
    accepted = entry(optimizer).hyperparameters()
    if name in _BETA_INDEX:
        return len(accepted.get("betas", ())) > _BETA_INDEX[name]
    return name in accepted and name not in ("seed",)


def optimizer_hyper(optimizer: str, params: dict, run_settings, fixed: dict) -> dict:
    """The constructor keywords of a trial: ``fixed`` and the searched ``params`` (not ``run_settings``)."""
    hyper = dict(fixed)
    defaults = entry(optimizer).hyperparameters()
    for name, value in params.items():
        if name in run_settings or name == "optimizer":
            continue
        if name in _BETA_INDEX:
            betas = list(hyper.get("betas", defaults["betas"]))
            betas[_BETA_INDEX[name]] = value
            hyper["betas"] = tuple(betas)
        else:
            hyper[name] = value
    return hyper


@dataclass(frozen=True)
class _Objective:
    """What both objectives share: the optimizer (fixed, or searched as ``optimizer``) and which
    parameters apply to it."""

    optimizer: str = "adam"
    hyper: dict = field(default_factory=dict)
    run_settings = ("lr",)  # searched parameters every optimizer takes

    def settings(self) -> dict:
        """The fixed settings, stored with the study and compared on resume."""
        return {"objective": type(self).__name__, **asdict(self)}

    def applies(self, name: str, params: dict) -> bool:
        """Whether parameter ``name`` acts, given the parameters chosen so far (``optimizer`` first)."""
        return name in self.run_settings or name == "optimizer" or takes(params.get("optimizer", self.optimizer), name)

    def check(self, space) -> None:
        """Refuse a space with a parameter this objective does not know, one that acts on none of the
        optimizers searched, or (in a grid) one that some optimizer of the grid ignores.

        Parameters
        ----------
        space : fastopt.tune.space.Space

        Raises
        ------
        ValueError
            Naming the parameter and the optimizers.
        """
        optimizers = list(space["optimizer"].choices) if "optimizer" in space else [self.optimizer]
        for name in optimizers:
            _check_optimizer(name)
        for name in space.names:
            if name in self.run_settings or name == "optimizer":
                continue
            users = [o for o in optimizers if takes(o, name)]
            if not users:
                raise ValueError(f"{'grid' if space.is_grid else 'space'}: {name!r} is not a run setting ({', '.join(self.run_settings)}) nor a "
                                 f"hyperparameter of {', '.join(optimizers)}")
            if space.is_grid and len(users) < len(optimizers):
                ignoring = [o for o in optimizers if o not in users]
                raise ValueError(f"grid: {name!r} does not apply to {', '.join(ignoring)}, so their grid points "
                                 "would repeat; search it with --space (where it is suggested only when it "
                                 "applies) or split the search")


@dataclass(frozen=True)
class MnistObjective(_Objective):
    """Train fastopt's MLP with the trial's parameters; the metric is the last epoch's.

    Parameters
    ----------
    optimizer : str, default "adam"
        A registry name, unless ``optimizer`` is searched.
    hyper : dict
        Fixed hyperparameters of the optimizer.
    dataset : str, default "mnist"
        A name of :data:`fastopt.datasets.DATASETS`.
    data : str, optional
        Folder of its IDX files.
    limit : int, optional
        Train and test on the first ``limit`` samples of each split.
    hidden : tuple of int, default (512, 256)
        Hidden layer widths.
    epochs : int, default 2
        Epochs per trial (the steps the pruner sees).
    batch_size : int, default 128
        Unless ``batch_size`` is searched.
    schedule : str, default "cosine"
        The learning-rate schedule over the epochs (as ``fastopt train``).
    seed : int, default 0
        Seeds every trial's initialisation and shuffling alike, so trials differ only by their parameters.
    metric : str, default "test_accuracy"
        A field of the epoch records: ``test_accuracy`` (maximised), ``test_loss`` or ``train_loss`` (minimised).
    """

    dataset: str = "mnist"
    data: str | None = None
    limit: int | None = None
    hidden: tuple = (512, 256)
    epochs: int = 2
    batch_size: int = 128
    schedule: str = "cosine"
    seed: int = 0
    metric: str = "test_accuracy"
    run_settings = ("lr", "batch_size")

    def __post_init__(self):
        _check_optimizer(self.optimizer)
        if self.metric not in ("test_accuracy", "test_loss", "train_loss"):
            raise ValueError(f"metric: expected test_accuracy, test_loss or train_loss, got {self.metric!r}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs: expected a positive integer, got {self.epochs!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    @property
    def direction(self) -> str:
        """``"maximize"`` for an accuracy, else ``"minimize"``."""
        return "maximize" if self.metric.endswith("accuracy") else "minimize"

    def __call__(self, params: dict, report=lambda value, step: False) -> dict:
        from ..nn import make_model
        from ..optim import create
        from ..optim.schedules import by_name
        from ..train import fit

        loaded, train, test = _load(self.dataset, self.data, self.limit)
        optimizer = params.get("optimizer", self.optimizer)
        batch_size = int(params.get("batch_size", self.batch_size))
        hyper = optimizer_hyper(optimizer, params, self.run_settings, self.hyper)
        if "lr" in params:
            hyper["lr"] = float(params["lr"])
        config = {"inputs": int(train.x.shape[1]), "classes": len(loaded.classes), "hidden": list(self.hidden),
                  "activation": "relu", "init": "he", "dropout": 0.0, "seed": self.seed}
        model = make_model(config)
        opt = (create(optimizer, model, **hyper) if entry(optimizer).takes_model
               else create(optimizer, model.params, **hyper))
        stopped = []

        def pruning(history):
            record = history[-1]
            if report(float(record[self.metric]), int(record["epoch"])):
                stopped.append(record["epoch"])
                return True
            return False

        start = time.perf_counter()
        history = fit(model, opt, train, test, epochs=self.epochs, batch_size=batch_size,
                      schedule=by_name(self.schedule, self.epochs), seed=self.seed, callbacks=[pruning],
                      progress=False)
        duration = time.perf_counter() - start
        value = float(history[-1][self.metric])
        if history.stop_reason == "diverged" or not math.isfinite(value):
            value = -math.inf if self.direction == "maximize" else math.inf
        return {"value": value, "history": history.records, "train_time": float(sum(history["train_time"])),
                "duration": duration, "stopped": bool(stopped), "diverged": history.stop_reason == "diverged"}


@functools.lru_cache(maxsize=2)
def _load(dataset: str, data, limit):
    """The dataset, loaded once per worker process (every trial of a search reads the same)."""
    from ..runs import load_data
    return load_data(dataset, data, limit, progress=False)


@dataclass(frozen=True)
class LandscapeObjective(_Objective):
    """Run the optimizer for ``steps`` steps on a test function (natively); the metric is the final loss.

    The history holds the loss at eleven evenly spaced steps.  The path runs in one native call, so
    there is nothing to prune: ``report`` is called once, with the final loss.

    Parameters
    ----------
    optimizer : str, default "adam"
        A registry name, unless ``optimizer`` is searched.
    hyper : dict
        Fixed hyperparameters of the optimizer.
    function : str, default "rosenbrock"
        A built-in test function (:func:`fastopt.landscape.functions`).
    steps : int, default 1000
        Steps of every path.
    noise : float, default 0.0
        Standard deviation of the gradient noise (seeded by ``seed``).
    seed : int, default 0
    """

    function: str = "rosenbrock"
    steps: int = 1000
    noise: float = 0.0
    seed: int = 0
    direction = "minimize"
    metric = "final_loss"

    def __post_init__(self):
        from ..landscape import get
        _check_optimizer(self.optimizer)
        get(self.function)  # an unknown name fails here, naming the functions
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps: expected a positive integer, got {self.steps!r}")

    def __call__(self, params: dict, report=lambda value, step: False) -> dict:
        from ..landscape import trajectory

        optimizer = params.get("optimizer", self.optimizer)
        hyper = optimizer_hyper(optimizer, params, self.run_settings, self.hyper)
        lr = float(params["lr"]) if "lr" in params else hyper.pop("lr", None)
        start = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):
            t = trajectory(self.function, optimizer, steps=self.steps, lr=lr, noise=self.noise, seed=self.seed,
                           **hyper)
        duration = time.perf_counter() - start
        value = float(t.losses[-1])
        diverged = not math.isfinite(value)
        marks = np.unique(np.linspace(0, self.steps, 11).astype(int))
        history = [{"step": int(s), "loss": float(t.losses[s])} for s in marks]
        report(math.inf if diverged else value, self.steps)
        return {"value": math.inf if diverged else value, "history": history, "train_time": duration,
                "duration": duration, "stopped": False, "diverged": diverged}
