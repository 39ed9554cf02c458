"""Trainings the dashboard runs in background threads, and the saved runs it opens.

A :class:`TrainingJob` trains the MNIST MLP with :func:`fastopt.runs.train_run`, so it leaves the same run
folder ``fastopt train`` does; its records grow after every epoch (the page polls them) and
:meth:`TrainingJob.stop` ends it after the epoch in progress.  The native steps release the GIL, so the
server stays responsive while a job trains.
"""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..optim.registry import REGISTRY
from ..runs import load_data, load_run, model_config, train_run

MAX_EPOCHS = 200
MAX_HIDDEN = 4096


@functools.lru_cache(maxsize=4)  # one load per (place, limit) for all the jobs of a server
def _data(data, limit):
    loaded, train, test = load_data("mnist", data, limit, progress=False)
    return loaded, train, test


@dataclass
class TrainingJob:
    """One training (started with :func:`start_job`) or one opened run folder (:func:`open_runs`).

    Attributes
    ----------
    label : str
        Its name in the legend and the table.
    optimizer : str
        The registry name.
    lr : float or None
        The learning rate asked for (None: the optimizer's default).
    folder : Path or None
        Its run folder.
    records : list of dict
        One :class:`fastopt.train.History` record per finished epoch.
    status : str
        ``"running"``, ``"stopping"``, ``"stopped"``, ``"done"``, ``"diverged"``, ``"opened"`` or
        ``"failed: <why>"``.
    """

    label: str
    optimizer: str
    lr: float | None
    folder: Path | None
    records: list = field(default_factory=list)
    status: str = "running"
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Ask the training to end after the epoch in progress."""
        if self.status == "running":
            self.status = "stopping"
            self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the training thread (tests)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _after_epoch(self, history) -> bool:
        self.records = [dict(r) for r in history.records]
        return self._stop.is_set()

    def _train(self, hyper, epochs, batch_size, limit, hidden, seed, data) -> None:
        try:
            loaded, train, test = _data(data, limit)
            config = model_config(loaded, train, hidden, seed, "mnist", data, limit)
            run = train_run(self.label, self.optimizer, hyper, train, test, config, self.folder, epochs,
                            min(batch_size, len(train.y)), progress=False, callbacks=[self._after_epoch])
            self.records = [dict(r) for r in run.history.records]
            self.status = {"callback": "stopped", "diverged": "diverged"}.get(run.history.stop_reason, "done")
        except Exception as e:  # noqa: BLE001 - a thread has no caller: the page shows why the job failed
            self.status = f"failed: {type(e).__name__}: {e}"


def check_job(optimizer: str, lr, epochs: int, batch_size: int, limit, hidden) -> None:
    """Refuse settings no training should start with (ValueError naming the setting)."""
    if optimizer not in REGISTRY:
        raise ValueError(f"optimizer: unknown {optimizer!r}")
    if lr is not None and not 0 < lr <= 10:
        raise ValueError(f"lr: expected a rate in (0, 10], got {lr}")
    if not 1 <= epochs <= MAX_EPOCHS:
        raise ValueError(f"epochs: expected 1 to {MAX_EPOCHS}, got {epochs}")
    if not 1 <= batch_size <= 60000:
        raise ValueError(f"batch size: expected 1 to 60000, got {batch_size}")
    if limit is not None and not 1 <= limit <= 60000:
        raise ValueError(f"limit: expected 1 to 60000 samples, got {limit}")
    if not hidden or not all(1 <= h <= MAX_HIDDEN for h in hidden):
        raise ValueError(f"hidden: expected widths from 1 to {MAX_HIDDEN}, got {list(hidden)}")


def start_job(label: str, optimizer: str, runs_dir, lr: float | None = None, epochs: int = 10,
              batch_size: int = 128, limit: int | None = 10000, hidden=(128,), seed: int = 0, data=None,
              hyper: dict | None = None) -> TrainingJob:
    """Start training in a background thread into ``runs_dir/label``; return the job at once.

    Raises
    ------
    ValueError
        For a setting :func:`check_job` refuses, or a label that is not a plain folder name.
    """
    check_job(optimizer, lr, epochs, batch_size, limit, hidden)
    if not label or Path(label).name != label or label in (".", ".."):
        raise ValueError(f"label: expected a plain folder name, got {label!r}")
    hyper = {**(hyper or {}), **({} if lr is None else {"lr": lr})}
    folder = Path(runs_dir) / label
    folder.mkdir(parents=True, exist_ok=True)
    job = TrainingJob(label, optimizer, lr, folder)
    job._thread = threading.Thread(target=job._train, name=f"fastopt-dashboard-{label}", daemon=True,
                                   args=(hyper, epochs, batch_size, limit, tuple(hidden), seed, data))
    job._thread.start()
    return job


def open_runs(folder) -> list[TrainingJob]:
    """The saved runs in ``folder``: a run folder of ``fastopt train``, or a folder of them (``fastopt compare``).

    Raises
    ------
    FileNotFoundError
        If neither ``folder`` nor any folder in it holds a history.json.
    """
    folder = Path(folder).expanduser()
    folders = [folder] if (folder / "history.json").is_file() else \
        sorted(p for p in folder.glob("*") if (p / "history.json").is_file()) if folder.is_dir() else []
    if not folders:
        raise FileNotFoundError(f"open: no run folder (with history.json) at or in {str(folder)!r}")
    jobs = []
    for f in folders:
        config, history = load_run(f)
        jobs.append(TrainingJob(f.name, config.get("optimizer", "?"), config.get("lr"), f,
                                [dict(r) for r in history.records], "opened"))
    return jobs
