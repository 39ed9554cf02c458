"""The CUDA kernels (fastopt._cuda) against the CPU kernels, on a GPU.

Every optimizer and option of tests/optim_cases.py runs 50 steps on CuPy arrays and on NumPy copies of
them; the params must agree to 1e-12 (float64) and 1e-6 (float32).  Skipped where fastopt was built
without CUDA, CuPy is missing or no GPU is visible.
"""
from __future__ import annotations

import warnings

import fastopt
import numpy as np
import pytest
from optim_cases import CASES, problem

with warnings.catch_warnings():  # an optional library's import-time notices are not fastopt's warnings
    warnings.simplefilter("ignore")
    cp = pytest.importorskip("cupy", reason="CuPy is not installed: the GPU tests need it")
try:
    from fastopt import _cuda
except ImportError:
    pytest.skip("fastopt was built without CUDA (-Ccmake.define.FASTOPT_CUDA=ON)", allow_module_level=True)
if _cuda.device_count() == 0:
    pytest.skip("no CUDA device is visible", allow_module_level=True)

TOL = {np.float64: 1e-12, np.float32: 1e-6}
GPU_CASES = [c for c in CASES if c.lookahead is None]  # Lookahead keeps its slow weights on the host
SHAPES = ((0,), (1,), (15,), (16,), (17,), (3, 5), (2 * 65536 + 5,))  # the last: three device chunks and a tail


