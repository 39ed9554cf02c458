"""fastopt.tune and ``fastopt tune``: search spaces, the Optuna-driven search on local processes and Dask,
resuming after a kill, pruning, the landscape and MNIST objectives, result files and figures."""
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fastopt.tune import LandscapeObjective, MnistObjective, parse_grid, parse_space
from fastopt.tune.space import parse_value
from mnist_data import MNIST_DIR, needs_mnist

optuna = pytest.importorskip("optuna")
from fastopt.tune import search
from fastopt.tune.storage import STUDY_NAME, make_storage

ROSENBROCK = LandscapeObjective(function="rosenbrock", optimizer="sgd", steps=300)


def stored(out):
    """The study stored in ``out``."""
    return optuna.load_study(study_name=STUDY_NAME, storage=make_storage(str(Path(out) / "study.journal")))


def finished(study, state="COMPLETE"):
    return [t for t in study.get_trials() if t.state.name == state]


# ---------------------------------------------------------------------------------------------- spaces
def test_space_parses_every_kind():
    space = parse_space(["lr=loguniform:1e-5:1e-1", "batch_size=choice:64,128,256", "momentum=uniform:0.8:0.99",
                         "optimizer=choice:sgd,adam", "hidden=int:16:64"])
    assert space.names[0] == "optimizer"  # suggested first: which hyperparameters apply depends on it
    assert space["lr"].kind == "loguniform" and (space["lr"].low, space["lr"].high) == (1e-5, 1e-1)
    assert space["batch_size"].choices == (64, 128, 256)
    assert space["optimizer"].choices == ("sgd", "adam")
    assert space["hidden"].kind == "int" and (space["hidden"].low, space["hidden"].high) == (16, 64)
    assert space.size() is None and not space.is_grid
    assert parse_space(space.specs()) == space  # written back as it was given


def test_grid_parses_values_and_counts_points():
    grid = parse_grid(["lr=1e-4,3e-4,1e-3", "batch_size=64,128", "nesterov=true,false"])
    assert grid.is_grid and grid.size() == 12
    assert grid.grid() == {"lr": [1e-4, 3e-4, 1e-3], "batch_size": [64, 128], "nesterov": [True, False]}
    assert [parse_value(v) for v in ("64", "3e-4", "adam", "False")] == [64, 3e-4, "adam", False]


@pytest.mark.parametrize("spec, message", [
    ("lr", "expected NAME=KIND"),
    ("lr=", "expected NAME=KIND"),
    ("1lr=uniform:0:1", "expected NAME=KIND"),
    ("lr=normal:0:1", "unknown kind 'normal'"),
    ("lr=uniform:0", "takes two bounds"),
    ("lr=uniform:a:1", "low bound 'a' is not a number"),
    ("lr=uniform:0:inf", "high bound 'inf' is not finite"),
    ("lr=uniform:1:1", "low 1 must be below high 1"),
    ("lr=loguniform:0:1", "loguniform needs 0 < low"),
    ("width=int:1.5:4", "int bounds must be integers"),
    ("batch_size=choice:64,64", "a value is repeated"),
    ("batch_size=choice:64,,128", "an empty value"),
])
def test_space_errors_name_the_entry(spec, message):
    with pytest.raises(ValueError, match="space: expected" if "expected" in message else None) as e:
        parse_space([spec])
    assert message in str(e.value) and (spec in str(e.value))


def test_grid_and_space_errors():
    with pytest.raises(ValueError, match=r"grid: expected NAME=V1,V2"):
        parse_grid(["lr"])
    with pytest.raises(ValueError, match="lr given twice"):
        parse_grid(["lr=1,2", "lr=3"])
    with pytest.raises(ValueError, match="no parameter to search"):
        parse_space([])
    with pytest.raises(TypeError, match="expected a string"):
        parse_space([1.0])


