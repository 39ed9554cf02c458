"""`fastopt train`'s schedule and clipping flags, the fixes a new user asked for, and `fastopt lr-find`."""
import json
import math

import numpy as np
import pytest
from fastopt import cli, datasets, nn
from fastopt.checkpoint import load_checkpoint
from fastopt.optim import schedules as S
from fastopt.train import History
from mnist_data import MNIST_DIR, needs_mnist
from test_cli import exit_status, train
from test_train import SoftmaxRegression


@pytest.fixture
def fake_net(monkeypatch, mnist):
    models = []

    def make_model(config):
        models.append(SoftmaxRegression(784, seed=config["seed"]))
        return models[-1]

    monkeypatch.setattr(nn, "make_model", make_model)
    monkeypatch.setattr(datasets, "load", lambda name, path=None, progress=True, **kwargs: mnist)
    return models


@pytest.fixture
def no_data(monkeypatch):
    """Any attempt to load a dataset fails the test: the flags must be refused before."""
    def refuse(*args, **kwargs):
        raise AssertionError("the dataset was loaded before the flags were checked")
    monkeypatch.setattr(datasets, "load", refuse)


@pytest.mark.parametrize("flags, message", [
    (["--lr", "-1"], "argument --lr: expected a positive learning rate"),
    (["--betas", "1.0,0.9"], "Invalid beta parameter at index 0: 1.0"),
    (["--dropout", "1.5"], "dropout"),
    (["--optimizer", "sgd", "--momentum", "-0.5"], "momentum"),
    (["--schedule", "cosine", "--warmup", "10", "--epochs", "10"], "Invalid warmup: 10"),
])
def test_flags_are_checked_before_any_data_is_loaded(capsys, tmp_path, no_data, flags, message):
    code, err = exit_status(capsys, ["train", "--out", str(tmp_path / "run"), *flags])
    assert code == 2 and message in err
    assert not (tmp_path / "run").exists()


