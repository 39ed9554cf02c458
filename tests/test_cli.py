"""The `fastopt` command line: flag validation (exit status 2), tiny trainings through main([...]), resume.

The network is replaced by test_train's SoftmaxRegression (same interface as fastopt.nn.MLP) so these
tests run without the compiled network and in seconds; MNIST is loaded once per session.
"""
import json

import numpy as np
import pytest

import fastopt
from fastopt import cli, dataset_files, datasets, nn
from fastopt.optim import OPTIMIZERS, REGISTRY
from fastopt.checkpoint import load_checkpoint
from fastopt.train import History
from mnist_data import MNIST_DIR, needs_mnist
from test_train import SoftmaxRegression

pytestmark = needs_mnist


@pytest.fixture
def fake_net(monkeypatch, mnist):
    """SoftmaxRegression instead of the MLP, and the already loaded MNIST instead of reading it again."""
    models = []

    def make_model(config):
        models.append(SoftmaxRegression(784, seed=config["seed"]))
        return models[-1]

    monkeypatch.setattr(nn, "make_model", make_model)
    monkeypatch.setattr(datasets, "load", lambda name, path=None, progress=True, **kwargs: mnist)
    return models


def train(tmp_path, *flags):
    return cli.main(["train", "--limit", "300", "--epochs", "2", "--batch-size", "50", "--out", str(tmp_path),
                     "--no-progress", *flags])


def exit_status(capsys, argv):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    return e.value.code, capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- bad flags
@pytest.mark.parametrize("flags, message", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
    (["--lr", "abc"], "argument --lr: expected a positive learning rate or OPT=RATE pairs, got 'abc'"),
    (["--lr", "-1"], "argument --lr: expected a positive learning rate or OPT=RATE pairs, got '-1'"),
    (["--lr", "sgd=0.1"], "--lr names sgd, but this run uses optimizer 'adam'"),
    (["--betas", "1.0,0.9"], "Invalid beta parameter at index 0: 1.0"),
    (["--dropout", "1.5"], "dropout"),
    (["--clip-grad-norm", "0"], "argument --clip-grad-norm: expected a positive number, got '0'"),
    (["--schedule", "onecycle", "--warmup", "2"], "must be 0 with onecycle"),
    (["--hidden", "512,x"], "argument --hidden: expected a positive integer, got 'x'"),
    (["--betas", "0.9"], "argument --betas: expected numbers separated by commas (e.g. 0.9,0.999), got"),
    (["--optimizer", "adamm"], "argument --optimizer: invalid choice: 'adamm'"),
    (["--schedule", "sawtooth"], "argument --schedule: invalid choice"),
    (["--target-accuracy", "120"], "expected a percentage in (0, 100], got '120'"),
    (["--optimizer", "adam", "--momentum", "0.9"], "--momentum does not apply to optimizer 'adam' (it takes --lr,"),
    (["--optimizer", "sgd", "--betas", "0.9,0.99"], "--betas does not apply to optimizer 'sgd'"),
    (["--betas", "0.9,0.99", "--beta1", "0.8"], "--beta1 and --betas both given"),
    (["--warmup", "10"], "Invalid warmup: 10"),
])
def test_invalid_flags_exit_2_with_a_clear_message(capsys, tmp_path, flags, message):
    code, err = exit_status(capsys, ["train", "--out", str(tmp_path), *flags])
    assert code == 2 and message in err
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("flags, message", [
    (["--optimizer", "adam", "--beta2", "1.5"], "Invalid beta parameter at index 1: 1.5"),
    (["--resume"], "--resume: no checkpoint at"),
])
def test_invalid_values_exit_2(capsys, tmp_path, fake_net, flags, message):
    with pytest.raises(SystemExit) as e:
        train(tmp_path, *flags)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_no_command_and_version(capsys):
    assert exit_status(capsys, [])[0] == 2
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"fastopt {fastopt.__version__}"


