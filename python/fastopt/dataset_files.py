"""The files behind :mod:`fastopt.datasets`: what each dataset's IDX files are (names, sizes, SHA-256 of
the raw content, mirrors), reading and checking them (raw or gzip), parsing IDX, finding them on disk
and downloading them (retries, progress bar, checked before being moved into place)."""
from __future__ import annotations

import gzip
import hashlib
import os
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .atomic import atomic_write


class DatasetError(ValueError):
    """A data file is missing, corrupt or truncated; the message names the file and what was expected."""


class OtherDatasetError(DatasetError):
    """A data file is intact but belongs to another dataset (e.g. MNIST's files where Fashion-MNIST's were sought)."""


@dataclass(frozen=True)
class FileSpec:
    """One IDX file: its name without ``.gz``, its uncompressed size and SHA-256.

    Parameters
    ----------
    name : str
        File name without ``.gz``, e.g. ``"train-images-idx3-ubyte"``.
    size : int
        Size of the uncompressed content, in bytes.
    sha256 : str
        Hexadecimal SHA-256 of the uncompressed content.
    """

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset lives and what its files must contain.

    Parameters
    ----------
    name : str
        The dataset's name, its key in :data:`DATASETS` (``"mnist"``, ``"fashion_mnist"``).
    folders : tuple of str
        Folder names tried, in order, in each search place (see :func:`search_dirs`).
    files : dict of str to FileSpec
        Role (``train_images``, ``train_labels``, ``test_images``, ``test_labels``) -> file.
    mirrors : tuple of str
        Base URLs of the original ``.gz`` files, tried in order.
    classes : tuple of str
        Class names, indexed by label.
    """

    name: str
    folders: tuple[str, ...]  # folder names tried in each search place
    files: dict[str, FileSpec]  # role (train_images, ...) -> file
    mirrors: tuple[str, ...]  # base URLs of the original .gz files
    classes: tuple[str, ...]


def _mnist_files(sha256: dict[str, str]) -> dict[str, FileSpec]:
    sizes = {"train-images-idx3-ubyte": 47040016, "train-labels-idx1-ubyte": 60008,
             "t10k-images-idx3-ubyte": 7840016, "t10k-labels-idx1-ubyte": 10008}
    roles = ("train_images", "train_labels", "test_images", "test_labels")
    return {role: FileSpec(name, sizes[name], sha256[name]) for role, name in zip(roles, sizes)}


# SHA-256 of the uncompressed files: MNIST's as published with shared/datasets/mnist, Fashion-MNIST's
# computed from the files of Debian's dataset-fashion-mnist 0.0~git20200523-1 (its gzip wrappers differ
# from upstream's, which is why the raw content is what gets checked).
DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        "mnist", ("mnist",),
        _mnist_files({
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"}),
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        tuple(str(d) for d in range(10))),
    "fashion_mnist": DatasetSpec(
        "fashion_mnist", ("fashion-mnist", "fashion_mnist"),
        _mnist_files({
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"}),
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
         "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"),
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
}

SYSTEM_DIR = Path("/usr/share/datasets")


def _read_content(path: Path) -> bytes:
    """The raw IDX bytes of ``path``, decompressed if it is gzip (recognised by its magic bytes)."""
    data = path.read_bytes()
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt or truncated gzip file ({e})") from None


def verified_content(path: Path, spec: FileSpec, dataset: str) -> bytes:
    """The raw content of one dataset file after checking its size and SHA-256.

    Parameters
    ----------
    path : Path
        The file, raw or gzip.
    spec : FileSpec
        What it must be.
    dataset : str
        The dataset's name, for the message of the :class:`DatasetError` (or :class:`OtherDatasetError`
        when the file is another dataset's) raised on a mismatch.
    """
    content = _read_content(path)
    if len(content) != spec.size:
        raise DatasetError(f"{path}: {len(content)} bytes uncompressed, expected {spec.size} for {dataset}'s "
                           f"{spec.name} (truncated or not the right file); delete it to download it again")
    digest = hashlib.sha256(content).hexdigest()
    if digest != spec.sha256:
        message = f"{path}: SHA-256 {digest} does not match {dataset}'s {spec.name}, expected {spec.sha256}"
        other = [f"{d.name}'s {f.name}" for d in DATASETS.values() for f in d.files.values() if f.sha256 == digest]
        if other:
            raise OtherDatasetError(f"{message} (it is {other[0]})")
        raise DatasetError(f"{message} (corrupt or not the right file); delete it to download it again")
    return content


def parse_idx(content: bytes, source: str = "IDX data") -> np.ndarray:
    """Parse IDX bytes (big-endian header: 0, 0, type 0x08 = uint8, ndim; then ndim uint32 sizes) to uint8.

    Parameters
    ----------
    content : bytes
        The uncompressed IDX file content.
    source : str, default "IDX data"
        How error messages name the data (e.g. the file's path).

    Returns
    -------
    numpy.ndarray
        uint8 array of the shape in the header (1 to 4 dimensions), a copy that owns its memory.

    Raises
    ------
    DatasetError
        If the magic is not that of a uint8 IDX array of 1 to 4 dimensions, the header is truncated,
        or the length does not match the header's shape.
    """
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] != 0x08 or not 1 <= content[3] <= 4:
        raise DatasetError(f"{source}: not an IDX file of uint8 (magic {content[:4].hex()}, "
                           f"expected 00000801 for labels or 00000803 for images)")
    ndim = content[3]
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DatasetError(f"{source}: IDX header truncated ({len(content)} bytes, expected at least {header})")
    shape = tuple(int(n) for n in np.frombuffer(content, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape))
    if len(content) != expected:
        raise DatasetError(f"{source}: {len(content)} bytes, expected {expected} for an IDX array of shape {shape}")
    return np.frombuffer(content, np.uint8, offset=header).reshape(shape).copy()


# ---------------------------------------------------------------------------------------------- finding
def cache_dir() -> Path:
    """Where downloads go: ``~/.cache/fastopt``."""
    return Path.home() / ".cache" / "fastopt"


def search_dirs(spec: DatasetSpec, path=None, path_only: bool = False) -> list[Path]:
    """The folders searched for ``spec``'s files, in order.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset; its ``folders`` are tried in each place.
    path : path-like, optional
        A place searched first.  Then come ``$FASTOPT_DATA`` (if set and not empty), :func:`cache_dir`
        and :data:`SYSTEM_DIR`.
    path_only : bool, default False
        Search ``path`` alone (a path the user named must not be silently replaced by another place).

    Returns
    -------
    list of pathlib.Path
        For each place in turn, ``place/<folder>`` for each of ``spec.folders``, then ``place`` itself.
        The folders need not exist.
    """
    if path_only:
        if path is None:
            raise ValueError("path_only: needs a path to search")
        roots = [Path(path)]
    else:
        roots = [Path(p) for p in (path, os.environ.get("FASTOPT_DATA")) if p] + [cache_dir(), SYSTEM_DIR]
    return [d for root in roots for d in [*(root / f for f in spec.folders), root]]


def _file_in(folder: Path, spec: FileSpec) -> Path | None:
    for name in (spec.name + ".gz", spec.name):
        if (folder / name).is_file():
            return folder / name
    return None


def find_files(spec: DatasetSpec, path=None, path_only: bool = False):
    """Yield, for each searched folder holding all of ``spec``'s files, their paths by role.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset whose files are sought.
    path : path-like, optional
        A place searched first (see :func:`search_dirs`).
    path_only : bool, default False
        Search ``path`` alone.

    Yields
    ------
    dict of str to pathlib.Path
        Role -> file, ``<name>.gz`` preferred over the raw ``<name>``, in the order of
        :func:`search_dirs`.  The files are not verified here.
    """
    for folder in search_dirs(spec, path, path_only):
        found = {role: _file_in(folder, f) for role, f in spec.files.items()}
        if all(found.values()):
            yield found


# ---------------------------------------------------------------------------------------------- downloading
def _fetch(url: str, dest: Path, progress: bool) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        total = response.headers.get("Content-Length") if response.headers else None
        with tqdm(total=int(total) if total else None, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
                  disable=not progress, leave=False) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
        if total and out.tell() != int(total):
            raise urllib.error.ContentTooShortError(f"got {out.tell()} of {total} bytes", None)


def _download_file(urls: list[str], dest: Path, spec: FileSpec, dataset: str, retries: int, backoff: float,
                   progress: bool) -> None:
    errors = []
    for url in urls:
        for attempt in range(1, retries + 1):
            try:
                with atomic_write(dest) as tmp:
                    _fetch(url, tmp, progress)
                    verified_content(tmp, spec, dataset)  # before the rename: never cache a bad file
                return
            except (OSError, EOFError, ValueError) as e:  # URLError, timeouts, DatasetError
                errors.append(f"{url} (try {attempt}): {e}")
                if attempt < retries:
                    time.sleep(backoff * attempt)
    raise DatasetError(f"could not download {dataset}'s {spec.name} into {dest}:\n  " + "\n  ".join(errors))


def download(spec: DatasetSpec, folder: Path | None = None, retries: int = 3, progress: bool = True,
             backoff: float = 1.0) -> dict[str, Path]:
    """Download ``spec``'s files into ``folder`` (default ``~/.cache/fastopt/<name>``); return their paths.

    Each file is fetched into a temporary file, verified (size and SHA-256 of the uncompressed
    content) and only then renamed into place.  A file already there is fetched again only if invalid.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset to download; its ``mirrors`` are tried in order.
    folder : path-like, optional
        Where the files go, as ``<name>.gz``; default ``~/.cache/fastopt/<spec.name>``.
    retries : int, default 3
        Tries per mirror and file.
    progress : bool, default True
        Show a tqdm progress bar while fetching.
    backoff : float, default 1.0
        Seconds: after the failed try number ``attempt`` of a mirror, wait ``backoff * attempt``.

    Returns
    -------
    dict of str to pathlib.Path
        Role -> ``folder/<name>.gz``.

    Raises
    ------
    DatasetError
        If a file could not be fetched and verified from any mirror; the message lists every try's error.
    """
    folder = Path(folder) if folder is not None else cache_dir() / spec.name
    created = [d for d in (folder, *folder.parents) if not d.exists()]  # removed again if nothing lands there
    paths = {}
    try:
        for role, f in spec.files.items():
            dest = paths[role] = folder / (f.name + ".gz")
            try:
                verified_content(dest, f, spec.name)
            except (OSError, DatasetError):  # missing or invalid
                _download_file([base + f.name + ".gz" for base in spec.mirrors], dest, f, spec.name, retries,
                               backoff, progress)
    except BaseException:
        for d in created:  # innermost first; a folder holding anything stays
            try:
                d.rmdir()
            except OSError:
                break
        raise
    return paths


# ---------------------------------------------------------------------------------------------- loading
