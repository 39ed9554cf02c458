"""Second-order paths on the landscapes: landscape.trajectory with a method of fastopt.minimize, the CLI that
draws them beside first-order paths, and the figure of loss against function evaluations."""
import math
import re

import numpy as np
import pytest
import scipy.optimize as so

import fastopt
from fastopt import cli, landscape, plots, studies
from fastopt.landscape.second_order import PATH_OPTIONS, path_options
from fastopt.optim.registry import REGISTRY
from study_helpers import image

METHODS = landscape.second_order_methods()
MINIMIZE_METHODS = list(fastopt.curvature.methods())  # every name but "lm" (fastopt.least_squares)
FUNCTIONS = ("rosenbrock", "beale", "himmelblau", "six_hump_camel")
SUMS_OF_SQUARES = ("rosenbrock", "beale", "booth", "himmelblau")


def python_run(fn, method, x0, steps=1000, **options):
    """The same method driven through fastopt.minimize with Python callables of the function (its
    Hessian-vector product too: the native one is exact but rounds differently from H @ p)."""
    return fastopt.minimize(fn.value, x0, method=method, jac=fn.grad, hess=fn.hessian, hessp=fn.hessp,
                            options=path_options(method, steps, options), path=True)


def rosenbrock_numpy(p):
    x, y = p[..., 0], p[..., 1]
    return 100.0 * (y - x * x) ** 2 + (1.0 - x) ** 2


def rosenbrock_grad_numpy(p):
    x, y = p[..., 0], p[..., 1]
    return np.stack([-400.0 * x * (y - x * x) - 2.0 * (1.0 - x), 200.0 * (y - x * x)], axis=-1)


# ------------------------------------------------------------------------------------------------ paths
def test_method_names_do_not_clash_with_the_first_order_registry():
    assert METHODS and {"lbfgs", "bfgs", "cg"} <= set(METHODS)
    assert not set(METHODS) & set(REGISTRY)
    assert METHODS == [*MINIMIZE_METHODS, "lm"]


