"""The dashboard's state codec, runs and callbacks, without a browser (the browser tests are in
test_dashboard_browser.py)."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastopt import landscape
from fastopt.dashboard.paths import divergence_step, heat_map, run_of, runs_of
from fastopt.dashboard.state import (LR_RANGE, MAX_OPTIMIZERS, default_state, from_config, optimizer_names, parse,
                                     to_config, to_query)


def test_import_fastopt_does_not_import_panel():
    code = "import sys, fastopt, fastopt.cli; print('panel' in sys.modules, 'bokeh' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# ------------------------------------------------------------------------------------------------ state codec
def test_query_round_trip_reproduces_the_state():
    state = default_state("beale", ("sgd", "adam", "bfgs"))
    state = state.with_settings("adam", lr=0.0123, beta1=0.8, beta2=0.95).with_settings("sgd", momentum=0.5)
    state = state.__class__(**{**state.__dict__, "start": (1.25, -2.5), "steps": 321, "noise": 0.1, "seed": 7})
    parsed, messages = parse(to_query(state))
    assert messages == []
    assert parsed == state
    assert parsed.settings_of("bfgs").lr is None


def test_query_as_the_server_gives_it_lists_of_bytes():
    state, messages = parse({"function": [b"himmelblau"], "optimizers": [b"adam,sgd"], "lr": [b"adam:0.5"]})
    assert messages == [] and state.function == "himmelblau" and state.optimizers == ("adam", "sgd")
    assert state.settings_of("adam").lr == 0.5


@pytest.mark.parametrize("query, expected", [
    ({"function": "nope"}, "function: unknown 'nope'; using rosenbrock"),
    ({"optimizers": "adam,zzz"}, "optimizers: unknown 'zzz'; ignored"),
    ({"optimizers": "adam", "lr": "adam:1e9"}, "lr of adam: 1e+09 is outside [1e-08, 10]; using 10"),
    ({"optimizers": "adam", "lr": "adam:abc"}, "lr of adam: 'abc' is not a number; ignored"),
    ({"optimizers": "adam", "lr": "adam:nan"}, "lr of adam: 'nan' is not finite; ignored"),
    ({"optimizers": "adam", "lr": "adam"}, "lr: 'adam' is not name:value; ignored"),
    ({"optimizers": "adam", "lr": "sgd:0.1"}, "lr: 'sgd' is not among the optimizers shown; ignored"),
    ({"optimizers": "adam", "momentum": "adam:0.5"}, "momentum: adam has no momentum; ignored"),
    ({"optimizers": "sgd", "momentum": "sgd:1.5"}, "momentum of sgd: 1.5 is outside [0, 0.999]; using 0.999"),
    ({"start": "99,0"}, "start x: 99 is outside [-2, 2]; using 2"),
    ({"start": "1"}, "start: expected x,y, got '1'; using the standard start"),
    ({"steps": "1e9"}, "steps: 1e+09 is outside [1, 20000]; using 20000"),
    ({"steps": "2.5"}, "steps: 2.5 is not a whole number; using 2"),
    ({"noise": "-1"}, "noise: -1 is outside [0, 10]; using 0"),
    ({"seed": "-3"}, "seed: -3 is outside [0, 2.14748e+09]; using 0"),
    ({"optimizers": "adagrad", "heat": "adagrad"},
     "heat: 'adagrad' is not a shown optimizer with a momentum or beta1; using None"),
])
def test_malformed_or_out_of_range_values_are_clamped_or_refused_with_a_message(query, expected):
    state, messages = parse(query)
    assert expected in messages
    assert LR_RANGE[0] <= min(s.lr for s in state.settings.values() if s.lr is not None) or not state.settings


def test_clamped_values_take_effect():
    state, _ = parse({"optimizers": "sgd", "lr": "sgd:1e9", "momentum": "sgd:1.5", "start": "99,-99",
                      "steps": "0", "noise": "50"})
    assert state.settings_of("sgd").lr == 10.0 and state.settings_of("sgd").momentum == 0.999
    assert state.start == (2.0, -1.0) and state.steps == 1 and state.noise == 10.0


def test_too_many_optimizers_are_cut():
    names = optimizer_names()
    state, messages = parse({"optimizers": ",".join(names)})
    assert len(state.optimizers) == MAX_OPTIMIZERS and state.optimizers == tuple(names[:MAX_OPTIMIZERS])
    assert any("at most" in m for m in messages)


@pytest.mark.parametrize("junk", ["", ",,,", "\x00\xff", "a" * 10000, "%zz", ":::", "1e309", "adam:1:2"])
def test_no_junk_value_raises(junk):
    keys = ("function", "optimizers", "lr", "momentum", "beta1", "beta2", "start", "steps", "noise", "seed", "heat")
    state, messages = parse({k: junk for k in keys})
    assert state.function in landscape.functions()
    assert all(len(m) < 300 for m in messages)


def test_config_json_round_trip_and_command():
    state = default_state("booth", ("adam", "nesterov")).with_settings("adam", lr=0.2)
    config = to_config(state)
    assert from_config(json.dumps(config)) == (state, [])
    assert config["command"][:4] == ["fastopt", "landscape", "--function", "booth"]
    assert "adam=0.2" in config["command"][config["command"].index("--lr") + 1]
    with pytest.raises(ValueError, match="config: not JSON"):
        from_config("{")
    with pytest.raises(ValueError, match="query"):
        from_config("[1, 2]")


def test_exported_command_runs_the_landscape_cli(tmp_path):
    from fastopt.cli import main
    state = default_state("booth", ("sgd", "adam"))
    command = to_config(state)["command"]
    assert main(command[1:] + ["--steps", "50", "--out", str(tmp_path / "booth.png")]) == 0
    assert (tmp_path / "booth.png").stat().st_size > 1000


# ------------------------------------------------------------------------------------------------ runs
def test_a_run_is_the_native_trajectory_and_sgd_matches_a_numpy_loop():
    state = default_state("booth", ("sgd",)).with_settings("sgd", lr=0.01, momentum=0.5)
    run = run_of(state, "sgd")
    f = landscape.get("booth")
    x, v = np.array(state.start, dtype=np.float64), np.zeros(2)
    path = [x.copy()]
    for _ in range(state.steps):  # PyTorch's SGD with momentum (dampening 0): v = m v + g; x -= lr v
        v = 0.5 * v + f.grad(x)
        x = x - 0.01 * v
        path.append(x.copy())
    np.testing.assert_allclose(run.path, np.array(path), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(run.losses, [f.value(p) for p in path], rtol=1e-10, atol=1e-12)
    assert run.diverged_at is None and run_of(state, "sgd") is run  # cached


def test_divergence_step():
    domain = ((-1.0, 1.0), (-1.0, 1.0))
    assert divergence_step(np.zeros((5, 2)), domain) is None
    path = np.array([[0, 0], [0.5, 0], [np.nan, 0], [0, 0]])
    assert divergence_step(path, domain) == 2
    assert divergence_step(np.array([[0.0, 0.0], [0.0, 21.0]]), domain) == 1  # 10 widths of 2 from the centre
    assert divergence_step(np.array([[0.0, 0.0], [0.0, 19.0]]), domain) is None


def test_a_large_rate_diverges_and_is_cut_at_the_divergence():
    state = default_state("rosenbrock", ("sgd",)).with_settings("sgd", lr=0.5)
    run = run_of(state, "sgd")
    assert run.diverged_at is not None and len(run.path) == run.diverged_at
    assert np.all(np.isfinite(run.path))


def test_second_order_and_refused_methods():
    runs = runs_of(default_state("himmelblau", ("bfgs", "lm")))
    assert runs["bfgs"].second_order and len(runs["bfgs"].path) > 1 and runs["bfgs"].losses[-1] < 1e-10
    lm = runs_of(default_state("rastrigin", ("lm",)))["lm"]  # not a sum of squares: refused, with the reason
    assert len(lm.path) == 0 and "lm" in lm.message.lower() or "squares" in lm.message


def test_heat_map_cells_are_runs():
    state = default_state("booth", ("momentum",)).with_settings("momentum", lr=0.01)
    state = state.__class__(**{**state.__dict__, "steps": 60})
    heat = heat_map(state, "momentum", lr_count=5, momentum_count=3, decades=2.0)
    assert heat.final.shape == (3, 5) and heat.axis == "momentum"
    f = landscape.get("booth")
    for i, m in enumerate(heat.momenta):
        for j, lr in enumerate(heat.lrs):
            t = landscape.trajectory(f, "momentum", x0=state.start, steps=60, lr=lr, momentum=m)
            expected = math.log10(max(t.losses[-1], 1e-16)) if np.all(np.isfinite(t.path[-1])) and \
                np.max(np.abs(t.path[-1])) < 200 else np.nan
            np.testing.assert_allclose(heat.final[i, j], expected, rtol=1e-12, equal_nan=True)
    assert np.isnan(heat.final[:, -1]).all() and np.isfinite(heat.final[:, 0]).all()  # lr 1 diverges on booth
    with pytest.raises(ValueError, match="adagrad has no learning rate and momentum"):
        heat_map(default_state("booth", ("adagrad",)), "adagrad")


# ------------------------------------------------------------------------------------------------ callbacks
pn = pytest.importorskip("panel")


@pytest.fixture
def app(tmp_path):
    from fastopt.dashboard.app import DashboardApp
    return DashboardApp({"function": "rosenbrock", "optimizers": "sgd,momentum,adam"}, runs_dir=tmp_path)


def test_lr_slider_recomputes_only_its_run(app):
    figures = app.landscape.figures
    before = {n: (xs.copy(), ys.copy()) for n, xs, ys in zip(figures.paths.data["name"], figures.paths.data["xs"],
                                                               figures.paths.data["ys"])}
    app.landscape._controls["adam"].widgets["lr"].value = math.log10(0.003)
    assert app.landscape.state.settings_of("adam").lr == pytest.approx(0.003)
    after = dict(zip(figures.paths.data["name"], zip(figures.paths.data["xs"], figures.paths.data["ys"])))
    assert not np.array_equal(before["adam"][0], after["adam"][0])
    for name in ("sgd", "momentum"):
        np.testing.assert_array_equal(before[name][0], after[name][0])
    expected = landscape.trajectory("rosenbrock", "adam", x0=app.landscape.state.start, steps=1000, lr=0.003).path
    np.testing.assert_allclose(np.c_[after["adam"][0], after["adam"][1]], expected)
    sgd, momentum = (landscape.default_lr("rosenbrock", n) for n in ("sgd", "momentum"))
    assert f"lr=sgd%3A{sgd:g}%2Cmomentum%3A{momentum:g}%2Cadam%3A0.003" in app.url.value


def test_large_rate_shows_the_divergence_marker(app):
    assert app.landscape.figures.diverged.data["name"] == []
    app.landscape._controls["sgd"].widgets["lr"].value = 0.0  # lr 1 on rosenbrock
    data = app.landscape.figures.diverged.data
    assert data["name"] == ["sgd"] and data["step"][0] >= 1
    (x0, x1), (y0, y1) = landscape.get("rosenbrock").domain
    assert x0 <= data["x"][0] <= x1 and y0 <= data["y"][0] <= y1
    assert "sgd diverged at step" in app.landscape.status.object
    app.landscape._controls["sgd"].reset()
    assert app.landscape.figures.diverged.data["name"] == []
    default = landscape.default_lr("rosenbrock", "sgd")
    assert app.landscape._controls["sgd"].widgets["lr"].value == pytest.approx(math.log10(default))


def test_click_sets_the_start_clamped(app):
    app.landscape.set_start(0.5, 0.25)
    assert app.landscape.state.start == (0.5, 0.25)
    assert app.landscape.figures.start.data == {"x": [0.5], "y": [0.25]}
    assert app.landscape.figures.paths.data["xs"][0][0] == 0.5
    app.landscape.set_start(50.0, -50.0)
    assert app.landscape.state.start == (2.0, -1.0)
    app.landscape.set_start(float("nan"), 0.0)
    assert app.landscape.state.start == (2.0, -1.0) and "no finite point" in app.messages.pane.object


def test_function_and_optimizer_changes(app):
    app.landscape.function.value = "himmelblau"
    state = app.landscape.state
    assert state.function == "himmelblau" and state.start == tuple(landscape.get("himmelblau").start)
    assert state.settings_of("adam").lr == landscape.default_lr("himmelblau", "adam")
    app.landscape.optimizers.value = ["adam", "bfgs"]
    assert app.landscape.figures.paths.data["name"] == ["adam", "bfgs"]
    assert [type(c.panel).__name__ for c in map(app.landscape._controls.get, ("adam", "bfgs"))] == ["Column",
                                                                                                   "Markdown"]
    app.landscape.steps.value = 200
    assert len(app.landscape.figures.losses.data["xs"][0]) == 201


def test_heat_map_button_and_cell_pick(app):
    app.landscape.steps.value = 100
    app.landscape.heat_choice.value = "momentum"
    app.landscape.compute_heat()
    heat = app.landscape.figures.heat.data
    assert len(heat["x"]) == 25 * 12 and np.isfinite(heat["final"]).any()
    app.landscape.pick_heat_cell(-3.0, 0.5)
    s = app.landscape.state.settings_of("momentum")
    assert s.lr == pytest.approx(1e-3) and s.momentum == 0.5
    assert app.landscape._controls["momentum"].widgets["momentum"].value == 0.5


def test_url_query_opens_the_same_view_with_messages():
    from fastopt.dashboard.app import DashboardApp
    query = to_query(default_state("beale", ("adam", "sgd")).with_settings("adam", lr=0.5))
    app = DashboardApp({**query, "steps": "99999"})
    assert app.landscape.state.function == "beale" and app.landscape.state.settings_of("adam").lr == 0.5
    assert "steps: 99999 is outside [1, 20000]; using 20000" in app.messages.pane.object
    assert app.messages.pane.visible
    assert app.landscape._controls["adam"].widgets["lr"].value == pytest.approx(math.log10(0.5))


def test_export_png_and_json(app):
    png = app._png().getvalue()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    import io
    image = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
    assert image.std() > 10  # not blank
    config = json.loads(app._json().getvalue())
    assert from_config(json.dumps(config))[0] == app.landscape.state


def test_exceptions_in_callbacks_reach_the_page(app):
    from fastopt.dashboard import app as app_module
    from bokeh.document import Document
    doc = Document()
    app_module._MESSAGE_BARS[doc] = app.messages
    with pn.io.server.set_curdoc(doc):
        app_module.report_exception(RuntimeError("boom"))
    assert "RuntimeError: boom" in app.messages.pane.object


def test_curvature_along_the_path_is_the_exact_hessian(app):
    app.curvature.show(True)
    app.curvature.path_optimizer.value = "adam"
    data = app.curvature.eigen_source.data
    run = run_of(app.landscape.state, "adam")
    f = landscape.get("rosenbrock")
    for k in (0, 10, len(run.path) - 1):
        low, high = np.linalg.eigvalsh(f.hessian(run.path[k]))
        assert data["low"][k] == pytest.approx(low) and data["high"][k] == pytest.approx(high)


# ------------------------------------------------------------------------------------------------ training
def _mnist_or_skip():
    data = os.environ.get("FASTOPT_DATA")
    if not data or not (Path(data) / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip("FASTOPT_DATA does not hold MNIST")
    return data


def test_training_job_trains_stops_and_reopens(tmp_path):
    from fastopt.dashboard.trainer import open_runs, start_job
    data = _mnist_or_skip()
    job = start_job("adam-1", "adam", tmp_path, lr=1e-3, epochs=2, batch_size=64, limit=500, hidden=(16,), data=data)
    job.join(120)
    assert job.status == "done" and [r["epoch"] for r in job.records] == [1, 2]
    assert 0 < job.records[-1]["test_accuracy"] <= 1
    stopped = start_job("sgd-1", "sgd", tmp_path, lr=0.05, epochs=50, batch_size=64, limit=500, hidden=(16,),
                        data=data)
    stopped.stop()
    stopped.join(120)
    assert stopped.status == "stopped" and 1 <= len(stopped.records) < 50
    opened = open_runs(tmp_path)
    assert [j.label for j in opened] == ["adam-1", "sgd-1"] and opened[0].records == job.records
    assert open_runs(tmp_path / "adam-1")[0].status == "opened"
    with pytest.raises(FileNotFoundError, match="no run folder"):
        open_runs(tmp_path / "nothing")


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer": "nope"}, "optimizer: unknown"), ({"lr": -1.0}, "lr: expected"), ({"epochs": 0}, "epochs"),
    ({"limit": 0}, "limit"), ({"hidden": (0,)}, "hidden"), ({"label": "../x"}, "label"),
])
def test_training_refuses_bad_settings(tmp_path, kwargs, message):
    from fastopt.dashboard.trainer import start_job
    args = {"label": "run", "optimizer": "adam", **kwargs}
    with pytest.raises(ValueError, match=message):
        start_job(args.pop("label"), args.pop("optimizer"), tmp_path, **args)
    assert not (tmp_path / "run").exists()


def test_training_tab_compares_runs_and_measures_a_spectrum(app, tmp_path):
    data = _mnist_or_skip()
    tab = app.training
    tab.data = data
    tab.limit.value, tab.epochs.value, tab.hidden.value = 300, 2, "8"
    job = tab.train()
    job.join(120)
    tab.refresh()
    assert tab.accuracy_source.data["name"] == ["adam-1"] and len(tab.accuracy_source.data["ys"][0]) == 2
    assert "| adam-1 | adam | default | 2 |" in tab.table.object
    tab.hidden.value = "x"
    assert tab.train() is None and "hidden" in app.messages.pane.object
    tab.open_folder(job.folder)
    assert list(tab.jobs) == ["adam-1", "adam-1-1"]
    app.curvature.show(True)
    app.curvature.run.value = "adam-1"
    app.curvature.samples.value = 100
    app.curvature.start_spectrum().join(120)
    app.curvature.poll()
    values = app.curvature.top_source.data["value"]
    assert len(values) == 5 and values[0] >= values[-1]
    assert "lambda_max" in app.curvature.spectrum_note.object


# ------------------------------------------------------------------------------------------------ command line
@pytest.mark.parametrize("argv, message", [
    (["--port", "70000"], "port: expected 0 to 65535"), (["--host", "a b"], "host: expected an address"),
    (["--config", "/nonexistent.json"], "--config"),
])
def test_cli_refuses_bad_flags(argv, message, capsys):
    from fastopt.cli import main
    with pytest.raises(SystemExit) as exit_info:
        main(["dashboard", "--no-browser", *argv])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
