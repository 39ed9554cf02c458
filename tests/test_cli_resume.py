"""`fastopt train --resume`: it continues the checkpoint's run or refuses (exit status 2) with a message
naming the flag or the file; config.json never records what did not happen."""
import json
import subprocess
import sys

import numpy as np
import pytest

import fastopt
from fastopt import cli, studies
from fastopt.checkpoint import load_checkpoint, save_checkpoint
from fastopt.train import History
from mnist_data import needs_mnist
from test_cli import fake_net, train  # noqa: F401  (fake_net is a fixture)

pytestmark = needs_mnist


def refused(capsys, tmp_path, *flags) -> str:
    """The error message of a refused `fastopt train --resume`, after checking the run folder is untouched."""
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(SystemExit) as e:
        train(tmp_path, "--resume", *flags)
    assert e.value.code == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    return capsys.readouterr().err


@pytest.mark.parametrize("first, again, message", [
    (["--lr", "0.01"], ["--lr", "0.5"], "--lr conflicts with the checkpoint's run: checkpoint {ckpt}: written with "
                                        "lr=0.01, this run has lr=0.5"),
    ([], ["--lr", "0.5"], "written with lr=0.001, this run has lr=0.5"),
    (["--optimizer", "sgd", "--momentum", "0.8"], ["--optimizer", "sgd"],
     "--momentum conflicts with the checkpoint's run: checkpoint {ckpt}: written with momentum=0.8, this run has "
     "momentum=0.0"),
    ([], ["--optimizer", "adamw"], "--optimizer conflicts with the checkpoint's run: checkpoint {ckpt}: written with "
                                   "optimizer='adam', this run has optimizer='adamw'"),
    ([], ["--betas", "0.8,0.9"], "--betas conflicts with the checkpoint's run: checkpoint {ckpt}: written with "
                                 "betas=(0.9, 0.999), this run has betas=(0.8, 0.9)"),
    ([], ["--beta2", "0.9"], "--betas conflicts"),
    ([], ["--amsgrad"], "--amsgrad conflicts with the checkpoint's run"),
    ([], ["--hidden", "32"], "--hidden conflicts with the checkpoint's run: checkpoint {ckpt}: written with "
                             "hidden=[512, 256], this run has hidden=[32]"),
    ([], ["--activation", "tanh"], "--activation conflicts"),
    ([], ["--dropout", "0.1"], "--dropout conflicts"),
    ([], ["--seed", "3"], "--seed conflicts with the checkpoint's run: checkpoint {ckpt}: written with seed=0, this run "
                          "has seed=3"),
    ([], ["--batch-size", "60"], "--batch-size conflicts with the checkpoint's run: checkpoint {ckpt}: written with "
                                 "batch_size=50, this run has batch_size=60"),
    ([], ["--schedule", "step"], "--schedule conflicts"),
    ([], ["--warmup", "1", "--epochs", "2"], "--warmup conflicts"),
    ([], ["--epochs", "3"], "--epochs conflicts with the checkpoint's run: checkpoint {ckpt}: written with epochs=2, "
                            "this run has epochs=3"),
    ([], ["--limit", "250"], "--limit conflicts"),
])
def test_a_flag_that_would_change_the_run_is_refused(tmp_path, fake_net, capsys, first, again, message):
    assert train(tmp_path, *first) == 0
    err = refused(capsys, tmp_path, *again)
    assert message.format(ckpt=tmp_path / "checkpoint.npz") in err
    assert "--resume continues that run with its own settings" in err


