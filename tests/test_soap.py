"""SOAP: against a NumPy float64 reference over many steps and every option, its reduction to Adam in
an identity basis, training, exact resume, non-finite gradients, bad hyperparameters, and the CLI
selecting Shampoo and SOAP with their flags."""
import numpy as np
import pytest

import fastopt
from fastopt import _core, cli
from fastopt.checkpoint import load_checkpoint
from fastopt.train import fit
from mnist_data import needs_mnist
from shampoo_reference import SOAPReference
from test_shampoo import blobs, gradients, layer_pairs

# Square blocks: a first gradient's statistics are full rank, so their eigenbases are unique up to signs
# (a rank-deficient one leaves an arbitrary basis of its null space, in which Adam is not invariant).
SQUARE = [3, 4, 5, 6]  # layer matrices [W, b]: 4 x 4, 5 x 5, 6 x 6


def run(kwargs, layers=SQUARE, steps=24, dtype=np.float64):
    model = fastopt.nn.MLP(layers, seed=1, dtype=dtype)
    opt = fastopt.SOAP(model, **kwargs)
    ref = SOAPReference(layer_pairs([p.copy() for p in model.params.values()]), **kwargs)
    for grads in gradients(model, steps):
        opt.step([g.astype(dtype) for g in grads])
        ref.step(layer_pairs(grads))
    return model, opt, ref


def matrices(model):
    return [np.concatenate([w, b[:, None]], axis=1) for w, b in layer_pairs(list(model.params.values()))]


