"""AdaHessian: Hutchinson's diagonal against the dense Hessian of finite differences, the optimizer against a
NumPy float64 reference (Hessian products by central differences of the gradient) under every option, AdamW
when the diagonal is the gradient, training, bit-identical resume, the non-finite rule, bad input."""
import json

import numpy as np
import pytest

import fastopt
from fastopt import _core, cli
from fastopt.checkpoint import load_checkpoint
from fastopt.curvature.adahessian import rademacher_signs
from fastopt.train import History, fit
from mnist_data import needs_mnist

SIZES = [6, 5, 4, 3]


def separable(n=240, seed=0):
    """Three classes split by the argmax of a linear map."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, SIZES[0]))
    return x, np.argmax(x @ rng.standard_normal((SIZES[0], SIZES[-1])), axis=1)


def smooth_model(seed=0, dtype=np.float64):
    """tanh: smooth, so central differences of the gradient give the Hessian."""
    return fastopt.nn.MLP(SIZES, activation="tanh", init="xavier", seed=seed, dtype=dtype)


def gradient_at(model, theta, x, y):
    saved = model.flat_params.copy()
    model.flat_params[...] = theta
    model.forward_backward(x, y)
    grad = model.flat_grads.copy()
    model.flat_params[...] = saved
    return grad


def hvp_by_differences(model, theta, x, y, v, h=1e-5):
    return (gradient_at(model, theta + h * v, x, y) - gradient_at(model, theta - h * v, x, y)) / (2 * h)


def dense_hessian(model, x, y):
    theta, n = model.flat_params.copy(), model.num_params
    hess = np.stack([hvp_by_differences(model, theta, x, y, e) for e in np.eye(n)], axis=1)
    return (hess + hess.T) / 2


def run(opt, x, y, steps, batch=40, start=0):
    model = opt.model
    for t in range(start, start + steps):
        i = (t * batch) % len(x)
        model.forward_backward(x[i:i + batch], y[i:i + batch], capture=opt.next_capture())
        opt.step(model.grads)


# ---------------------------------------------------------------------------------------------- the diagonal
def test_rademacher_signs_are_balanced_signs_of_the_dtype():
    z = rademacher_signs(np.random.default_rng(0), 10_001, np.float32)
    assert z.dtype == np.float32 and z.shape == (10_001,) and set(np.unique(z)) == {-1.0, 1.0}
    assert abs(z.mean()) < 0.05
    np.testing.assert_array_equal(z, rademacher_signs(np.random.default_rng(0), 10_001, np.float32))


def test_hutchinson_diagonal_converges_to_the_exact_diagonal():
    model = smooth_model()
    x, y = separable(50)
    hess = dense_hessian(model, x, y)
    off = hess - np.diag(np.diag(hess))
    assert np.abs(off).max() > 0.1 * np.abs(np.diag(hess)).max()  # a real test: the off-diagonal is not small
    errors = {}
    for samples in (10, 4000):
        estimate = fastopt.AdaHessian(model, n_samples=samples, seed=1).hessian_diagonal(x, y, t=1)
        bound = 5 * np.sqrt((off ** 2).sum(axis=1) / samples) + 1e-8  # five standard errors
        assert (np.abs(estimate - np.diag(hess)) <= bound).all()
        errors[samples] = np.linalg.norm(estimate - np.diag(hess))
    assert errors[4000] < 0.2 * errors[10]


def test_one_sample_is_z_times_hz_and_spatial_averaging_shares_the_row_mean_of_its_magnitude():
    model = smooth_model()
    x, y = separable(50)
    plain = fastopt.AdaHessian(model, seed=3).hessian_diagonal(x, y, t=7)
    z = rademacher_signs(np.random.default_rng([3, 7]), model.num_params, np.float64)
    np.testing.assert_allclose(plain, z * hvp_by_differences(model, model.flat_params.copy(), x, y, z),
                               rtol=1e-6, atol=1e-9)
    averaged = fastopt.AdaHessian(model, seed=3, spatial_average=True).hessian_diagonal(x, y, t=7)
    for n_in, n_out, w, b in model._net.layers:
        rows = np.abs(plain[w:w + n_in * n_out].reshape(n_out, n_in)).mean(axis=1, keepdims=True)
        np.testing.assert_allclose(averaged[w:w + n_in * n_out].reshape(n_out, n_in),
                                   np.broadcast_to(rows, (n_out, n_in)), rtol=1e-12)
        np.testing.assert_array_equal(averaged[b:b + n_out], plain[b:b + n_out])


# ---------------------------------------------------------------------------------------------- the reference
def reference_run(model, x, y, steps, batch, lr=0.15, betas=(0.9, 0.999), eps=1e-4, weight_decay=0.0,
                  hessian_power=1.0, update_each=1, n_samples=1, spatial_average=False, seed=0):
    """AdaHessian in float64 NumPy, written from the paper and the authors' code."""
    theta = model.flat_params.astype(np.float64)
    m, v, diag = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, steps + 1):
        i = ((t - 1) * batch) % len(x)
        xb, yb = x[i:i + batch], y[i:i + batch]
        grad = gradient_at(model, theta, xb, yb)
        if (t - 1) % update_each == 0:
            rng = np.random.default_rng([seed, t])
            diag = np.zeros_like(theta)
            for _ in range(n_samples):
                z = rademacher_signs(rng, len(theta), np.float64)
                diag += z * hvp_by_differences(model, theta, xb, yb, z) / n_samples
            if spatial_average:
                for n_in, n_out, w, _ in model._net.layers:
                    rows = diag[w:w + n_in * n_out].reshape(n_out, n_in)
                    rows[...] = np.abs(rows).mean(axis=1, keepdims=True)
        m = betas[0] * m + (1 - betas[0]) * grad
        v = betas[1] * v + (1 - betas[1]) * diag ** 2
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        theta = theta - lr * weight_decay * theta - lr * m_hat / (v_hat ** (hessian_power / 2) + eps)
    return theta


