"""Loss-surface views (fastopt.curvature.surface, ``fastopt surface``): directions, the native grid against
the model's own evaluate, interpolation, the PCA plane, the command, and bad input."""
import json
import shutil

import numpy as np
import pytest

from fastopt import _core, nn, runs
from fastopt.cli import main
from fastopt.curvature import surface, surface_runs

from mnist_data import MNIST_DIR, needs_mnist

RNG = np.random.default_rng(0)
X = RNG.standard_normal((97, 12))
Y = RNG.integers(0, 4, 97)


def small_model(dtype=np.float64, activation="relu", **kwargs):
    model = nn.MLP([12, 9, 7, 4], activation=activation, seed=3, dtype=dtype, **kwargs)
    model.flat_params[...] += 0.05 * np.random.default_rng(1).standard_normal(model.num_params)  # nonzero biases
    return model


def loss_with(model, theta, x=X, y=Y):
    """The reference: a copy of the model with its parameters set to theta, evaluated by MLP.evaluate."""
    other = nn.MLP(model.sizes, activation=model.activation, dtype=model.dtype, seed=model.seed,
                   label_smoothing=model.label_smoothing, negative_slope=model.negative_slope)
    other.flat_params[...] = theta
    return other.evaluate(x, y)


# ---------------------------------------------------------------------------------------------- directions
@pytest.mark.parametrize("biases", surface.BIASES)
def test_filter_normalized_rows_match_weight_rows(biases):
    model = small_model()
    d = surface.filter_normalized_direction(model, seed=5, biases=biases)
    views = model._views(d)
    for i in range(3):
        w, dw = model.params[f"{i}.weight"], views[f"{i}.weight"]
        np.testing.assert_allclose(np.linalg.norm(dw, axis=1), np.linalg.norm(w, axis=1), rtol=1e-12)
        assert not np.allclose(dw, w)  # random, not the weights
        expected_bias = model.params[f"{i}.bias"] if biases == "keep" else 0.0
        np.testing.assert_array_equal(views[f"{i}.bias"], expected_bias)
    np.testing.assert_array_equal(d, surface.filter_normalized_direction(model, seed=5, biases=biases))
    assert not np.allclose(d, surface.filter_normalized_direction(model, seed=6, biases=biases))


def test_filter_normalized_zero_row_stays_zero():
    model = small_model()
    model.params["0.weight"][2] = 0.0
    d = model._views(surface.filter_normalized_direction(model))
    np.testing.assert_array_equal(d["0.weight"][2], 0.0)


# ---------------------------------------------------------------------------------------------- evaluation
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_grid_centre_is_the_models_loss(dtype, rtol):
    model = small_model(dtype)
    d1, d2 = (surface.filter_normalized_direction(model, s) for s in (0, 1))
    grid = surface.loss_grid(model, X, Y, d1, d2, [-0.5, 0.0, 0.5], [-1.0, 0.0, 1.0])
    loss, accuracy = model.evaluate(X, Y)
    assert grid.loss.shape == (3, 3) and grid.samples == len(Y)
    np.testing.assert_allclose(grid.loss[1, 1], loss, rtol=rtol)
    assert grid.accuracy[1, 1] == accuracy


@pytest.mark.parametrize("activation", nn.ACTIVATIONS)
@pytest.mark.parametrize("parallel", surface.PARALLEL)
def test_native_grid_equals_a_python_loop(activation, parallel):
    model = small_model(activation=activation, label_smoothing=0.1)
    before = model.flat_params.copy()
    d1, d2 = (surface.filter_normalized_direction(model, s, "keep") for s in (0, 1))
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-2, 0.5, 4)
    grid = surface.loss_grid(model, X, Y, d1, d2, alphas, betas, batch_size=10, parallel=parallel,
                             points_per_call=7)
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            loss, accuracy = loss_with(model, before + a * d1 + b * d2)
            np.testing.assert_allclose(grid.loss[i, j], loss, rtol=1e-12)
            assert grid.accuracy[i, j] == accuracy
    np.testing.assert_array_equal(model.flat_params, before)  # the model's own parameters untouched


def test_float32_grid_and_slice_against_python_loop():
    model = small_model(np.float32)
    d = surface.filter_normalized_direction(model, 2)
    line = surface.loss_along(model, X, Y, d, [-0.3, 0.2, 1.0])
    for a, loss in zip(line.coords, line.loss):
        np.testing.assert_allclose(loss, loss_with(model, model.flat_params + np.float32(a) * d)[0], rtol=1e-5)


@pytest.mark.parametrize("resolution", [2, 3, 11, 51, 52])
def test_interpolation_steps_hold_both_endpoints(resolution):
    t = surface.interpolation_steps(resolution)
    assert len(t) == resolution and np.all(np.diff(t) > 0)
    assert 0.0 in t and 1.0 in t
    if resolution >= 11:  # room on both sides
        assert -0.35 <= t[0] < 0 and 1 < t[-1] <= 1.35


