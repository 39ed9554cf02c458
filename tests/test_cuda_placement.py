"""What needs no GPU of the CUDA support: host and CUDA arrays are never mixed in a group (refused before
anything is touched), a build without CUDA says how to get one, build_info reports CUDA, and
``import fastopt`` imports neither CuPy nor torch.  The CUDA arrays here are stand-ins: host memory behind
a ``__cuda_array_interface__``, which no kernel is ever given."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import fastopt
import numpy as np
import pytest
from fastopt.optim import device

HAVE_CUDA_MODULE = importlib.util.find_spec("fastopt._cuda") is not None


class StandIn:
    """An object that says it is a CUDA array (its memory is a NumPy array's)."""

    def __init__(self, a: np.ndarray):
        self.a = a

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.a.shape, "typestr": self.a.dtype.str, "data": (self.a.ctypes.data, False),
                "version": 3, "strides": None}


def test_stand_in_is_taken_for_a_cuda_array():
    assert device.is_cuda_array(StandIn(np.ones(2)))
    assert not device.is_cuda_array(np.ones(2))


def test_a_group_mixing_host_and_cuda_arrays_is_refused():
    host = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="mixes host and CUDA arrays.*param '0'.*param '1'"):
        fastopt.Adam([host, StandIn(np.ones(4, np.float32))])
    with pytest.raises(ValueError, match="mixes host and CUDA arrays"):
        fastopt.SGD([{"params": {"w": StandIn(np.ones(2)), "b": np.ones(2)}}], lr=0.1)
    np.testing.assert_array_equal(host, 1.0)


def test_cuda_grads_for_host_params_are_refused_untouched():
    params = [np.ones(4, np.float32), np.ones(3, np.float32)]
    opt = fastopt.Adam(params, lr=0.1)
    opt.step([np.ones(4, np.float32), np.ones(3, np.float32)])
    before = [p.copy() for p in params] + [a.copy() for v in opt.state[0].slots.values() for a in v]
    with pytest.raises(TypeError, match="grad for param '1': a CUDA array, but the param is a host"):
        opt.step([np.ones(4, np.float32), StandIn(np.ones(3, np.float32))])
    after = params + [a for v in opt.state[0].slots.values() for a in v]
    for b, a in zip(before, after):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(HAVE_CUDA_MODULE, reason="this build has fastopt._cuda")
def test_a_build_without_cuda_says_how_to_build_one():
    with pytest.raises(TypeError, match="built without CUDA.*FASTOPT_CUDA=ON"):
        fastopt.Adam([StandIn(np.ones(4, np.float32))])


@pytest.mark.skipif(not HAVE_CUDA_MODULE, reason="this build has no fastopt._cuda")
def test_host_memory_behind_a_cuda_interface_is_refused():
    with pytest.raises(ValueError, match="points to host memory"):
        fastopt.Adam([StandIn(np.ones(4, np.float32))])


def test_build_info_reports_cuda():
    info = fastopt.build_info()
    assert info["cuda"] == HAVE_CUDA_MODULE
    if info["cuda"]:
        from fastopt import _cuda
        assert info["cuda_version"] == _cuda.cuda_version and info["cuda_architectures"] == _cuda.architectures
        assert all(a.strip().isdigit() for a in info["cuda_architectures"].split(","))
    else:
        assert info["cuda_version"] is None and info["cuda_architectures"] is None


def test_state_of_host_params_is_made_by_numpy():
    assert isinstance(device.full_like(np.ones(3, np.float32), 0.5), np.ndarray)
    with pytest.raises(TypeError, match="CuPy and torch only"):
        device.full_like(StandIn(np.ones(3)), 0.0)


def test_import_fastopt_imports_no_cupy_or_torch():
    code = ("import sys, numpy as np, fastopt; o = fastopt.Adam([np.ones(3)]); o.step([np.ones(3)]); "
            "print(sorted(m for m in ('cupy', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