@pytest.mark.parametrize("method", MINIMIZE_METHODS)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_native_path_equals_fastopt_minimize_with_python_callables(method, function):
    fn = landscape.get(function)
    x0 = fn.start + np.array([0.3, -0.2])
    t = landscape.trajectory(fn, method, x0=x0)
    res = python_run(fn, method, x0)
    assert t.native and t.second_order and t.optimizer == method and math.isnan(t.lr)
    # Rounding only: the native Hessian-vector product is compiled into two modules (the landscape's
    # and the curvature's bindings), where GCC may contract a*b+c to an FMA differently, and
    # Newton-CG's inner CG amplifies the last-bit differences to ~1e-11 over its ~70 iterations.
    tol = 1e-10 if method == "newton-cg" else 1e-12
    np.testing.assert_allclose(t.path, res.path, rtol=0, atol=tol)
    np.testing.assert_allclose(t.losses, res.path_fun, rtol=tol, atol=1e-300)
    np.testing.assert_array_equal(t.evaluations, res.path_nfev)
    np.testing.assert_array_equal(t.path[0], x0)
    np.testing.assert_allclose(t.path[-1], res.x, rtol=0, atol=tol)
    # The path holds the start and every accepted iterate; an iteration whose line search failed counts in nit.
    assert len(t.path) - 1 == res.nit - (res.status in (2, 3)) and t.message == res.message
    assert t.evaluations[0] >= 1 and np.all(np.diff(t.evaluations) >= 0)
    assert t.evaluations[-1] <= res.nfev
    norms = [np.linalg.norm(fn.grad(p)) for p in t.path]
    np.testing.assert_allclose(t.grad_norms, norms, rtol=1e-12, atol=1e-300)
    # native=False is the Python-driven run itself.
    u = landscape.trajectory(fn, method, x0=x0, native=False)
    assert not u.native
    np.testing.assert_allclose(u.path, t.path, rtol=0, atol=tol)


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "cg"])
def test_rosenbrock_paths_reach_scipys_minimum_and_hold_true_values(method):
    fn = landscape.get("rosenbrock")
    t = landscape.trajectory(fn, method)
    reference = so.minimize(rosenbrock_numpy, fn.start, jac=rosenbrock_grad_numpy, method="BFGS",
                            options={"gtol": 1e-10})
    np.testing.assert_allclose(t.path[-1], reference.x, atol=1e-6)
    np.testing.assert_allclose(t.path[-1], [1.0, 1.0], atol=1e-8)
    # Losses and gradient norms against an independent NumPy Rosenbrock at every iterate.  Near the
    # minimum y - x^2 cancels, and its rounding (~eps) bounds the agreement in absolute terms: about
    # 1e-18 in f (where f ~ 1e-9) and 400 eps in the gradient.
    np.testing.assert_allclose(t.losses, rosenbrock_numpy(t.path), rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(t.grad_norms, np.linalg.norm(rosenbrock_grad_numpy(t.path), axis=1),
                               rtol=1e-10, atol=1e-12)
    assert t.message.startswith("converged")
    assert np.max(np.abs(rosenbrock_grad_numpy(t.path[-1]))) <= PATH_OPTIONS["gtol"]
    # A second-order method takes few, long steps: tens of iterations, not the 1000 steps allowed.
    assert len(t.path) < 100
    assert np.max(np.linalg.norm(np.diff(t.path, axis=0), axis=1)) > 0.1


@pytest.mark.parametrize("function", SUMS_OF_SQUARES)
def test_native_lm_path_equals_least_squares_with_python_callables(function):
    fn = landscape.get(function)
    x0 = fn.start + np.array([0.3, -0.2])
    steps = 200
    t = landscape.trajectory(fn, "lm", x0=x0, steps=steps)
    res = fastopt.least_squares(fn.residuals, x0, jac=fn.jacobian, gtol=1e-10, ftol=0.0, xtol=0.0,
                                max_nfev=steps + 1, path=True)
    assert t.native and t.second_order and t.optimizer == "lm" and math.isnan(t.lr)
    # The same C++ iteration on the same residuals and Jacobian: the same numbers.
    np.testing.assert_array_equal(t.path, res.path)
    np.testing.assert_array_equal(t.evaluations, res.path_nfev)
    np.testing.assert_array_equal(t.path[0], x0)
    # least_squares's cost is |r|^2 / 2 = f / 2; the path holds f and |grad f| = 2 |J^T r|.
    np.testing.assert_array_equal(t.losses, 2.0 * res.path_fun)
    values = np.array([fn.value(p) for p in t.path])
    np.testing.assert_allclose(t.losses, values, rtol=1e-9, atol=1e-20)
    norms = np.array([np.linalg.norm(fn.grad(p)) for p in t.path])
    np.testing.assert_allclose(t.grad_norms, norms, rtol=1e-7, atol=1e-12)
    assert np.all(np.diff(t.evaluations) == 1)  # one residual evaluation per iteration, taken or not
    assert np.all(np.diff(t.losses) <= 0)  # a rejected step repeats the point; none increases f
    if res.status == 5:  # beale's lm heads for x -> -inf along y = 1 (MINPACK's lm does the same)
        assert len(t.path) == steps + 1 and t.message == "stopped: maximum number of iterations reached"
    else:
        assert t.message == res.message and t.message.startswith("converged")
        assert np.max(np.abs(fn.grad(t.path[-1]))) <= 2 * PATH_OPTIONS["gtol"]
        reference = so.least_squares(fn.residuals, x0, jac=fn.jacobian, method="lm", xtol=1e-15, ftol=1e-15,
                                     gtol=1e-15)
        np.testing.assert_allclose(t.path[-1], reference.x, atol=1e-8)
    u = landscape.trajectory(fn, "lm", x0=x0, steps=steps, native=False)
    assert not u.native
    np.testing.assert_array_equal(u.path, t.path)


def test_lm_needs_a_sum_of_squares():
    for fn in (landscape.get("six_hump_camel"),
               landscape.custom(lambda p: float(rosenbrock_numpy(p)), rosenbrock_grad_numpy, name="rosen_py",
                                domain=((-2.0, 2.0), (-1.0, 3.0)), minima=[[1.0, 1.0]], min_value=0.0,
                                start=(-1.2, 1.0))):
        for native in (None, False):
            with pytest.raises(ValueError, match=re.escape(f"lm: '{fn.name}' is not a sum of squares f = |r(x)|^2")):
                landscape.trajectory(fn, "lm", native=native)
    assert "lm" in landscape.second_order_methods(landscape.get("rosenbrock"))
    assert landscape.second_order_methods(landscape.get("six_hump_camel")) == MINIMIZE_METHODS
    with pytest.raises(ValueError, match="options: lm has no option 'history_size'; it takes adaptive, damping"):
        landscape.trajectory("rosenbrock", "lm", history_size=3)
    with pytest.raises(ValueError, match="maxiter: a path's iterations are its steps"):
        landscape.trajectory("rosenbrock", "lm", maxiter=3)


def test_lm_steps_and_options():
    fn = landscape.get("rosenbrock")
    full = landscape.trajectory(fn, "lm")
    assert full.message.startswith("converged") and len(full.path) < 30
    np.testing.assert_allclose(full.path[-1], [1.0, 1.0], atol=1e-10)
    for steps in (0, 1, 3):
        t = landscape.trajectory(fn, "lm", steps=steps)
        assert len(t.path) == steps + 1 and t.message == "stopped: maximum number of iterations reached"
        np.testing.assert_array_equal(t.path, full.path[:steps + 1])
    # Options reach the method: Gauss-Newton (no damping, every step taken) from the standard start.
    gauss_newton = landscape.trajectory(fn, "lm", damping=0.0, adaptive=False)
    res = fastopt.least_squares(fn, fn.start, damping=0.0, adaptive=False, gtol=1e-10, ftol=0.0, xtol=0.0,
                                max_nfev=1001, path=True)
    np.testing.assert_array_equal(gauss_newton.path, res.path)
    assert len(gauss_newton.path) != len(full.path)


def test_steps_cap_the_iterations_and_options_reach_the_method():
    fn = landscape.get("rosenbrock")
    t = landscape.trajectory(fn, "bfgs", steps=5)
    assert len(t.path) == 6 and "maximum number of iterations" in t.message
    loose = landscape.trajectory(fn, "lbfgs", gtol=1e-3)
    assert len(loose.path) < len(landscape.trajectory(fn, "lbfgs").path)
    short = landscape.trajectory(fn, "lbfgs", history_size=1)
    res = python_run(fn, "lbfgs", fn.start, history_size=1)
    np.testing.assert_allclose(short.path, res.path, rtol=0, atol=1e-12)
    assert landscape.trajectory(fn, "cg", steps=0).path.shape == (1, 2)


def test_python_test_functions_run_through_fastopt_minimize():
    fn = landscape.custom(lambda p: float(rosenbrock_numpy(p)), rosenbrock_grad_numpy, name="rosen_py",
                          domain=((-2.0, 2.0), (-1.0, 3.0)), minima=[[1.0, 1.0]], min_value=0.0, start=(-1.2, 1.0))
    t = landscape.trajectory(fn, "bfgs")
    res = fastopt.minimize(fn.value, fn.start, method="bfgs", jac=fn.grad, options=path_options("bfgs", 1000, {}),
                           path=True)
    assert not t.native and t.second_order
    np.testing.assert_array_equal(t.path, res.path)
    np.testing.assert_array_equal(t.evaluations, res.path_nfev)
    np.testing.assert_allclose(t.path[-1], [1.0, 1.0], atol=1e-8)
    # The C++ function's path agrees to rounding (the two evaluate the same formula in another order).
    native = landscape.trajectory("rosenbrock", "bfgs")
    assert len(native.path) == len(t.path)
    np.testing.assert_allclose(native.path, t.path, atol=1e-6)
    with pytest.raises(ValueError, match="native=True: 'rosen_py' is a Python function"):
        landscape.trajectory(fn, "bfgs", native=True)


def test_first_order_trajectories_count_one_evaluation_per_step():
    t = landscape.trajectory("rosenbrock", "adam", steps=7)
    assert not t.second_order and t.message == ""
    np.testing.assert_array_equal(t.evaluations, np.arange(1, 9))


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0.1}, "lr: bfgs chooses its steps by line search or trust region; leave lr=None"),
    ({"noise": 0.1}, "noise: bfgs needs exact gradients"),
    ({"schedule": lambda t: 1.0}, "schedule: bfgs has no learning rate to schedule"),
    ({"maxiter": 5}, "maxiter: a path's iterations are its steps; pass steps=5 instead"),
    ({"history_size": 3}, "options: bfgs has no option 'history_size'"),
    ({"gtol": -1.0}, r"options\['gtol'\]: expected a finite number >= 0"),
    ({"x0": [np.nan, 0.0]}, "x0: must be finite"),
    ({"steps": -1}, "steps: must be >= 0"),
])
def test_bad_arguments_of_a_second_order_path(kwargs, message):
    with pytest.raises(ValueError, match=message):
        landscape.trajectory("rosenbrock", "bfgs", **kwargs)


