"""MNIST and Fashion-MNIST from their IDX files, checked by size and SHA-256, found or downloaded.

::

    data = fastopt.datasets.load_mnist(validation=5000)
    data.train.images      # uint8 (55000, 28, 28)
    data.train.x, data.train.y   # float32 (55000, 784) in [0, 1], int64 labels

Where the files are looked for, in order (in each place first in a folder named after the dataset,
e.g. ``fashion-mnist/``, then in the place itself): the ``path`` argument, ``$FASTOPT_DATA``,
``~/.cache/fastopt``, ``/usr/share/datasets`` (Debian's ``dataset-fashion-mnist`` installs there).
The first place holding all four files is used.  If none does, the files are downloaded into
``~/.cache/fastopt/<name>/`` from public mirrors (retries, progress bar, checksums verified before
the file is moved into place, so an interrupted download never leaves a corrupt cache).
Each file may be gzip-compressed (``.gz``) or raw; the checksums are those of the raw content.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .dataset_files import (DATASETS, DatasetError, DatasetSpec, FileSpec, OtherDatasetError, cache_dir, download,
                            find_files, parse_idx, search_dirs, verified_content)


@dataclass(frozen=True)
class Split:
    """Images (uint8, (N, 28, 28)) and labels (uint8, (N,)) of one split.

    Parameters
    ----------
    images : numpy.ndarray
        The images, uint8 of shape (N, 28, 28) as loaded (dtype and shape are not checked).
    labels : numpy.ndarray
        The labels, uint8 of shape (N,) as loaded.

    Raises
    ------
    ValueError
        If ``images`` and ``labels`` differ in length.
    """

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        if len(self.images) != len(self.labels):
            raise ValueError(f"Split: {len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.labels)

    @cached_property
    def x(self) -> np.ndarray:
        """The images as float32 (N, 784) scaled to [0, 1] (computed once)."""
        x = self.images.reshape(len(self.images), -1).astype(np.float32)
        x /= np.float32(255)  # in place: no second (N, 784) temporary
        return x

    @cached_property
    def y(self) -> np.ndarray:
        """The labels as int64 (N,)."""
        return self.labels.astype(np.int64)

    def take(self, indices) -> "Split":
        """The samples at ``indices`` (an index array or a slice), as a new Split.

        Parameters
        ----------
        indices : array_like of int or bool, or slice
            Which samples to keep, applied to both ``images`` and ``labels`` (a boolean mask works too).

        Returns
        -------
        Split
        """
        return Split(self.images[indices], self.labels[indices])


@dataclass(frozen=True)
class Dataset:
    """The train and test splits of a dataset, and the validation split carved from train if asked for.

    Parameters
    ----------
    name : str
        The dataset's name (``"mnist"`` or ``"fashion_mnist"``).
    train : Split
        The training samples, less those moved into ``validation``.
    test : Split
        The test samples.
    validation : Split or None
        The samples carved from train; None when no validation split was asked for.
    classes : tuple of str
        Class names, indexed by label.
    """

    name: str
    train: Split
    test: Split
    validation: Split | None
    classes: tuple[str, ...]


# ---------------------------------------------------------------------------------------------- reading
def _split_validation(train: Split, validation, seed: int) -> tuple[Split, Split | None]:
    n = len(train)
    if isinstance(validation, float) and not isinstance(validation, bool):
        if not 0.0 <= validation < 1.0:
            raise ValueError(f"validation: {validation!r} must be a fraction in [0, 1) or a count of samples")
        count = int(round(validation * n))
    elif isinstance(validation, (int, np.integer)) and not isinstance(validation, bool) and 0 <= validation < n:
        count = int(validation)
    else:
        raise ValueError(f"validation: {validation!r} must be a count in [0, {n}) or a fraction in [0, 1)")
    if count == 0:
        return train, None
    chosen = np.zeros(n, bool)
    chosen[np.random.default_rng(seed).permutation(n)[:count]] = True
    return train.take(~chosen), train.take(chosen)  # both keep the files' order


def _read_all(spec: DatasetSpec, paths: dict[str, Path]) -> dict[str, np.ndarray]:
    return {role: parse_idx(verified_content(p, spec.files[role], spec.name), str(p)) for role, p in paths.items()}


def load(name: str, path=None, validation=0, seed: int = 0, download_missing: bool = True,
         progress: bool = True, path_only: bool = False) -> Dataset:
    """Load dataset ``name`` (``"mnist"`` or ``"fashion_mnist"``); see the module docstring for where from.

    Parameters
    ----------
    name : str
        ``"mnist"`` or ``"fashion_mnist"``; case-insensitive, ``-`` read as ``_``.
    path : path-like, optional
        A place searched first for the files.
    validation : int or float, default 0
        Samples of train moved into a validation split: a number of samples (int, in [0, N_train))
        or a fraction (float, in [0, 1), rounded to a count).  0 gives no validation split.
    seed : int, default 0
        Seed of the permutation choosing the validation samples; both splits keep the files' order.
    download_missing : bool, default True
        Download the files when no search place holds them; False raises :class:`DatasetError` instead.
    progress : bool, default True
        Show progress bars while downloading.
    path_only : bool, default False
        Look in ``path`` alone and never download: a :class:`DatasetError` naming ``path`` if the files
        are not there (what the CLI's ``--data PATH`` means).

    Returns
    -------
    Dataset
        Images uint8 (N, 28, 28), labels uint8 (N,), and the dataset's class names.

    Raises
    ------
    ValueError
        For an unknown ``name``, or a ``validation`` out of range or neither int nor float (bools refused).
    DatasetError
        If the files are found nowhere and ``download_missing`` is False, a file found is corrupt or
        truncated, or a download fails.  Files of another dataset (:class:`OtherDatasetError`) are
        skipped and the search goes on.
    """
    try:
        spec = DATASETS[name.replace("-", "_").lower()]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}") from None
    arrays, skipped = None, []
    for paths in find_files(spec, path, path_only):
        try:
            arrays = _read_all(spec, paths)
            break
        except OtherDatasetError as e:  # e.g. $FASTOPT_DATA holds MNIST: keep looking for Fashion-MNIST
            skipped.append(str(e))
    if arrays is None:
        if path_only:
            raise DatasetError(f"{spec.name}: files {[f.name for f in spec.files.values()]} (raw or .gz) not found "
                               f"in {str(path)!r} (nor in its {', '.join(spec.folders)} folder); nowhere else is "
                               "searched when a path is given" + "".join(f"\n  skipped {m}" for m in skipped))
        if not download_missing:
            places = ", ".join(str(d) for d in search_dirs(spec, path))
            raise DatasetError(f"{spec.name}: files {[f.name for f in spec.files.values()]} (raw or .gz) "
                               f"not found in any of: {places}" + "".join(f"\n  skipped {m}" for m in skipped))
        arrays = _read_all(spec, download(spec, progress=progress))
    train = Split(arrays["train_images"], arrays["train_labels"])
    test = Split(arrays["test_images"], arrays["test_labels"])
    train, val = _split_validation(train, validation, seed)
    return Dataset(spec.name, train, test, val, spec.classes)


def load_mnist(path=None, validation=0, seed: int = 0, **kwargs) -> Dataset:
    """MNIST (LeCun, Cortes & Burges): 60000 train and 10000 test handwritten digits. See :func:`load`.

    Parameters
    ----------
    path : path-like, optional
        A place searched first for the files.
    validation : int or float, default 0
        Number or fraction of train samples moved into a validation split.
    seed : int, default 0
        Seed of the validation split's permutation.
    **kwargs
        ``download_missing`` and ``progress``, passed to :func:`load`.

    Returns
    -------
    Dataset
    """
    return load("mnist", path, validation, seed, **kwargs)


def load_fashion_mnist(path=None, validation=0, seed: int = 0, **kwargs) -> Dataset:
    """Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): Zalando's article images, MNIST's format. See :func:`load`.

    Parameters
    ----------
    path : path-like, optional
        A place searched first for the files.
    validation : int or float, default 0
        Number or fraction of train samples moved into a validation split.
    seed : int, default 0
        Seed of the validation split's permutation.
    **kwargs
        ``download_missing`` and ``progress``, passed to :func:`load`.

    Returns
    -------
    Dataset
    """
    return load("fashion_mnist", path, validation, seed, **kwargs)


# The file-level API lives in fastopt.dataset_files and is reachable from here too.
__all__ = ["Split", "Dataset", "load", "load_mnist", "load_fashion_mnist", "DATASETS", "DatasetSpec", "FileSpec",
           "DatasetError", "OtherDatasetError", "parse_idx", "cache_dir", "search_dirs", "find_files", "download"]
