"""The Hessian of trained networks: spectrum_summary against dense eigenvalues and the exact trace,
hessian_of_run and ``fastopt hessian`` on a run folder, full-batch GD with its sharpness against a plain
NumPy loop, the sharp-vs-flat and edge-of-stability studies and ``fastopt sharpness`` (quick), the
figures, ``fastopt train --keep-checkpoints``, and bad input."""
import json

import numpy as np
import pytest
from fastopt import curvature, nn, runs, studies
from fastopt.cli import main
from fastopt.plots import spectrum as spectrum_plots
from mnist_data import MNIST_DIR, needs_mnist


def spd_with_negative(n=60, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    values = np.concatenate([np.linspace(-0.5, 1.0, n - 3), [5.0, 8.0, 13.0]])
    return (q * values) @ q.T, np.sort(values)


# ---------------------------------------------------------------------------------------------- the summary
def test_summary_matches_dense_eigenvalues_and_trace():
    a, values = spd_with_negative()
    s = curvature.spectrum_summary(a, k=3, tol=1e-10, trace_samples=400, lanczos_steps=30, runs=4, smallest=True)
    np.testing.assert_allclose(s.eigenvalues, values[::-1][:3], rtol=1e-8)
    np.testing.assert_allclose(s.bottom.values[0], values[0], rtol=1e-8)
    exact = float(np.trace(a))
    assert abs(s.trace.value - exact) < 4 * s.trace.stderr
    assert s.density.runs == 4 and s.density.lanczos_steps == 30
    np.testing.assert_allclose(s.density.trace(), exact, rtol=0.5)  # SLQ's own (noisier) trace estimate
    d = s.to_dict()
    json.dumps(d)  # plain values only
    assert d["top_eigenvalues"] == pytest.approx(values[::-1][:3].tolist(), rel=1e-8)
    assert d["ratio_min_max"] == pytest.approx(0.5 / 13.0, rel=1e-8)
    assert set(s.seconds) == {"top", "bottom", "trace", "density"}


def test_summary_parts_can_be_skipped():
    a, _ = spd_with_negative()
    s = curvature.spectrum_summary(a, k=1, trace_samples=0, runs=0)
    assert s.trace is None and s.density is None and s.bottom is None
    assert set(s.to_dict()) >= {"top_eigenvalues", "dim"} and "trace" not in s.to_dict()
    np.testing.assert_allclose(s.eigenvalues, [13.0], rtol=1e-3)


@pytest.mark.parametrize("kwargs, message", [({"k": 0}, "k:"), ({"trace_samples": -1}, "trace_samples:"),
                                             ({"runs": -2}, "runs:"), ({"lanczos_steps": 61}, "lanczos_steps:"),
                                             ({"tol": 2.0}, "tol:")])
def test_summary_bad_input(kwargs, message):
    a, _ = spd_with_negative()
    before = a.copy()
    with pytest.raises(ValueError, match=message):
        curvature.spectrum_summary(a, **kwargs)
    np.testing.assert_array_equal(a, before)


def test_summary_progress_counts_products(capsys):
    a, _ = spd_with_negative()
    s = curvature.spectrum_summary(a, k=1, trace_samples=5, lanczos_steps=10, runs=1, progress=True)
    err = capsys.readouterr().err
    assert "matvec" in err and str(s.top.matvecs + 5 + 10) in err


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_curvature_along_top_eigenvector_is_top_eigenvalue(activation):
    """(L(theta + h v) - 2 L(theta) + L(theta - h v)) / h^2 = v^T H v = lambda_max for the unit top eigenvector."""
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((80, 7)), rng.integers(0, 4, 80)
    model = nn.MLP([7, 9, 4], activation=activation, seed=3, dtype=np.float64)
    top = curvature.top_eigenvalues(curvature.hessian(model, x, y), k=1, tol=1e-10, return_vectors=True)
    v, theta, h = top.vectors[0], model.flat_params.copy(), 1e-3

    def loss_at(point):
        model.flat_params[...] = point
        return model.evaluate(x, y)[0]

    second_difference = (loss_at(theta + h * v) - 2 * loss_at(theta) + loss_at(theta - h * v)) / h**2
    np.testing.assert_allclose(second_difference, top.values[0], rtol=1e-3)


# ---------------------------------------------------------------------------------------------- full-batch GD
def test_sharpness_during_gd_is_plain_gradient_descent():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 6)), rng.integers(0, 3, 64)
    model = nn.MLP([6, 5, 3], activation="tanh", seed=1, dtype=np.float64)
    copy = nn.MLP([6, 5, 3], activation="tanh", seed=1, dtype=np.float64)
    first_top = np.linalg.eigvalsh(curvature.hessian(copy, x, y).to_dense())[-1]
    trace = studies.sharpness_during_gd(model, x, y, lr=0.3, steps=12, every=5, tol=1e-8)
    losses = []
    for step in range(12):
        if step == 10:
            tenth_top = np.linalg.eigvalsh(curvature.hessian(copy, x, y).to_dense())[-1]
        losses.append(copy.forward_backward(x, y, train=False))
        copy.flat_params[...] -= 0.3 * copy.flat_grads
    np.testing.assert_allclose(model.flat_params, copy.flat_params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(trace.loss, losses, rtol=1e-12)
    assert trace.steps.tolist() == [0, 5, 10] and trace.status == "done" and trace.samples == 64
    np.testing.assert_allclose(trace.sharpness[[0, 2]], [first_top, tenth_top], rtol=1e-6)


def test_sharpness_during_gd_stops_on_divergence():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)), rng.integers(0, 3, 32)
    model = nn.MLP([4, 8, 3], seed=0, dtype=np.float64)
    with np.errstate(all="ignore"):
        trace = studies.sharpness_during_gd(model, x, y, lr=1e200, steps=50, every=100)
    assert trace.status == "diverged" and len(trace.loss) < 50 and not np.isfinite(trace.loss[-1])