def test_unknown_name_lists_both_first_and_second_order_names():
    with pytest.raises(ValueError) as e:
        landscape.trajectory("rosenbrock", "newtonian")
    text = str(e.value)
    assert text.startswith("optimizer: unknown 'newtonian'")
    assert f"first-order optimizer ({', '.join(REGISTRY)})" in text
    assert f"second-order method ({', '.join(METHODS)})" in text


def test_trajectories_mix_first_and_second_order():
    runs = landscape.trajectories("himmelblau", ["sgd", "BFGS", "cg"], steps=200)
    assert list(runs) == ["sgd", "bfgs", "cg"]
    assert len(runs["sgd"].path) == 201 and len(runs["bfgs"].path) < 201


# ------------------------------------------------------------------------------------------------ figures
def _lines(figure, prefix):
    return {line.get_gid()[len(prefix):]: line for ax in figure.axes for line in ax.get_lines()
            if (line.get_gid() or "").startswith(prefix)}


def test_contour_draws_second_order_iterates_as_markers_and_names_rates():
    fn = landscape.get("rosenbrock")
    runs = landscape.trajectories(fn, ["sgd", "bfgs"], steps=300)
    figure = plots.contour(fn, runs, resolution=40, dpi=40)
    lines = _lines(figure, "path:")
    assert lines["bfgs"].get_marker() == "o" and lines["bfgs"].get_linewidth() < 1.5
    assert lines["sgd"].get_marker() in ("None", "", None)
    np.testing.assert_array_equal(lines["bfgs"].get_xdata(), runs["bfgs"].path[:, 0])
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert f"sgd lr={runs['sgd'].lr:g}" in labels
    assert f"bfgs ({len(runs['bfgs'].path) - 1} iterations)" in labels
    # Only first-order runs: each still names its rate (two figures of the same optimizers compare).
    alone = plots.contour(fn, {"sgd": runs["sgd"]}, resolution=40, dpi=40)
    assert f"sgd lr={runs['sgd'].lr:g}" in alone.axes[0].get_legend_handles_labels()[1]


