"""Sophia-G against a NumPy float64 reference that uses the labels the native capture drew, bit-identical resume
and bad input."""
import numpy as np
import pytest

import fastopt
import kfac_reference

SIZES = (20, 16, 12, 5)


def data(seed=0, n=48):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, SIZES[0])), rng.integers(0, SIZES[-1], n)


def sampled_labels(capture, layers):
    """The labels the capture drew: its last layer's per-example gradient softmax - onehot is negative only there."""
    return np.argmin(capture.g(layers - 1), axis=1)


@pytest.mark.parametrize("options", [dict(), dict(update_period=1, rho=0.5, betas=(0.9, 0.5), weight_decay=0.0),
                                     dict(update_period=3, eps=1e-2)], ids=str)
def test_matches_the_numpy_reference_with_the_drawn_labels(options):
    x, y = data()
    model = fastopt.nn.MLP(SIZES, seed=1, dtype=np.float64)
    hyper = {**dict(lr=0.01, betas=(0.965, 0.99), rho=0.04, weight_decay=0.1, eps=1e-15, update_period=2), **options}
    opt = fastopt.SophiaG(model, **hyper)
    theta = model.flat_params.copy()
    m, h = np.zeros_like(theta), np.zeros_like(theta)
    (b1, b2), lr = hyper["betas"], hyper["lr"]
    layers = len(SIZES) - 1
    for t in range(1, 8):
        rows = slice(8 * (t % 4), 8 * (t % 4) + 16)
        capture = opt.next_capture()
        assert (capture is not None) == ((t - 1) % hyper["update_period"] == 0)
        model.forward_backward(x[rows], y[rows], capture=capture)
        grad = model.flat_grads.copy()
        if capture is not None:
            labels = sampled_labels(capture, layers)
            stats, _ = kfac_reference.layer_statistics(model, x[rows], labels)
            sampled = np.zeros_like(theta)
            for layer, (a, g) in enumerate(stats):
                sampled[kfac_reference.layer_indices(model, layer)] = (g.T @ a / len(a)).reshape(-1)
            np.testing.assert_allclose(opt.sampled_gradient(), sampled, rtol=1e-12, atol=1e-14)
            h = b2 * h + (1 - b2) * len(labels) * sampled**2
        m = b1 * m + (1 - b1) * grad
        theta = theta * (1 - lr * hyper["weight_decay"]) - lr * np.clip(
            m / np.maximum(hyper["rho"] * h, hyper["eps"]), -1, 1)
        opt.step(model.grads)
        np.testing.assert_allclose(model.flat_params, theta, rtol=1e-12, atol=1e-14)
    assert opt.hessian_updates == len(range(1, 8, hyper["update_period"]))


def test_the_labels_are_drawn_from_the_softmax():
    """Over many draws on one input, each label's frequency is its softmax probability."""
    model = fastopt.nn.MLP((3, 4), seed=0, dtype=np.float64, init="normal", init_std=1.0)
    x = np.tile(np.array([[1.0, -2.0, 0.5]]), (20000, 1))
    opt = fastopt.SophiaG(model, update_period=1)
    model.forward_backward(x, np.zeros(len(x), np.int64), capture=opt.next_capture())
    counts = np.bincount(sampled_labels(opt.capture, 1), minlength=4) / len(x)
    _, p = kfac_reference.layer_statistics(model, x[:1], np.zeros(1, np.int64))
    np.testing.assert_allclose(counts, p[0], atol=0.015)


def run(model, opt, steps, start=0):
    x, y = data(3)
    for t in range(start, start + steps):
        rows = slice(4 * (t % 6), 4 * (t % 6) + 24)
        model.forward_backward(x[rows], y[rows], capture=opt.next_capture())
        opt.step(model.grads)


def test_resume_is_bit_identical():
    model = fastopt.nn.MLP(SIZES, seed=2)
    opt = fastopt.SophiaG(model, lr=0.01, update_period=3)
    run(model, opt, 10)
    model2 = fastopt.nn.MLP(SIZES, seed=2)
    opt2 = fastopt.SophiaG(model2, lr=0.01, update_period=3)
    run(model2, opt2, 4)
    saved, params = opt2.state_dict(), model2.flat_params.copy()
    model3 = fastopt.nn.MLP(SIZES, seed=9)
    model3.flat_params[...] = params
    opt3 = fastopt.SophiaG(model3, lr=0.01, update_period=3)
    opt3.load_state_dict(saved)
    run(model3, opt3, 6, start=4)
    assert np.array_equal(model3.flat_params, model.flat_params)


@pytest.mark.parametrize("bad, error, words", [
    (dict(rho=0.0), ValueError, "rho"), (dict(update_period=0), ValueError, "update_period"),
    (dict(betas=(1.0, 0.9)), ValueError, "beta"), (dict(eps=-1.0), ValueError, "eps"),
    (dict(lr=float("nan")), ValueError, "learning rate"), (dict(seed=-1), ValueError, "seed")])
def test_bad_hyperparameters_are_named(bad, error, words):
    with pytest.raises(error, match=words):
        fastopt.SophiaG(fastopt.nn.MLP(SIZES), **bad)


def test_it_takes_the_model_and_needs_the_capture():
    with pytest.raises(TypeError, match="model"):
        fastopt.SophiaG([np.zeros(3)])
    model = fastopt.nn.MLP(SIZES)
    opt = fastopt.SophiaG(model)
    x, y = data()
    model.forward_backward(x, y)  # no capture: step 1 needs the Hessian estimate
    before = model.flat_params.copy()
    with pytest.raises(ValueError, match="forward_backward"):
        opt.step(model.grads)
    assert np.array_equal(model.flat_params, before)


def test_registry_builds_it_over_the_model():
    model = fastopt.nn.MLP(SIZES)
    assert isinstance(fastopt.optim.create("sophia", model, lr=1e-3), fastopt.SophiaG)
    assert fastopt.optim.entry("sophia").takes_model
