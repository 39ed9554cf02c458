"""fastopt.datasets: IDX parsing, checksums, search order, validation split and downloads (never from the network).

The real MNIST files come from $FASTOPT_DATA (default ../shared/datasets/mnist, as in CI); small fake
datasets made here test the error paths and the download.
"""
import gzip
import hashlib
import io
import struct
from pathlib import Path

import numpy as np
import pytest

from fastopt import dataset_files, datasets
from fastopt.datasets import DatasetError, DatasetSpec, FileSpec, parse_idx
from mnist_data import MNIST_DIR, needs_mnist



def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def fake_dataset(folder: Path, n_train=12, n_test=5, seed=0, gz=True, mirrors=()) -> DatasetSpec:
    """Write a tiny IDX dataset into ``folder`` and return a spec whose checksums describe it."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8)}
    files = {}
    folder.mkdir(parents=True, exist_ok=True)
    for role, (name, a) in zip(("train_images", "train_labels", "test_images", "test_labels"), arrays.items()):
        content = idx_bytes(a)
        (folder / (name + ".gz" if gz else name)).write_bytes(gzip.compress(content) if gz else content)
        files[role] = FileSpec(name, len(content), hashlib.sha256(content).hexdigest())
    return DatasetSpec("fake", ("fake",), files, tuple(mirrors), tuple("0123456789"))


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake dataset registered as 'fake', nothing else reachable (HOME and the system folder are empty)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FASTOPT_DATA", raising=False)
    monkeypatch.setattr(dataset_files, "SYSTEM_DIR", tmp_path / "system")
    spec = fake_dataset(tmp_path / "data")
    monkeypatch.setitem(datasets.DATASETS, "fake", spec)
    return spec, tmp_path / "data"


# ---------------------------------------------------------------------------------------------- real MNIST
@needs_mnist
def test_real_mnist_shapes_dtypes_and_known_labels(mnist):
    assert mnist.train.images.shape == (60000, 28, 28) and mnist.train.images.dtype == np.uint8
    assert mnist.test.images.shape == (10000, 28, 28) and mnist.test.labels.dtype == np.uint8
    assert mnist.validation is None
    assert mnist.test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the well-known first test digits
    assert mnist.train.labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(mnist.train.labels).tolist()[:3] == [5923, 6742, 5958]


@needs_mnist
def test_float_view_is_scaled_float32(mnist):
    x = mnist.test.x
    assert x.dtype == np.float32 and x.shape == (10000, 784) and x.flags.c_contiguous
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.array_equal(x[3].reshape(28, 28) * 255, mnist.test.images[3].astype(np.float32))
    assert mnist.test.x is x  # computed once
    assert mnist.test.y.dtype == np.int64 and np.array_equal(mnist.test.y, mnist.test.labels)


@needs_mnist
def test_fashion_mnist_is_not_taken_from_a_folder_holding_mnist(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(dataset_files, "SYSTEM_DIR", tmp_path / "none")
    with pytest.raises(DatasetError, match=r"not found.*\n  skipped .*it is mnist's train-images"):
        datasets.load_fashion_mnist(MNIST_DIR, download_missing=False)


FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not FASHION_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_from_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # no cache: the system folder must be found and checksummed
    monkeypatch.delenv("FASTOPT_DATA", raising=False)
    data = datasets.load_fashion_mnist(download_missing=False, progress=False)
    assert data.train.images.shape == (60000, 28, 28) and data.test.images.shape == (10000, 28, 28)
    assert np.array_equal(np.bincount(data.train.labels), np.full(10, 6000))  # balanced classes
    assert np.array_equal(np.bincount(data.test.labels), np.full(10, 1000))


# ---------------------------------------------------------------------------------------------- parsing
def test_parse_idx_roundtrip_and_bad_headers():
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(parse_idx(idx_bytes(a)), a)
    with pytest.raises(DatasetError, match="x.idx: not an IDX file of uint8 .*magic 00000d03"):
        parse_idx(b"\x00\x00\x0d\x03" + bytes(20), "x.idx")
    with pytest.raises(DatasetError, match=r"y.idx: 39 bytes, expected 40 for an IDX array of shape \(2, 3, 4\)"):
        parse_idx(idx_bytes(a)[:-1], "y.idx")


@pytest.mark.parametrize("gz", [True, False])
def test_loads_gzip_or_raw_files(fake, tmp_path, gz):
    spec = fake_dataset(tmp_path / "other", gz=gz)
    datasets.DATASETS["fake"] = spec
    data = datasets.load("fake", tmp_path / "other", download_missing=False)
    assert data.train.images.shape == (12, 28, 28) and len(data.test) == 5


def test_checksum_mismatch_names_the_file_and_the_expected_hash(fake):
    spec, folder = fake
    path = folder / "train-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[-1] ^= 1  # same size, one bit flipped
    path.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(DatasetError, match=f"{path}: SHA-256 .* expected {spec.files['train_labels'].sha256}"):
        datasets.load("fake", folder, download_missing=False)


def test_truncated_gzip_is_reported_by_name(fake):
    _, folder = fake
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DatasetError, match=f"{path}: corrupt or truncated gzip"):
        datasets.load("fake", folder, download_missing=False)


def test_wrong_size_says_what_was_expected(fake):
    spec, folder = fake
    path = folder / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))))
    with pytest.raises(DatasetError, match=f"{path}: 12 bytes uncompressed, expected {spec.files['test_labels'].size}"):
        datasets.load("fake", folder, download_missing=False)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'; choose from mnist, fashion_mnist"):
        datasets.load("cifar")


# ---------------------------------------------------------------------------------------------- validation split
def test_validation_split_is_seeded_disjoint_and_complete(fake):
    _, folder = fake
    full = datasets.load("fake", folder, download_missing=False)
    a = datasets.load("fake", folder, validation=4, seed=3, download_missing=False)
    b = datasets.load("fake", folder, validation=4, seed=3, download_missing=False)
    c = datasets.load("fake", folder, validation=4, seed=4, download_missing=False)
    assert len(a.validation) == 4 and len(a.train) == 8
    assert np.array_equal(a.validation.images, b.validation.images)
    assert not np.array_equal(a.validation.images, c.validation.images)
    # together they are the original train split, each keeping the file order
    rows = {img.tobytes(): i for i, img in enumerate(full.train.images)}
    train_rows = [rows[img.tobytes()] for img in a.train.images]
    val_rows = [rows[img.tobytes()] for img in a.validation.images]
    assert sorted(train_rows + val_rows) == list(range(12))
    assert train_rows == sorted(train_rows) and val_rows == sorted(val_rows)
    assert np.array_equal(a.test.images, full.test.images)
    assert len(datasets.load("fake", folder, validation=0.25, download_missing=False).validation) == 3


@pytest.mark.parametrize("bad", [-1, 12, 1.0, "5", True])
def test_bad_validation(fake, bad):
    with pytest.raises(ValueError, match="validation"):
        datasets.load("fake", fake[1], validation=bad, download_missing=False)


# ---------------------------------------------------------------------------------------------- search order
def test_search_order_path_env_cache_system(fake, tmp_path, monkeypatch):
    places = {"path": tmp_path / "p", "env": tmp_path / "env", "cache": tmp_path / "home" / ".cache" / "fastopt",
              "system": tmp_path / "system"}
    monkeypatch.setenv("FASTOPT_DATA", str(places["env"]))
    # each place holds a different valid dataset; its spec's checksums accept only that one
    specs = {label: fake_dataset(root / "fake", seed=10 + i) for i, (label, root) in enumerate(places.items())}
    for label, root in places.items():
        datasets.DATASETS["fake"] = specs[label]
        assert next(datasets.find_files(specs[label], places["path"]))["test_labels"].parent == root / "fake"
        assert len(datasets.load("fake", places["path"], download_missing=False).train) == 12
        (root / "fake" / "train-images-idx3-ubyte.gz").unlink()  # this place is now incomplete: the next one is used


def test_files_directly_in_the_place_are_found_after_the_dataset_folder(fake, tmp_path):
    spec, folder = fake  # the fixture's files lie directly in tmp_path / "data"
    assert next(datasets.find_files(spec, folder))["train_images"] == folder / "train-images-idx3-ubyte.gz"
    nested = fake_dataset(folder / "fake", seed=7)
    assert next(datasets.find_files(nested, folder))["train_images"] == folder / "fake" / "train-images-idx3-ubyte.gz"


def test_nothing_found_without_download_lists_the_places(fake, tmp_path):
    with pytest.raises(DatasetError, match="not found in any of: .*" + str(tmp_path / "system")):
        datasets.load("fake", tmp_path / "empty", download_missing=False)


# ---------------------------------------------------------------------------------------------- downloads
@pytest.fixture
def mirror(fake, tmp_path, monkeypatch):
    """The fake dataset served from a file:// mirror; its spec downloads into the (empty) cache."""
    spec, folder = fake
    spec = DatasetSpec("fake", spec.folders, spec.files, (folder.as_uri() + "/",), spec.classes)
    monkeypatch.setitem(datasets.DATASETS, "fake", spec)
    monkeypatch.setattr(dataset_files.time, "sleep", lambda s: None)
    return spec, tmp_path / "home" / ".cache" / "fastopt" / "fake"


