"""8-bit block-quantised optimizer state (state_dtype="int8"; common/quantize.hpp): the codec against a
brute-force nearest search and its error bound, Adam over 1,000 steps against float32 Adam, non-finite values
kept to their block, and state_dict round trips."""
import numpy as np
import pytest

import fastopt
from fastopt import _core
from fastopt.optim import precision

BLOCK = _core.precision.block_size
# 1,000 steps of Adam (lr 1e-3) on N(0.1, 1) gradients, 20,000 params: 8-bit state moves the params 1.2% of
# their RMS distance travelled away from float32 Adam's (RMS over the params), 6% at the worst param
# (measured); the bounds leave a margin.  Documented in README.md, "Low precision".
ADAM_RMS_TOLERANCE, ADAM_MAX_TOLERANCE = 0.03, 0.15


def dynamic_map_reference(signed: bool) -> np.ndarray:
    """bitsandbytes' create_dynamic_map(signed, max_exponent_bits=7, total_bits=8), written out: decade d
    (0..6) has 2^d (signed, each with its negative) or 2^(d+1) midpoints of equal steps of [0.1, 1] x 10^(d-6)."""
    values = [0.0, 1.0]
    for d in range(7):
        count = 2**d if signed else 2 ** (d + 1)
        edges = np.linspace(0.1, 1.0, count + 1)
        means = 10.0 ** (d - 6) * (edges[:-1] + edges[1:]) / 2
        values += list(means) + (list(-means) if signed else [])
    return np.sort(np.array(values, np.float32))


@pytest.mark.parametrize("signed", [True, False])
def test_dynamic_map_is_bitsandbytes(signed):
    np.testing.assert_allclose(_core.precision.dynamic_map(signed), dynamic_map_reference(signed), rtol=1e-6)


def blocks_of(n):
    """n float32 values over eleven decades."""
    rng = np.random.default_rng(0)
    return (rng.standard_normal(n) * 10.0 ** rng.integers(-8, 3, n)).astype(np.float32)


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("n", [1, 255, 256, 257, 5000])
def test_quantize_picks_the_nearest_code_within_the_block_bound(signed, n):
    x = blocks_of(n)
    if not signed:
        x = np.abs(x)
    codes, absmax = _core.precision.quantize(x, signed)
    table = _core.precision.dynamic_map(signed)
    blocks = np.arange(n) // BLOCK
    np.testing.assert_array_equal(absmax, [np.abs(x[blocks == b]).max() for b in range(len(absmax))])
    a = x / absmax[blocks]
    best = np.abs(table[None, :] - a[:, None]).min(axis=1)
    np.testing.assert_allclose(np.abs(table[codes] - a), best, atol=1e-7)  # nearest (ties either way)
    # The bound: half the gap between the map's two entries around x/absmax, times the block's absmax.
    upper = np.clip(np.searchsorted(table, a), 1, 255)
    gap = table[upper] - table[upper - 1]
    error = np.abs(_core.precision.dequantize(codes, absmax, signed) - x)
    assert (error <= (gap / 2 + 1e-6) * absmax[blocks]).all()


def test_quantize_all_zero_and_the_unsigned_map_clamps_negatives():
    codes, absmax = _core.precision.quantize(np.zeros(300, np.float32), True)
    assert (absmax == 0).all() and (_core.precision.dequantize(codes, absmax, True) == 0).all()
    codes, absmax = _core.precision.quantize(np.array([-1.0, 1.0, 0.5], np.float32), False)
    np.testing.assert_allclose(_core.precision.dequantize(codes, absmax, False), [0.0, 1.0, 0.5], atol=0.9 / 128 / 2)


def adam_run(state_dtype, n=20_000, steps=1000, seed=0):
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(n).astype(np.float32)
    param = start.copy()
    opt = fastopt.Adam([param], lr=1e-3, state_dtype=state_dtype)
    for _ in range(steps):
        opt.step([rng.standard_normal(n).astype(np.float32) + np.float32(0.1)])
    return start, param, opt


def test_eight_bit_adam_stays_near_float32_adam_over_1000_steps():
    start, want, _ = adam_run("float32")
    _, got, opt = adam_run("int8")
    assert opt.state[0]["exp_avg"][0].dtype == np.uint8 and opt.state[0]["exp_avg_sq"][0].dtype == np.uint8
    moved = np.sqrt(np.mean((want - start) ** 2))
    off = got - want
    assert np.sqrt(np.mean(off**2)) <= ADAM_RMS_TOLERANCE * moved
    assert np.abs(off).max() <= ADAM_MAX_TOLERANCE * moved