def test_the_same_flags_continue_and_config_records_the_run(tmp_path, fake_net, monkeypatch):
    flags = ["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.5", "--schedule", "constant"]
    assert train(tmp_path, *flags, "--epochs", "1") == 0
    assert train(tmp_path, *flags, "--epochs", "3", "--resume", "--target-accuracy", "99.9") == 0  # constant: may grow
    history = History.from_json(tmp_path / "history.json")
    assert history["epoch"] == [1, 2, 3]
    config = json.loads((tmp_path / "config.json").read_text())
    assert (config["epochs"], config["lr"], config["hyper"]) == (3, 0.05, {"lr": 0.05, "momentum": 0.5})
    assert config["target_accuracy"] == pytest.approx(0.999)
    group = load_checkpoint(tmp_path / "checkpoint.npz")["optimizer"]["param_groups"][0]
    assert (group["lr"], group["momentum"]) == (0.05, 0.5)  # trained at the rate config.json records
    # Giving a default explicitly is no change: the values in effect are compared.
    assert train(tmp_path, *flags, "--epochs", "3", "--resume", "--dampening", "0") == 0


def test_a_checkpoint_without_run_settings_is_refused(tmp_path, fake_net, capsys):
    assert train(tmp_path) == 0
    state = load_checkpoint(tmp_path / "checkpoint.npz")
    del state["run"]
    save_checkpoint(tmp_path / "checkpoint.npz", state)
    assert "records no run settings (written by an older fastopt)" in refused(capsys, tmp_path)


def truncate(path):
    path.write_bytes(path.read_bytes()[:1000])


def drop_rng(path):
    state = load_checkpoint(path)
    del state["rng"]
    save_checkpoint(path, state)


def nan_param(path):
    state = load_checkpoint(path)
    state["params"]["0.weight"][0, 0] = np.nan
    save_checkpoint(path, state)


def extra_epoch(path):
    state = load_checkpoint(path)
    state["epoch"] += 1
    save_checkpoint(path, state)


@pytest.mark.parametrize("damage, message", [
    (truncate, "not a fastopt checkpoint or corrupt (BadZipFile"),
    (drop_rng, "not a fastopt checkpoint or corrupt (no rng in it)"),
    (extra_epoch, "not a fastopt checkpoint or corrupt (epoch 3 but 2 history records)"),
    (nan_param, "param '0.weight' holds NaN or Inf"),
])
def test_a_damaged_checkpoint_exits_2_naming_the_file(tmp_path, fake_net, capsys, damage, message):
    assert train(tmp_path) == 0
    damage(tmp_path / "checkpoint.npz")
    err = refused(capsys, tmp_path, "--epochs", "2")
    assert f"fastopt train: error: checkpoint {tmp_path / 'checkpoint.npz'}: {message}" in err
    assert "Traceback" not in err


def test_train_and_compare_write_one_config_layout(tmp_path, fake_net, capsys):
    assert train(tmp_path / "train") == 0
    assert cli.main(["compare", "--limit", "300", "--epochs", "1", "--batch-size", "50", "--optimizers", "sgd",
                     "--out", str(tmp_path / "compare"), "--no-progress"]) == 0
    a = json.loads((tmp_path / "train" / "config.json").read_text())
    b = json.loads((tmp_path / "compare" / "runs" / "sgd" / "config.json").read_text())
    assert list(a) == list(b)
    assert b["lr"] == studies.MNIST_LR["sgd"] and b["hyper"] == {"lr": studies.MNIST_LR["sgd"]}


def test_compare_takes_lr_for_an_optimizer_without_an_mnist_rate(tmp_path, fake_net, monkeypatch, capsys):
    monkeypatch.delitem(studies.MNIST_LR, "adamax")
    monkeypatch.delitem(studies.MNIST_LR, "lion")
    assert cli.main(["compare", "--limit", "300", "--epochs", "1", "--batch-size", "100", "--optimizers",
                     "adamax,lion", "--lr", "adamax=0.004", "--out", str(tmp_path), "--no-progress"]) == 0
    rates = {name: json.loads((tmp_path / "runs" / name / "config.json").read_text())["lr"]
             for name in ("adamax", "lion")}
    assert rates == {"adamax": 0.004, "lion": fastopt.Lion([np.zeros(1)]).param_groups[0]["lr"]}


def test_python_m_fastopt_cli():
    done = subprocess.run([sys.executable, "-m", "fastopt.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"fastopt {fastopt.__version__}"