def assert_close(got, want, dtype, name="") -> None:
    """Within TOL; float32 Lion may flip the sign of a few near-zero elements (as in tests/optim_cases.py)."""
    tol = TOL[dtype]
    if name == "Lion" and dtype == np.float32:
        off = ~np.isclose(got, want, rtol=tol, atol=tol)
        assert off.sum() <= max(1, off.size // 1000), f"{off.sum()} of {off.size} elements differ"
        return
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def run_both(make, params0, grads, **step_options):
    """The params after stepping ``make(params)`` over ``grads`` on the host and on the GPU."""
    host = [p.copy() for p in params0]
    gpu = [cp.asarray(p) for p in params0]
    host_opt, gpu_opt = make(host), make(gpu)
    for g in grads:
        host_opt.step(g, **step_options)
        gpu_opt.step([cp.asarray(a) for a in g], **step_options)
    return host, [cp.asnumpy(p) for p in gpu], gpu_opt


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", GPU_CASES, ids=[c.id for c in GPU_CASES])
def test_gpu_matches_cpu_kernel(case, dtype):
    params0, grads = problem(SHAPES, dtype)
    host, gpu, opt = run_both(case.make, params0, grads)
    for h, d in zip(host, gpu):
        assert_close(d, h, dtype, case.name)
    for arrays in opt.state[0].slots.values():
        assert all(isinstance(a, cp.ndarray) for a in arrays)


@pytest.mark.parametrize("options", [dict(clip_grad_norm=0.5), dict(clip_grad_value=0.3), dict(grad_scale=8.0),
                                     dict(clip_grad_norm=2.0, clip_grad_value=0.5, grad_scale=4.0)])
@pytest.mark.parametrize("name, kwargs", [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
                                          ("Lion", dict(lr=1e-3, cautious=True))])
def test_step_options_match_cpu(name, kwargs, options):
    params0, grads = problem(SHAPES, np.float64)
    host, gpu, _ = run_both(lambda p: getattr(fastopt, name)(p, **kwargs), params0, grads, **options)
    for h, d in zip(host, gpu):
        assert_close(d, h, np.float64)


def test_grad_norm_and_skip_nonfinite():
    params0, grads = problem(SHAPES, np.float32, steps=3)
    host, gpu = [p.copy() for p in params0], [cp.asarray(p) for p in params0]
    host_opt, gpu_opt = fastopt.Adam(host), fastopt.Adam(gpu)
    for g in grads:
        want = host_opt.step(g, clip_grad_norm=1.0)
        got = gpu_opt.step([cp.asarray(a) for a in g], clip_grad_norm=1.0)
        assert got == pytest.approx(want, rel=1e-12)
    bad = [cp.asarray(a) for a in grads[0]]
    bad[-1][7] = cp.nan
    before = [p.copy() for p in gpu]
    assert not np.isfinite(gpu_opt.step(bad, skip_nonfinite=True))
    assert gpu_opt.skipped_steps == 1
    for b, p in zip(before, gpu):
        assert cp.array_equal(b, p)


def test_many_tiny_tensors_and_mixed_dtypes():
    rng = np.random.default_rng(1)
    shapes = [(int(n),) for n in rng.integers(0, 40, size=2000)]
    params0 = [rng.standard_normal(s).astype(np.float32 if i % 3 else np.float64) for i, s in enumerate(shapes)]
    grads = [[rng.standard_normal(p.shape).astype(p.dtype) for p in params0] for _ in range(5)]
    host, gpu, _ = run_both(lambda p: fastopt.AdamW(p, lr=0.01), params0, grads)
    for h, d in zip(host, gpu):
        assert_close(d, h, h.dtype.type)


def test_unaligned_views_and_skipped_params():
    """Params that start 4 bytes into their buffer take the scalar path; a None grad leaves its param alone."""
    base = cp.asarray(np.random.default_rng(2).standard_normal(1001).astype(np.float32))
    params = [base[1:], cp.ones(64, cp.float32)]
    first = float(base[0])
    host = [cp.asnumpy(p) for p in params]
    gpu_opt, host_opt = fastopt.Adam(params, lr=0.1), fastopt.Adam(host, lr=0.1)
    g = [np.full(1000, 0.5, np.float32), np.ones(64, np.float32)]
    for step in range(4):
        gg = [g[0], None] if step % 2 else g
        host_opt.step(gg)
        gpu_opt.step([None if a is None else cp.asarray(a) for a in gg])
    for h, d in zip(host, params):
        assert_close(cp.asnumpy(d), h, np.float32)
    assert float(base[0]) == first  # the element before the view is untouched


def test_state_dict_copies_on_the_device():
    params = [cp.ones(10, cp.float32)]
    opt = fastopt.Adam(params)
    opt.step([cp.ones(10, cp.float32)])
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"][0]
    assert isinstance(saved, cp.ndarray) and saved.data.ptr != opt.state[0]["exp_avg"][0].data.ptr


def snapshot(params, opt):
    return [cp.asnumpy(p) for p in params] + [cp.asnumpy(a) for s in opt.state for v in s.slots.values() for a in v]


@pytest.mark.parametrize("bad, error, match", [
    (lambda g: [np.asarray(cp.asnumpy(g[0]))] + g[1:], TypeError, "host memory|CUDA array"),
    (lambda g: [g[0].astype(cp.float64)] + g[1:], TypeError, "dtype"),
    (lambda g: [g[0][::2]] + g[1:], ValueError, "shape|contiguous"),
    (lambda g: [g[0], cp.zeros((4, 8), cp.float32)[:, :4]], ValueError, "C-contiguous"),
    (lambda g: g[:1], ValueError, "arrays for"),
])
def test_bad_grads_leave_everything_untouched(bad, error, match):
    params = [cp.ones(32, cp.float32), cp.ones((4, 4), cp.float32)]
    other = [cp.ones(3, cp.float32)]
    opt = fastopt.Adam([{"params": params}, {"params": other}])
    good = [cp.full(32, 0.1, cp.float32), cp.full((4, 4), 0.1, cp.float32)]
    opt.step(good + [cp.ones(3, cp.float32)])
    before = snapshot(params + other, opt)
    with pytest.raises(error, match=match):
        opt.step(bad(good) + [cp.ones(3, cp.float32)])
    for b, a in zip(before, snapshot(params + other, opt)):
        np.testing.assert_array_equal(a, b)


def test_host_and_device_params_in_one_group_are_refused():
    host, gpu = np.ones(3, np.float32), cp.ones(3, cp.float32)
    with pytest.raises(ValueError, match="mixes host and CUDA arrays"):
        fastopt.Adam([host, gpu])
    with pytest.raises(ValueError, match="shares memory"):
        fastopt.Adam([gpu, gpu[1:]])
    with pytest.raises(TypeError, match="dtype"):
        fastopt.Adam([cp.ones(3, cp.int32)])
    assert float(gpu.sum()) == 3.0 and float(host.sum()) == 3.0


def test_lookahead_on_the_gpu_is_refused_untouched():
    params = [cp.ones(8, cp.float32)]
    opt = fastopt.Lookahead(fastopt.Adam(params, lr=0.1))
    with pytest.raises(TypeError, match="Lookahead: params on a GPU are not supported"):
        opt.step([cp.ones(8, cp.float32)])
    assert float(params[0].sum()) == 8.0


def test_torch_cuda_tensors():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device")
    params0, grads = problem(((3, 5), (17,)), np.float32, steps=20)
    params = [torch.nn.Parameter(torch.tensor(p, device="cuda")) for p in params0]
    host = [p.copy() for p in params0]
    opt, host_opt = fastopt.Adam(params, lr=0.01), fastopt.Adam(host, lr=0.01)
    for g in grads:
        host_opt.step(g)
        opt.step([torch.tensor(a, device="cuda") for a in g])
    assert isinstance(opt.state[0]["exp_avg"][0], torch.Tensor) and opt.state[0]["exp_avg"][0].is_cuda
    for h, d in zip(host, params):
        assert_close(d.detach().cpu().numpy(), h, np.float32)
