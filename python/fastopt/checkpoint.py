"""Checkpoint files: one ``.npz`` per checkpoint, read back whole or refused with one clear error.

Every array sits under its own key and everything else is JSON (no pickle, so loading a checkpoint
cannot run code), with tuples and arrays tagged so they come back as they were.  A file that is
truncated, misses a member, or holds metadata of the wrong shape raises :class:`CheckpointError`
naming the file; :func:`load_training_checkpoint` also checks what :func:`fastopt.train.fit` stores.
"""
from __future__ import annotations

import json
import os
import zipfile
import zlib
from numbers import Integral
from pathlib import Path

import numpy as np

from .atomic import atomic_write

CHECKPOINT_FORMAT = "fastopt-checkpoint-1"
# What fit stores in every checkpoint (besides the optional "dropout_calls" and "run").
TRAINING_KEYS = ("epoch", "config", "params", "optimizer", "rng", "history")
RUN_IDENTITY = ("batch_size", "seed", "n_train")


class CheckpointError(ValueError):
    """A checkpoint file that is not a complete, consistent fastopt checkpoint (its message names it)."""


class RunMismatch(ValueError):
    """A checkpoint written by another run than the one asked to continue it.

    Parameters
    ----------
    path : path-like
        The checkpoint.
    key : str
        The setting that differs.
    saved, given
        Its value in the checkpoint's run and in this run.
    """

    def __init__(self, path, key: str, saved, given):
        super().__init__(f"checkpoint {path}: written with {key}={saved!r}, this run has {key}={given!r}; "
                         "resuming would not reproduce the run")
        self.key, self.saved, self.given = key, saved, given


def corrupt(path, detail) -> CheckpointError:
    """The one error of a damaged checkpoint: ``checkpoint <path>: not a fastopt checkpoint or corrupt (...)``.

    Parameters
    ----------
    path : path-like
        The checkpoint.
    detail : object
        What is wrong, shown in parentheses.
    """
    return CheckpointError(f"checkpoint {path}: not a fastopt checkpoint or corrupt ({detail})")


def _encode(obj, arrays: dict):
    if isinstance(obj, np.ndarray):
        key = f"array{len(arrays)}"
        arrays[key] = obj
        return {"__array__": key}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"checkpoint: dict keys must be strings, got {list(obj)[:5]}")
        return {k: _encode(v, arrays) for k, v in obj.items()}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"checkpoint: cannot store a {type(obj).__name__}")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        if "__array__" in obj:
            return arrays[obj["__array__"]]
        if "__tuple__" in obj:
            return tuple(_decode(v, arrays) for v in obj["__tuple__"])
        return {k: _decode(v, arrays) for k, v in obj.items()}
    return obj


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically.

    The file is complete and synced before it replaces ``path``: an interruption leaves the previous
    checkpoint intact.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file.
    state : dict
        Nested dicts (string keys), lists, tuples, NumPy arrays, numbers, strings and None.
    """
    arrays: dict = {}
    meta = json.dumps({"format": CHECKPOINT_FORMAT, "state": _encode(state, arrays)})
    with atomic_write(Path(path)) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, __meta__=np.array(meta), **arrays)
            f.flush()
            os.fsync(f.fileno())


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file.

    Returns
    -------
    dict
        The state as it was saved.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    CheckpointError
        Anything else that keeps the state from coming back whole: not a zip, truncated, a member
        missing, metadata that is not the format's JSON.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:  # our own handle: np.load leaks its own when the zip is unreadable
            npz = np.load(f, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise ValueError("a single array, not an .npz archive")
            with npz:
                meta = json.loads(str(npz["__meta__"]))
                arrays = {k: npz[k] for k in npz.files if k != "__meta__"}
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint {path} does not exist") from None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise corrupt(path, f"{type(e).__name__}: {e}") from None
    if not isinstance(meta, dict) or "state" not in meta:
        raise corrupt(path, "its metadata holds no state")
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"checkpoint {path}: format {meta.get('format')!r}, expected {CHECKPOINT_FORMAT!r}")
    try:
        return _decode(meta["state"], arrays)
    except KeyError as e:
        raise corrupt(path, f"array {e} is missing") from None
    except TypeError as e:
        raise corrupt(path, f"malformed metadata: {e}") from None


def _count(value, low: int = 0) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= low


def _training_problem(state) -> str | None:
    """What makes ``state`` unusable as a checkpoint of fit, or None."""
    if not isinstance(state, dict):
        return "its state is not a dict"
    missing = [k for k in TRAINING_KEYS if k not in state]
    if missing:
        return f"no {', '.join(missing)} in it"
    epoch, config, params, history = state["epoch"], state["config"], state["params"], state["history"]
    if not _count(epoch):
        return f"epoch {epoch!r} is not a count of epochs"
    if not isinstance(config, dict) or not all(_count(config.get(k)) for k in RUN_IDENTITY):
        return f"config {config!r} lacks the counts {', '.join(RUN_IDENTITY)}"
    if not isinstance(params, dict) or not params:
        return "params is not a dict of arrays"
    for name, value in params.items():
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            return f"param {name!r} is not a float array"
    if not isinstance(state["optimizer"], dict) or not isinstance(state["optimizer"].get("optimizer"), str):
        return "optimizer is not an optimizer state_dict"
    try:
        np.random.PCG64().state = state["rng"]  # the setter checks every field, on a throwaway generator
    except (TypeError, ValueError, KeyError) as e:
        return f"rng is not a generator state ({type(e).__name__}: {e})"
    records = history.get("records") if isinstance(history, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return "history holds no list of records"
    if len(records) != epoch:
        return f"epoch {epoch} but {len(records)} history records"
    if [r.get("epoch") for r in records] != list(range(1, epoch + 1)):
        return f"history records of epochs {[r.get('epoch') for r in records]}, expected 1 to {epoch}"
    if "dropout_calls" in state and not _count(state["dropout_calls"]):
        return f"dropout_calls {state['dropout_calls']!r} is not a count"
    if not isinstance(state.get("run", {}), dict):
        return "run is not a dict of settings"
    return None


def load_training_checkpoint(path) -> dict:
    """Read a checkpoint of :func:`fastopt.train.fit` and check it is complete and consistent.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file.

    Returns
    -------
    dict
        ``epoch``, ``config`` (batch_size, seed, n_train), ``params`` (name -> float array),
        ``optimizer`` (its state_dict), ``rng`` (the shuffling generator's state), ``history``, and
        where saved ``dropout_calls`` and ``run`` (the run's settings).

    Raises
    ------
    FileNotFoundError, CheckpointError
        As :func:`load_checkpoint`; also a missing key, a value of the wrong type, or an epoch that
        disagrees with the history.
    """
    state = load_checkpoint(path)
    problem = _training_problem(state)
    if problem is not None:
        raise corrupt(path, problem)
    return state


def check_same_run(path, saved: dict, given: dict) -> None:
    """Raise :class:`RunMismatch` for the first setting of ``given`` whose value in ``saved`` differs.

    Parameters
    ----------
    path : path-like
        The checkpoint, named in the error.
    saved : dict
        The settings recorded in the checkpoint.
    given : dict
        The settings of the run that would continue it, in the order to check them.
    """
    for key, value in given.items():
        if saved.get(key) != value:
            raise RunMismatch(path, key, saved.get(key), value)