def test_interpolation_endpoints_are_the_two_models():
    start, end = small_model(), nn.MLP([12, 9, 7, 4], seed=11, dtype=np.float64)
    line = surface.interpolate(end, X, Y, start.flat_params, end.flat_params, ts=[0.0, 0.5, 1.0])
    for t, model in ((0, start), (2, end)):
        loss, accuracy = model.evaluate(X, Y)
        np.testing.assert_allclose(line.loss[t], loss, rtol=1e-12)
        assert line.accuracy[t] == accuracy
    np.testing.assert_allclose(line.loss[1], loss_with(end, 0.5 * start.flat_params + 0.5 * end.flat_params)[0],
                               rtol=1e-12)


# ---------------------------------------------------------------------------------------------- PCA plane
def test_trajectory_plane_orthonormal_and_ends_at_origin():
    rng = np.random.default_rng(2)
    path = np.cumsum(rng.standard_normal((8, 50)), axis=0)
    plane = surface.trajectory_plane(path)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    np.testing.assert_array_equal(plane.path[-1], 0.0)
    assert plane.path[0, 0] >= 0 and plane.path[0, 1] >= 0
    assert plane.explained[0] >= plane.explained[1] > 0 and plane.explained.sum() <= 1 + 1e-12
    # The variance held equals that of the projected path.
    offsets = path - path[-1]
    np.testing.assert_allclose(plane.explained, (plane.path ** 2).sum(0) / (offsets ** 2).sum(), rtol=1e-10)


def test_trajectory_plane_recovers_a_path_lying_in_a_plane():
    rng = np.random.default_rng(3)
    basis, _ = np.linalg.qr(rng.standard_normal((30, 2)))
    coords = rng.standard_normal((6, 2))
    final = rng.standard_normal(30)
    plane = surface.trajectory_plane(final + coords @ basis.T, final=final)
    np.testing.assert_allclose(np.linalg.norm(plane.path, axis=1), np.linalg.norm(coords, axis=1), rtol=1e-10)
    np.testing.assert_allclose(final + plane.path @ plane.directions, final + coords @ basis.T, atol=1e-10)


