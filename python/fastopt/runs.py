"""Run folders: one training written as ``config.json``, ``history.json``, ``history.csv`` and ``checkpoint.npz``.

``fastopt train``, ``compare`` and ``batchsize`` all write their runs through :func:`train_run`, so every
run folder has the same ``config.json`` layout (the settings of :func:`model_config`, then ``optimizer``,
``lr`` (the base learning rate used), ``hyper`` (the hyperparameters given), ``epochs``, ``batch_size``,
``schedule``, ``warmup``, ``schedule_unit``, ``warmup_shape``, ``clip_grad_norm``, ``clip_grad_value``,
``target_accuracy``, ``out``), and :func:`load_run` / :func:`restore_model` read any.

Resuming (``resume=True``) continues the checkpoint's run: every setting that shapes the training must
be the checkpoint's (see :func:`check_resume`), so config.json only ever describes what happened.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import datasets, nn
from .atomic import atomic_write
from .checkpoint import check_same_run, corrupt, load_training_checkpoint
from .optim import create, entry
from .optim.schedules import by_name
from .train import History, fit


# ---------------------------------------------------------------------------------------------- data and model
def load_data(dataset: str = "mnist", data=None, limit: int | None = None, progress: bool = True):
    """Load a dataset and keep the first ``limit`` samples of each split.

    Parameters
    ----------
    dataset : str
        A name of :data:`fastopt.datasets.DATASETS`.
    data : path-like, optional
        Folder holding the IDX files, the only place searched when given (else the default places).
    limit : int, optional
        Keep the first ``limit`` training and ``limit`` test samples.
    progress : bool
        Show a progress bar if the files are downloaded.

    Returns
    -------
    tuple
        (the :class:`fastopt.datasets.Dataset`, train split, test split).
    """
    # A path the user names is the only place looked in: never replaced by $FASTOPT_DATA or a download.
    loaded = datasets.load(dataset, data, progress=progress, path_only=data is not None)
    train, test = loaded.train, loaded.test
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit: expected a positive sample count, got {limit}")
        train, test = train.take(slice(0, limit)), test.take(slice(0, limit))
    return loaded, train, test


def model_config(loaded, train, hidden, seed: int, dataset: str, data, limit, activation: str = "relu",
                 init: str = "he", dropout: float = 0.0) -> dict:
    """The data and model part of a run's config.json, as :func:`fastopt.nn.make_model` reads it.

    Parameters
    ----------
    loaded : fastopt.datasets.Dataset
        The dataset (its classes).
    train : fastopt.datasets.Split
        The training split (its input width).
    hidden : sequence of int
        Hidden layer widths.
    seed : int
        Seeds the initialisation, dropout and shuffling.
    dataset : str
        The dataset's name.
    data : path-like or None
        Where its files were looked for first.
    limit : int or None
        Samples kept per split.
    activation, init, dropout
        As :class:`fastopt.nn.MLP`.

    Returns
    -------
    dict
        ``dataset``, ``data``, ``limit``, ``inputs``, ``classes``, ``hidden``, ``activation``, ``init``,
        ``dropout``, ``seed``.
    """
    return {"dataset": dataset, "data": None if data is None else str(data), "limit": limit,
            "inputs": int(train.x.shape[1]), "classes": len(loaded.classes), "hidden": [int(h) for h in hidden],
            "activation": activation, "init": init, "dropout": float(dropout), "seed": int(seed)}


# ---------------------------------------------------------------------------------------------- training
@dataclass
class TrainingRun:
    """One training: its label, folder, history and trained model.

    Parameters
    ----------
    label : str
        Its name in figures and tables.
    folder : Path
        Its run folder.
    history : fastopt.train.History
        One record per epoch.
    model : fastopt.nn.MLP
        The trained network.
    """

    label: str
    folder: Path
    history: History
    model: object


# Settings a resumed run shares with its checkpoint: all but where its data and files are and when it stops.
RESUMED_SETTINGS = ("dataset", "limit", "inputs", "classes", "hidden", "activation", "init", "dropout", "seed",
                    "optimizer", "batch_size", "schedule", "warmup")


# Settings newer than the first run folders, with the value older runs had.
LATER_SETTINGS = {"schedule_unit": "epoch", "warmup_shape": "linear", "clip_grad_norm": None, "clip_grad_value": None}


def _resumed_settings(config: dict) -> dict:
    settings = {k: config[k] for k in RESUMED_SETTINGS}
    settings.update({k: config.get(k, default) for k, default in LATER_SETTINGS.items()})
    settings.update({**entry(config["optimizer"]).hyperparameters(), **config["hyper"]})  # the values in effect
    if config["schedule"] != "constant":  # the schedule spans the epochs: another count changes every rate
        settings["epochs"] = config["epochs"]
    return settings


def check_resume(path, saved: dict, config: dict) -> None:
    """Check that a run with ``config`` continues the run recorded in a checkpoint.

    Parameters
    ----------
    path : path-like
        The checkpoint, named in errors.
    saved : dict
        The run settings stored in it.
    config : dict
        The config.json of the run that would continue it.

    Raises
    ------
    fastopt.checkpoint.RunMismatch
        For the first setting that differs (its ``key`` is a config key, or a hyperparameter keyword,
        compared by the values in effect): data, model, seed, optimizer and its hyperparameters, batch
        size, schedule, warmup, and the epochs unless the schedule is constant.
    fastopt.checkpoint.CheckpointError
        The saved settings are incomplete.
    """
    check_same_run(path, saved, {"optimizer": config["optimizer"]})
    try:
        saved_settings = _resumed_settings(saved)
    except (KeyError, TypeError) as e:
        raise corrupt(path, f"its run settings are incomplete ({type(e).__name__}: {e})") from None
    check_same_run(path, saved_settings, _resumed_settings(config))


def train_run(label: str, optimizer: str, hyper: dict, train, test, model_config: dict, folder, epochs: int,
              batch_size: int, schedule: str = "constant", warmup: int = 0, target_accuracy: float | None = None,
              resume: bool = False, progress: bool = True, callbacks=(), schedule_unit: str = "epoch",
              warmup_shape: str = "linear", clip_grad_norm: float | None = None,
              clip_grad_value: float | None = None, log: bool | None = None) -> TrainingRun:
    """Train one model with :func:`fastopt.train.fit` into a run folder.

    The model and optimizer are built (and on resume the checkpoint checked) before ``config.json`` is
    written, so a refused run writes nothing.

    Parameters
    ----------
    label : str
        The run's name in figures and tables.
    optimizer : str
        A registry name (``fastopt.optim.REGISTRY``).
    hyper : dict
        Hyperparameters given to the optimizer (the others keep its defaults).
    train, test : fastopt.datasets.Split
        The data.
    model_config : dict
        From :func:`model_config`.
    folder : path-like
        The run folder: ``config.json``, ``history.json``, ``history.csv``, ``checkpoint.npz``.
    epochs, batch_size : int
        As :func:`fastopt.train.fit`.
    schedule : str
        A name of :data:`fastopt.optim.schedules.SCHEDULES`, spanning ``epochs``.
    warmup : int
        Epochs of linear warmup before the schedule.
    target_accuracy : float, optional
        Stop once the test accuracy reaches this fraction.
    resume : bool
        Continue from the folder's checkpoint (see :func:`check_resume`).
    progress : bool
        Progress bars and per-epoch summaries.
    callbacks : sequence of callable
        Passed to :func:`fastopt.train.fit` (``callback(history)`` after each epoch's checkpoint).
    schedule_unit : {"epoch", "step"}
        Whether ``schedule`` and ``warmup`` count epochs or optimizer steps (the schedule then spans
        ``epochs * ceil(N / batch_size)`` steps and ``warmup`` counts steps).
    warmup_shape : {"linear", "cosine"}
        The warm-up's ramp.
    clip_grad_norm, clip_grad_value : float, optional
        Gradient clipping of every step (:func:`fastopt.train.fit`).
    log : bool, optional
        Print each epoch's summary line (default: as ``progress``).

    Returns
    -------
    TrainingRun
    """
    folder = Path(folder)
    checkpoint = folder / "checkpoint.npz"
    units = epochs * -(-len(train) // batch_size) if schedule_unit == "step" else epochs
    lr_schedule = by_name(schedule, units, warmup, warmup_shape)
    model = nn.make_model(model_config)
    if entry(optimizer).takes_model:  # a curvature optimizer: built over the model (its draws seeded by the run's)
        seeded = "seed" in entry(optimizer).hyperparameters()
        opt = create(optimizer, model, **({"seed": model_config["seed"]} if seeded else {}), **hyper)
    else:
        opt = create(optimizer, model.params, **hyper)
    config = {**model_config, "optimizer": optimizer, "lr": opt.param_groups[0]["lr"], "hyper": dict(hyper),
              "epochs": epochs, "batch_size": batch_size, "schedule": schedule, "warmup": warmup,
              "schedule_unit": schedule_unit, "warmup_shape": warmup_shape, "clip_grad_norm": clip_grad_norm,
              "clip_grad_value": clip_grad_value, "target_accuracy": target_accuracy, "out": str(folder)}
    if resume:
        state = load_training_checkpoint(checkpoint)
        if "run" not in state:
            raise ValueError(f"checkpoint {checkpoint}: records no run settings (written by an older fastopt), "
                             "so resuming cannot check that it continues this run")
        check_resume(checkpoint, state["run"], config)
    with atomic_write(folder / "config.json") as tmp:
        tmp.write_text(json.dumps(config, indent=1))
    history = fit(model, opt, train, test, epochs=epochs, batch_size=batch_size, schedule=lr_schedule,
                  seed=model_config["seed"], target_accuracy=target_accuracy, checkpoint=checkpoint, resume=resume,
                  progress=progress, run=config, callbacks=callbacks, schedule_unit=schedule_unit,
                  clip_grad_norm=clip_grad_norm, clip_grad_value=clip_grad_value, log=log)
    history.to_json(folder / "history.json")
    history.to_csv(folder / "history.csv")
    return TrainingRun(label, folder, history, model)


# ---------------------------------------------------------------------------------------------- reading
def load_run(folder) -> tuple[dict, History]:
    """The config and history of a run folder.

    Parameters
    ----------
    folder : path-like
        Written by :func:`train_run`; config.json is optional.

    Returns
    -------
    tuple
        (config dict, empty without config.json; :class:`fastopt.train.History`).
    """
    folder = Path(folder)
    if not (folder / "history.json").is_file():
        raise FileNotFoundError(f"run: no history.json in {str(folder)!r} (is it a run folder?)")
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    return config, History.from_json(folder / "history.json")


def restore_run(folder, data=None, progress: bool = False):
    """The trained model of a saved run, with both splits it was trained and evaluated on.

    Parameters
    ----------
    folder : path-like
        A run folder holding config.json and checkpoint.npz.
    data : path-like, optional
        Where the dataset's files are (default: where the run found them).
    progress : bool
        Show a progress bar if the dataset is downloaded.

    Returns
    -------
    tuple
        (:class:`fastopt.nn.MLP` with the checkpoint's parameters, training split, test split, class names).

    Raises
    ------
    FileNotFoundError
        If the folder holds no checkpoint with its config.json.
    ValueError
        If the checkpoint does not match the network of the config.
    """
    folder = Path(folder)
    config, _ = load_run(folder)
    checkpoint = folder / "checkpoint.npz"
    if not checkpoint.is_file() or "hidden" not in config:
        raise FileNotFoundError(f"run: {str(folder)!r} holds no model checkpoint with its config.json")
    loaded, train, test = load_data(config["dataset"], data if data is not None else config["data"],
                                    config["limit"], progress)
    model = nn.make_model({**config, "inputs": int(train.x.shape[1]), "classes": len(loaded.classes)})
    saved = load_training_checkpoint(checkpoint)["params"]
    if sorted(saved) != sorted(model.params) or any(saved[k].shape != model.params[k].shape for k in saved):
        raise ValueError(f"run: the checkpoint in {str(folder)!r} does not match the network of its config.json")
    for name, values in saved.items():
        model.params[name][...] = values
    return model, train, test, loaded.classes


def restore_model(folder, data=None, progress: bool = False):
    """The trained model of a saved run, with the test split it was evaluated on.

    Parameters
    ----------
    folder : path-like
        A run folder holding config.json and checkpoint.npz.
    data : path-like, optional
        Where the dataset's files are (default: where the run found them).
    progress : bool
        Show a progress bar if the dataset is downloaded.

    Returns
    -------
    tuple
        (:class:`fastopt.nn.MLP` with the checkpoint's parameters, test split, class names).
    """
    model, _, test, classes = restore_run(folder, data, progress)
    return model, test, classes