def test_state_memory_and_small_tensors_stay_float32():
    big, small = np.zeros(10_000, np.float32), np.zeros(precision.MIN_QUANTIZED_SIZE - 1, np.float32)
    opt = fastopt.Adam([big, small], state_dtype="int8")
    opt.step([np.ones_like(big), np.ones_like(small)])
    st = opt.state[0]
    assert st["exp_avg"][0].dtype == np.uint8 and st["exp_avg_absmax"][0].shape == (-(-10_000 // BLOCK),)
    assert st["exp_avg"][1].dtype == np.float32 and st["exp_avg_absmax"][1].shape == (0,)
    # the float32 tensor steps exactly as float32 Adam
    ref = np.zeros_like(small)
    fastopt.Adam([ref]).step([np.ones_like(ref)])
    np.testing.assert_array_equal(small, ref)


def test_a_nan_stays_in_its_block():
    """A NaN gradient makes its block's absmax NaN, so that block's state and params read NaN; every other
    block steps exactly as in the run without it."""
    n = 16 * BLOCK
    rng = np.random.default_rng(2)
    start = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    clean, dirty = start.copy(), start.copy()
    opt_clean, opt_dirty = fastopt.Adam([clean], state_dtype="int8"), fastopt.Adam([dirty], state_dtype="int8")
    for i, g in enumerate(grads):
        opt_clean.step([g])
        bad = g.copy()
        if i == 1:
            bad[BLOCK + 7] = np.nan
        opt_dirty.step([bad])
    block = np.arange(n) // BLOCK == 1
    assert np.isnan(dirty[block]).all() and np.isnan(opt_dirty.state[0]["exp_avg_absmax"][0][1])
    np.testing.assert_array_equal(dirty[~block], clean[~block])
    assert np.isfinite(opt_dirty.state[0]["exp_avg_absmax"][0][np.arange(16) != 1]).all()


def test_state_dict_round_trips_codes_and_absmax_exactly():
    rng = np.random.default_rng(3)
    start = rng.standard_normal(9000).astype(np.float32)
    grads = [rng.standard_normal(9000).astype(np.float32) for _ in range(8)]
    straight = start.copy()
    opt = fastopt.Adam([straight], state_dtype="int8")
    for g in grads:
        opt.step([g])
    half = start.copy()
    opt = fastopt.Adam([half], state_dtype="int8")
    for g in grads[:3]:
        opt.step([g])
    saved = opt.state_dict()
    for key in ("exp_avg", "exp_avg_absmax", "exp_avg_sq", "exp_avg_sq_absmax"):
        np.testing.assert_array_equal(saved["state"][0][key][0], opt.state[0][key][0])
    resumed = fastopt.Adam([half.copy()], state_dtype="int8")
    resumed.load_state_dict(saved)
    for g in grads[3:]:
        resumed.step([g])
    np.testing.assert_array_equal(resumed.param_groups[0]["params"][0], straight)


@pytest.mark.parametrize("saved_as, loaded_as", [("int8", "float32"), ("float32", "int8"), ("bfloat16", "int8")])
def test_loading_a_state_dict_of_another_state_dtype_is_refused(saved_as, loaded_as):
    pytest.importorskip("ml_dtypes")
    param = np.zeros(5000, np.float32)
    opt = fastopt.Adam([param], state_dtype=saved_as)
    opt.step([np.ones_like(param)])
    other = fastopt.Adam([param.copy()], state_dtype=loaded_as)
    with pytest.raises(ValueError, match=f"saved with state_dtype='{saved_as}', this optimizer has "
                                         f"state_dtype='{loaded_as}'"):
        other.load_state_dict(opt.state_dict())
    assert other.state[0].step == 0 and not other.state[0].slots


def test_tampered_codes_are_refused_by_load_state_dict():
    param = np.zeros(5000, np.float32)
    opt = fastopt.Adam([param], state_dtype="int8")
    opt.step([np.ones_like(param)])
    saved = opt.state_dict()
    saved["state"][0]["exp_avg_absmax"][0] = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="state 'exp_avg_absmax' of group 0 does not match"):
        fastopt.Adam([param.copy()], state_dtype="int8").load_state_dict(saved)
