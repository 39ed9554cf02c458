"""fastopt.studies from Python: landscape studies, comparisons on a slice of real MNIST, redrawing saved runs."""
import base64
import json

import numpy as np
import pytest

from fastopt import landscape, metrics, nn, runs, studies
from fastopt.checkpoint import load_checkpoint
from fastopt.train import History
from mnist_data import needs_mnist
from study_helpers import gif_frames, image, parse_report, report_table


# ---------------------------------------------------------------------------------------------- landscapes
def test_landscape_study_writes_contour_loss_surface_and_animation(tmp_path):
    result = studies.landscape_study("himmelblau", ["sgd", "adam"], steps=200, out=tmp_path / "h.png",
                                     lrs={"adam": 0.05}, surface=True, animate=tmp_path / "h.gif", frames=4, dpi=50)
    assert result.files == [tmp_path / "h.png", tmp_path / "h_loss.png", tmp_path / "h_surface.png",
                            tmp_path / "h.gif"]
    for path in result.files[:3]:
        image(path)
    assert gif_frames(tmp_path / "h.gif") == 4
    sgd, adam = result.trajectories["sgd"], result.trajectories["adam"]
    assert sgd.lr == landscape.default_lr("himmelblau", "sgd") and adam.lr == 0.05
    assert np.array_equal(sgd.path, landscape.trajectory("himmelblau", "sgd", steps=200).path)
    assert sgd.path.shape == (201, 2)


def test_landscape_study_svg_and_noise_reproducible_from_seed(tmp_path):
    kwargs = {"optimizers": ["adam"], "steps": 50, "noise": 0.5, "dpi": 40}
    a = studies.landscape_study("rosenbrock", out=tmp_path / "a.svg", seed=3, **kwargs)
    b = studies.landscape_study("rosenbrock", out=tmp_path / "b.svg", seed=3, **kwargs)
    c = studies.landscape_study("rosenbrock", out=tmp_path / "c.svg", seed=4, **kwargs)
    assert (tmp_path / "a_loss.svg").read_text().lstrip().startswith("<?xml")
    assert np.array_equal(a.trajectories["adam"].path, b.trajectories["adam"].path)
    assert not np.array_equal(a.trajectories["adam"].path, c.trajectories["adam"].path)


