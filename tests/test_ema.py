"""fastopt.EMA: the native moving average against a NumPy float64 reference, its warm-up, the swap of
average_parameters, state_dict resume, and bad input that leaves everything untouched."""
import numpy as np
import pytest

import fastopt


def reference(start, updates, decay, warmup):
    average = [s.astype(np.float64) for s in start]
    for t, params in enumerate(updates):
        d = min(decay, (1 + t) / (10 + t)) if warmup else decay
        average = [a + (1 - d) * (p.astype(np.float64) - a) for a, p in zip(average, params)]
    return average


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("warmup", [False, True])
def test_matches_the_float64_reference_over_many_updates(rng, dtype, rtol, warmup):
    sizes = [1, 7, 100_003, 0, 64]  # many chunks, an empty array, odd lengths
    params = [rng.standard_normal(n).astype(dtype) for n in sizes]
    start = [p.copy() for p in params]
    ema = fastopt.EMA(params, decay=0.99, warmup=warmup)
    seen = []
    for _ in range(60):
        for p in params:
            p += rng.standard_normal(p.shape).astype(dtype)
        seen.append([p.copy() for p in params])
        ema.update()
    assert ema.num_updates == 60
    for got, want in zip(ema.shadow, reference(start, seen, 0.99, warmup)):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    for p, s in zip(params, seen[-1]):
        np.testing.assert_array_equal(p, s)  # the weights themselves are only read


def test_warmup_starts_fast_and_ends_at_decay():
    ema = fastopt.EMA([np.zeros(3)], decay=0.999, warmup=True)
    assert ema.current_decay() == pytest.approx(0.1)
    ema.num_updates = 10**6
    assert ema.current_decay() == 0.999


def test_average_parameters_swaps_in_and_restores(rng):
    model = fastopt.nn.MLP((5, 4, 3), seed=0)
    ema = fastopt.EMA(model.params, decay=0.5)
    live = {k: v.copy() for k, v in model.params.items()}
    model.flat_params += 1.0
    ema.update()
    after = {k: v.copy() for k, v in model.params.items()}
    with ema.average_parameters():
        for k, v in model.params.items():
            np.testing.assert_allclose(v, live[k] + 0.5, rtol=1e-6)  # float32 weights
    for k, v in model.params.items():
        np.testing.assert_array_equal(v, after[k])
    with pytest.raises(RuntimeError), ema.average_parameters():
        raise RuntimeError("inside")
    np.testing.assert_array_equal(model.flat_params, np.concatenate([after[k].ravel() for k in model.params]))


def test_state_dict_resumes_exactly(rng):
    params = [rng.standard_normal(50), rng.standard_normal((3, 4))]
    steps = [[rng.standard_normal(p.shape) for p in params] for _ in range(20)]
    whole = fastopt.EMA([p.copy() for p in params], decay=0.9, warmup=True)
    first = fastopt.EMA([p.copy() for p in params], decay=0.9, warmup=True)
    for i, new in enumerate(steps):
        for target in (whole, first) if i < 10 else (whole,):
            for p, n in zip(target.params, new):
                np.copyto(p, n)
            target.update()
    resumed = fastopt.EMA([p.copy() for p in params], decay=0.5)
    resumed.load_state_dict(first.state_dict())
    for new in steps[10:]:
        for p, n in zip(resumed.params, new):
            np.copyto(p, n)
        resumed.update()
    assert resumed.num_updates == whole.num_updates == 20 and resumed.decay == 0.9
    for a, b in zip(resumed.shadow, whole.shadow):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("params, error, match", [
    ([], ValueError, "no arrays"),
    ([[1.0, 2.0]], TypeError, "numpy.ndarray"),
    ([np.zeros(3, dtype=np.int64)], TypeError, "float32 or float64"),
    ([np.zeros((4, 4))[:, 0]], ValueError, "C-contiguous"),
])
def test_bad_params_are_refused(params, error, match):
    with pytest.raises(error, match=match):
        fastopt.EMA(params)


@pytest.mark.parametrize("decay", [1.0, -0.1, True, "0.9", float("nan")])
def test_bad_decay_is_refused(decay):
    with pytest.raises(ValueError, match="decay"):
        fastopt.EMA([np.zeros(2)], decay=decay)


def test_a_replaced_array_and_a_mismatched_state_dict_change_nothing():
    params = {"w": np.ones(4), "b": np.ones(2, dtype=np.float32)}
    ema = fastopt.EMA(params)
    before = [s.copy() for s in ema.shadow]
    ema.params[1] = np.ones(3, dtype=np.float32)  # a weight replaced by one of another shape
    with pytest.raises(ValueError, match="'b'"):
        ema.update()
    ema.params[1] = np.ones(2)  # float64 where the average is float32: the native check names it
    with pytest.raises(ValueError, match="'b'"):
        ema.update()
    bad = ema.state_dict()
    bad["shadow"]["b"] = np.zeros(5, dtype=np.float32)
    with pytest.raises(ValueError, match="average of 'b'"):
        ema.load_state_dict(bad)
    for s, b in zip(ema.shadow, before):
        np.testing.assert_array_equal(s, b)
    assert ema.num_updates == 0
