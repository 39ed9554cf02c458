"""K-FAC's native math against dense NumPy float64: the layer capture, the factors, both preconditioning
paths (and the factored damping), KL clipping; a single example's K-FAC block against the exact GGN."""
import math

import numpy as np
import pytest

import fastopt
from fastopt.curvature import LayerCapture
from kfac_reference import (kron_eigen_precondition, kron_inverse_precondition, layer_indices, layer_statistics,
                            outer_mean, running_average)

SIZES = [6, 5, 4, 3]


def problem(n=12, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    model = fastopt.nn.MLP(SIZES, seed=seed, dtype=dtype)
    x = rng.standard_normal((n, SIZES[0]))
    y = rng.integers(0, SIZES[-1], n)
    return model, x, y


def test_capture_matches_per_example_statistics():
    model, x, y = problem()
    capture = LayerCapture(model)
    loss = model.forward_backward(x, y, capture=capture)
    reference, _ = layer_statistics(model, x, y)
    for layer, (a, g) in enumerate(reference):
        np.testing.assert_allclose(capture.a(layer), a, rtol=0, atol=1e-13)
        np.testing.assert_allclose(capture.g(layer), g, rtol=0, atol=1e-12)
    grads = model.flat_grads.copy()
    assert model.forward_backward(x, y) == loss  # capturing changes neither the loss nor the gradient
    np.testing.assert_array_equal(model.flat_grads, grads)
    assert capture.calls == 1


def test_true_fisher_capture_backpropagates_labels_drawn_from_the_softmax():
    model, x, y = problem(n=400)
    capture = LayerCapture(model, fisher="true", seed=3)
    counts = np.zeros((len(x), SIZES[-1]))
    for _ in range(25):
        model.forward_backward(x, y, capture=capture)
        last = capture.g(len(SIZES) - 2)
        drawn = np.argmin(last, axis=1)  # g = p - onehot(drawn): the drawn class is the one negative entry
        reference, p = layer_statistics(model, x, drawn)
        for layer, (a, g) in enumerate(reference):
            np.testing.assert_allclose(capture.g(layer), g, rtol=0, atol=1e-12)
        counts[np.arange(len(x)), drawn] += 1
    assert capture.calls == 25
    freq, expected = counts.sum(0) / counts.sum(), p.mean(0)  # class frequencies follow the softmax
    assert np.abs(freq - expected).max() < 0.02
    again = LayerCapture(model, fisher="true", seed=3)
    model.forward_backward(x, y, capture=again)  # seeded: the first call draws the same labels again
    first = LayerCapture(model, fisher="true", seed=3)
    model.forward_backward(x, y, capture=first)
    np.testing.assert_array_equal(again.g(0), first.g(0))


@pytest.mark.parametrize("factor_update_steps", [1, 2])
def test_factors_are_running_averages_of_outer_products(factor_update_steps):
    model, _, _ = problem()
    rng = np.random.default_rng(1)
    opt = fastopt.KFAC(model, lr=0.05, factor_decay=0.8, factor_update_steps=factor_update_steps,
                       inv_update_steps=2)
    seen = []
    for t in range(5):
        x, y = rng.standard_normal((7, SIZES[0])), rng.integers(0, SIZES[-1], 7)
        capture = opt.next_capture()
        assert (capture is not None) == (t % factor_update_steps == 0)
        model.forward_backward(x, y, capture=capture)
        if capture is not None:
            seen.append(layer_statistics(model, x, y)[0])
        opt.step(model.grads)
    for layer in range(len(SIZES) - 1):
        a = running_average([outer_mean(s[layer][0]) for s in seen], 0.8)
        g = running_average([outer_mean(s[layer][1]) for s in seen], 0.8)
        np.testing.assert_allclose(opt.state["A"][layer], a, rtol=0, atol=1e-10)
        np.testing.assert_allclose(opt.state["G"][layer], g, rtol=0, atol=1e-10)
    assert opt.factor_updates == len(seen)


def test_single_example_kfac_block_is_the_exact_ggn_block():
    """One sample: A = a a^T and the true Fisher's G = E_y[g g^T] = J^T (diag p - p p^T) J, so A (x) G is the GGN
    block exactly (G's expectation taken over every class, weighted by the softmax)."""
    model, x, y = problem(n=1)
    dense = fastopt.curvature.ggn(model, x, y).to_dense()
    _, p = layer_statistics(model, x, y)
    for layer in range(len(SIZES) - 1):
        capture = LayerCapture(model)
        g_exact = 0.0
        for c in range(SIZES[-1]):
            model.forward_backward(x, [c], capture=capture)
            g_exact = g_exact + p[0, c] * np.outer(capture.g(layer)[0], capture.g(layer)[0])
        a = np.outer(capture.a(layer)[0], capture.a(layer)[0])
        idx = layer_indices(model, layer)
        np.testing.assert_allclose(np.kron(g_exact, a), dense[np.ix_(idx, idx)], rtol=0, atol=1e-12)


def one_step_direction(method, dtype=np.float64, **kw):
    """A K-FAC step with lr 1, no momentum, no clipping: returns (model, opt, M per layer, V per layer)."""
    model, x, y = problem(n=20, dtype=dtype)
    opt = fastopt.KFAC(model, lr=1.0, momentum=0.0, kl_clip=0.0, compute_method=method, **kw)
    before = model.flat_params.astype(np.float64)
    model.forward_backward(x, y, capture=opt.next_capture())
    grad = model.flat_grads.astype(np.float64)
    opt.step(model.grads)
    v = before - model.flat_params.astype(np.float64)
    blocks = []
    for layer in range(len(SIZES) - 1):
        idx = layer_indices(model, layer)
        shape = (SIZES[layer + 1], SIZES[layer] + 1)
        blocks.append((grad[idx].reshape(shape), v[idx].reshape(shape)))
    return model, opt, blocks


@pytest.mark.parametrize("damping", [1e-3, 0.1])
def test_eigen_path_is_the_damped_kronecker_inverse(damping):
    _, opt, blocks = one_step_direction("eigen", damping=damping)
    for layer, (m, v) in enumerate(blocks):
        a, g = opt.state["A"][layer], opt.state["G"][layer]
        np.testing.assert_allclose(v, kron_eigen_precondition(a, g, m, damping), rtol=1e-8, atol=1e-10)


def test_inverse_path_is_the_kronecker_product_of_damped_inverses():
    damping = 0.01
    _, opt, blocks = one_step_direction("inverse", damping=damping)
    for layer, (m, v) in enumerate(blocks):
        a, g = opt.state["A"][layer], opt.state["G"][layer]
        root = math.sqrt(damping)
        np.testing.assert_allclose(v, kron_inverse_precondition(a, g, m, root, root), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("method", ["eigen", "inverse"])
def test_factored_damping_uses_pi(method):
    damping = 0.01
    _, opt, blocks = one_step_direction(method, damping=damping, factored_damping=True)
    for layer, (m, v) in enumerate(blocks):
        a, g = opt.state["A"][layer], opt.state["G"][layer]
        pi = math.sqrt((np.trace(a) / len(a)) / (np.trace(g) / len(g)))
        assert opt.state["pi"][0][layer] == pytest.approx(pi)
        root = math.sqrt(damping)
        np.testing.assert_allclose(v, kron_inverse_precondition(a, g, m, pi * root, root / pi), rtol=1e-7,
                                   atol=1e-10)


@pytest.mark.parametrize("method", ["eigen", "inverse"])
def test_float32_follows_float64(method):
    _, _, blocks64 = one_step_direction(method, damping=0.1)
    _, _, blocks32 = one_step_direction(method, dtype=np.float32, damping=0.1)
    for (_, v64), (_, v32) in zip(blocks64, blocks32):
        np.testing.assert_allclose(v32, v64, rtol=2e-3, atol=2e-4 * np.abs(v64).max())


def test_eigenbases_are_orthonormal_and_diagonalise_the_factors():
    _, opt, _ = one_step_direction("eigen")
    for name in ("A", "G"):
        for f, q, d in zip(opt.state[name], opt.state["Q" + name], opt.state["d" + name]):
            np.testing.assert_allclose(q.T @ q, np.eye(len(q)), atol=1e-12)
            np.testing.assert_allclose(q @ np.diag(d) @ q.T, f, atol=1e-12)
            assert (d >= 0).all() and (np.diff(d) >= 0).all()


def test_kl_clip_scales_the_step():
    model, x, y = problem(n=20)
    kl_clip, lr = 1e-6, 0.5
    free = fastopt.KFAC(fastopt.nn.MLP(SIZES, dtype=np.float64), lr=lr, momentum=0.0, kl_clip=0.0)
    clipped = fastopt.KFAC(model, lr=lr, momentum=0.0, kl_clip=kl_clip)
    for opt in (free, clipped):
        before = opt.model.flat_params.copy()
        opt.model.forward_backward(x, y, capture=opt.next_capture())
        grad = opt.model.flat_grads.copy()
        opt.step(opt.model.grads)
        opt.delta = before - opt.model.flat_params
    v = free.delta / lr
    nu = min(1.0, math.sqrt(kl_clip / abs(lr * lr * v @ grad)))
    assert nu < 1
    np.testing.assert_allclose(clipped.delta, lr * nu * v, rtol=1e-9, atol=1e-14)


def test_momentum_and_weight_decay_follow_sgd_on_the_preconditioned_gradient():
    damping, lr, mu, wd = 0.1, 0.3, 0.9, 0.01
    model, x, y = problem(n=20)
    opt = fastopt.KFAC(model, lr=lr, momentum=mu, weight_decay=wd, kl_clip=0.0, damping=damping,
                       inv_update_steps=1)
    buf = None
    for _ in range(3):
        theta = model.flat_params.copy()
        model.forward_backward(x, y, capture=opt.next_capture())
        grad = model.flat_grads.copy()
        opt.step(model.grads)
        v = np.empty_like(grad)
        for layer in range(len(SIZES) - 1):
            idx = layer_indices(model, layer)
            m = grad[idx].reshape(SIZES[layer + 1], SIZES[layer] + 1)
            v[idx] = kron_eigen_precondition(opt.state["A"][layer], opt.state["G"][layer], m, damping).reshape(-1)
        d = v + wd * theta
        buf = d if buf is None else mu * buf + d
        np.testing.assert_allclose(model.flat_params, theta - lr * buf, rtol=1e-9, atol=1e-12)


def test_capture_of_another_model_layout_or_dtype_is_refused():
    model, x, y = problem()
    other = fastopt.nn.MLP([6, 7, 3], dtype=np.float64)
    with pytest.raises(ValueError, match="capture: made for another model"):
        model.forward_backward(x, y, capture=LayerCapture(other))
    native32 = fastopt._core.kfac.LayerCaptureFloat32(fastopt.nn.MLP(SIZES)._net, False, 0)
    with pytest.raises(TypeError, match="capture: expected a LayerCapture of the model's dtype"):
        model._net.forward_backward(x, y, True, 0.0, native32)
    native = fastopt._core.kfac.LayerCaptureFloat64(other._net, False, 0)
    with pytest.raises(ValueError, match="capture: made for a network of other layer sizes"):
        model._net.forward_backward(x, y, True, 0.0, native)
    with pytest.raises(ValueError, match="Invalid fisher: 'mc'"):
        LayerCapture(model, fisher="mc")


def test_native_factor_update_checks_its_arrays_before_writing():
    model, x, y = problem()
    capture = LayerCapture(model)
    a = [np.zeros((n + 1, n + 1)) for n in SIZES[:-1]]
    g = [np.zeros((n, n)) for n in SIZES[1:]]
    with pytest.raises(ValueError, match="capture: empty"):
        fastopt._core.kfac.update_factors(model._net, capture.native, a, g, 0.5)
    model.forward_backward(x, y, capture=capture)
    bad = [*a[:-1], np.zeros((3, 3))]
    with pytest.raises(ValueError, match=r"factors_a\[2\]: expected shape \(5, 5\), got \(3, 3\)"):
        fastopt._core.kfac.update_factors(model._net, capture.native, bad, g, 0.5)
    with pytest.raises(TypeError, match=r"factors_g\[0\]: expected a float64 array"):
        fastopt._core.kfac.update_factors(model._net, capture.native, a, [f.astype(np.float32) for f in g], 0.5)
    with pytest.raises(ValueError, match="decay: must be in"):
        fastopt._core.kfac.update_factors(model._net, capture.native, a, g, 1.0)
    assert not any(f.any() for f in a + g)


def test_damped_inverse_reports_an_indefinite_factor():
    f = [np.diag([1.0, -2.0])]
    out = [np.zeros((2, 2))]
    with pytest.raises(ValueError, match="factor 0 plus its damping is not positive definite"):
        fastopt._core.kfac.damped_inverse(f, [1.0], out)
    fastopt._core.kfac.damped_inverse(f, [3.0], out)
    np.testing.assert_allclose(out[0], np.diag([0.25, 1.0]))


@pytest.mark.parametrize("method", ["eigen", "inverse"])
@pytest.mark.parametrize("threads", [1, 3])
def test_blocked_preconditioning_of_a_large_layer(method, threads):
    """A layer big enough to be cut into row blocks (one per thread) gives the unblocked matrix formula."""
    previous = fastopt.get_num_threads()
    fastopt.set_num_threads(threads)
    try:
        rng = np.random.default_rng(0)
        model = fastopt.nn.MLP([200, 120, 10], dtype=np.float64)
        opt = fastopt.KFAC(model, lr=1.0, momentum=0.0, kl_clip=0.0, damping=0.01, compute_method=method)
        x, y = rng.standard_normal((64, 200)), rng.integers(0, 10, 64)
        before = model.flat_params.copy()
        model.forward_backward(x, y, capture=opt.next_capture())
        grad = model.flat_grads.copy()
        opt.step(model.grads)
    finally:
        fastopt.set_num_threads(previous)
    v, s = before - model.flat_params, opt.state
    for layer, (n_in, n_out) in enumerate([(200, 120), (120, 10)]):
        idx = layer_indices(model, layer)
        m = grad[idx].reshape(n_out, n_in + 1)
        if method == "eigen":
            qa, qg = s["QA"][layer], s["QG"][layer]
            expected = qg @ ((qg.T @ m @ qa) / (np.outer(s["dG"][layer], s["dA"][layer]) + 0.01)) @ qa.T
        else:
            expected = s["G_inv"][layer] @ m @ s["A_inv"][layer]
        np.testing.assert_allclose(v[idx].reshape(n_out, n_in + 1), expected, rtol=1e-9, atol=1e-12)