@pytest.mark.parametrize("options", [
    {},
    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.01, "hessian_power": 0.5},
    {"lr": 0.05, "update_each": 3, "n_samples": 2, "seed": 11},
    {"lr": 0.02, "spatial_average": True, "hessian_power": 0.75, "weight_decay": 0.1, "update_each": 2},
])
def test_follows_the_float64_reference_over_many_steps(options):
    x, y = separable(200, seed=4)
    model = smooth_model(seed=2)
    expected = reference_run(smooth_model(seed=2), x, y, steps=25, batch=40, **options)
    opt = fastopt.AdaHessian(model, **options)
    run(opt, x, y, steps=25)
    # the reference's finite-difference Hessian products (~1e-10) are amplified where |D| is near eps
    np.testing.assert_allclose(model.flat_params, expected, rtol=1e-5, atol=1e-6)
    assert opt.step_count == 25


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_with_the_gradient_for_the_diagonal_it_is_adamw(dtype):
    """v then averages g^2, as Adam's second moment: the update is AdamW's (decoupled weight decay), up to
    rounding (the two kernels may fuse a multiply-add differently: 1 ulp per step)."""
    x, y = separable()
    model, twin = fastopt.nn.MLP(SIZES, seed=3, dtype=dtype), fastopt.nn.MLP(SIZES, seed=3, dtype=dtype)
    opt = fastopt.AdaHessian(model, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)
    opt.hessian_diagonal = lambda xb, yb, t: model.flat_grads.copy()
    adamw = fastopt.AdamW([twin.flat_params], lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)
    for t in range(30):
        i = (t * 40) % len(x)
        model.forward_backward(x[i:i + 40], y[i:i + 40], capture=opt.next_capture())
        opt.step(model.grads)
        twin.forward_backward(x[i:i + 40], y[i:i + 40])
        adamw.step([twin.flat_grads])
    np.testing.assert_allclose(model.flat_params, twin.flat_params, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-14)


# ---------------------------------------------------------------------------------------------- training
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trains_a_separable_problem(dtype):
    model = fastopt.nn.MLP(SIZES, dtype=dtype, seed=1)
    x, y = separable()
    loss0, _ = model.evaluate(x, y)
    run(fastopt.AdaHessian(model, lr=0.05), x, y, steps=150)
    loss, accuracy = model.evaluate(x, y)
    assert accuracy >= 0.95 and loss < 0.15 * loss0, (loss0, loss, accuracy)


def make(model):
    return fastopt.AdaHessian(model, lr=0.05, update_each=3, n_samples=2, spatial_average=True, seed=5)