@pytest.mark.parametrize("kwargs, message", [({"lr": 0.0}, "lr:"), ({"lr": float("nan")}, "lr:"),
                                             ({"steps": 0}, "steps:"), ({"every": 0}, "every:")])
def test_sharpness_during_gd_bad_input(kwargs, message):
    model = nn.MLP([4, 3], seed=0, dtype=np.float64)
    before = model.flat_params.copy()
    x, y = np.ones((4, 4)), np.zeros(4, dtype=np.int64)
    with pytest.raises(ValueError, match=message):
        studies.sharpness_during_gd(model, x, y, **{"lr": 0.1, "steps": 5, **kwargs})
    np.testing.assert_array_equal(model.flat_params, before)


# ---------------------------------------------------------------------------------------------- run folders
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """``fastopt train`` on 200 MNIST samples, a 784-2-10 network (1,600 parameters: dense is cheap), keeping
    every epoch's checkpoint."""
    folder = tmp_path_factory.mktemp("hessian") / "run"
    assert main(["train", "--data", str(MNIST_DIR), "--limit", "200", "--hidden", "2", "--epochs", "2",
                 "--batch-size", "50", "--keep-checkpoints", "--out", str(folder), "--no-progress"]) == 0
    return folder


@needs_mnist
def test_keep_checkpoints_keeps_every_epoch(tiny_run):
    kept = sorted((tiny_run / "checkpoints").glob("*.npz"))
    assert [f.name for f in kept] == ["epoch_001.npz", "epoch_002.npz"]
    model, _, _ = runs.restore_model(tiny_run)
    from fastopt.curvature.surface_runs import flat_params
    np.testing.assert_array_equal(flat_params(model, kept[-1]), model.flat_params)


@needs_mnist
def test_hessian_of_run_matches_dense(tiny_run):
    summary, about = studies.hessian_of_run(tiny_run, samples=100, k=3, tol=1e-6, trace_samples=0, runs=0)
    model, train, _, _ = runs.restore_run(tiny_run)
    dense = curvature.hessian(model, train.x[:100], train.y[:100]).to_dense()
    exact = np.linalg.eigvalsh((dense + dense.T) / 2)[::-1][:3]
    np.testing.assert_allclose(summary.eigenvalues, exact, rtol=1e-3)
    assert about["samples"] == 100 and about["parameters"] == model.num_params == 784 * 2 + 2 + 2 * 10 + 10
    assert about["split"] == "train" and about["kind"] == "hessian"


