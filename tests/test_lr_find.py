"""The learning-rate range test: the sweep, divergence, smoothing, the suggestion rules, and restoring the model."""
import math

import fastopt
import numpy as np
import pytest
from fastopt.lr_find import RULES, lr_find, suggest
from test_train import SoftmaxRegression, blobs


def test_sweep_is_exponential_smoothing_is_bias_corrected_and_the_model_is_restored():
    x, y = blobs(2000, seed=0)
    y[:600] = np.random.default_rng(5).integers(0, 10, 600)  # noisy labels: too large a rate diverges
    model = SoftmaxRegression(20, seed=1)
    opt = fastopt.SGD(model.params, lr=0.05, momentum=0.9)
    opt.step({k: np.ones_like(v) for k, v in model.params.items()})  # some optimizer state to restore
    params, state = {k: v.copy() for k, v in model.params.items()}, opt.state_dict()
    result = lr_find(model, opt, (x, y), start_lr=1e-4, end_lr=1e4, num_steps=60, batch_size=64, beta=0.9,
                     progress=False)
    n = len(result.lrs)
    assert result.lrs == pytest.approx([1e-4 * 1e8 ** (i / 59) for i in range(n)], rel=1e-12)
    average, expected = 0.0, []
    for i, loss in enumerate(result.losses):  # the smoothed loss, recomputed independently
        average = 0.9 * average + 0.1 * loss
        expected.append(average / (1 - 0.9 ** (i + 1)))
    assert result.smoothed == pytest.approx(expected, rel=1e-12, nan_ok=True)
    assert result.stop_reason == "diverged" and n < 60  # SGD at 1e4 blows up
    last = result.smoothed[-1]
    assert not math.isfinite(last) or last > 4 * min(result.smoothed[:-1])
    assert all(np.array_equal(model.params[k], params[k]) for k in params)
    restored = opt.state_dict()
    assert restored["param_groups"][0]["lr"] == 0.05
    assert restored["state"][0]["step"] == 1 and all(np.array_equal(a, b) for a, b in zip(
        restored["state"][0]["momentum_buffer"], state["state"][0]["momentum_buffer"]))
    assert 1e-4 < result.suggestion < result.lrs[-1] and set(result.suggestions) == set(RULES)


def test_a_short_sweep_ends_without_divergence():
    x, y = blobs(500, seed=0)
    result = lr_find(SoftmaxRegression(20), fastopt.Adam(SoftmaxRegression(20).params), (x, y), start_lr=1e-5,
                     end_lr=1e-3, num_steps=10, batch_size=500, progress=False)
    assert result.stop_reason == "end" and len(result.lrs) == 10


def _curve():
    lrs = np.logspace(-6, 0, 61)
    x = np.log10(lrs)
    return lrs, -np.tanh(x + 3) + 5 * np.maximum(0.0, x + 1) ** 2


def test_rules_on_a_known_curve():
    lrs, losses = _curve()
    assert suggest(lrs, losses, "steepest") == pytest.approx(lrs[30])  # tanh is steepest at log10(lr) = -3
    m = int(np.argmin(losses))
    assert suggest(lrs, losses, "minimum") == pytest.approx(lrs[m] / 10)
    # valley: the decreasing run is points 0..m; s = m / 3, so the pick is index int(s) + int(s / 2)
    s = m / 3
    assert suggest(lrs, losses, "valley") == pytest.approx(lrs[int(s) + int(s / 2)])


def test_suggest_ignores_non_finite_points_and_needs_three():
    lrs, losses = _curve()
    losses = losses.copy()
    losses[-5:] = np.nan
    assert suggest(lrs, losses, "steepest") == pytest.approx(lrs[30])
    assert suggest([1e-3, 1e-2], [1.0, 0.5]) is None


@pytest.mark.parametrize("kwargs, match", [({"start_lr": 0}, "start_lr"), ({"end_lr": 1e-8}, "end_lr"),
                                           ({"num_steps": 2}, "num_steps"), ({"batch_size": 0}, "batch_size"),
                                           ({"beta": 1.0}, "beta"), ({"diverge": 1.0}, "diverge"),
                                           ({"rule": "knee"}, "rule")])
def test_bad_arguments_are_named_and_nothing_trains(kwargs, match):
    x, y = blobs(200, seed=0)
    model = SoftmaxRegression(20)
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match=f"Invalid {match}"):
        lr_find(model, fastopt.SGD(model.params, lr=0.1), (x, y), progress=False, **kwargs)
    assert model.batches == [] and all(np.array_equal(model.params[k], before[k]) for k in before)