def test_resumes_bit_identically_from_its_state_dict():
    x, y = separable()
    straight = make(fastopt.nn.MLP(SIZES, seed=2))
    run(straight, x, y, steps=11)
    first = make(fastopt.nn.MLP(SIZES, seed=2))
    run(first, x, y, steps=5)  # mid-cycle: step 6 reuses the diagonal of step 4
    saved, params = first.state_dict(), first.model.flat_params.copy()
    run(first, x, y, steps=2, start=5)  # the saved state must be a copy, unaffected by these
    resumed = make(fastopt.nn.MLP(SIZES, seed=9))
    resumed.model.flat_params[...] = params
    resumed.load_state_dict(saved)
    run(resumed, x, y, steps=6, start=5)
    np.testing.assert_array_equal(resumed.model.flat_params, straight.model.flat_params)
    assert resumed.step_count == straight.step_count == 11


def test_fit_resumes_bit_identically_from_its_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 8)).astype(np.float32)
    data = (x, np.argmax(x @ rng.standard_normal((8, 4)), axis=1))
    straight = fastopt.nn.MLP([8, 16, 4], seed=5)
    fit(straight, make(straight), data, data, epochs=3, batch_size=50, progress=False)
    first = fastopt.nn.MLP([8, 16, 4], seed=5)
    fit(first, make(first), data, data, epochs=2, batch_size=50, progress=False, checkpoint=tmp_path / "c.npz")
    resumed = fastopt.nn.MLP([8, 16, 4], seed=5)
    history = fit(resumed, make(resumed), data, data, epochs=3, batch_size=50, progress=False,
                  checkpoint=tmp_path / "c.npz", resume=True)
    np.testing.assert_array_equal(resumed.flat_params, straight.flat_params)
    assert len(history) == 3 and history[-1]["train_accuracy"] > 0.8


# ---------------------------------------------------------------------------------------------- bad input
def assert_unchanged(opt, before, params):
    np.testing.assert_array_equal(opt.model.flat_params, params)
    after = opt.state_dict()["state"]
    assert after["skipped_steps"] == before["skipped_steps"] + 1 and after["step"] == before["step"]
    for key in ("exp_avg", "exp_hessian_diag_sq", "hessian_diag"):
        np.testing.assert_array_equal(after[key][0], before[key][0])


def test_a_non_finite_gradient_skips_the_step_and_changes_nothing():
    x, y = separable()
    opt = make(fastopt.nn.MLP(SIZES, dtype=np.float64))
    run(opt, x, y, steps=3)
    before, params = opt.state_dict()["state"], opt.model.flat_params.copy()
    opt.model.forward_backward(x[:40], y[:40], capture=opt.next_capture())
    opt.model.grads["1.weight"][0, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="step 4 skipped: the gradient holds a NaN"):
        opt.step(opt.model.grads)
    assert_unchanged(opt, before, params)
    run(opt, x, y, steps=1, start=3)  # and the next good step goes on
    assert opt.step_count == 4


def test_a_non_finite_hessian_diagonal_skips_the_step():
    x, y = separable()
    opt = make(fastopt.nn.MLP(SIZES, dtype=np.float64))
    run(opt, x, y, steps=3)
    before, params = opt.state_dict()["state"], opt.model.flat_params.copy()
    opt.hessian_diagonal = lambda xb, yb, t: np.full(opt.model.num_params, np.inf)
    opt.model.forward_backward(x[:40], y[:40], capture=opt.next_capture())
    with pytest.warns(RuntimeWarning, match="the Hessian diagonal estimate holds a NaN or an infinity"):
        opt.step(opt.model.grads)
    assert_unchanged(opt, before, params)