CASES = {
    "defaults, qr refresh": (dict(precondition_frequency=3), SQUARE),
    "eigen refresh": (dict(precondition_frequency=2, eigenbasis_method="eigen"), SQUARE),
    "blocked": (dict(precondition_frequency=3, max_precond_dim=3), [5, 6]),
    "shampoo beta, no bias correction, decay": (dict(precondition_frequency=4, shampoo_beta=0.8, correct_bias=False,
                                                     weight_decay=0.1, betas=(0.9, 0.99), eps=1e-6, lr=1e-2),
                                                SQUARE),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_the_numpy_reference_over_many_steps(case):
    kwargs, layers = CASES[case]
    model, opt, ref = run(kwargs, layers)
    for got, want in zip(matrices(model), ref.net.params):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    assert opt.step_count == 24


def test_float32_follows_the_reference_closely():
    model, _, ref = run(dict(precondition_frequency=3), steps=10, dtype=np.float32)
    for got, want in zip(matrices(model), ref.net.params):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


def test_the_first_step_only_sets_the_bases():
    model = fastopt.nn.MLP(SQUARE, seed=1)
    before = model.flat_params.copy()
    opt = fastopt.SOAP(model)
    opt.step([g.astype(np.float32) for g in gradients(model, 1)[0]])
    np.testing.assert_array_equal(model.flat_params, before)
    for q in opt.state["QL"] + opt.state["QR"]:
        np.testing.assert_allclose(q.T @ q, np.eye(len(q)), atol=1e-5)
    assert opt.step_count == 1


def test_in_an_identity_basis_it_is_adam():
    """With the bases fixed at I (no refresh within the run), SOAP is Adam, in the bias correction of the
    reference (step size lr sqrt(1 - beta2^k) / (1 - beta1^k), eps outside it)."""
    lr, (b1, b2), eps, wd = 1e-2, (0.9, 0.99), 1e-6, 0.05
    model = fastopt.nn.MLP(SQUARE, seed=1, dtype=np.float64)
    opt = fastopt.SOAP(model, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, precondition_frequency=1000)
    grads = gradients(model, 15)
    opt.step(grads[0])
    opt.state["QL"] = [np.eye(len(q)) for q in opt.state["QL"]]
    opt.state["QR"] = [np.eye(len(q)) for q in opt.state["QR"]]
    params = [p.copy() for p in model.params.values()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for k, g in enumerate(grads[1:], start=1):
        opt.step(g)
        for i, gi in enumerate(g):
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            step = np.sqrt(1 - b2 ** k) / (1 - b1 ** k) * m[i] / (np.sqrt(v[i]) + eps)
            params[i] = params[i] - lr * (step + wd * params[i])
    for got, want in zip(model.params.values(), params):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_trains_a_linearly_separable_problem():
    data = blobs()
    model = fastopt.nn.MLP([8, 4], seed=0)
    history = fit(model, fastopt.SOAP(model, lr=0.05, weight_decay=0.0), data, epochs=15, batch_size=50,
                  progress=False)
    assert history[-1]["train_accuracy"] >= 0.97 and history[-1]["train_loss"] < 0.3 * history[0]["train_loss"]


@pytest.mark.parametrize("method", ["qr", "eigen"])
def test_resumes_bit_identically_mid_run(method):
    kwargs = dict(precondition_frequency=3, max_precond_dim=4, eigenbasis_method=method)
    model = fastopt.nn.MLP([6, 7, 3], seed=1)
    opt = fastopt.SOAP(model, **kwargs)
    grads = [[a.astype(np.float32) for a in g] for g in gradients(model, 14, scale=0.1)]
    for g in grads[:7]:
        opt.step(g)
    saved, saved_params = opt.state_dict(), model.flat_params.copy()
    for g in grads[7:]:
        opt.step(g)
    again = fastopt.nn.MLP([6, 7, 3], seed=2)
    again.flat_params[:] = saved_params
    resumed = fastopt.SOAP(again, **kwargs)
    resumed.load_state_dict(saved)
    for g in grads[7:]:
        resumed.step(g)
    np.testing.assert_array_equal(again.flat_params, model.flat_params)
    for name, arrays in opt.state.items():
        for a, b in zip(arrays, resumed.state[name]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("at", [1, 3])
def test_a_nan_gradient_is_skipped_and_nothing_changes(at):
    model = fastopt.nn.MLP(SQUARE, seed=1)
    opt = fastopt.SOAP(model)
    grads = [[a.astype(np.float32) for a in g] for g in gradients(model, at)]
    for g in grads[:-1]:
        opt.step(g)
    before, params = opt.state_dict(), model.flat_params.copy()
    grads[-1][1][0] = np.inf
    with pytest.warns(RuntimeWarning, match=f"SOAP: step {at} skipped: the gradient holds a NaN or an infinity"):
        opt.step(grads[-1])
    after = opt.state_dict()
    np.testing.assert_array_equal(model.flat_params, params)
    assert after["state"]["step"] == at - 1 and after["state"]["skipped_steps"] == 1
    for name in opt.state:
        for a, b in zip(before["state"][name], after["state"][name]):
            np.testing.assert_array_equal(a, b)


def test_a_failed_refresh_keeps_the_bases():
    model = fastopt.nn.MLP([3, 2], seed=1)
    opt = fastopt.SOAP(model)
    opt.step([np.ones((2, 3), np.float32), np.ones(2, np.float32)])
    bases = [q.copy() for q in opt.state["QL"]]
    opt.state["L"][0][0, 0] = np.inf  # as an overflow would leave it
    with pytest.warns(RuntimeWarning, match="the eigenbasis refresh failed"):
        opt.refresh_bases(2, "qr")
    np.testing.assert_array_equal(opt.state["QL"][0], bases[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(betas=(0.9, 1.0)), "Invalid beta at index 1 of betas: 1.0"),
    (dict(shampoo_beta=1.0), "Invalid shampoo_beta: 1.0"),
    (dict(eps=0.0), "Invalid eps: 0.0"),
    (dict(weight_decay=-0.1), "Invalid weight_decay: -0.1"),
    (dict(precondition_frequency=0), "Invalid precondition_frequency: 0"),
    (dict(max_precond_dim=0), "Invalid max_precond_dim: 0"),
    (dict(correct_bias=None), "Invalid correct_bias: None"),
    (dict(eigenbasis_method="power"), "Invalid eigenbasis_method: 'power'"),
])
def test_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError) as e:
        fastopt.SOAP(fastopt.nn.MLP(SQUARE, seed=0), **kwargs)
    assert message in str(e.value)


def test_the_native_bases_against_numpy():
    rng = np.random.default_rng(3)
    g = rng.standard_normal((6, 6))
    s = g @ g.T
    q = [np.empty((6, 6))]
    assert _core.shampoo.eigenbasis([s], q) == -1
    np.testing.assert_allclose(np.abs(q[0]), np.abs(np.linalg.eigh(s)[1][:, ::-1]), atol=1e-10)
    start = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    q, order = [start.copy()], [np.empty(6, np.int64)]
    assert _core.shampoo.power_qr_basis([s], q, order) == -1
    want_order = np.argsort(-np.diag(start.T @ s @ start), kind="stable")
    np.testing.assert_array_equal(order[0], want_order)
    np.testing.assert_allclose(q[0], np.linalg.qr(s @ start[:, want_order])[0], atol=1e-10)


def test_registered_and_built_by_name():
    opt = fastopt.optim.create("soap", fastopt.nn.MLP(SQUARE, seed=0))
    assert isinstance(opt, fastopt.SOAP) and fastopt.optim.entry("soap").takes_model


# ---------------------------------------------------------------------------------------------- the CLI
def train(tmp_path, *flags):
    return cli.main(["train", "--limit", "300", "--epochs", "1", "--batch-size", "50", "--hidden", "16",
                     "--out", str(tmp_path), "--no-progress", "--schedule", "constant", *flags])


@needs_mnist
@pytest.mark.parametrize("flags, expected", [
    (["--optimizer", "shampoo", "--precondition-frequency", "3", "--grafting", "sgd", "--root-method", "newton",
      "--max-preconditioner-dim", "8", "--epsilon", "1e-6", "--beta2", "0.99", "--no-use-bias-correction"],
     {"optimizer": "Shampoo", "precondition_frequency": 3, "grafting": "sgd", "root_method": "newton",
      "max_preconditioner_dim": 8, "epsilon": 1e-6, "betas": (0.9, 0.99), "use_bias_correction": False}),
    (["--optimizer", "soap", "--precondition-frequency", "4", "--shampoo-beta", "0.9", "--eigenbasis-method", "eigen",
      "--max-precond-dim", "9", "--no-correct-bias"],
     {"optimizer": "SOAP", "precondition_frequency": 4, "shampoo_beta": 0.9, "eigenbasis_method": "eigen",
      "max_precond_dim": 9, "correct_bias": False}),
])
def test_train_command_selects_them_with_their_flags(tmp_path, served_mnist, flags, expected):
    assert train(tmp_path, *flags) == 0
    saved = load_checkpoint(tmp_path / "checkpoint.npz")["optimizer"]
    group = saved["param_groups"][0]
    got = {k: (saved if k == "optimizer" else group)[k] for k in expected}
    if "betas" in got:
        got["betas"] = tuple(got["betas"])
    assert got == expected


@needs_mnist
@pytest.mark.parametrize("flags, message", [
    (["--optimizer", "shampoo", "--grafting", "adagrad"], "Invalid grafting: 'adagrad'"),
    (["--optimizer", "soap", "--grafting", "sgd"], "--grafting does not apply to optimizer 'soap'"),
])
def test_train_command_rejects_bad_flags(tmp_path, served_mnist, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        train(tmp_path, *flags)
    assert e.value.code == 2 and message in capsys.readouterr().err


@needs_mnist
@pytest.mark.parametrize("name", ["shampoo", "soap"])
def test_train_command_resumes_exactly(tmp_path, served_mnist, name):
    flags = ["--optimizer", name, "--precondition-frequency", "3"]
    assert train(tmp_path / "straight", *flags, "--epochs", "2") == 0
    one = tmp_path / "one"
    assert train(one, *flags, "--epochs", "1") == 0
    assert train(one, *flags, "--epochs", "2", "--resume") == 0
    straight = load_checkpoint(tmp_path / "straight" / "checkpoint.npz")["params"]
    resumed = load_checkpoint(one / "checkpoint.npz")["params"]
    for k in straight:
        np.testing.assert_array_equal(resumed[k], straight[k])
