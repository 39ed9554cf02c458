"""Shared fixtures of the test suite."""
import numpy as np
import pytest

import fastopt
from fastopt import datasets
from mnist_data import MNIST_DIR


@pytest.fixture
def num_threads():
    """Lets a test change fastopt's thread count and restores it afterwards."""
    before = fastopt.get_num_threads()
    yield fastopt.set_num_threads
    fastopt.set_num_threads(before)


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST, loaded once for the whole session (tests using it are marked needs_mnist)."""
    return datasets.load_mnist(MNIST_DIR, download_missing=False)


@pytest.fixture
def served_mnist(monkeypatch, mnist):
    """Every dataset load (of the studies, the CLI) returns the MNIST already loaded."""
    monkeypatch.setattr(datasets, "load", lambda name, path=None, progress=True, **kwargs: mnist)
    return mnist


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