def test_download_from_mirror_into_cache_then_reuse(mirror, tmp_path):
    spec, cache = mirror
    data = datasets.load("fake", tmp_path / "empty", progress=False)
    assert len(data.train) == 12
    assert sorted(p.name for p in cache.iterdir()) == sorted(f.name + ".gz" for f in spec.files.values())
    # second time: found in the cache, no download (the mirror is gone)
    datasets.DATASETS["fake"] = DatasetSpec("fake", spec.folders, spec.files, ("file:///nonexistent/",), spec.classes)
    assert np.array_equal(datasets.load("fake", tmp_path / "empty", progress=False).train.images, data.train.images)


class Interrupted(io.RawIOBase):
    """A response that delivers some bytes and then loses the connection."""

    headers = {"Content-Length": "1000000"}

    def __init__(self, payload: bytes):
        self.stream = io.BytesIO(payload[:len(payload) // 2])

    def read(self, n=-1):
        chunk = self.stream.read(n)
        if not chunk:
            raise ConnectionResetError("connection reset by peer")
        return chunk


def test_interrupted_download_retries_and_leaves_no_corrupt_cache(mirror, tmp_path, monkeypatch):
    spec, cache = mirror
    calls = []

    def flaky_urlopen(url, timeout):
        calls.append(url)
        return Interrupted(b"\x1f\x8b" + bytes(5000))

    monkeypatch.setattr(dataset_files.urllib.request, "urlopen", flaky_urlopen)
    with pytest.raises(DatasetError, match=r"(?s)could not download fake's train-images-idx3-ubyte.*\n.*try 3.*reset"):
        datasets.load("fake", tmp_path / "empty", progress=False)
    assert len(calls) == 3  # the retries
    assert not cache.exists() or list(cache.iterdir()) == []  # no partial file, no temporary left behind


def test_download_failing_checksum_is_not_cached(mirror, tmp_path):
    spec, cache = mirror
    bad = FileSpec(spec.files["train_images"].name, spec.files["train_images"].size, "0" * 64)
    datasets.DATASETS["fake"] = DatasetSpec("fake", spec.folders, {**spec.files, "train_images": bad}, spec.mirrors,
                                            spec.classes)
    with pytest.raises(DatasetError, match="SHA-256 .* expected 0000"):
        datasets.load("fake", tmp_path / "empty", progress=False)
    assert not (cache / "train-images-idx3-ubyte.gz").exists()
    # no temporary file left, and no folder that holds nothing (the failed download created it)
    assert not cache.exists() or [p.name for p in cache.iterdir() if p.name.startswith(".")] == []
    assert not cache.exists() or any(cache.iterdir())


def test_download_replaces_a_corrupt_cached_file(mirror, tmp_path):
    spec, cache = mirror
    cache.mkdir(parents=True)
    (cache / "train-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    assert len(datasets.download(spec, progress=False)) == 4
    assert len(datasets.load("fake", tmp_path / "empty", download_missing=False).train) == 12
