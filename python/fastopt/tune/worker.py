"""One trial, run wherever the executor puts it (a local process, a Dask or Ray worker).

The search asks Optuna for the trial's parameters and sends :class:`TrialJob`; the worker opens the
study from the store, runs the objective with the trial's per-epoch values reported to Optuna (and
stops when the pruner says so), and tells Optuna the outcome itself: the trial is stored the moment
it ends, whatever then happens to the search.
"""
from __future__ import annotations

import functools
import math
import traceback
from dataclasses import dataclass

from .algorithms import make_pruner


@dataclass(frozen=True)
class TrialJob:
    """What a worker needs to run one trial.

    Parameters
    ----------
    storage : str
        The store (:func:`fastopt.tune.storage.storage_spec`), reachable from the worker.
    study_name : str
    trial_id : int
        Optuna's id of the trial the search asked for.
    number : int
        Its number in the study.
    params : dict
        Its parameters.
    objective : callable
        A picklable objective (:mod:`fastopt.tune.objectives`).
    pruner : str
        A name of :data:`fastopt.tune.algorithms.PRUNERS`.
    threads : int
        Threads of fastopt's native code in this trial.
    """

    storage: str
    study_name: str
    trial_id: int
    number: int
    params: dict
    objective: object
    pruner: str
    threads: int


@functools.lru_cache(maxsize=4)
def _study(storage: str, study_name: str, pruner: str):
    """The study, opened once per worker process (the journal is then replayed incrementally)."""
    from ._optuna import optuna
    from .storage import make_storage
    return optuna.load_study(study_name=study_name, storage=make_storage(storage), pruner=make_pruner(pruner))


def run_trial(job: TrialJob) -> dict:
    """Run ``job`` and store its outcome in the study.

    Parameters
    ----------
    job : TrialJob

    Returns
    -------
    dict
        ``number``, ``state`` (``"COMPLETE"``, ``"PRUNED"`` or ``"FAIL"``), ``value``, ``params``,
        ``train_time``, ``duration``, ``error`` (the objective's exception as text, or None).
    """
    from .. import set_num_threads
    from ._optuna import optuna

    set_num_threads(job.threads)
    study = _study(job.storage, job.study_name, job.pruner)
    trial = optuna.trial.Trial(study, job.trial_id)

    def report(value: float, step: int) -> bool:
        if math.isfinite(value):
            trial.report(value, step)
        return trial.should_prune()

    TrialState = optuna.trial.TrialState
    try:
        result = job.objective(job.params, report)
    except Exception as e:  # noqa: BLE001  a failing configuration is a failed trial, not a failed search
        error = "".join(traceback.format_exception_only(type(e), e)).strip()
        trial.set_user_attr("error", error)
        study.tell(trial, state=TrialState.FAIL)
        return {"number": job.number, "state": "FAIL", "value": None, "params": job.params, "train_time": 0.0,
                "duration": 0.0, "error": error}
    for key in ("history", "train_time", "duration", "diverged"):
        trial.set_user_attr(key, result[key])
    trial.set_user_attr("threads", job.threads)
    if result["stopped"]:
        study.tell(trial, state=TrialState.PRUNED)
        state, value = "PRUNED", result["value"]
    else:
        study.tell(trial, result["value"])
        state, value = "COMPLETE", result["value"]
    return {"number": job.number, "state": state, "value": value, "params": job.params,
            "train_time": result["train_time"], "duration": result["duration"], "error": None}