def test_objective_refuses_parameters_it_does_not_take():
    with pytest.raises(ValueError, match="'rho' is not a run setting .* nor a hyperparameter of adam"):
        MnistObjective(optimizer="adam").check(parse_space(["rho=uniform:0.1:0.9"]))
    with pytest.raises(ValueError, match="grid: 'batch_size' is not a run setting"):
        ROSENBROCK.check(parse_grid(["batch_size=64,128"]))
    with pytest.raises(ValueError, match="grid: 'momentum' does not apply to adam"):
        MnistObjective().check(parse_grid(["optimizer=sgd,adam", "momentum=0.5,0.9"]))
    with pytest.raises(ValueError, match="optimizer: unknown 'sgdd'"):
        MnistObjective().check(parse_space(["optimizer=choice:sgd,sgdd"]))
    # In a --space, momentum is suggested only for the optimizers that take it.
    space = parse_space(["optimizer=choice:sgd,adam", "momentum=uniform:0.5:0.9", "beta1=uniform:0.8:0.95"])
    MnistObjective().check(space)
    sgd = space.suggest(optuna.trial.FixedTrial({"optimizer": "sgd", "momentum": 0.7}), MnistObjective().applies)
    adam = space.suggest(optuna.trial.FixedTrial({"optimizer": "adam", "beta1": 0.85}), MnistObjective().applies)
    assert sgd == {"optimizer": "sgd", "momentum": 0.7} and adam == {"optimizer": "adam", "beta1": 0.85}


def test_search_refuses_bad_settings_before_writing(tmp_path):
    with pytest.raises(ValueError, match="sampler: --grid values are searched by the grid sampler"):
        search(ROSENBROCK, parse_grid(["lr=1e-3,1e-2"]), tmp_path / "a", sampler="tpe", progress=False)
    with pytest.raises(ValueError, match="the grid has 2 points, fewer than the 3 trials"):
        search(ROSENBROCK, parse_grid(["lr=1e-3,1e-2"]), tmp_path / "b", trials=3, progress=False)
    with pytest.raises(ValueError, match="executor: expected process, dask"):
        search(ROSENBROCK, parse_grid(["lr=1e-3,1e-2"]), tmp_path / "c", executor="spark", progress=False)
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------- landscape objective
def numpy_sgd_rosenbrock(lr, steps, x=(-1.5, 2.0)):
    """Plain gradient descent on Rosenbrock in float64 NumPy (the independent reference)."""
    x = np.array(x, dtype=np.float64)
    for _ in range(steps):
        g = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])
        x = x - lr * g
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def test_landscape_objective_is_the_final_loss_of_the_native_path():
    import fastopt
    start = fastopt.landscape.get("rosenbrock").start
    result = ROSENBROCK({"lr": 1e-4})
    assert result["value"] == pytest.approx(numpy_sgd_rosenbrock(1e-4, 300, start), rel=1e-10)
    assert [r["step"] for r in result["history"]] == list(range(0, 301, 30))
    assert result["history"][-1]["loss"] == result["value"] and not result["diverged"]
    diverged = ROSENBROCK({"lr": 1.0})
    assert diverged["value"] == math.inf and diverged["diverged"]


def test_grid_covers_every_point_once_with_the_reference_values(tmp_path):
    import fastopt
    start = fastopt.landscape.get("rosenbrock").start
    lrs = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3]
    result = search(ROSENBROCK, parse_grid([f"lr={','.join(map(str, lrs))}"]), tmp_path, jobs=2, progress=False)
    study = result.study
    complete = finished(study)
    assert sorted(t.params["lr"] for t in complete) == lrs and len(study.trials) == len(lrs)
    for t in complete:
        reference = numpy_sgd_rosenbrock(t.params["lr"], 300, start)
        assert t.value == pytest.approx(reference, rel=1e-10) if math.isfinite(reference) else t.value == math.inf
    best = min((t for t in complete if math.isfinite(t.value)), key=lambda t: t.value)
    assert result.best == {"number": best.number, "params": best.params, "value": best.value, "metric": "final_loss"}


