"""Shared fixtures of the test suite."""
import numpy as np
import pytest

import fastopt


@pytest.fixture
def num_threads():
    """Lets a test change fastopt's thread count and restores it afterwards."""
    before = fastopt.get_num_threads()
    yield fastopt.set_num_threads
    fastopt.set_num_threads(before)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
