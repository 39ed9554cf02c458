"""The curvature optimizers through fastopt.train.fit and `fastopt train`: training on an MNIST subset, exact
resume from fit's checkpoint, their flags, and fit unchanged for the other optimizers."""
import numpy as np
import pytest

import fastopt
from fastopt import cli
from fastopt.checkpoint import load_checkpoint
from fastopt.train import fit
from mnist_data import needs_mnist

MAKERS = {
    "kfac": lambda m: fastopt.KFAC(m, lr=0.1, fisher="true", seed=3, inv_update_steps=4),
    "ekfac": lambda m: fastopt.EKFAC(m, lr=0.1, damping=0.03, scale_update_steps=2),
    "ngd": lambda m: fastopt.NaturalGradient(m, lr=0.2, momentum=0.5, damping=0.3, cg_max_iter=20),
    "sophia": lambda m: fastopt.SophiaG(m, lr=0.02, update_period=3, seed=4),
}


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    return x, np.argmax(x @ rng.standard_normal((8, 4)), axis=1)


@pytest.mark.parametrize("name", list(MAKERS))
def test_fit_resumes_bit_identically_from_its_checkpoint(tmp_path, name):
    data = blobs()

    def model():
        return fastopt.nn.MLP([8, 16, 4], seed=5)

    straight = model()
    fit(straight, MAKERS[name](straight), data, data, epochs=3, batch_size=50, progress=False)
    first = model()
    fit(first, MAKERS[name](first), data, data, epochs=2, batch_size=50, progress=False,
        checkpoint=tmp_path / "c.npz")
    resumed = model()
    history = fit(resumed, MAKERS[name](resumed), data, data, epochs=3, batch_size=50, progress=False,
                  checkpoint=tmp_path / "c.npz", resume=True)
    np.testing.assert_array_equal(resumed.flat_params, straight.flat_params)
    assert len(history) == 3 and history[-1]["train_accuracy"] > 0.8


@needs_mnist
def test_kfac_trains_an_mnist_subset(mnist):
    model = fastopt.nn.MLP([784, 64, 10], seed=0)
    train = (mnist.train.x[:2000], mnist.train.y[:2000])
    test = (mnist.test.x[:1000], mnist.test.y[:1000])
    history = fit(model, fastopt.KFAC(model, lr=0.1), train, test, epochs=2, batch_size=100, progress=False)
    last = history[-1]  # fits the 2,000 samples in 2 epochs (and generalises about as a 2,000-sample MLP does)
    assert last["train_accuracy"] >= 0.95 and last["test_accuracy"] >= 0.8, last
    assert last["train_loss"] < 0.6 * history[0]["train_loss"]


def train(tmp_path, *flags):
    return cli.main(["train", "--limit", "300", "--epochs", "1", "--batch-size", "50", "--hidden", "16",
                     "--out", str(tmp_path), "--no-progress", "--schedule", "constant", *flags])


@needs_mnist
@pytest.mark.parametrize("flags, expected", [
    (["--optimizer", "kfac", "--damping", "0.01", "--compute-method", "inverse", "--factored-damping",
      "--inv-update-steps", "5", "--kl-clip", "0.01", "--fisher", "true"],
     {"optimizer": "KFAC", "damping": 0.01, "compute_method": "inverse", "factored_damping": True,
      "inv_update_steps": 5, "kl_clip": 0.01, "fisher": "true", "seed": 7}),
    (["--optimizer", "ekfac", "--scale-update-steps", "3", "--factor-decay", "0.9"],
     {"optimizer": "EKFAC", "scale_update_steps": 3, "factor_decay": 0.9, "seed": 7}),
    (["--optimizer", "ngd", "--lr", "0.1", "--cg-max-iter", "5", "--cg-tol", "1e-3"],
     {"optimizer": "NaturalGradient", "lr": 0.1, "cg_max_iter": 5, "cg_tol": 1e-3}),
    (["--optimizer", "sophia", "--lr", "1e-3", "--rho", "0.05", "--update-period", "4", "--betas", "0.9,0.95"],
     {"optimizer": "SophiaG", "lr": 1e-3, "rho": 0.05, "update_period": 4, "betas": (0.9, 0.95), "seed": 7}),
])
def test_train_command_selects_them_with_their_flags(tmp_path, served_mnist, flags, expected):
    assert train(tmp_path, "--seed", "7", *flags) == 0
    saved = load_checkpoint(tmp_path / "checkpoint.npz")["optimizer"]
    group = saved["param_groups"][0]
    assert {k: (saved if k == "optimizer" else group)[k] for k in expected} == expected


@needs_mnist
@pytest.mark.parametrize("flags, message", [
    (["--optimizer", "kfac", "--compute-method", "cholesky"], "Invalid compute_method: 'cholesky'"),
    (["--optimizer", "kfac", "--damping", "-1"], "Invalid damping: -1.0"),
    (["--optimizer", "adam", "--damping", "0.1"], "--damping does not apply to optimizer 'adam'"),
])
def test_train_command_rejects_bad_flags(tmp_path, served_mnist, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        train(tmp_path, *flags)
    assert e.value.code == 2 and message in capsys.readouterr().err


@needs_mnist
def test_train_command_resumes_kfac_exactly(tmp_path, served_mnist):
    assert train(tmp_path / "straight", "--optimizer", "kfac", "--epochs", "2", "--fisher", "true") == 0
    assert train(tmp_path / "split", "--optimizer", "kfac", "--epochs", "2", "--fisher", "true") == 0
    one = tmp_path / "one"
    assert train(one, "--optimizer", "kfac", "--epochs", "1", "--fisher", "true") == 0
    assert train(one, "--optimizer", "kfac", "--epochs", "2", "--fisher", "true", "--resume") == 0
    straight = load_checkpoint(tmp_path / "straight" / "checkpoint.npz")["params"]
    resumed = load_checkpoint(one / "checkpoint.npz")["params"]
    for k in straight:
        np.testing.assert_array_equal(resumed[k], straight[k])


def test_fit_calls_other_optimizers_as_before():
    class Recorder:
        """An optimizer-like object without next_capture: fit must never pass a capture."""

        def __init__(self, model):
            self.inner = fastopt.SGD(model.params, lr=0.1)
            self.param_groups = self.inner.param_groups

        def step(self, grads):
            self.inner.step(grads)

        def state_dict(self):
            return self.inner.state_dict()

    class Model(fastopt.nn.MLP):
        def forward_backward(self, x, y, train=True, **kwargs):
            assert not kwargs
            return super().forward_backward(x, y, train)

    model = Model([8, 4], seed=0)
    history = fit(model, Recorder(model), blobs(), epochs=1, batch_size=50, progress=False)
    assert len(history) == 1
