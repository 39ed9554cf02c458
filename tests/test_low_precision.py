"""bfloat16/float16 params, bfloat16 state and stochastic rounding (fastopt.optim.precision, the mixed driver
common/mixed_precision.hpp): each against the float32 kernel run on the up-converted values and then rounded
with ml_dtypes' (or NumPy's) conversion, which must agree bit for bit under round-to-nearest-even."""
import numpy as np
import pytest

import fastopt
from fastopt import _core
from fastopt.optim import precision
from fastopt.optim.state import new_slots
from optim_cases import ONE_PER_OPTIMIZER, Case

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)
SIZES = (1, 17, 1025, 20_000)  # one element, a tail, four tiles plus one, two chunks (and threads)
STEPS = 12
# Every optimizer whose step is one per-element rule (not Muon/Adafactor, not wrapped in Lookahead).
MIXED = [c for c in ONE_PER_OPTIMIZER if c.lookahead is None and issubclass(getattr(fastopt, c.name), fastopt.Optimizer)
         and precision.supports(getattr(fastopt, c.name).spec)]
# and the cautious rescale, whose counting pass runs over the same float32 tiles
MIXED += [Case("Adam", dict(lr=0.01, cautious=True, amsgrad=True)), Case("Lion", dict(lr=1e-3, cautious=True))]


def special_values():
    """float32 values around every rounding boundary: ties, subnormals, the largest finite, infinities, NaN."""
    rng = np.random.default_rng(0)
    normal = rng.standard_normal(5000).astype(np.float32) * np.float32(10.0) ** rng.integers(-30, 30, 5000)
    ties = (rng.integers(0, 2**16, 2000, dtype=np.uint32) << 16 | 0x8000).view(np.float32)  # exactly halfway
    edges = np.array([0.0, -0.0, 1e-40, -1e-40, 1e-45, 3.4e38, -3.4e38, np.inf, -np.inf, 65504, 65520, 6e-8],
                     np.float32)
    finite = np.concatenate([normal, ties[np.isfinite(ties)], edges])
    return finite


@pytest.mark.parametrize("portable", [True, False], ids=["portable", "build"])
def test_bfloat16_rounding_matches_ml_dtypes(portable):
    x = special_values()
    if not portable and _core.precision.bfloat16_conversion == "avx512bf16":
        x = x[(np.abs(x) >= np.finfo(np.float32).tiny) | (x == 0)]  # the instruction reads subnormals as zero
    got = _core.precision.bfloat16_bits(x, portable)
    np.testing.assert_array_equal(got, x.astype(BF16).view(np.uint16))
    nan = _core.precision.bfloat16_bits(np.array([np.nan, -np.nan], np.float32), portable)
    assert np.isnan(nan.view(BF16).astype(np.float32)).all()


def test_build_info_names_the_bfloat16_conversion():
    assert fastopt.build_info()["bfloat16_conversion"] in ("avx512bf16", "portable")
    assert fastopt.build_info()["bfloat16_conversion"] == _core.precision.bfloat16_conversion


def test_float16_rounding_matches_numpy():
    x = special_values()
    with np.errstate(over="ignore"):
        want = x.astype(np.float16).view(np.uint16)
    np.testing.assert_array_equal(_core.precision.float16_bits(x), want)


def low_precision_problem(dtype, size, seed=0):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(size).astype(dtype)
    grads = [rng.standard_normal(size).astype(dtype) for _ in range(STEPS)]
    return start, grads


def rounded(a, dtype):
    return a.astype(dtype).astype(np.float32)


@pytest.mark.parametrize("dtype", [BF16, np.dtype(np.float16)], ids=["bfloat16", "float16"])
@pytest.mark.parametrize("case", MIXED, ids=[c.id for c in MIXED])
def test_low_precision_params_equal_the_float32_kernel_then_rounded(case, dtype):
    """fp32 state: each step is the float32 kernel on the widened param and grad, the param rounded (RNE)."""
    start, grads = low_precision_problem(dtype, 1025)
    param = start.copy()
    opt = case.make([param])
    want = start.astype(np.float32)
    ref = case.make([want])
    for g in grads:
        opt.step([g])
        ref.step([g.astype(np.float32)])
        want[...] = rounded(want, dtype)
    np.testing.assert_array_equal(param.astype(np.float32), want)
    assert all(a[0].dtype == np.float32 for a in opt.state[0].slots.values())


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("case", MIXED, ids=[c.id for c in MIXED])
def test_master_weights_run_the_float32_kernel(case, size):
    """With a master copy the float32 trajectory is kept exactly; the param is its rounding, every step."""
    start, grads = low_precision_problem(BF16, size)
    param = start.copy()
    opt = case.make([param])
    opt.param_groups[0]["master_weights"] = True
    want = start.astype(np.float32)
    ref = case.make([want])
    for g in grads:
        opt.step([g])
        ref.step([g.astype(np.float32)])
        np.testing.assert_array_equal(param.astype(np.float32), rounded(want, BF16))
    np.testing.assert_array_equal(opt.state[0]["master"][0], want)


