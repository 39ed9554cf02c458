"""`fastopt landscape`, `compare`, `batchsize` and `plot` through cli.main([...]) on tiny settings."""
import base64
import contextlib
import io
import json

import pytest

from fastopt import cli, datasets, landscape
from fastopt.train import History
from mnist_data import needs_mnist
from study_helpers import gif_frames, image, parse_report, report_table


def exit_status(capsys, argv):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    return e.value.code, capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- landscape
def test_landscape_with_only_function_and_out(tmp_path, capsys):
    out = tmp_path / "rosenbrock.png"
    assert cli.main(["landscape", "--function", "rosenbrock", "--steps", "100", "--out", str(out),
                     "--dpi", "40"]) == 0
    printed = capsys.readouterr().out
    for name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"):
        assert f"{name}: lr {landscape.default_lr('rosenbrock', name):<8g}" in printed
    assert f"wrote {out}\n" in printed and f"wrote {tmp_path / 'rosenbrock_loss.png'}\n" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rosenbrock.png", "rosenbrock_loss.png"]
    image(out)
    image(tmp_path / "rosenbrock_loss.png")


def test_landscape_surface_animation_noise_and_lrs(tmp_path, capsys):
    assert cli.main(["landscape", "--function", "himmelblau", "--optimizers", "sgd,adam", "--steps", "60",
                     "--lr", "adam=0.05", "--noise", "0.1", "--seed", "2", "--surface", "--animate",
                     str(tmp_path / "h.gif"), "--frames", "3", "--out", str(tmp_path / "h.svg"), "--dpi", "40"]) == 0
    printed = capsys.readouterr().out
    assert "adam: lr 0.05 " in printed and f"sgd: lr {landscape.default_lr('himmelblau', 'sgd'):<8g}" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.gif", "h.svg", "h_loss.svg", "h_surface.svg"]
    assert gif_frames(tmp_path / "h.gif") == 3
    assert "<svg" in (tmp_path / "h_surface.svg").read_text()


@pytest.mark.parametrize("figure, flags, expected", [
    ("lr-sensitivity", ["--optimizers", "adam", "--lrs", "0.01,0.1"], "rastrigin_lr-sensitivity.png"),
    ("momentum", [], "rastrigin_momentum.png"),
    ("convex", ["--convex", "bowl", "--optimizers", "sgd,adam"], "rastrigin_convex.png"),
])
def test_landscape_figures(tmp_path, monkeypatch, capsys, figure, flags, expected):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["landscape", "--function", "rastrigin", "--figure", figure, "--steps", "50", "--dpi", "40",
                     *flags]) == 0
    assert capsys.readouterr().out.endswith(f"wrote {expected}\n")
    assert [p.name for p in tmp_path.iterdir()] == [expected]
    image(tmp_path / expected)