# ---------------------------------------------------------------------------------------------- results and figures
def test_result_files_and_figures(tmp_path):
    from PIL import Image
    objective = LandscapeObjective(function="quadratic", optimizer="momentum", steps=100)
    space = parse_grid(["lr=1e-3,1e-2,1e-1", "momentum=0.5,0.8,0.9"])
    result = search(objective, space, tmp_path, jobs=2, progress=False)
    names = sorted(p.name for p in result.files)
    assert names == ["best.json", "heatmap.png", "history.png", "importances.png", "metric_vs_lr.png",
                     "trials.csv", "trials.json"]
    for png in tmp_path.glob("*.png"):
        with Image.open(png) as image:
            assert image.size[0] > 300 and image.size[1] > 200
    lines = (tmp_path / "trials.csv").read_text().splitlines()
    assert lines[0] == "number,state,value,lr,momentum,train_time,duration,epochs,diverged,error"
    assert len(lines) == 1 + 9
    summary = json.loads((tmp_path / "trials.json").read_text())
    assert summary["metric"] == "final_loss" and summary["direction"] == "minimize"
    assert len(summary["trials"]) == 9 and all(len(t["history"]) == 11 for t in summary["trials"])
    best = json.loads((tmp_path / "best.json").read_text())
    values = [t["value"] for t in summary["trials"] if t["value"] is not None]
    assert best["value"] == min(values) and best == result.best


# ---------------------------------------------------------------------------------------------- resume
def test_resume_refuses_other_settings_and_a_missing_store(tmp_path):
    space = parse_grid(["lr=1e-4,1e-3"])
    search(ROSENBROCK, space, tmp_path, jobs=1, progress=False, figures=False)
    with pytest.raises(ValueError, match="a search is already stored .* --resume"):
        search(ROSENBROCK, space, tmp_path, jobs=1, progress=False)
    other = LandscapeObjective(function="rosenbrock", optimizer="sgd", steps=301)
    with pytest.raises(ValueError, match="--resume: the stored search has objective = .*'steps': 300"):
        search(other, space, tmp_path, jobs=1, progress=False, resume=True)
    with pytest.raises(ValueError, match="--resume: no search stored"):
        search(ROSENBROCK, space, tmp_path / "empty", jobs=1, progress=False, resume=True)
    again = search(ROSENBROCK, space, tmp_path, jobs=1, progress=False, resume=True, figures=False)
    assert again.ran == 0 and len(again.study.trials) == 2  # nothing left to run, nothing repeated


# 20 trials of about 0.2 s each (0.6 s on a loaded machine): time to kill the search half-way.
SLOW_GRID = ["--grid", "lr=" + ",".join(f"{m}e-{e}" for e in (5, 4) for m in (1, 2, 3, 5, 7)),
             "--grid", "momentum=0,0.5"]


def tune_command(out, *extra):
    return [sys.executable, "-m", "fastopt.cli", "tune", "--function", "rosenbrock", "--optimizer", "sgd",
            "--steps", "200000", *SLOW_GRID, "--jobs", "2", "--out", str(out), "--no-figures", *extra]