@pytest.mark.parametrize("case", MIXED, ids=[c.id for c in MIXED])
def test_bfloat16_state_is_the_float32_state_rounded(case):
    """state_dtype='bfloat16' (RNE): the float32 kernel with its state rounded to bfloat16 after every step."""
    rng = np.random.default_rng(1)
    start = rng.standard_normal(3000).astype(np.float32)
    param, want = start.copy(), start.copy()
    opt, ref = case.make([param]), case.make([want])
    opt.param_groups[0]["state_dtype"] = "bfloat16"
    # The reference's state starts as bfloat16 holds it (Yogi's 1e-6 and Rprop's lr are not bfloat16 values).
    ref.state[0].slots = {k: [rounded(a, BF16) for a in v]
                          for k, v in new_slots(ref.spec, ref.param_groups[0], {}).items()}
    for _ in range(STEPS):
        g = rng.standard_normal(3000).astype(np.float32)
        opt.step([g])
        ref.step([g])
        for arrays in ref.state[0].slots.values():
            arrays[0][...] = rounded(arrays[0], BF16)
    np.testing.assert_array_equal(param, want)
    for name, arrays in ref.state[0].slots.items():
        assert opt.state[0][name][0].dtype == BF16
        np.testing.assert_array_equal(opt.state[0][name][0].astype(np.float32), arrays[0])


def sgd_drift(n, steps, *, stochastic, seed=0, threads=None):
    """bfloat16 params at 1.0 pushed up by 1e-4 a step (an eightieth of their spacing there, 2^-7)."""
    param = np.ones(n, BF16)
    opt = fastopt.SGD([param], lr=1e-4, stochastic_rounding=stochastic, rounding_seed=seed)
    grad = [np.full(n, -1.0, BF16)]
    for _ in range(steps):
        opt.step(grad)
    return param, opt


def test_round_to_nearest_stalls_and_stochastic_rounding_moves():
    nearest, _ = sgd_drift(4096, 500, stochastic=False)
    assert (nearest.astype(np.float32) == 1.0).all()  # each update is below half a spacing: lost every step
    stochastic, _ = sgd_drift(4096, 500, stochastic=True)
    # Unbiased: the mean follows the exact sum 1 + 500 * 1e-4 = 1.05.  Each value is a sum of 500 steps of
    # variance at most (2^-7)^2 / 4, so the mean over 4096 values has a standard deviation below 1.6e-3.
    assert abs(stochastic.astype(np.float64).mean() - 1.05) < 5 * 1.6e-3


def test_stochastic_rounding_is_unbiased_for_one_step():
    """One SGD step to 1 + 0.3 spacings: rounded up with probability 0.3 (binomial bound, 5 sigma)."""
    n, spacing = 200_000, 2.0**-7
    param = np.ones(n, BF16)
    fastopt.SGD([param], lr=1.0, stochastic_rounding=True).step([np.full(n, -0.3 * spacing, BF16)])
    up = (param.astype(np.float32) == np.float32(1 + spacing)).mean()
    assert set(np.unique(param.astype(np.float32))) <= {1.0, np.float32(1 + spacing)}
    assert abs(up - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)


def test_stochastic_rounding_is_reproducible_and_seeded():
    a, _ = sgd_drift(50_000, 20, stochastic=True, seed=7)
    b, _ = sgd_drift(50_000, 20, stochastic=True, seed=7)
    c, _ = sgd_drift(50_000, 20, stochastic=True, seed=8)
    np.testing.assert_array_equal(a.view(np.uint16), b.view(np.uint16))
    assert (a.view(np.uint16) != c.view(np.uint16)).any()


def test_stochastic_rounding_does_not_depend_on_the_thread_count():
    threads = fastopt.get_num_threads()
    try:
        fastopt.set_num_threads(1)
        one, _ = sgd_drift(100_000, 5, stochastic=True)
        fastopt.set_num_threads(2)
        two, _ = sgd_drift(100_000, 5, stochastic=True)
    finally:
        fastopt.set_num_threads(threads)
    np.testing.assert_array_equal(one.view(np.uint16), two.view(np.uint16))