@pytest.mark.parametrize("flags, message", [
    (["--function", "banana"], "argument --function: invalid choice: 'banana'"),
    (["--optimizers", "sgd,adamm"], "argument --optimizers: unknown optimizer 'adamm'"),
    (["--optimizers", "sgd,sgd"], "an optimizer is named twice in 'sgd,sgd'"),
    (["--steps", "0"], "argument --steps: expected a positive integer, got '0'"),
    (["--lr", "adam"], "argument --lr: expected a positive learning rate or OPT=RATE pairs, got 'adam'"),
    (["--lr", "adam=-1"], "argument --lr: expected positive numbers separated by commas, got '-1'"),
    (["--optimizers", "sgd", "--lr", "adam=0.1"], "--lr: 'adam' is not among the optimizers (sgd)"),
    (["--out", "x.jpg"], "--out: 'x.jpg' must end in .png or .svg"),
    (["--animate", "x.avi"], "--animate: 'x.avi' must end in .gif or .mp4"),
    (["--figure", "momentum", "--surface"], "--surface applies to --figure paths, not momentum"),
    (["--lrs", "0.1"], "--lrs applies to --figure lr-sensitivity, not paths"),
    (["--figure", "lr-sensitivity", "--optimizers", "sgd,adam"], "--figure lr-sensitivity takes one optimizer"),
    (["--figure", "momentum", "--optimizers", "adam,nesterov"], "expected 'sgd' and at least one momentum variant"),
    (["--figure", "convex", "--lr", "sgd=0.1"], "--lr does not apply to --figure convex"),
    (["--noise", "-1"], "--noise: expected a finite number >= 0"),
    (["--figure", "pretty"], "argument --figure: invalid choice: 'pretty'"),
])
def test_landscape_bad_flags_exit_2(tmp_path, monkeypatch, capsys, flags, message):
    monkeypatch.chdir(tmp_path)
    code, err = exit_status(capsys, ["landscape", "--steps", "10", *flags])
    assert code == 2 and message in err and err.count("fastopt landscape: error:") == 1
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------- trainings
@pytest.fixture(scope="module")
def compared(tmp_path_factory, mnist):
    """One tiny `fastopt compare` shared by the tests that read its output (its printed text, its folder)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(datasets, "load", lambda name, path=None, progress=True, **kwargs: mnist)
        out = tmp_path_factory.mktemp("compare") / "report"
        argv = ["compare", "--limit", "300", "--epochs", "2", "--batch-size", "50", "--hidden", "32", "--optimizers",
                "sgd,momentum,adam", "--lr", "momentum=0.02", "--seed", "1", "--threads", "1", "--out", str(out)]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            status = cli.main(argv)
        yield status, printed.getvalue(), out


@needs_mnist
def test_compare_trains_each_optimizer_and_writes_report(compared):
    status, printed, out = compared
    assert status == 0
    for name in ("sgd", "momentum", "adam"):
        assert f"[{name}] {name} lr=" in printed
        history = History.from_json(out / "runs" / name / "history.json")
        assert history["epoch"] == [1, 2]
        assert json.loads((out / "runs" / name / "config.json").read_text())["seed"] == 1
        assert (out / "runs" / name / "checkpoint.npz").is_file()
    assert "[momentum] momentum lr=0.02," in printed and "[sgd] sgd lr=0.1," in printed
    assert "epoch   2/2" in printed  # fit's per-epoch summaries: progress is shown
    assert printed.rstrip().endswith(f"figures and report in {out / 'report.html'}")
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures == ["comparison.png", "confusion.png", "history_adam.png", "history_momentum.png",
                       "history_sgd.png", "misclassified.png"]
    for name in figures:
        image(out / name)
    sources = parse_report(out / "report.html")  # self-contained: every figure embedded, in its section's order
    assert len(sources) == len(figures) and all(src.startswith("data:image/png;base64,") for src in sources)
    embedded = {base64.b64decode(src.split(",", 1)[1]) for src in sources}
    assert embedded == {(out / name).read_bytes() for name in figures}
    text = (out / "report.html").read_text()
    assert "Confusion matrix of the best run" in text and "<figcaption>comparison</figcaption>" not in text
    rows = report_table(out / "report.html")
    assert [row[0] for row in rows] == ["run", "sgd", "momentum", "adam"]
    assert rows[0][-1] == "time per epoch" and "epoch to 97%" in rows[0] and "time to 98%" in rows[0]
    for row in rows[1:]:
        final = History.from_json(out / "runs" / row[0] / "history.json")[-1]["test_accuracy"]
        assert row[1] == f"{final:.2%}"
        assert row[1] in printed  # the same table on the terminal


@needs_mnist
def test_plot_redraws_from_saved_runs(compared, tmp_path, capsys, served_mnist):
    _, _, out = compared
    runs = out / "runs"
    assert cli.main(["plot", "history", str(runs / "adam"), "--out", str(tmp_path / "adam.png")]) == 0
    assert cli.main(["plot", "compare", str(runs / "adam"), str(runs / "sgd"), "--out",
                     str(tmp_path / "fig.png")]) == 0
    assert cli.main(["plot", "confusion", str(runs / "adam"), "--out", str(tmp_path / "conf.png")]) == 0
    printed = capsys.readouterr().out
    for name in ("adam.png", "fig.png", "conf.png", "conf_misclassified.png"):
        assert f"wrote {tmp_path / name}\n" in printed
        image(tmp_path / name)
    # Redrawn from disk, not retrained: the history is untouched.
    assert History.from_json(runs / "adam" / "history.json")["epoch"] == [1, 2]


@needs_mnist
def test_batchsize_command(tmp_path, capsys, served_mnist):
    assert cli.main(["batchsize", "--limit", "100", "--batch-sizes", "10,full", "--epochs", "1", "--hidden", "16",
                     "--out", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "mini-batch (10)" in printed and "full batch (100)" in printed
    assert f"wrote {tmp_path / 'report.html'}" in printed
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["batch-10", "batch-100"]
    image(tmp_path / "batch_size.png")
    assert parse_report(tmp_path / "report.html") == ["batch_size.png"]


@pytest.mark.parametrize("argv, message", [
    (["compare", "--optimizers", "sgd,foo"], "argument --optimizers: unknown optimizer 'foo'"),
    (["compare", "--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
    (["compare", "--lr", "adam=0.1", "--optimizers", "sgd"], "--lr: 'adam' is not among the optimizers (sgd)"),
    (["compare", "--schedule", "sawtooth"], "argument --schedule: invalid choice: 'sawtooth'"),
    (["compare", "--limit", "100", "--batch-size", "101"], "batch_size: 101 is larger than the 100 training samples"),
    (["compare", "--hidden", "32,x"], "argument --hidden: expected a positive integer, got 'x'"),
    (["batchsize", "--batch-sizes", "1,half"], "argument --batch-sizes: expected a positive integer, got 'half'"),
    (["batchsize", "--limit", "50", "--batch-sizes", "64"], "batch_sizes: 64 is not a batch size in [1, 50]"),
    (["batchsize", "--lr", "x"], "argument --lr: expected a positive learning rate or OPT=RATE pairs, got 'x'"),
    (["batchsize", "--lr", "adam=0.1"], "--lr names adam, but this run uses optimizer 'sgd'"),
    (["plot", "history"], "the following arguments are required: RUN"),
    (["plot", "scatter", "runs/adam"], "argument FIGURE: invalid choice: 'scatter'"),
    (["plot", "history", "no/such/run"], "run: no history.json in 'no/such/run'"),
    (["plot", "compare", "a", "--out", "x.gif"], "--out: 'x.gif' must end in .png or .svg"),
])
@needs_mnist
def test_training_and_plot_bad_flags_exit_2(tmp_path, monkeypatch, capsys, served_mnist, argv, message):
    monkeypatch.chdir(tmp_path)
    code, err = exit_status(capsys, argv)
    assert code == 2 and message in err
    assert list(tmp_path.iterdir()) == []


@needs_mnist
def test_plot_confusion_needs_a_checkpoint(tmp_path, capsys, compared):
    _, _, out = compared
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "history.json").write_bytes((out / "runs" / "sgd" / "history.json").read_bytes())
    code, err = exit_status(capsys, ["plot", "confusion", str(tmp_path / "run")])
    assert code == 2 and "holds no model checkpoint with its config.json" in err
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["history.json"]


@needs_mnist
def test_plot_reads_a_run_of_fastopt_train(tmp_path, capsys, served_mnist):
    run = tmp_path / "adam"
    assert cli.main(["train", "--limit", "200", "--epochs", "1", "--hidden", "16", "--batch-size", "50", "--out",
                     str(run), "--no-progress"]) == 0
    assert cli.main(["plot", "confusion", str(run)]) == 0
    assert cli.main(["plot", "history", str(run)]) == 0
    assert capsys.readouterr().out.splitlines()[-3:] == [f"wrote {run / name}" for name in
                                                          ("confusion.png", "misclassified.png", "history.png")]
    for name in ("confusion.png", "misclassified.png", "history.png"):
        image(run / name)