def wait_for_finished_trials(process, out, count):
    """Return once ``count`` trials of the search running in ``process`` are stored (or it ended)."""
    deadline, study = time.monotonic() + 120, None
    while time.monotonic() < deadline and process.poll() is None:
        if study is None and (out / "study.journal").is_file():
            try:
                study = stored(out)  # one storage, re-read incrementally: a poll costs little beside the trials
            except KeyError:  # the journal exists but the study is not written to it yet
                study = None
        if study is not None and len(finished(study)) >= count:
            return
        time.sleep(0.02)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_killed_search_resumes_without_losing_or_repeating_trials(tmp_path, how):
    process = subprocess.Popen(tune_command(tmp_path), start_new_session=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    wait_for_finished_trials(process, tmp_path, 2)
    assert process.poll() is None, process.communicate()
    os.killpg(process.pid, how)  # the search and its workers, as Ctrl-C or a kill of the session
    _, err = process.communicate(timeout=60)
    if how == signal.SIGINT:
        assert process.returncode == 130 and "--resume" in err, (process.returncode, err[-2000:])
    before = {t.number: (t.params, t.value) for t in finished(stored(tmp_path))}
    assert 2 <= len(before) < 20
    resumed = subprocess.run(tune_command(tmp_path, "--resume", "--no-progress"), capture_output=True, text=True,
                             timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    study = stored(tmp_path)
    complete = finished(study)
    points = sorted((t.params["lr"], t.params["momentum"]) for t in complete)
    assert len(points) == 20 and len(set(points)) == 20  # every grid point once: none lost, none repeated
    assert all(t.number in {c.number for c in complete} and (t.params, t.value) == v
               for t in complete for v in [before.get(t.number, (t.params, t.value))])
    assert set(before) <= {t.number for t in complete}  # the trials finished before the kill were kept as they were
    assert all(t.system_attrs.get("interrupted") for t in study.trials if t.state.name == "FAIL")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the worker processes in Linux's /proc")
def test_a_dead_worker_stops_the_search_with_a_message_and_resume_finishes_it(tmp_path):
    process = subprocess.Popen(tune_command(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_finished_trials(process, tmp_path, 1)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    workers = [pid for pid in children if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
    os.kill(int(workers[0]), signal.SIGKILL)  # one worker dies, as the out-of-memory killer would do
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1 and "a worker stopped" in err and "--resume" in err
    resumed = subprocess.run(tune_command(tmp_path, "--resume", "--no-progress"), capture_output=True, text=True,
                             timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    points = [(t.params["lr"], t.params["momentum"]) for t in finished(stored(tmp_path))]
    assert len(points) == 20 and len(set(points)) == 20


# ---------------------------------------------------------------------------------------------- executors
def test_dask_gives_the_process_pool_results():
    pytest.importorskip("distributed")
    _same_results_as_process_pool("dask")


def test_ray_gives_the_process_pool_results():
    pytest.importorskip("ray")
    _same_results_as_process_pool("ray")


def _same_results_as_process_pool(executor):
    import tempfile
    objective = LandscapeObjective(function="rosenbrock", optimizer="adam", steps=200, noise=0.1, seed=3)
    space = parse_space(["lr=loguniform:1e-3:1", "beta1=uniform:0.5:0.95"])
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("process", executor):
            result = search(objective, space, Path(tmp) / name, sampler="random", trials=8, jobs=2, seed=7,
                            executor=name, progress=False, figures=False)
            results[name] = {t.number: (t.params, t.value, t.state.name) for t in result.study.trials}
    assert len(results["process"]) == 8 and results[executor] == results["process"]


# ---------------------------------------------------------------------------------------------- MNIST and pruning
@needs_mnist
def test_median_pruner_stops_trials_below_the_median(tmp_path):
    objective = MnistObjective(optimizer="adam", data=str(MNIST_DIR), limit=1000, hidden=(32,), epochs=3,
                               batch_size=100, schedule="constant")
    space = parse_grid(["lr=1e-3,2e-3,3e-3,1.5,2,3"])
    study = search(objective, space, tmp_path, pruner="median", jobs=1, progress=False, figures=False).study
    pruned, complete = finished(study, "PRUNED"), finished(study, "COMPLETE")
    assert pruned and len(pruned) + len(complete) == 6
    for t in pruned:
        step = max(t.intermediate_values)
        # Optuna's median rule: the trial's best value so far is below the median, at this epoch, of the trials
        # that completed before it (jobs=1: those with smaller numbers).
        earlier = [c.intermediate_values[step] for c in complete if c.number < t.number]
        assert step < 3 and len(t.user_attrs["history"]) == step and len(earlier) >= 2
        assert max(t.intermediate_values.values()) < np.median(earlier)
    for t in complete:
        assert len(t.user_attrs["history"]) == 3 and t.value == t.user_attrs["history"][-1]["test_accuracy"]


@needs_mnist
def test_successive_halving_stops_trials_outside_the_top_of_their_rung(tmp_path):
    objective = MnistObjective(optimizer="adam", data=str(MNIST_DIR), limit=1000, hidden=(32,), epochs=3,
                               batch_size=100, schedule="constant")
    space = parse_grid(["lr=1e-3,2e-3,3e-3,1.5,2,3"])
    study = search(objective, space, tmp_path, pruner="halving", jobs=1, progress=False, figures=False).study
    pruned, complete = finished(study, "PRUNED"), finished(study, "COMPLETE")
    assert pruned and len(pruned) + len(complete) == 6
    for t in pruned:
        # Rung r is reached at epoch 2**r (min_resource 1, reduction factor 2); a trial goes on only if its
        # value is among the best n // 2 (at least 1) of the n values recorded at that rung so far, its own
        # included (Optuna's asynchronous successive halving).
        step = max(t.intermediate_values)
        rivals = [o.intermediate_values[step] for o in study.trials
                  if o.number <= t.number and step in o.intermediate_values]
        better = sum(v > t.intermediate_values[step] for v in rivals)
        assert step in (1, 2) and len(t.user_attrs["history"]) == step
        assert better >= max(1, len(rivals) // 2)
    assert all(len(t.user_attrs["history"]) == 3 for t in complete)


@needs_mnist
def test_cli_mnist_grid(tmp_path):
    run = subprocess.run([sys.executable, "-m", "fastopt.cli", "tune", "--dataset", "mnist", "--data", str(MNIST_DIR),
                          "--limit", "600", "--hidden", "16", "--optimizer", "adam", "--grid", "lr=1e-3,1e-2",
                          "--grid", "batch_size=50,100", "--epochs", "1", "--out", str(tmp_path), "--no-progress"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert "best test_accuracy" in run.stdout and (tmp_path / "heatmap.png").is_file()
    rows = (tmp_path / "trials.csv").read_text().splitlines()
    assert rows[0].startswith("number,state,value,lr,batch_size,") and len(rows) == 5


# ---------------------------------------------------------------------------------------------- CLI
@pytest.mark.parametrize("flags, message", [
    (["--space", "lr=loguniform:0:1"], "loguniform needs 0 < low"),
    (["--grid", "lr=1e-3", "--space", "lr=uniform:0:1"], "not both"),
    ([], "not both and not neither"),
    (["--grid", "rho=0.1,0.2"], "'rho' is not a run setting"),
    (["--grid", "lr=1e-3", "--executor", "dask:/x"], "executor: expected process"),
])
def test_cli_refuses_bad_flags(tmp_path, capsys, flags, message):
    from fastopt.cli import main
    with pytest.raises(SystemExit) as e:
        main(["tune", "--function", "rosenbrock", "--out", str(tmp_path / "out"), *flags])
    assert e.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_landscape_tpe_search(tmp_path, capsys):
    from fastopt.cli import main
    out = tmp_path / "tpe"
    status = main(["tune", "--function", "quadratic", "--optimizer", "adam", "--steps", "50", "--sampler", "tpe",
                   "--trials", "24", "--space", "lr=loguniform:1e-4:1", "--jobs", "2", "--out", str(out),
                   "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "best final_loss" in printed and "24 stored" in printed
    trials = json.loads((out / "trials.json").read_text())["trials"]
    assert len(trials) == 24 and {"metric_vs_lr.png", "history.png"} <= {p.name for p in out.iterdir()}


def test_import_fastopt_imports_no_optional_dependency():
    code = ("import sys, fastopt, fastopt.cli, fastopt.tune; "
            "print(sorted(m for m in ('optuna', 'dask', 'distributed', 'ray', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_without_optuna_names_the_extra(tmp_path):
    code = ("import sys; sys.modules['optuna'] = None; from fastopt.cli import main; "
            f"sys.exit(main(['tune', '--function', 'rosenbrock', '--grid', 'lr=1e-3', '--out', {str(tmp_path)!r}]))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 1 and "pip install 'fastopt[tune]'" in run.stderr
