"""The package's version, build information and thread control."""
import os
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import fastopt


def test_version_matches_pyproject_and_metadata():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert fastopt.__version__ == pyproject["project"]["version"] == version("fastopt")


def test_build_info():
    info = fastopt.build_info()
    assert {"compiler", "flags", "openmp", "num_threads", "simd", "cuda"} <= set(info)
    assert isinstance(info["compiler"], str) and info["compiler"]
    assert isinstance(info["flags"], str)
    assert isinstance(info["openmp"], bool) and isinstance(info["cuda"], bool)
    assert info["num_threads"] == fastopt.get_num_threads() >= 1
    assert info["simd"] in ("AVX-512", "AVX2", "AVX", "SSE4.2", "SSE2", "NEON", "scalar")
    assert "-ffast-math" not in info["flags"] and "-Ofast" not in info["flags"]  # would break NaN/Inf semantics


def test_set_num_threads(num_threads):
    num_threads(1)
    assert fastopt.get_num_threads() == 1
    assert fastopt.build_info()["num_threads"] == 1
    num_threads(2)
    assert fastopt.get_num_threads() == (2 if fastopt.build_info()["openmp"] else 1)


@pytest.mark.parametrize("n", [0, -1])
def test_set_num_threads_rejects_less_than_one(n, num_threads):
    before = fastopt.get_num_threads()
    with pytest.raises(ValueError, match=f"n must be >= 1, got {n}"):
        fastopt.set_num_threads(n)
    assert fastopt.get_num_threads() == before


@pytest.mark.skipif(not fastopt.build_info()["openmp"], reason="a serial build always uses one thread")
def test_omp_num_threads_is_honoured():
    env = {**os.environ, "OMP_NUM_THREADS": "3"}
    out = subprocess.run([sys.executable, "-c", "import fastopt; print(fastopt.get_num_threads())"], env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"


def test_public_api():
    for name in fastopt.__all__:
        assert hasattr(fastopt, name), name
    assert {"SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Lion",
            "Lookahead", "Ranger", "build_info", "set_num_threads", "get_num_threads"} <= set(fastopt.__all__)
