"""The search: Optuna asks for each trial's parameters here, an executor runs the trials, a progress bar
shows them and the best so far, and the results and figures are written at the end.

::

    from fastopt.tune import MnistObjective, parse_grid, search
    result = search(MnistObjective(optimizer="adam", epochs=2),
                    parse_grid(["lr=1e-4,3e-4,1e-3,3e-3", "batch_size=64,128,256"]), out="tune")
    result.best["params"], result.files

Trials are asked for one at a time as worker slots free up, so TPE sees every result that came back;
a grid's points and a seeded random search's draws do not depend on the order trials finish in, so the
same seed gives the same trials on every executor.
"""
from __future__ import annotations

import concurrent.futures
import math
from dataclasses import dataclass, field

from tqdm import tqdm

from ._optuna import optuna
from .algorithms import make_pruner, make_sampler
from .executors import check_executor, open_pool
from .results import write_results
from .storage import STUDY_NAME, finished_trials, open_study, storage_spec
from .worker import TrialJob, run_trial

DEFAULT_TRIALS = 20


@dataclass
class SearchResult:
    """What a search left.

    Parameters
    ----------
    study : optuna.Study
        Every trial, as stored.
    best : dict or None
        ``number``, ``params``, ``value`` and ``metric`` of the best complete trial (None: none completed).
    files : list of Path
        The result files and figures written.
    ran : int
        Trials run by this call (the others were stored before it).
    requeued : list of int
        Trials interrupted by an earlier run and run again by this one.
    errors : dict
        Trial number -> error text of the trials whose objective failed in this call.
    """

    study: object
    best: dict | None
    files: list = field(default_factory=list)
    ran: int = 0
    requeued: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)


def _trial_count(space, sampler: str, trials: int | None) -> int:
    if sampler != "grid":
        return DEFAULT_TRIALS if trials is None else trials
    size = space.size()
    if trials is not None and trials > size:
        raise ValueError(f"trials: the grid has {size} points, fewer than the {trials} trials asked for")
    return size if trials is None else trials


def search(objective, space, out, *, sampler: str | None = None, trials: int | None = None, pruner: str = "none",
           executor: str = "process", jobs: int | None = None, threads: int | None = None,
           storage: str | None = None, seed: int = 0, resume: bool = False, progress: bool = True,
           figures: bool = True) -> SearchResult:
    """Search ``space`` for the parameters that optimise ``objective``.

    Parameters
    ----------
    objective : fastopt.tune.MnistObjective or fastopt.tune.LandscapeObjective
        What a trial measures (its metric and direction).
    space : fastopt.tune.space.Space
        From :func:`~fastopt.tune.parse_space` or :func:`~fastopt.tune.parse_grid`.
    out : path-like
        Folder of the store (``study.journal``), the results and the figures.
    sampler : str, optional
        ``grid`` (the default for a grid), ``random`` or ``tpe`` (the default for a space).
    trials : int, optional
        Trials the study should hold when done, those of earlier runs included (default: every grid point,
        or 20).
    pruner : str, default "none"
        ``none``, ``median`` or ``halving`` (from the per-epoch values).
    executor : str, default "process"
        ``process``, ``dask``, ``dask://HOST:PORT``, ``ray`` or ``ray://HOST:PORT``
        (:mod:`fastopt.tune.executors`).
    jobs : int, optional
        Trials at once on a local executor (default: the usable cores).
    threads : int, optional
        fastopt threads per trial (default: the cores shared among the local trials).
    storage : str, optional
        An Optuna storage URL instead of ``<out>/study.journal``.
    seed : int, default 0
        Seeds the sampler.
    resume : bool, default False
        Continue the search stored in ``out``: the finished trials are kept, the ones that were running
        are run again.
    progress : bool, default True
        A progress bar of trials with the best value so far.
    figures : bool, default True
        Also draw the figures (needs matplotlib).

    Returns
    -------
    SearchResult

    Raises
    ------
    ValueError
        A parameter the objective does not take, a sampler that does not fit the space, more trials than
        grid points, a store already in ``out`` without ``resume`` (or none with it), a resumed search with
        other settings.
    KeyboardInterrupt
        Re-raised after the pool is shut down; the trials that finished are stored.
    """
    sampler = sampler or ("grid" if space.is_grid else "tpe")
    objective.check(space)
    total = _trial_count(space, sampler, trials)
    settings = {"objective": objective.settings(), "space": space.specs(), "grid": space.is_grid,
                "sampler": sampler, "pruner": pruner, "seed": seed, "metric": objective.metric,
                "direction": objective.direction}
    make_pruner(pruner)  # an unknown name fails before anything is written
    check_executor(executor)
    spec = storage_spec(out, storage)
    study, requeued = open_study(spec, settings, objective.direction, make_sampler(sampler, space, seed),
                                 make_pruner(pruner), resume)
    done = len(finished_trials(study))
    to_run = max(0, total - done)
    errors: dict[int, str] = {}
    bar = tqdm(total=total, initial=min(done, total), desc="trials", unit="trial", disable=not progress)
    try:
        with open_pool(executor, jobs, threads) as pool:
            if progress:
                again = f", {len(requeued)} of them interrupted before" if requeued else ""
                tqdm.write(f"{to_run} trials to run ({done} stored{again}) on {pool.name}, {pool.threads} "
                           "thread(s) each")
            running: dict[concurrent.futures.Future, int] = {}
            asked = 0
            best = best_trial(study, objective)
            bar.set_postfix_str(_best_text(best, objective))
            while asked < to_run or running:
                while asked < to_run and len(running) < pool.slots:
                    trial = study.ask()
                    params = space.suggest(trial, objective.applies)
                    job = TrialJob(spec, STUDY_NAME, trial._trial_id, trial.number, params, objective, pruner,
                                   pool.threads)
                    running[pool.executor.submit(run_trial, job)] = trial.number
                    asked += 1
                finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    number = running.pop(future)
                    outcome = future.result()  # a worker that died raises here; its trial stays RUNNING
                    if outcome["error"]:
                        errors[number] = outcome["error"]
                    if outcome["state"] == "COMPLETE" and _better(outcome["value"], best, objective):
                        best = {"number": number, "params": outcome["params"], "value": outcome["value"],
                                "metric": objective.metric}
                    bar.update(1)
                    bar.set_postfix_str(_best_text(best, objective))
    finally:
        bar.close()
    files = write_results(study, space, objective, out, figures=figures)
    return SearchResult(study, best_trial(study, objective), files, to_run, requeued, errors)


def best_trial(study, objective) -> dict | None:
    """The best complete trial with a finite value, as ``number``, ``params``, ``value``, ``metric``."""
    complete = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                if t.value is not None and math.isfinite(t.value)]
    if not complete:
        return None
    pick = max if objective.direction == "maximize" else min
    t = pick(complete, key=lambda t: t.value)
    return {"number": t.number, "params": dict(t.params), "value": t.value, "metric": objective.metric}


def _better(value: float, best: dict | None, objective) -> bool:
    """Whether a complete trial's ``value`` beats ``best`` (a non-finite value never does)."""
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value > best["value"] if objective.direction == "maximize" else value < best["value"]


def _best_text(best: dict | None, objective) -> str:
    if best is None:
        return "best: none yet"
    params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in best["params"].items())
    return f"best {objective.metric} {best['value']:.4g} ({params})"


__all__ = ["DEFAULT_TRIALS", "SearchResult", "best_trial", "search"]