def test_a_step_without_its_batch_is_refused():
    model = fastopt.nn.MLP(SIZES)
    opt = fastopt.AdaHessian(model)
    x, y = separable()
    model.forward_backward(x, y)
    params = model.flat_params.copy()
    with pytest.raises(ValueError, match="no forward_backward recorded them"):
        opt.step(model.grads)
    np.testing.assert_array_equal(model.flat_params, params)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "Invalid learning rate: -1.0"),
    ({"betas": (0.9,)}, "Invalid betas: (0.9,)"),
    ({"betas": (1.0, 0.999)}, "Invalid beta1 (betas[0]): 1.0"),
    ({"betas": (0.9, -0.1)}, "Invalid beta2 (betas[1]): -0.1"),
    ({"eps": -1e-8}, "Invalid eps: -1e-08"),
    ({"weight_decay": float("nan")}, "Invalid weight_decay: nan"),
    ({"hessian_power": 1.5}, "Invalid hessian_power: 1.5"),
    ({"update_each": 0}, "Invalid update_each: 0"),
    ({"n_samples": 1.0}, "Invalid n_samples: 1.0"),
    ({"spatial_average": 1}, "Invalid spatial_average: 1"),
    ({"seed": -2}, "Invalid seed: -2"),
])
def test_invalid_hyperparameters_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
                       .replace("[", r"\[").replace("]", r"\]")):
        fastopt.AdaHessian(fastopt.nn.MLP(SIZES), **kwargs)


def test_native_update_checks_its_arrays_before_writing():
    p = np.ones(10, np.float32)
    g, m, v, d = (np.full(10, 0.5, np.float32) for _ in range(4))
    hyper = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, hessian_power=1.0, step=1)
    bad = [((p, g.astype(np.float64), m, v, d), TypeError, "grads: expected a float32 array"),
           ((p, g, m[:9], v, d), ValueError, r"exp_avg: expected shape \(10,\)"),
           ((p, g, m, v, p), ValueError, "hessian_diag: must not share memory with params"),
           ((p, g, m, m, d), ValueError, "exp_hessian_diag_sq: must not share memory with exp_avg")]
    for arrays, error, message in bad:
        with pytest.raises(error, match=message):
            _core.kfac.adahessian_step(*arrays, **hyper)
        assert (p == 1).all() and (m == 0.5).all()
    with pytest.raises(ValueError, match="step: must be >= 1"):
        _core.kfac.adahessian_step(p, g, m, v, d, **{**hyper, "step": 0})
    assert (p == 1).all()


# ---------------------------------------------------------------------------------------------- the CLI
def train_command(tmp_path, *flags):
    return cli.main(["train", "--limit", "300", "--epochs", "1", "--batch-size", "50", "--hidden", "16",
                     "--out", str(tmp_path), "--no-progress", "--schedule", "constant", *flags])


@needs_mnist
def test_train_command_selects_it_with_its_flags(tmp_path, served_mnist):
    assert train_command(tmp_path, "--seed", "7", "--optimizer", "adahessian", "--lr", "0.05", "--hessian-power",
                         "0.5", "--update-each", "2", "--n-samples", "2", "--spatial-average", "--beta1",
                         "0.8", "--eps", "1e-3", "--weight-decay", "1e-4") == 0
    saved = load_checkpoint(tmp_path / "checkpoint.npz")["optimizer"]
    group = saved["param_groups"][0]
    assert saved["optimizer"] == "AdaHessian"
    assert {k: group[k] for k in ("lr", "hessian_power", "update_each", "n_samples", "spatial_average", "eps",
                                  "weight_decay", "seed")} == {
        "lr": 0.05, "hessian_power": 0.5, "update_each": 2, "n_samples": 2, "spatial_average": True, "eps": 1e-3,
        "weight_decay": 1e-4, "seed": 7}
    assert tuple(group["betas"]) == (0.8, 0.999)


@needs_mnist
@pytest.mark.parametrize("flags, message", [
    (["--optimizer", "adahessian", "--hessian-power", "2"], "Invalid hessian_power: 2.0"),
    (["--optimizer", "adam", "--update-each", "2"], "--update-each does not apply to optimizer 'adam'"),
])
def test_train_command_rejects_bad_flags(tmp_path, served_mnist, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        train_command(tmp_path, *flags)
    assert e.value.code == 2 and message in capsys.readouterr().err


@needs_mnist
def test_compare_runs_it_beside_adam(tmp_path, served_mnist):
    assert cli.main(["compare", "--limit", "300", "--epochs", "1", "--batch-size", "100", "--optimizers",
                     "adam,adahessian", "--hidden", "16", "--out", str(tmp_path), "--no-progress"]) == 0
    history = History.from_json(tmp_path / "runs" / "adahessian" / "history.json")
    config = json.loads((tmp_path / "runs" / "adahessian" / "config.json").read_text())
    assert history["epoch"] == [1] and config["lr"] == fastopt.optim.entry("adahessian").mnist_lr
    assert (tmp_path / "comparison.png").is_file()