@needs_mnist
def test_data_path_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr(nn, "make_model", lambda config: SoftmaxRegression(784))
    monkeypatch.setenv("FASTOPT_DATA", str(tmp_path / "elsewhere"))
    assert cli.main(["train", "--data", str(MNIST_DIR), "--limit", "100", "--epochs", "1", "--batch-size", "100",
                     "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"] == str(MNIST_DIR)


def test_data_path_without_the_files_fails_naming_it_even_with_fastopt_data_set(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FASTOPT_DATA", str(MNIST_DIR))  # holds MNIST, but the named path wins
    (tmp_path / "empty").mkdir()
    assert cli.main(["train", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "run"),
                     "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"not found in '{tmp_path / 'empty'}'" in err and "nowhere else is searched" in err


@needs_mnist
def test_no_progress_keeps_the_epoch_lines_and_the_summary(tmp_path, fake_net, capsys):
    assert train(tmp_path, "--lr", "0.01") == 0
    out = capsys.readouterr().out
    assert "epoch   1/2" in out and "epoch   2/2" in out and "best test accuracy" in out


@needs_mnist
def test_limit_below_the_batch_size_shrinks_the_batch_with_a_note(tmp_path, fake_net, capsys):
    assert cli.main(["train", "--limit", "30", "--epochs", "1", "--batch-size", "128", "--out", str(tmp_path),
                     "--no-progress"]) == 0
    assert "using batches of 30 (full batch)" in capsys.readouterr().err
    assert load_checkpoint(tmp_path / "checkpoint.npz")["config"]["batch_size"] == 30


@needs_mnist
@pytest.mark.parametrize("flags, lr", [([], 0.001), (["--lr", "adam=0.02"], 0.02), (["--optimizer", "sgd"], None)])
def test_config_stores_the_effective_learning_rate(tmp_path, fake_net, flags, lr):
    assert train(tmp_path, *flags) == 0
    config = json.loads((tmp_path / "config.json").read_text())
    from fastopt.optim import entry
    assert config["lr"] == (lr if lr is not None else entry("sgd").hyperparameters()["lr"]) and config["lr"] > 0


@needs_mnist
def test_a_diverged_run_exits_non_zero(tmp_path, fake_net, monkeypatch, capsys):
    class Diverges(SoftmaxRegression):
        def forward_backward(self, x, y):
            super().forward_backward(x, y)
            return math.nan

    monkeypatch.setattr(nn, "make_model", lambda config: Diverges(784))
    assert train(tmp_path) == 3
    assert "the run diverged at epoch 1" in capsys.readouterr().err


@needs_mnist
def test_per_step_onecycle_schedule(tmp_path, fake_net):
    assert train(tmp_path, "--lr", "0.01", "--schedule", "onecycle", "--schedule-unit", "step") == 0
    history = History.from_json(tmp_path / "history.json")
    one = S.OneCycle(12)  # 2 epochs of 6 batches of 50
    assert history["lr"] == pytest.approx([0.01 * one(0), 0.01 * one(6)])
    config = json.loads((tmp_path / "config.json").read_text())
    assert (config["schedule"], config["schedule_unit"]) == ("onecycle", "step")


@needs_mnist
@pytest.mark.parametrize("schedule", ["wsd", "linear", "step"])
def test_warmup_in_steps_with_a_cosine_ramp(tmp_path, fake_net, schedule):
    assert train(tmp_path, "--schedule", schedule, "--schedule-unit", "step", "--warmup", "4",
                 "--warmup-shape", "cosine") == 0
    expected = S.by_name(schedule, 12, 4, "cosine")
    assert History.from_json(tmp_path / "history.json")["lr"] == pytest.approx([1e-3 * expected(t) for t in (0, 6)])


@needs_mnist
def test_clipping_flags_reach_the_steps_and_the_history_records_the_gradient_norm(tmp_path, fake_net):
    flags = ["--schedule", "constant", "--optimizer", "sgd", "--lr", "0.5"]  # (Adam would undo the scaling)
    assert train(tmp_path / "free", *flags) == 0
    assert train(tmp_path / "clipped", *flags, "--clip-grad-norm", "1e-3") == 0
    free, clipped = (History.from_json(tmp_path / name / "history.json") for name in ("free", "clipped"))
    for h in (free, clipped):
        assert all(0 < r["grad_norm_mean"] <= r["grad_norm_max"] for r in h)
    assert clipped[0]["grad_norm_mean"] > 100 * 1e-3  # the norm before clipping is recorded
    w = {name: load_checkpoint(tmp_path / name / "checkpoint.npz")["params"]["0.weight"] for name in ("free", "clipped")}
    start = SoftmaxRegression(784, seed=0).params["0.weight"]
    moved = {name: np.linalg.norm(w[name] - start) for name in w}
    assert moved["clipped"] <= 12 * 0.5 * 1e-3 * (1 + 1e-5) < 0.1 * moved["free"]  # 12 steps of norm <= lr * 1e-3
    config = json.loads((tmp_path / "clipped" / "config.json").read_text())
    assert config["clip_grad_norm"] == 1e-3 and config["clip_grad_value"] is None
    header = (tmp_path / "clipped" / "history.csv").read_text().splitlines()[0]
    assert header.endswith("grad_norm_mean,grad_norm_max")


@needs_mnist
def test_clip_grad_value_matches_fit_called_directly(tmp_path, fake_net, mnist):
    assert train(tmp_path, "--optimizer", "sgd", "--lr", "0.5", "--schedule", "constant",
                 "--clip-grad-value", "0.001") == 0
    from fastopt import SGD
    from fastopt.train import fit
    model = SoftmaxRegression(784, seed=0)
    train_split, test_split = mnist.train.take(slice(0, 300)), mnist.test.take(slice(0, 300))
    fit(model, SGD(model.params, lr=0.5), train_split, test_split, epochs=2, batch_size=50, progress=False,
        clip_grad_value=0.001)
    saved = load_checkpoint(tmp_path / "checkpoint.npz")["params"]
    assert all(np.array_equal(saved[k], model.params[k]) for k in saved)


def test_compare_takes_one_rate_for_every_optimizer(capsys):
    code, err = exit_status(capsys, ["compare", "--lr", "-0.1"])
    assert code == 2 and "expected a positive learning rate" in err


# ---------------------------------------------------------------------------------------------- lr-find
@needs_mnist
def test_lr_find_writes_the_figure_and_the_curve(tmp_path, capsys):
    out = tmp_path / "lrfind.png"
    assert cli.main(["lr-find", "--data", str(MNIST_DIR), "--limit", "3000", "--optimizer", "adam", "--steps", "100",
                     "--hidden", "64", "--batch-size", "64", "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "suggested lr (valley)" in text and out.is_file() and out.stat().st_size > 10_000
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["optimizer"] == "adam" and 1e-7 <= data["suggestion"] <= 10 and len(data["lrs"]) <= 100
    assert data["stop_reason"] in ("diverged", "end") and data["lrs"][0] == 1e-7
    assert data["suggestion"] == data["suggestions"]["valley"] < data["suggestions"]["minimum"] * 10


@pytest.mark.parametrize("flags, message", [(["--start-lr", "1", "--end-lr", "0.1"], "must be below --end-lr"),
                                            (["--steps", "2"], "at least 3 steps"),
                                            (["--out", "x.jpg"], "--out"),
                                            (["--optimizer", "sgd", "--betas", "0.9,0.9"], "--betas does not apply"),
                                            (["--end-lr", "-1"], "argument --end-lr")])
def test_lr_find_bad_flags_exit_2_before_loading_data(capsys, no_data, flags, message):
    code, err = exit_status(capsys, ["lr-find", *flags])
    assert code == 2 and message in err


@needs_mnist
@pytest.mark.parametrize("changed, flag", [(["--clip-grad-norm", "2"], "--clip-grad-norm"),
                                           (["--schedule-unit", "step"], "--schedule-unit")])
def test_resume_refuses_other_schedule_or_clipping_flags(tmp_path, fake_net, capsys, changed, flag):
    assert train(tmp_path, "--clip-grad-norm", "1") == 0
    with pytest.raises(SystemExit) as e:
        train(tmp_path, "--resume", "--epochs", "2", *([] if flag == "--clip-grad-norm" else ["--clip-grad-norm", "1"]),
              *changed)
    assert e.value.code == 2 and f"{flag} conflicts with the checkpoint's run" in capsys.readouterr().err


def test_landscape_panels_and_rates_in_the_printed_runs(tmp_path, capsys):
    out = tmp_path / "himmelblau.png"
    assert cli.main(["landscape", "--function", "himmelblau", "--steps", "50", "--panels", "--lr", "0.001",
                     "--optimizers", "sgd,adam", "--out", str(out), "--dpi", "40"]) == 0
    printed = capsys.readouterr().out
    assert (tmp_path / "himmelblau_panels.png").is_file() and "sgd: lr 0.001" in printed and "adam: lr 0.001" in printed
    code, err = exit_status(capsys, ["landscape", "--figure", "convex", "--panels", "--out", str(out)])
    assert code == 2 and "--panels applies to --figure paths" in err