@pytest.mark.parametrize("call, message", [
    (lambda out: studies.landscape_study(out=out / "x.jpg"), "out: "),
    (lambda out: studies.landscape_study(out=out / "x.png", animate=out / "x.avi"), "animate: "),
    (lambda out: studies.landscape_study(optimizers=["sgd", "adamm"], out=out / "x.png"), "unknown optimizer 'adamm'"),
    (lambda out: studies.landscape_study(optimizers=["sgd", "sgd"], out=out / "x.png"), "an optimizer is named twice"),
    (lambda out: studies.landscape_study(optimizers=["sgd"], lrs={"adam": 1.0}, out=out / "x.png"),
     "'adam' is not among the optimizers"),
    (lambda out: studies.landscape_study(optimizers=["sgd"], lrs={"sgd": -1.0}, out=out / "x.png"), "positive"),
    (lambda out: studies.momentum_study(optimizers=["momentum", "nesterov"], out=out / "x.png"), "expected 'sgd'"),
    (lambda out: studies.lr_sensitivity_study(lrs=[0.01, 0.0], out=out / "x.png"), "positive learning rates"),
])
def test_study_arguments_are_checked_before_anything_is_written(tmp_path, call, message):
    with pytest.raises(ValueError, match=message):
        call(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_lr_sensitivity_defaults_to_the_tabulated_rate_times_factors(tmp_path):
    result = studies.lr_sensitivity_study("rosenbrock", "sgd", steps=100, out=tmp_path / "lr.png", dpi=40)
    base = landscape.default_lr("rosenbrock", "sgd")
    assert sorted(t.lr for t in result.trajectories.values()) == pytest.approx([base * f for f in studies.LR_FACTORS])
    image(tmp_path / "lr.png")


def test_momentum_study_runs_every_variant_at_sgds_rate_and_momentum_gets_further(tmp_path):
    result = studies.momentum_study("quadratic", steps=300, out=tmp_path / "m.png", dpi=40)
    paths = result.trajectories
    assert {t.lr for t in paths.values()} == {landscape.default_lr("quadratic", "sgd")}
    assert paths["momentum"].losses[-1] < 1e-3 * paths["sgd"].losses[-1]  # same step, momentum's speed-up
    image(tmp_path / "m.png")


def test_convex_study_runs_both_functions(tmp_path):
    results = studies.convex_study("bowl", "rastrigin", ["sgd", "adam"], steps=100, out=tmp_path / "c.png", dpi=40)
    assert list(results) == ["bowl", "rastrigin"]
    assert results["rastrigin"].trajectories["adam"].lr == landscape.default_lr("rastrigin", "adam")
    image(tmp_path / "c.png")


# ---------------------------------------------------------------------------------------------- trainings
@needs_mnist
def test_compare_study_writes_runs_figures_and_report(tmp_path, served_mnist):
    out = tmp_path / "report"
    result = studies.compare_study(["sgd", "adam"], epochs=2, out=out, batch_size=50, hidden=[32], limit=400,
                                   lrs={"adam": 3e-3}, progress=False, dpi=40)
    assert list(result.runs) == ["sgd", "adam"]
    for name, lr in (("sgd", studies.MNIST_LR["sgd"]), ("adam", 3e-3)):
        folder = out / "runs" / name
        history = History.from_json(folder / "history.json")
        assert len(history) == 2 and history[-1]["test_accuracy"] > 0.5
        assert (folder / "history.csv").read_text().count("\n") == 3
        config = json.loads((folder / "config.json").read_text())
        assert config["optimizer"] == name and config["lr"] == lr and config["limit"] == 400
        params = load_checkpoint(folder / "checkpoint.npz")["params"]
        assert all(np.array_equal(params[k], result.runs[name].model.params[k]) for k in params)
    final = {name: run.history[-1]["test_accuracy"] for name, run in result.runs.items()}
    assert result.best == max(final, key=final.get)
    names = ["comparison.png", "history_sgd.png", "history_adam.png", "confusion.png", "misclassified.png"]
    assert sorted(p.name for p in result.figures) == sorted(names)
    for name in names:
        image(out / name)
    assert result.report == out / "report.html"
    sources = parse_report(result.report)  # self-contained: the figures' bytes are in the page
    assert sorted(base64.b64decode(src.split(",", 1)[1]) for src in sources) == sorted(
        (out / name).read_bytes() for name in names)
    table = report_table(result.report)
    assert table[0][:2] == ["run", "final test accuracy"] and [row[0] for row in table[1:]] == ["sgd", "adam"]
    assert table[1][1] == f"{final['sgd']:.2%}"


@needs_mnist
def test_every_run_of_a_comparison_starts_from_the_same_weights(tmp_path, served_mnist, monkeypatch):
    make_model, initial = nn.make_model, []

    def record_initial(config):
        model = make_model(config)
        initial.append({k: v.copy() for k, v in model.params.items()})
        return model

    monkeypatch.setattr(nn, "make_model", record_initial)
    studies.compare_study(["sgd", "momentum", "rmsprop"], epochs=1, out=tmp_path, batch_size=100, hidden=[16],
                          limit=200, progress=False, dpi=30)
    assert len(initial) == 3
    assert all(np.array_equal(run[k], initial[0][k]) for run in initial[1:] for k in run)


@needs_mnist
def test_batch_size_study_runs_each_size_and_draws_the_tradeoff(tmp_path, served_mnist):
    result = studies.batch_size_study("sgd", [64, "full", 10], epochs=1, out=tmp_path, hidden=[16], limit=200,
                                      lr=0.05, progress=False, dpi=40)
    assert list(result.runs) == ["mini-batch (10)", "mini-batch (64)", "full batch (200)"]
    for size in (10, 64, 200):
        config = json.loads((tmp_path / "runs" / f"batch-{size}" / "config.json").read_text())
        assert config["batch_size"] == size and config["lr"] == 0.05
    image(tmp_path / "batch_size.png")
    assert parse_report(result.report) == ["batch_size.png"]
    assert studies.batch_label(1, 200) == "stochastic (1)"
    with pytest.raises(ValueError, match=r"batch_sizes: 201 is not a batch size in \[1, 200\]"):
        studies.batch_size_study("sgd", [201], limit=200, out=tmp_path / "no", progress=False)


@needs_mnist
def test_redraw_from_saved_runs_matches_the_trained_model(tmp_path, served_mnist):
    result = studies.compare_study(["adam", "sgd"], epochs=1, out=tmp_path, batch_size=50, hidden=[16], limit=300,
                                   progress=False, dpi=30)
    folder = tmp_path / "runs" / "adam"
    assert studies.redraw_history(folder) == folder / "history.png"
    image(folder / "history.png")
    assert studies.redraw_comparison([folder, tmp_path / "runs" / "sgd"], tmp_path / "both.svg").is_file()
    model, test, classes = runs.restore_model(folder)
    assert len(test) == 300 and len(classes) == 10
    assert np.array_equal(model.predict(test.x), result.runs["adam"].model.predict(test.x))
    files = studies.redraw_confusion(folder, out=tmp_path / "figs" / "adam.png")
    assert files == [tmp_path / "figs" / "adam.png", tmp_path / "figs" / "adam_misclassified.png"]
    for path in files:
        image(path)
    assert studies.redraw_confusion(folder) == [folder / "confusion.png", folder / "misclassified.png"]
    assert metrics.confusion_matrix(test.y, model.predict(test.x), num_classes=10).sum() == 300


def test_redraw_needs_a_run_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no history.json in"):
        studies.redraw_history(tmp_path)
    History([{"epoch": 1}]).to_json(tmp_path / "history.json")
    with pytest.raises(FileNotFoundError, match="holds no model checkpoint"):
        runs.restore_model(tmp_path)