def test_evaluations_figure_renders_loss_against_evaluations(tmp_path):
    fn = landscape.get("rosenbrock")
    runs = landscape.trajectories(fn, ["adam", *METHODS], steps=300)
    out = tmp_path / "evaluations.png"
    figure = plots.evaluations_vs_loss(fn, runs, save=out, dpi=50)
    assert image(out).shape[2] in (3, 4)
    ax = figure.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlabel().startswith("function evaluations")
    lines = _lines(figure, "evaluations:")
    assert set(lines) == set(runs)
    for name, run in runs.items():
        np.testing.assert_array_equal(lines[name].get_xdata(), run.evaluations)
        np.testing.assert_allclose(lines[name].get_ydata(), np.maximum(run.losses, np.finfo(float).eps))
    np.testing.assert_array_equal(lines["adam"].get_xdata(), np.arange(1, 302))
    with pytest.raises(ValueError, match="saddle has no known minimum"):
        plots.evaluations_vs_loss(landscape.get("saddle"), landscape.trajectories("saddle", ["bfgs"], steps=5))


def test_evaluations_of_checks_its_input():
    t = landscape.trajectory("rosenbrock", "bfgs")
    t.evaluations = t.evaluations[::-1].copy()
    with pytest.raises(ValueError, match="evaluations: must not decrease"):
        plots.evaluations_vs_loss(landscape.get("rosenbrock"), t)
    t.evaluations = t.evaluations[:3]
    with pytest.raises(ValueError, match=r"evaluations: expected shape \(\d+,\) to match the path"):
        plots.evaluations_vs_loss(landscape.get("rosenbrock"), t)


def test_second_order_study_writes_the_readme_figures(tmp_path):
    result = studies.second_order_study("rosenbrock", first_order=["sgd", "adam"], steps=100, out_dir=tmp_path,
                                        dpi=40)
    assert result.files == [tmp_path / "paths_rosenbrock.png", tmp_path / "evaluations_rosenbrock.png"]
    for path in result.files:
        assert image(path).shape[0] > 100
    assert set(METHODS) <= set(result.trajectories)
    assert all(result.trajectories[m].second_order for m in METHODS)


