"""Muon: its Newton-Schulz iteration against the NumPy polar factor, the optimizer against the NumPy float64 reference
(tests/reference.py) on matrices of several shapes and against torch 2.13's torch.optim.Muon (skipped without torch)."""
import numpy as np
import pytest

import fastopt
import reference

SHAPES = ((32, 48), (48, 32), (7, 7), (1, 20), (20, 1), (4, 3, 5))  # wide, tall, square, a row, a column, 3-D
OPTIONS = [{}, dict(nesterov=False), dict(adjust_lr_fn="match_rms_adamw"), dict(adjust_lr_fn=None),
           dict(momentum=0.5, weight_decay=0.0, eps=1e-3), dict(ns_steps=2, ns_coefficients=(2.0, -1.5, 0.5)),
           dict(maximize=True, adamw_weight_decay=0.1, adamw_betas=(0.8, 0.9), adamw_eps=1e-8)]


def problem(shapes, dtype, steps=50, seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal(s).astype(dtype) for s in shapes],
            [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)])


def run(shapes, dtype, options, steps=50):
    params0, grads = problem(shapes, dtype, steps)
    params = [p.copy() for p in params0]
    opt = fastopt.Muon(params, lr=0.02, **options)
    ref = reference.Reference("Muon", params0, **{"lr": 0.02, **options})
    for g in grads:
        opt.step(g)
        ref.step(g)
    return params, ref.params


def polar(g):
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    return u @ vt


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (16, 16)])
def test_newton_schulz_converges_to_the_polar_factor(shape):
    """With the cubic coefficients (1.5, -0.5, 0) the iteration is the classic Newton-Schulz one, which converges to
    U V^T; torch's quintic stops near it, its singular values in about [0.7, 1.2] on the same singular vectors."""
    rng = np.random.default_rng(1)
    g = rng.standard_normal(shape) + 3 * np.eye(*shape)  # well conditioned
    exact = fastopt._core.matrix_optim.newton_schulz(g, 1.5, -0.5, 0.0, 1e-7, 60)
    np.testing.assert_allclose(exact, polar(g), atol=1e-10)
    quintic = fastopt._core.matrix_optim.newton_schulz(g, 3.4445, -4.775, 2.0315, 1e-7, 5)
    np.testing.assert_allclose(quintic, reference.newton_schulz(g, (3.4445, -4.775, 2.0315), 5, 1e-7), rtol=1e-12,
                               atol=1e-12)
    u, _, vt = np.linalg.svd(g, full_matrices=False)
    inner = u.T @ quintic @ vt.T  # diagonal when the singular vectors are g's
    np.testing.assert_allclose(inner - np.diag(np.diag(inner)), 0, atol=1e-8)
    assert 0.6 < np.diag(inner).min() and np.diag(inner).max() < 1.25


def test_newton_schulz_of_zero_is_zero():
    assert not fastopt._core.matrix_optim.newton_schulz(np.zeros((3, 4)), 3.4445, -4.775, 2.0315, 1e-7, 5).any()


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_the_float64_reference(options):
    got, want = run(SHAPES + ((20,), ()), np.float64, options)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_float32_matches_the_reference():
    got, want = run(SHAPES + ((20,),), np.float32, {})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_one_or_two_threads_agree():
    shapes = ((256, 512), (64, 256), (10, 64), (64,))  # the first is big enough to share its GEMMs' rows
    results = []
    for threads in (1, 2):
        before = fastopt.get_num_threads()
        fastopt.set_num_threads(threads)
        try:
            results.append(run(shapes, np.float64, {}, steps=5)[0])
        finally:
            fastopt.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


def test_state_is_the_momentum_and_for_vectors_adamws_second_moment():
    w, b = np.ones((3, 4)), np.ones(4)
    opt = fastopt.Muon([w, b])
    opt.step([np.ones((3, 4)), np.ones(4)])
    state = opt.state[0]
    assert [a.shape for a in state["momentum_buffer"]] == [(3, 4), (4,)]
    assert [a.shape for a in state["exp_avg_sq"]] == [(0,), (4,)]
    np.testing.assert_allclose(state["momentum_buffer"][0], 0.05)  # lerp(0, g, 1 - 0.95)


