"""The parameter vectors of a ``fastopt train`` run folder that the loss-surface views need: the
initial weights and the checkpoints along the path.

``fit`` keeps one checkpoint (``checkpoint.npz``, overwritten every epoch). A path for the PCA plane
needs one per epoch: :func:`keep_epoch_checkpoints` is a ``fit`` callback that copies it to
``checkpoints/epoch_NNN.npz`` after each epoch (``fastopt train --keep-checkpoints``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .. import nn
from ..checkpoint import load_training_checkpoint

EPOCH_FOLDER = "checkpoints"


def keep_epoch_checkpoints(folder):
    """A ``fit`` callback that copies the run's ``checkpoint.npz`` to ``checkpoints/epoch_NNN.npz``.

    Parameters
    ----------
    folder : path-like
        The run folder (``fit`` writes ``folder/checkpoint.npz`` before calling its callbacks).

    Returns
    -------
    callable
        ``callback(history) -> False``.
    """
    folder = Path(folder)

    def keep(history) -> bool:
        (folder / EPOCH_FOLDER).mkdir(exist_ok=True)
        shutil.copyfile(folder / "checkpoint.npz", folder / EPOCH_FOLDER / f"epoch_{len(history):03d}.npz")
        return False

    return keep


def flat_params(model, path) -> np.ndarray:
    """A training checkpoint's parameters in ``model``'s flat layout (float64).

    Parameters
    ----------
    model : fastopt.nn.MLP
        The run's network (its layout and names).
    path : path-like
        A checkpoint written by ``fit``.

    Returns
    -------
    numpy.ndarray, shape (P,)
    """
    saved = load_training_checkpoint(path)["params"]
    if sorted(saved) != sorted(model.params) or any(saved[k].shape != model.params[k].shape for k in saved):
        raise ValueError(f"checkpoint {path}: its parameters do not match the run's network")
    flat = np.empty(model.num_params)
    views = model._views(flat)
    for name, values in saved.items():
        views[name][...] = values
    return flat


def initial_params(config: dict) -> np.ndarray:
    """The run's initial weights, re-drawn from its seed.

    ``fit`` does not save them, but :class:`fastopt.nn.MLP`'s initialisation is a function of the seed
    alone (``numpy.random.default_rng(seed)``), so this is exactly where the run started.

    Parameters
    ----------
    config : dict
        The run's config.json (with ``inputs`` and ``classes``).

    Returns
    -------
    numpy.ndarray, shape (P,)
    """
    return nn.make_model(config).flat_params.astype(np.float64)


def path_checkpoints(folder, model) -> tuple[np.ndarray, list[Path]]:
    """The run's path: its initial weights, then ``checkpoints/*.npz`` in name order.

    Parameters
    ----------
    folder : path-like
        A run folder whose training kept its epoch checkpoints (:func:`keep_epoch_checkpoints`).
    model : fastopt.nn.MLP
        The run's network.

    Returns
    -------
    (numpy.ndarray, list of Path)
        The flat parameter vectors (n, P) without the initial weights, and their files.

    Raises
    ------
    FileNotFoundError
        Fewer than two epoch checkpoints.
    """
    files = sorted((Path(folder) / EPOCH_FOLDER).glob("*.npz"))
    if len(files) < 2:
        raise FileNotFoundError(
            f"pca: {str(folder)!r} holds {len(files)} epoch checkpoint(s) in {EPOCH_FOLDER}/, and the plane of "
            f"the training path needs at least 2 (train with 'fastopt train --keep-checkpoints', or "
            f"fit(..., callbacks=[fastopt.curvature.surface_runs.keep_epoch_checkpoints(folder)]))")
    return np.stack([flat_params(model, f) for f in files]), files


__all__ = ["EPOCH_FOLDER", "keep_epoch_checkpoints", "flat_params", "initial_params", "path_checkpoints"]
