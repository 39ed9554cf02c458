"""The optimizers that reduce over tensors before they update (LAMB, LARS, StableAdamW, the cautious rescale,
Prodigy) and Schedule-Free's train/eval switch: what the generic reference tests (test_optim_reference.py, over
tests/reference.py's VARIANTS) do not reach."""
import fastopt
import numpy as np
import pytest
import reference


def _params(rng, sizes=(7, 40000, 3), dtype=np.float64):
    return [rng.standard_normal(n).astype(dtype) for n in sizes]


def test_trust_ratio_is_per_tensor():
    """A tensor scaled by 1000 moves 1000x as far under LAMB (its trust ratio), the other tensor as before."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(50), rng.standard_normal(60)
    g = [rng.standard_normal(50), rng.standard_normal(60)]
    small, big = [a.copy(), b.copy()], [a.copy() * 1000, b.copy()]
    fastopt.LAMB(small, lr=0.01, weight_decay=0).step(g)
    fastopt.LAMB(big, lr=0.01, weight_decay=0).step(g)
    np.testing.assert_allclose(big[0] - a * 1000, 1000 * (small[0] - a), rtol=1e-10)
    np.testing.assert_allclose(big[1], small[1], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["LAMB", "LARS"])
def test_zero_norms_fall_back_to_a_ratio_of_one(name):
    """optax's edge cases: a param at zero, or a zero update, uses ratio 1 (no NaN from 0/0)."""
    p, g = [np.zeros(5), np.ones(4)], [np.ones(5), np.zeros(4)]
    opt = getattr(fastopt, name)(p, lr=0.1, weight_decay=0.0)
    ref = reference.Reference(name, p, lr=0.1, weight_decay=0.0)
    opt.step(g)
    ref.step(g)
    assert np.isfinite(p[0]).all() and p[0].min() < 0
    for got, want in zip(p, ref.params):
        np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("threads", [1, 2])
def test_reductions_do_not_depend_on_the_thread_count(threads):
    """Per-chunk partial sums added in chunk order: the same bits with 1 or 2 threads (resume on any machine)."""
    rng = np.random.default_rng(1)
    grads = [_params(rng) for _ in range(5)]
    out = {}
    before = fastopt.get_num_threads()
    try:
        for n in (1, threads):
            fastopt.set_num_threads(n)
            ps = _params(np.random.default_rng(2))
            opts = [fastopt.LAMB(ps[:1], lr=0.01), fastopt.Prodigy(ps[1:], d0=1e-3)]
            for g in grads:
                opts[0].step(g[:1])
                opts[1].step(g[1:])
            out[n] = ps
    finally:
        fastopt.set_num_threads(before)
    for x, y in zip(out[1], out[threads]):
        assert np.array_equal(x, y)


def test_prodigy_estimate_is_over_both_dtypes_of_a_group():
    """One group of a float32 and a float64 array: one estimate d, as the float64 reference over both."""
    rng = np.random.default_rng(3)
    p = [rng.standard_normal(300).astype(np.float32), rng.standard_normal(200)]
    ref = reference.Reference("Prodigy", p, d0=1e-3)
    opt = fastopt.Prodigy(p, d0=1e-3)
    for _ in range(30):
        g = [rng.standard_normal(300).astype(np.float32), rng.standard_normal(200)]
        opt.step(g)
        ref.step(g)
    assert opt.state[0].carry["d"] == pytest.approx(ref.group["d"], rel=1e-5)
    np.testing.assert_allclose(p[1], ref.params[1], rtol=1e-5, atol=1e-6)


def test_prodigy_does_not_move_while_every_gradient_is_zero():
    """prodigyopt returns early while sum|s| is 0: params, d and k unchanged."""
    p = [np.ones(4)]
    opt = fastopt.Prodigy(p)
    opt.step([np.zeros(4)])
    assert np.array_equal(p[0], np.ones(4))
    assert opt.state[0].carry["k"] == 0 and opt.state[0].carry["d"] == 0  # still before the first estimate


@pytest.mark.parametrize("cls", ["ScheduleFreeSGD", "ScheduleFreeAdamW"])
def test_schedule_free_eval_gives_the_average_and_train_restores_y(cls):
    rng = np.random.default_rng(4)
    p = [rng.standard_normal(20)]
    opt = getattr(fastopt, cls)(p, lr=0.01)
    for _ in range(10):
        opt.step([rng.standard_normal(20)])
    y, z = p[0].copy(), opt.state[0]["z"][0]
    beta = opt.param_groups[0]["momentum"] if cls == "ScheduleFreeSGD" else opt.param_groups[0]["betas"][0]
    opt.eval()
    np.testing.assert_allclose(p[0], (y - (1 - beta) * z) / beta, rtol=1e-12)
    opt.eval()  # a no-op in eval mode
    np.testing.assert_allclose(p[0], (y - (1 - beta) * z) / beta, rtol=1e-12)
    before = p[0].copy()
    with pytest.raises(RuntimeError, match="eval mode"):
        opt.step([rng.standard_normal(20)])
    assert np.array_equal(p[0], before)
    sd = opt.state_dict()
    assert sd["training"] is False
    opt.train()
    np.testing.assert_allclose(p[0], y, rtol=1e-12)
    opt.load_state_dict(sd)
    assert opt.training is False
    with pytest.raises(TypeError, match="training"):
        opt.load_state_dict({**sd, "training": "yes"})


@pytest.mark.parametrize("name, bad, message", [
    ("LARS", dict(trust_coefficient=0.0), "trust_coefficient"),
    ("StableAdamW", dict(clip_threshold=-1.0), "clip_threshold"),
    ("Prodigy", dict(d0=0.0), "d0"),
    ("Prodigy", dict(growth_rate=0.5), "growth_rate"),
    ("Prodigy", dict(beta3=1.0), "beta3"),
    ("Prodigy", dict(d_coef=-1.0), "d_coef"),
    ("ScheduleFreeSGD", dict(momentum=0.0), "momentum"),
    ("ScheduleFreeAdamW", dict(betas=(0.0, 0.999)), "beta parameter at index 0"),
    ("ScheduleFreeAdamW", dict(warmup_steps=-1), "warmup_steps"),
    ("LAMB", dict(eps_root=-1.0), "eps_root"),
])
def test_bad_hyperparameters_are_named_and_leave_arrays_untouched(name, bad, message):
    p = [np.ones(3)]
    with pytest.raises(ValueError, match=message):
        getattr(fastopt, name)(p, **bad)
    opt = getattr(fastopt, name)(p)
    opt.step([np.ones(3)])
    before = [p[0].copy()] + [a[0].copy() for a in opt.state[0].slots.values()]
    opt.param_groups[0].update(bad)
    with pytest.raises(ValueError, match=message):
        opt.step([np.ones(3)])
    after = [p[0]] + [a[0] for a in opt.state[0].slots.values()]
    for x, y in zip(before, after):
        assert np.array_equal(x, y)


def test_prodigy_takes_an_infinite_growth_rate_only():
    with pytest.raises(ValueError, match="d0"):
        fastopt.Prodigy([np.ones(2)], d0=float("inf"))
    fastopt.Prodigy([np.ones(2)], growth_rate=float("inf")).step([np.ones(2)])