def test_trajectory_plane_bad_input():
    with pytest.raises(ValueError, match="checkpoints: expected at least two"):
        surface.trajectory_plane(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="fewer than two directions"):
        surface.trajectory_plane(np.outer([0.0, 1.0, 2.0, 3.0], np.ones(5)))
    with pytest.raises(ValueError, match="non-finite"):
        surface.trajectory_plane([[0.0, np.nan], [1.0, 2.0], [3.0, 1.0]])
    with pytest.raises(ValueError, match="final: expected shape"):
        surface.trajectory_plane(np.eye(3), final=np.zeros(4))


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_input_clear_errors_nothing_modified():
    model = small_model()
    before = model.flat_params.copy()
    d = surface.filter_normalized_direction(model)
    cases = [
        (lambda: surface.loss_along(model, X, Y, d[:-1], [0.0]), ValueError, r"direction: expected shape \(219,\)"),
        (lambda: surface.loss_along(model, X[:, :5], Y, d, [0.0]), ValueError, r"x: expected shape \(n, 12\)"),
        (lambda: surface.loss_along(model, X[:0], Y[:0], d, [0.0]), ValueError, "x: empty data"),
        (lambda: surface.loss_along(model, X, Y[:-1], d, [0.0]), ValueError, "y: expected shape"),
        (lambda: surface.loss_along(model, X, Y, d, []), ValueError, "alphas: expected a non-empty"),
        (lambda: surface.loss_along(model, X, Y, d, [np.inf]), ValueError, "alphas: contains a non-finite"),
        (lambda: surface.loss_along(model, X, Y, np.where(np.arange(d.size) == 3, np.nan, d), [0.0]), ValueError,
         "direction: 1 entries are not finite"),
        (lambda: surface.loss_grid(model, X, Y, d, d[:3], [0.0], [0.0]), ValueError, "d2: expected shape"),
        (lambda: surface.interpolate(model, X, Y, d, d.astype(complex)), TypeError, "theta_to: expected a real"),
        (lambda: surface.loss_along(model, X, Y, d, [0.0], parallel="threads"), ValueError, "parallel: expected"),
        (lambda: surface.filter_normalized_direction(model, biases="random"), ValueError, "biases: expected"),
        (lambda: surface.loss_at(model, X, Y, d[None], np.zeros((1, 2))), ValueError, r"coords: expected a non-empty"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()
    np.testing.assert_array_equal(model.flat_params, before)
    model.flat_params[7] = np.inf
    with pytest.raises(ValueError, match="model parameters: 1 entries are not finite"):
        surface.loss_along(model, X, Y, d, [0.0])
    with pytest.raises(ValueError, match="model parameters: 1 entries are not finite"):
        surface.filter_normalized_direction(model)


def test_native_checks():
    model = small_model()
    base = model.flat_params.copy()
    dirs = np.zeros((2, model.num_params))

    def call(**changes):
        args = dict(net=model._net, base=base, directions=dirs, coords=np.zeros((3, 2)), x=X, y=Y.astype(np.int64),
                    batch_size=8, label_smoothing=0.0, activation="relu", negative_slope=0.01, parallel="points")
        return _core.nn.loss_at_points(**{**args, **changes})

    with pytest.raises(TypeError, match="base: expected a C-contiguous float64"):
        call(base=base.astype(np.float32))
    with pytest.raises(ValueError, match="coords: expected shape"):
        call(coords=np.zeros((3, 1)))
    with pytest.raises(ValueError, match="y: label 9"):
        call(y=np.full(len(Y), 9, dtype=np.int64))
    with pytest.raises(ValueError, match="activation: unknown"):
        call(activation="swish")
    with pytest.raises(ValueError, match="batch_size: must be >= 1"):
        call(batch_size=0)
    assert call()["loss"].shape == (3,)


# ---------------------------------------------------------------------------------------------- the command
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A run of fastopt.runs.train_run (as fastopt train writes it), 3 epochs of 300 MNIST samples, with
    each epoch's checkpoint kept for the PCA plane (resumed epoch by epoch under a constant schedule)."""
    folder = tmp_path_factory.mktemp("run")
    loaded, train, test = runs.load_data("mnist", MNIST_DIR, 300, progress=False)
    config = runs.model_config(loaded, train, [16], 0, "mnist", str(MNIST_DIR), 300)
    keep = surface_runs.keep_epoch_checkpoints(folder)
    for epochs in (1, 2, 3):
        run = runs.train_run("adam", "adam", {"lr": 3e-3}, train, test, config, folder, epochs, 50,
                             resume=epochs > 1, progress=False)
        keep(run.history)
    return folder


@needs_mnist
@pytest.mark.parametrize("kind", ["1d", "2d", "interpolate", "pca"])
def test_cli_quick(tiny_run, tmp_path, kind, capsys):
    out = tmp_path / kind
    quiet = [] if kind == "2d" else ["--no-progress"]  # one with progress output
    assert main(["surface", str(tiny_run), "--kind", kind, "--quick", "--out", str(out), *quiet]) == 0
    if kind == "2d":
        assert "2d view of" in capsys.readouterr().out
    numbers = json.loads((out / f"surface_{kind}.json").read_text())
    assert numbers["samples"] == 300  # --quick caps at 500; the run kept 300 test samples
    assert (out / f"surface_{kind}.png").stat().st_size > 10_000
    model, test, _ = runs.restore_model(tiny_run)
    loss = np.asarray(numbers["loss"])
    assert loss.shape == ((11, 11) if kind in ("2d", "pca") else (11,))
    trained = model.evaluate(test.x, test.y)[0]
    if kind in ("1d", "2d"):
        np.testing.assert_allclose(loss.flat[loss.size // 2], trained, rtol=1e-5)  # the centre is the model
    if kind == "interpolate":
        t = np.asarray(numbers["coords"])
        assert "re-drawn from the run's seed" in numbers["from"]
        initial = surface_runs.initial_params(json.loads((tiny_run / "config.json").read_text()))
        np.testing.assert_allclose(loss[t == 1.0], trained, rtol=1e-5)
        np.testing.assert_allclose(loss[t == 0.0], loss_with(model, initial, test.x, test.y)[0], rtol=1e-5)
    if kind == "pca":
        assert len(numbers["path"]) == 4 and numbers["path"][-1] == [0.0, 0.0]
        assert (out / "surface_pca_3d.png").is_file()


@needs_mnist
def test_cli_pca_without_checkpoints(tiny_run, tmp_path, capsys):
    bare = tmp_path / "bare"
    shutil.copytree(tiny_run, bare, ignore=shutil.ignore_patterns(surface_runs.EPOCH_FOLDER))
    with pytest.raises(SystemExit) as stop:
        main(["surface", str(bare), "--kind", "pca", "--quick", "--out", str(tmp_path / "o"), "--no-progress"])
    assert stop.value.code == 2
    assert "holds 0 epoch checkpoint(s) in checkpoints/" in capsys.readouterr().err


def test_cli_not_a_run(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["surface", str(tmp_path), "--quick", "--out", str(tmp_path / "o")])
    assert "no history.json" in capsys.readouterr().err


@needs_mnist
def test_cli_interpolate_between_two_runs(tiny_run, tmp_path):
    out = tmp_path / "pair"
    assert main(["surface", str(tiny_run), "--kind", "interpolate", "--other", str(tiny_run), "--quick", "--out",
                 str(out), "--no-progress"]) == 0
    numbers = json.loads((out / "surface_interpolate.json").read_text())
    assert numbers["from"] == f"trained weights of {tiny_run}"
    model, test, _ = runs.restore_model(tiny_run)
    np.testing.assert_allclose(numbers["loss"], model.evaluate(test.x, test.y)[0], rtol=1e-5)  # one point, 11 times