# ---------------------------------------------------------------------------------------------- training
def test_tiny_training_writes_history_config_and_checkpoint(tmp_path, fake_net, capsys):
    assert cli.main(["train", "--limit", "300", "--epochs", "2", "--batch-size", "50", "--out", str(tmp_path),
                     "--lr", "0.01", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "epoch   2/2" in out and "best test accuracy" in out
    history = History.from_json(tmp_path / "history.json")
    assert len(history) == 2 and history.stop_reason == "epochs"
    assert history["lr"] == pytest.approx([0.01, 0.005])  # the default cosine schedule over 2 epochs
    assert history[-1]["test_accuracy"] > 0.5  # softmax regression on 300 digits learns something
    assert (tmp_path / "history.csv").read_text().count("\n") == 3
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["optimizer"] == "adam" and config["hidden"] == [512, 256] and config["hyper"] == {"lr": 0.01}
    ckpt = load_checkpoint(tmp_path / "checkpoint.npz")
    assert ckpt["epoch"] == 2 and ckpt["config"] == {"batch_size": 50, "seed": 4, "n_train": 300}
    assert np.array_equal(ckpt["params"]["0.weight"], fake_net[-1].params["0.weight"])


def test_resume_continues_and_matches_an_uninterrupted_run(tmp_path, fake_net, monkeypatch):
    full, part = tmp_path / "full", tmp_path / "part"
    assert train(full, "--epochs", "3") == 0

    class DiesInEpochTwo(SoftmaxRegression):  # 6 batches per epoch: the checkpoint of epoch 1 remains
        def forward_backward(self, x, y):
            if len(self.batches) == 9:
                raise KeyboardInterrupt
            return super().forward_backward(x, y)

    monkeypatch.setattr(nn, "make_model", lambda config: DiesInEpochTwo(784, seed=config["seed"]))
    with pytest.raises(KeyboardInterrupt):
        train(part, "--epochs", "3")
    assert load_checkpoint(part / "checkpoint.npz")["epoch"] == 1
    monkeypatch.setattr(nn, "make_model", lambda config: SoftmaxRegression(784, seed=123))
    assert train(part, "--epochs", "3", "--resume") == 0
    a, b = load_checkpoint(full / "checkpoint.npz"), load_checkpoint(part / "checkpoint.npz")
    assert all(np.array_equal(a["params"][k], b["params"][k]) for k in a["params"])
    assert History.from_json(part / "history.json")["test_loss"] == History.from_json(full / "history.json")["test_loss"]


def test_resume_with_another_batch_size_is_refused(tmp_path, fake_net, capsys):
    assert train(tmp_path) == 0
    with pytest.raises(SystemExit) as e:
        train(tmp_path, "--resume", "--batch-size", "60", "--epochs", "3")
    assert e.value.code == 2 and "written with batch_size=50, this run has batch_size=60" in capsys.readouterr().err


@pytest.mark.parametrize("name", [n for n, e in REGISTRY.items() if not e.takes_model])  # K-FAC & co: test_kfac_cli
def test_every_optimizer_is_selectable(tmp_path, fake_net, name):
    assert train(tmp_path, "--optimizer", name, "--epochs", "1") == 0
    cls, preset = OPTIMIZERS[name]
    saved = load_checkpoint(tmp_path / "checkpoint.npz")["optimizer"]
    assert saved["optimizer"] == cls.__name__
    group = (saved["inner"] if "inner" in saved else saved)["param_groups"][0]
    assert all(group[k] == v for k, v in preset.items())


@pytest.mark.parametrize("flags, expected", [
    (["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.8", "--nesterov", "--weight-decay", "1e-4"],
     {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 1e-4}),
    (["--optimizer", "adam", "--beta2", "0.98", "--eps", "1e-6", "--amsgrad"],
     {"betas": (0.9, 0.98), "eps": 1e-6, "amsgrad": True}),
    (["--optimizer", "adamw", "--betas", "0.8,0.95"], {"betas": (0.8, 0.95), "weight_decay": 1e-2}),
    (["--optimizer", "rmsprop", "--alpha", "0.9", "--centered", "--momentum", "0.5"],
     {"alpha": 0.9, "centered": True, "momentum": 0.5}),
    (["--optimizer", "adagrad", "--lr-decay", "0.01", "--initial-accumulator-value", "0.1"],
     {"lr_decay": 0.01, "initial_accumulator_value": 0.1}),
    (["--optimizer", "adadelta", "--rho", "0.95"], {"rho": 0.95, "lr": 1.0}),
    (["--optimizer", "nadam", "--momentum-decay", "0.002", "--decoupled-weight-decay"],
     {"momentum_decay": 0.002, "decoupled_weight_decay": True}),
    (["--optimizer", "ademamix", "--betas", "0.8,0.99,0.999", "--alpha", "5", "--beta3-warmup", "100", "--cautious"],
     {"betas": (0.8, 0.99, 0.999), "alpha": 5.0, "beta3_warmup": 100, "cautious": True}),
    (["--optimizer", "adan", "--beta3", "0.95"], {"betas": (0.98, 0.92, 0.95)}),
    (["--optimizer", "adopt", "--no-use-clipping", "--nesterov"], {"use_clipping": False, "nesterov": True}),
    (["--optimizer", "adopt"], {"use_clipping": True}),
    (["--optimizer", "muon", "--adjust-lr-fn", "match_rms_adamw", "--ns-steps", "3", "--adamw-betas", "0.8,0.9"],
     {"adjust_lr_fn": "match_rms_adamw", "ns_steps": 3, "adamw_betas": (0.8, 0.9), "nesterov": True}),
    (["--optimizer", "adafactor", "--eps", "1e-3,1e-2", "--beta2-decay", "-0.5", "--d", "2"],
     {"eps": (1e-3, 1e-2), "beta2_decay": -0.5, "d": 2.0}),
    (["--optimizer", "rprop", "--etas", "0.4,1.3", "--step-sizes", "1e-5,1"],
     {"etas": (0.4, 1.3), "step_sizes": (1e-5, 1.0)}),
    (["--optimizer", "asgd", "--lambd", "1e-3", "--t0", "50"], {"lambd": 1e-3, "t0": 50.0}),
    (["--optimizer", "sgdw", "--weight-decay", "0.05"], {"weight_decay": 0.05, "momentum": 0.9}),
    (["--optimizer", "lion", "--cautious"], {"cautious": True}),
])
def test_hyperparameter_flags_reach_the_optimizer(tmp_path, fake_net, flags, expected):
    assert train(tmp_path, "--epochs", "1", "--schedule", "constant", *flags) == 0
    group = load_checkpoint(tmp_path / "checkpoint.npz")["optimizer"]["param_groups"][0]
    assert {k: group[k] for k in expected} == expected


@pytest.mark.parametrize("flags, message", [
    (["--optimizer", "adam", "--beta3", "0.9"], "--beta3 does not apply to optimizer 'adam' (it takes 2 betas)"),
    (["--optimizer", "rprop", "--cautious"], "--cautious does not apply to optimizer 'rprop'"),
    (["--optimizer", "adan", "--betas", "x,y"], "expected numbers separated by commas"),
    (["--optimizer", "adam", "--betas", "0.9,0.99,0.5"], "Invalid betas: (0.9, 0.99, 0.5) (expected a pair (beta1, beta2))"),
])
def test_new_optimizer_flags_refused(tmp_path, fake_net, capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        train(tmp_path, "--epochs", "1", *flags)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_ranger_lookahead_flags(tmp_path, fake_net):
    assert train(tmp_path, "--optimizer", "ranger", "--k", "3", "--alpha", "0.7", "--epochs", "1") == 0
    saved = load_checkpoint(tmp_path / "checkpoint.npz")["optimizer"]
    assert (saved["k"], saved["alpha"]) == (3, 0.7)


def test_threads_flag_sets_the_native_thread_count(tmp_path, fake_net):
    before = fastopt.get_num_threads()
    try:
        assert train(tmp_path, "--threads", "1", "--epochs", "1") == 0
        assert fastopt.get_num_threads() == 1
    finally:
        fastopt.set_num_threads(before)


def test_reads_the_dataset_from_data_path(tmp_path, monkeypatch):
    monkeypatch.setattr(nn, "make_model", lambda config: SoftmaxRegression(784))
    assert cli.main(["train", "--data", str(MNIST_DIR), "--limit", "100", "--epochs", "1", "--batch-size", "100",
                     "--out", str(tmp_path), "--no-progress"]) == 0
    assert load_checkpoint(tmp_path / "checkpoint.npz")["config"]["n_train"] == 100


def test_a_missing_dataset_exits_1(tmp_path, monkeypatch, capsys):
    spec = datasets.DATASETS["mnist"]
    monkeypatch.setitem(datasets.DATASETS, "mnist", datasets.DatasetSpec(
        "mnist", spec.folders, spec.files, ("file:///nonexistent/",), spec.classes))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FASTOPT_DATA", raising=False)
    monkeypatch.setattr(dataset_files, "SYSTEM_DIR", tmp_path / "system")
    monkeypatch.setattr(dataset_files.time, "sleep", lambda s: None)
    assert cli.main(["train", "--out", str(tmp_path / "run"), "--no-progress"]) == 1
    assert "fastopt train: error: could not download mnist's train-images-idx3-ubyte" in capsys.readouterr().err
    assert not (tmp_path / "home").exists()  # no empty cache folder left behind
    assert cli.main(["train", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run"),
                     "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"not found in '{tmp_path / 'empty'}'" in err and "download" not in err