@needs_mnist
def test_cli_hessian_writes_numbers_and_density(tiny_run, tmp_path, capsys):
    out = tmp_path / "h"
    assert main(["hessian", str(tiny_run), "--quick", "--top-k", "2", "--smallest", "--out", str(out),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "top eigenvalues" in printed and "lambda_min" in printed
    record, = json.loads((out / "hessian.json").read_text())
    assert record["samples"] == 200 and len(record["top_eigenvalues"]) == 2  # --quick caps at 500
    assert record["trace_samples"] == 10 and record["density"]["lanczos_steps"] == 20
    assert record["lambda_min"] <= record["top_eigenvalues"][-1] <= record["top_eigenvalues"][0]
    assert (out / "density.png").stat().st_size > 10_000


@needs_mnist
def test_cli_hessian_of_a_saved_model_file(tiny_run, tmp_path, capsys):
    model, _, _ = runs.restore_model(tiny_run)
    model.save(tmp_path / "model.npz")
    assert main(["hessian", str(tmp_path / "model.npz"), "--data", str(MNIST_DIR), "--samples", "100",
                 "--top-k", "1", "--trace-samples", "0", "--density-runs", "0", "--out", str(tmp_path / "h"),
                 "--no-progress"]) == 0
    saved, = json.loads((tmp_path / "h" / "hessian.json").read_text())
    from_run, _ = studies.hessian_of_run(tiny_run, samples=100, k=1, tol=1e-3, trace_samples=0, runs=0)
    np.testing.assert_allclose(saved["top_eigenvalues"], from_run.eigenvalues, rtol=1e-6)
    assert "top eigenvalues" in capsys.readouterr().out


@needs_mnist
def test_cli_hessian_two_runs_one_figure(tiny_run, tmp_path):
    out = tmp_path / "h"
    assert main(["hessian", str(tiny_run), str(tiny_run), "--quick", "--kind", "ggn", "--density-runs", "0",
                 "--out", str(out), "--no-progress"]) == 0
    records = json.loads((out / "hessian.json").read_text())
    assert len(records) == 2 and records[0]["top_eigenvalues"] == records[1]["top_eigenvalues"]
    assert records[0]["kind"] == "ggn" and "density" not in records[0] and not (out / "density.png").exists()


@needs_mnist
@pytest.mark.parametrize("flags, message", [(["--trace-samples", "-1"], "--trace-samples"),
                                            (["--density-runs", "-1"], "--density-runs")])
def test_cli_hessian_bad_flags(tiny_run, tmp_path, flags, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(["hessian", str(tiny_run), "--out", str(tmp_path / "h"), *flags])
    assert e.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "h").exists()


def test_cli_hessian_not_a_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["hessian", str(tmp_path), "--out", str(tmp_path / "h")])
    assert e.value.code == 2 and "hessian" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- the studies
@needs_mnist
def test_cli_sharpness_flat_quick(tmp_path, capsys):
    out = tmp_path / "flat"
    assert main(["sharpness", "--quick", "--hidden", "8", "--data", str(MNIST_DIR), "--out", str(out),
                 "--no-progress"]) == 0
    assert capsys.readouterr().out.count("top eigenvalue") == 4
    records = json.loads((out / "sharp_vs_flat.json").read_text())
    assert [r["batch_size"] for r in records] == [128, 16, 256, 128]  # --quick caps the large batch
    assert [r["label"] for r in records] == ["SGD, batch 128", "SGD, batch 16", "SGD, batch 256", "Adam, batch 128"]
    assert all(r["samples"] == 500 and r["top_eigenvalues"][0] > 0 and r["trace"] > 0 for r in records)
    assert (out / "sharp_vs_flat.png").stat().st_size > 20_000
    # Each record is the spectrum of its run folder's trained weights.
    summary, _ = studies.hessian_of_run(records[1]["folder"], samples=500, k=1, tol=1e-3, trace_samples=0, runs=0)
    np.testing.assert_allclose(summary.eigenvalues[0], records[1]["top_eigenvalues"][0], rtol=5e-3)


@needs_mnist
def test_cli_sharpness_eos_quick(tmp_path, capsys):
    out = tmp_path / "eos"
    assert main(["sharpness", "--study", "eos", "--quick", "--hidden", "8", "--lrs", "0.1,0.4", "--data",
                 str(MNIST_DIR), "--out", str(out), "--no-progress"]) == 0
    assert "2/lr = 5" in capsys.readouterr().out
    records = json.loads((out / "edge_of_stability.json").read_text())
    assert [r["lr"] for r in records] == [0.1, 0.4] and [r["edge"] for r in records] == [20.0, 5.0]
    assert all(r["steps"] == [0, 10, 20, 30] and len(r["loss"]) == 40 and r["samples"] == 500 for r in records)
    assert (out / "edge_of_stability.png").stat().st_size > 20_000


def test_study_refuses_unknown_optimizer_before_training(tmp_path):
    with pytest.raises(ValueError, match="nosuch"):
        studies.sharp_vs_flat_study(setups=[studies.Setup("X", "nosuch", 0.1, 8)], out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------------------------------------- figures
def test_density_figure_and_bad_input(tmp_path):
    a, _ = spd_with_negative()
    d = curvature.spectral_density(a, lanczos_steps=20, runs=2)
    np.testing.assert_allclose(d.smoothed(d.grid, d.sigma), d.density, rtol=1e-12)
    figure = spectrum_plots.spectral_density({"A": d, "2A": curvature.spectral_density(2 * a, 20, 2)},
                                             save=tmp_path / "d.png")
    ax = figure.axes[0]
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    assert "2A (2 runs x 20 Lanczos steps)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert (tmp_path / "d.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="densities"):
        spectrum_plots.spectral_density({})
    with pytest.raises(ValueError, match="minima"):
        spectrum_plots.sharp_vs_flat([])
    with pytest.raises(ValueError, match="runs"):
        spectrum_plots.sharpness_during_training([])
