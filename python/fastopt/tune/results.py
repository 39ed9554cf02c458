"""A search's results as files: ``trials.csv`` and ``trials.json`` (every trial: state, value, parameters,
times, per-epoch history, error), ``best.json`` (the best configuration), and the figures of
:mod:`fastopt.tune.figures`.

Everything here is read back from the study, so the files of a resumed search cover all of its trials.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from ..atomic import atomic_write


def trial_rows(study, space) -> list[dict]:
    """One dict per trial that ran to its end (interrupted ones left out), in trial order.

    Parameters
    ----------
    study : optuna.Study
    space : fastopt.tune.space.Space
        Its parameter names are the columns (empty where a parameter did not apply).

    Returns
    -------
    list of dict
        ``number``, ``state``, ``value``, each parameter, ``train_time``, ``duration``, ``epochs`` (the
        per-epoch records, or a landscape path's checkpoints), ``diverged``, ``error``, ``history``.
    """
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.system_attrs.get("interrupted") or not t.state.is_finished():
            continue
        value = t.value if t.value is not None else (t.intermediate_values[max(t.intermediate_values)]
                                                     if t.intermediate_values else None)
        rows.append({"number": t.number, "state": t.state.name, "value": value,
                     **{name: t.params.get(name) for name in space.names},
                     "train_time": t.user_attrs.get("train_time"), "duration": t.user_attrs.get("duration"),
                     "epochs": len(t.user_attrs.get("history", [])), "diverged": t.user_attrs.get("diverged"),
                     "error": t.user_attrs.get("error"), "history": t.user_attrs.get("history", [])})
    return rows


def _json_number(value):
    """JSON has no infinity: a diverged run's value is written as null."""
    return value if not isinstance(value, float) or math.isfinite(value) else None


def write_results(study, space, objective, out, figures: bool = True) -> list[Path]:
    """Write the result files (and figures) of ``study`` into ``out``.

    Parameters
    ----------
    study : optuna.Study
    space : fastopt.tune.space.Space
    objective
        Its ``metric`` and ``direction`` label the files.
    out : path-like
    figures : bool
        Also draw the figures.

    Returns
    -------
    list of Path
        The files written.
    """
    from .driver import best_trial

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = trial_rows(study, space)
    columns = ["number", "state", "value", *space.names, "train_time", "duration", "epochs", "diverged", "error"]
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if r[k] is None else r[k]) for k in columns} for r in rows)
    best = best_trial(study, objective)
    summary = {"metric": objective.metric, "direction": objective.direction, "settings": objective.settings(),
               "space": space.specs(), "best": best,
               "trials": [{k: _json_number(v) for k, v in r.items()} for r in rows]}
    files = []
    for name, content in (("trials.csv", text.getvalue()), ("trials.json", json.dumps(summary, indent=1)),
                          ("best.json", json.dumps(best, indent=1))):
        with atomic_write(out / name) as tmp:
            tmp.write_text(content)
        files.append(out / name)
    if figures:
        from .figures import draw_all
        files += draw_all(study, rows, space, objective, out)
    return files