# ------------------------------------------------------------------------------------------------ CLI
def exit_status(capsys, argv):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    return e.value.code, capsys.readouterr().err


def test_cli_draws_second_order_paths_beside_first_order(tmp_path, capsys):
    out = tmp_path / "paths.png"
    assert cli.main(["landscape", "--optimizers", "sgd,adam,bfgs,lbfgs,cg", "--steps", "50", "--dpi", "40",
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert out.exists() and (tmp_path / "paths_loss.png").exists()
    bfgs = landscape.trajectory("rosenbrock", "bfgs", steps=50)
    assert (f"bfgs: {len(bfgs.path) - 1} iterations, {bfgs.evaluations[-1]} evaluations, "
            f"final f {bfgs.losses[-1]:.4g}") in printed
    assert f"sgd: lr {landscape.default_lr('rosenbrock', 'sgd'):<8g}" in printed
    assert image(out).shape[0] > 100


def test_cli_evaluations_figure(tmp_path, capsys):
    out = tmp_path / "ev.png"
    assert cli.main(["landscape", "--figure", "evaluations", "--function", "himmelblau", "--steps", "40",
                     "--dpi", "40", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in [*studies.LANDSCAPE_OPTIMIZERS, *METHODS]:
        assert f"{name}:" in printed
    assert image(out).shape[0] > 100


def test_cli_help_lists_second_order_methods(capsys):
    with pytest.raises(SystemExit):
        cli.main(["landscape", "--help"])
    help_text = "".join(capsys.readouterr().out.split())  # argparse wraps lines, also at hyphens
    assert f"second-order({','.join(METHODS)};" in help_text


@pytest.mark.parametrize("flags, message", [
    (["--optimizers", "sgd,newtonian"], "unknown optimizer 'newtonian' (choose first-order optimizers from sgd"),
    (["--optimizers", "sgd,bfgs,bfgs"], "an optimizer is named twice"),
    (["--figure", "momentum", "--optimizers", "sgd,bfgs"], "bfgs is a second-order method, not accepted here"),
    (["--optimizers", "sgd,bfgs", "--noise", "0.1"], "noise: bfgs needs exact gradients"),
    (["--figure", "evaluations", "--noise", "0.1"], "--noise does not apply to --figure evaluations"),
    (["--figure", "evaluations", "--function", "saddle"], "saddle has no known minimum"),
])
def test_cli_bad_second_order_flags_exit_2(tmp_path, monkeypatch, capsys, flags, message):
    monkeypatch.chdir(tmp_path)
    code, err = exit_status(capsys, ["landscape", "--steps", "10", "--dpi", "30", *flags])
    assert code == 2 and message in err and err.count("fastopt landscape: error:") == 1


def test_methods_a_function_cannot_serve_are_left_out_of_its_list():
    assert landscape.second_order_methods(landscape.get("himmelblau")) == METHODS
    assert studies.default_evaluation_optimizers("himmelblau") == [*studies.LANDSCAPE_OPTIMIZERS, *METHODS]
    # Levenberg-Marquardt needs residuals, which six_hump_camel does not have.
    assert studies.default_evaluation_optimizers("six_hump_camel") == [*studies.LANDSCAPE_OPTIMIZERS,
                                                                       *MINIMIZE_METHODS]


def test_cli_draws_lm_and_refuses_it_without_residuals(tmp_path, monkeypatch, capsys):
    out = tmp_path / "lm.png"
    assert cli.main(["landscape", "--function", "himmelblau", "--optimizers", "sgd,newton,lm", "--steps", "50",
                     "--dpi", "40", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    lm = landscape.trajectory("himmelblau", "lm", steps=50)
    assert (f"lm: {len(lm.path) - 1} iterations, {lm.evaluations[-1]} evaluations, "
            f"final f {lm.losses[-1]:.4g}") in printed
    assert image(out).shape[0] > 100
    monkeypatch.chdir(tmp_path)
    code, err = exit_status(capsys, ["landscape", "--function", "six_hump_camel", "--optimizers", "sgd,lm",
                                     "--steps", "10", "--dpi", "30"])
    assert code == 2 and "lm: 'six_hump_camel' is not a sum of squares" in err