@pytest.mark.parametrize("bad, error, words", [
    (dict(adjust_lr_fn="rms"), ValueError, "adjust_lr_fn"), (dict(ns_steps=2.5), TypeError, "ns_steps"),
    (dict(ns_steps=100), ValueError, "ns_steps"), (dict(momentum=1.0), ValueError, "momentum"),
    (dict(ns_coefficients=(1.0, 2.0)), ValueError, "ns_coefficients"), (dict(adamw_betas=(0.9, 1.0)), ValueError, "beta"),
    (dict(adamw_lr=-1.0), ValueError, "adamw_lr"), (dict(lr=float("nan")), ValueError, "learning rate")])
def test_bad_hyperparameters_are_named(bad, error, words):
    with pytest.raises(error, match=words):
        fastopt.Muon([np.zeros((2, 2))], **bad)


def test_a_bad_grad_changes_nothing():
    w, b = np.ones((3, 4)), np.ones(4)
    opt = fastopt.Muon([w, b])
    opt.step([np.ones((3, 4)), np.ones(4)])
    saved = opt.state_dict()
    before = [w.copy(), b.copy()]
    with pytest.raises(ValueError, match="grad for param '1': shape"):
        opt.step([np.ones((3, 4)), np.ones(5)])
    with pytest.raises(TypeError, match="grad for param '0': dtype"):
        opt.step([np.ones((3, 4), np.float32), np.ones(4)])
    np.testing.assert_array_equal(w, before[0])
    np.testing.assert_array_equal(b, before[1])
    for x, y in zip(saved["state"][0]["momentum_buffer"], opt.state[0]["momentum_buffer"]):
        np.testing.assert_array_equal(x, y)


def test_a_state_dict_of_another_layout_is_refused():
    opt = fastopt.Muon([np.ones((3, 4)), np.ones(4)])
    opt.step([np.ones((3, 4)), np.ones(4)])
    sd = opt.state_dict()
    sd["state"][0]["exp_avg_sq"][0] = np.zeros((3, 4))  # a matrix has no second moment
    with pytest.raises(ValueError, match="exp_avg_sq"):
        opt.load_state_dict(sd)


# --------------------------------------------------------------------------------------------------- torch
def torch_muon(params0, grads, options, dtype, monkeypatch=None):
    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(p, requires_grad=True) for p in params0]
    opt = torch.optim.Muon(tensors, lr=0.02, **options)
    for g in grads:
        for t, gi in zip(tensors, g):
            t.grad = torch.tensor(gi)
        opt.step()
    return [t.detach().numpy() for t in tensors]


TORCH_SHAPES = ((32, 48), (48, 32), (7, 7), (1, 20), (20, 1))
TORCH_OPTIONS = [o for o in OPTIONS if "maximize" not in o]


@pytest.mark.parametrize("options", TORCH_OPTIONS, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_matches_torch_with_its_iteration_in_the_params_precision(options, dtype, monkeypatch):
    """torch's Muon computes the iteration in bfloat16; with that cast made the identity it is the same algorithm in
    the param's precision, which fastopt runs: equal to 1e-12 in float64 and to float32's tolerance in float32."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.Tensor, "bfloat16", lambda self: self.clone())
    params0, grads = problem(TORCH_SHAPES, dtype)
    want = torch_muon(params0, grads, options, dtype)
    got = [p.copy() for p in params0]
    opt = fastopt.Muon(got, lr=0.02, **options)
    for g in grads:
        opt.step(g)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, **tol)


@pytest.mark.parametrize("options", TORCH_OPTIONS[:3], ids=str)
def test_matches_torchs_bfloat16_iteration_to_bfloat16s_precision(options):
    """Unpatched, torch's orthogonalised update carries bfloat16's rounding (8 bits: 2^-8 relative), so after 50
    steps of 0.02 the params agree with fastopt's float32 to a few percent of the distance they moved."""
    params0, grads = problem(TORCH_SHAPES, np.float32)
    want = torch_muon(params0, grads, options, np.float32)
    got = [p.copy() for p in params0]
    opt = fastopt.Muon(got, lr=0.02, **options)
    for g in grads:
        opt.step(g)
    for p0, g, w in zip(params0, got, want):
        moved = np.linalg.norm(w - p0)
        assert np.linalg.norm(g - w) < 0.05 * moved