def test_resume_from_state_dict_is_bit_identical():
    rng = np.random.default_rng(3)
    start = rng.standard_normal(40_000).astype(BF16)
    grads = [rng.standard_normal(40_000).astype(BF16) for _ in range(10)]
    kwargs = dict(lr=1e-2, state_dtype="bfloat16", stochastic_rounding=True, rounding_seed=11)
    straight = start.copy()
    opt = fastopt.AdamW([straight], **kwargs)
    for g in grads:
        opt.step([g])
    first = start.copy()
    opt = fastopt.AdamW([first], **kwargs)
    for g in grads[:4]:
        opt.step([g])
    saved, resumed = opt.state_dict(), first.copy()
    again = fastopt.AdamW([resumed], **kwargs)
    again.load_state_dict(saved)
    for g in grads[4:]:
        again.step([g])
    np.testing.assert_array_equal(resumed.view(np.uint16), straight.view(np.uint16))


def test_mixed_dtypes_in_one_group_and_float32_grads():
    """float32, bfloat16 and float16 params side by side; a bfloat16 param may take a float32 grad."""
    rng = np.random.default_rng(4)
    params = [rng.standard_normal(300).astype(t) for t in (np.float32, BF16, np.float16)]
    grads = [rng.standard_normal(300).astype(np.float32) for _ in params]
    want = [p.astype(np.float32) for p in params]
    opt, ref = fastopt.Adam(params, lr=0.1), fastopt.Adam(want, lr=0.1)
    opt.step(grads)
    ref.step(grads)
    for p, w in zip(params, want):
        np.testing.assert_array_equal(p.astype(np.float32), rounded(w, p.dtype))


def test_grad_clipping_and_loss_scale_apply_to_low_precision_grads():
    rng = np.random.default_rng(5)
    start, g = rng.standard_normal(2000).astype(BF16), rng.standard_normal(2000).astype(BF16)
    param, want = start.copy(), start.astype(np.float32)
    fastopt.SGD([param], lr=0.1).step([g], clip_grad_value=0.5, grad_scale=2.0)
    fastopt.SGD([want], lr=0.1).step([g.astype(np.float32)], clip_grad_value=0.5, grad_scale=2.0)
    np.testing.assert_array_equal(param.astype(np.float32), rounded(want, BF16))


def test_clip_grad_norm_reads_the_low_precision_grads():
    rng = np.random.default_rng(6)
    start = rng.standard_normal(3000).astype(BF16)
    grads = [rng.standard_normal(3000).astype(BF16), rng.standard_normal(10).astype(np.float16)]
    params = [start.copy(), rng.standard_normal(10).astype(np.float16)]
    want = [p.astype(np.float32) for p in params]
    norm = fastopt.SGD(params, lr=0.1).step(grads, clip_grad_norm=1.0)
    ref_norm = fastopt.SGD(want, lr=0.1).step([g.astype(np.float32) for g in grads], clip_grad_norm=1.0)
    exact = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
    assert norm == pytest.approx(exact, rel=1e-12) and ref_norm == pytest.approx(exact, rel=1e-6)
    for p, w in zip(params, want):  # the clipping factor may differ in its last float32 bit: one spacing at most
        np.testing.assert_allclose(p.astype(np.float32), rounded(w, p.dtype), rtol=2.0**-7)


def test_bfloat16_state_survives_a_checkpoint_file(tmp_path):
    """fastopt's checkpoints are .npz read without pickle, which gives bfloat16 arrays back as raw 'V2' bytes."""
    from fastopt.checkpoint import load_checkpoint, save_checkpoint
    param = np.random.default_rng(7).standard_normal(5000).astype(np.float32)
    opt = fastopt.Adam([param], state_dtype="bfloat16")
    opt.step([np.ones_like(param)])
    save_checkpoint(tmp_path / "c.npz", {"optimizer": opt.state_dict()})
    again = fastopt.Adam([param.copy()], state_dtype="bfloat16")
    again.load_state_dict(load_checkpoint(tmp_path / "c.npz")["optimizer"])
    for slot in ("exp_avg", "exp_avg_sq"):
        assert again.state[0][slot][0].dtype == BF16
        np.testing.assert_array_equal(again.state[0][slot][0].view(np.uint16), opt.state[0][slot][0].view(np.uint16))
