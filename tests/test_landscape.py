"""fastopt.landscape: test functions against independent NumPy formulas and finite differences;
trajectories against closed forms, the Python optimizer API and torch.optim."""
import math

import numpy as np
import pytest

import fastopt
from fastopt import landscape
from fastopt.optim.matrix_spec import MatrixSpec

TWO_PI = 2 * np.pi


def _quadratic(x, condition=10.0):
    n = len(x)
    lam = condition ** (np.arange(n) / (n - 1)) if n > 1 else np.ones(1)
    return 0.5 * np.sum(lam * x**2)


# Independent NumPy float64 formulas (Surjanovic & Bingham's library of test functions).
REFERENCE = {
    "rosenbrock": lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
    "beale": lambda x: (1.5 - x[0] + x[0] * x[1]) ** 2 + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2
    + (2.625 - x[0] + x[0] * x[1] ** 3) ** 2,
    "himmelblau": lambda x: (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2,
    "rastrigin": lambda x: 10 * len(x) + np.sum(x**2 - 10 * np.cos(TWO_PI * x)),
    "ackley": lambda x: -20 * np.exp(-0.2 * np.sqrt(0.5 * np.sum(x**2))) - np.exp(0.5 * np.sum(np.cos(TWO_PI * x)))
    + np.e + 20,
    "booth": lambda x: (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2,
    "goldstein_price": lambda x: (1 + (x[0] + x[1] + 1) ** 2 * (19 - 14 * x[0] + 3 * x[0] ** 2 - 14 * x[1]
                                                                  + 6 * x[0] * x[1] + 3 * x[1] ** 2))
    * (30 + (2 * x[0] - 3 * x[1]) ** 2 * (18 - 32 * x[0] + 12 * x[0] ** 2 + 48 * x[1] - 36 * x[0] * x[1]
                                          + 27 * x[1] ** 2)),
    "six_hump_camel": lambda x: (4 - 2.1 * x[0] ** 2 + x[0] ** 4 / 3) * x[0] ** 2 + x[0] * x[1]
    + (-4 + 4 * x[1] ** 2) * x[1] ** 2,
    "styblinski_tang": lambda x: 0.5 * np.sum(x**4 - 16 * x**2 + 5 * x),
    "saddle": lambda x: x[0] ** 2 - x[1] ** 2,
    "monkey_saddle": lambda x: x[0] ** 3 - 3 * x[0] * x[1] ** 2,
    "quadratic": _quadratic,
    "bowl": lambda x: x[0] ** 2 + x[1] ** 2,
    "extended_rosenbrock": lambda x: np.sum(100 * (x[1::2] - x[0::2] ** 2) ** 2 + (1 - x[0::2]) ** 2),
}

# Every function in 2-D, plus the n-dimensional ones in higher dimensions.
CASES = [(name, {}) for name in REFERENCE] + [
    ("rosenbrock", {"dim": 5}), ("rastrigin", {"dim": 3}), ("styblinski_tang", {"dim": 4}),
    ("quadratic", {"dim": 4, "condition": 100.0}), ("extended_rosenbrock", {"dim": 6})]
CASE_IDS = [name + "".join(f"-{k}{v:g}" for k, v in kw.items()) for name, kw in CASES]


def sample_points(fn, count=6, seed=0):
    """Points spread over the function's plot domain (every coordinate beyond the first in the y range)."""
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = fn.domain
    pts = rng.uniform(y0, y1, size=(count, fn.dim))
    pts[:, 0] = rng.uniform(x0, x1, size=count)
    return pts


def central_diff(f, x, h):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))])


def test_functions_lists_every_builtin():
    assert landscape.functions() == list(REFERENCE)


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_value_matches_numpy_reference(name, kw):
    fn = landscape.get(name, **kw)
    ref = (lambda x: _quadratic(x, kw["condition"])) if "condition" in kw else REFERENCE[name]
    for x in sample_points(fn):
        assert fn.value(x) == pytest.approx(ref(x), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_gradient_and_hessian_match_finite_differences(name, kw):
    fn = landscape.get(name, **kw)
    for x in sample_points(fn, seed=1):
        g, H = fn.grad(x), fn.hessian(x)
        scale = max(1.0, np.abs(g).max())
        np.testing.assert_allclose(g, central_diff(fn.value, x, 1e-6), rtol=1e-6, atol=1e-6 * scale)
        fd_hessian = np.stack([(fn.grad(x + 1e-6 * e) - fn.grad(x - 1e-6 * e)) / 2e-6 for e in np.eye(fn.dim)], axis=1)
        np.testing.assert_allclose(H, fd_hessian, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(H).max()))
        np.testing.assert_array_equal(H, H.T)


@pytest.mark.parametrize("name,kw", CASES, ids=CASE_IDS)
def test_minima_have_zero_gradient_and_the_documented_value(name, kw):
    fn = landscape.get(name, **kw)
    if name in ("saddle", "monkey_saddle"):  # unbounded below: no minima, by documentation
        assert fn.minima.shape == (0, 2) and fn.min_value is None
        return
    assert fn.minima.shape[0] >= 1 and fn.minima.shape[1] == fn.dim
    for m in fn.minima:
        np.testing.assert_allclose(fn.grad(m), 0.0, atol=1e-9)
        assert fn.value(m) == pytest.approx(fn.min_value, rel=1e-12, abs=1e-12)
        # A global minimum: no sampled point is lower.
        assert all(fn.value(x) >= fn.min_value for x in sample_points(fn, count=200, seed=2))


def test_literature_minimum_values_and_counts():
    assert landscape.get("himmelblau").minima.shape == (4, 2)
    assert landscape.get("six_hump_camel").min_value == pytest.approx(-1.0316, abs=1e-4)
    assert landscape.get("goldstein_price").min_value == 3.0
    assert landscape.get("styblinski_tang", dim=3).min_value == pytest.approx(-39.16617 * 3, abs=1e-4)


def test_ackley_origin_is_a_kink():
    fn = landscape.get("ackley")
    np.testing.assert_array_equal(fn.grad([0.0, 0.0]), [0.0, 0.0])  # the zero subgradient
    H = fn.hessian([0.0, 0.0])
    assert np.isinf(H[0, 0]) and np.isinf(H[1, 1]) and H[0, 1] == 0.0


@pytest.mark.parametrize("name", list(REFERENCE))
def test_grid_equals_pointwise_values(name):
    fn = landscape.get(name)
    (x0, x1), (y0, y1) = fn.domain
    X, Y = np.meshgrid(np.linspace(x0, x1, 7), np.linspace(y0, y1, 5))
    Z = fn.grid(X, Y)
    assert Z.shape == X.shape
    np.testing.assert_allclose(Z, [[fn.value([x, y]) for x, y in zip(rx, ry)] for rx, ry in zip(X, Y)], rtol=1e-15)


def test_large_grid_runs_in_parallel_chunks_and_matches():
    fn = landscape.get("rastrigin")
    X, Y = np.meshgrid(np.linspace(-5, 5, 150), np.linspace(-5, 5, 120))
    expected = 20 + X**2 - 10 * np.cos(TWO_PI * X) + Y**2 - 10 * np.cos(TWO_PI * Y)
    np.testing.assert_allclose(fn.grid(X, Y), expected, rtol=1e-12, atol=1e-12)


def test_gradient_descent_on_quadratic_matches_closed_form():
    fn = landscape.get("quadratic", condition=10.0)  # 0.5 (x^2 + 10 y^2)
    lr, steps = 0.05, 60
    t = landscape.trajectory(fn, "sgd", steps=steps, lr=lr)
    assert t.native and t.path.shape == (steps + 1, 2)
    expected = fn.start * (1 - lr * np.array([1.0, 10.0])) ** np.arange(steps + 1)[:, None]
    np.testing.assert_allclose(t.path, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t.losses, [_quadratic(p) for p in expected], rtol=1e-11)
    np.testing.assert_allclose(t.grad_norms, np.linalg.norm(expected * [1.0, 10.0], axis=1), rtol=1e-11)


def python_loop(fn, name, x0, steps, lr, noise=None, schedule=None, **hyper):
    """The reference path: the normal optimizer API, one step per gradient."""
    x = np.array(x0, dtype=np.float64)
    opt = fastopt.optim.create(name, [x], lr=lr, **hyper)
    path = [x.copy()]
    for t in range(steps):
        if schedule is not None:
            for group in opt.param_groups:
                group["lr"] = lr * schedule(t)
        g = fn.grad(x)
        opt.step([g if noise is None else g + noise[t]])
        path.append(x.copy())
    return np.array(path)


# Every registry optimizer, at its own Rosenbrock rate, plus a few hand-picked rates.
# K-FAC and the like train networks only; Muon and Adafactor step by calls of their own, not kernel calls (the
# landscapes run them through the Python loop).
@pytest.mark.parametrize("name,lr", [(name, e.landscape_lr["rosenbrock"]) for name, e in fastopt.optim.REGISTRY.items()
                                     if not e.takes_model and not isinstance(getattr(e.cls, "spec", None), MatrixSpec)]
                         + [("sgd", 1e-3), ("nesterov", 2e-4), ("adam", 0.02), ("nadam", 0.02)])
def test_native_path_equals_python_optimizer_loop(name, lr):
    fn = landscape.get("rosenbrock")
    t = landscape.trajectory(fn, name, steps=150, lr=lr)
    assert t.native and t.optimizer == name and t.lr == lr
    np.testing.assert_allclose(t.path, python_loop(fn, name, fn.start, 150, lr), rtol=1e-13, atol=1e-13)


def test_native_path_with_noise_and_schedule_equals_python_loop():
    fn = landscape.get("beale")
    schedule = lambda t: 0.5 ** (t // 40)  # noqa: E731  step decay
    t = landscape.trajectory(fn, "nadam", x0=[1.0, 1.0], steps=120, lr=0.01, noise=0.3, seed=7, schedule=schedule)
    noise = 0.3 * np.random.default_rng(7).standard_normal((120, 2))
    expected = python_loop(fn, "nadam", [1.0, 1.0], 120, 0.01, noise=noise, schedule=schedule)
    np.testing.assert_allclose(t.path, expected, rtol=1e-13, atol=1e-13)
    fallback = landscape.trajectory(fn, "nadam", x0=[1.0, 1.0], steps=120, lr=0.01, noise=0.3, seed=7,
                                    schedule=schedule, native=False)
    assert not fallback.native
    np.testing.assert_allclose(fallback.path, t.path, rtol=1e-13, atol=1e-13)


def test_ranger_equals_lookahead_over_radam_and_hyperparameter_overrides_apply():
    fn = landscape.get("himmelblau")
    ranger = landscape.trajectory(fn, "ranger", steps=100, lr=0.01, k=4, alpha=0.7)
    by_class = landscape.trajectory(fn, fastopt.Ranger, steps=100, lr=0.01, k=4, alpha=0.7)
    np.testing.assert_array_equal(ranger.path, by_class.path)
    assert by_class.optimizer == "ranger"
    plain = landscape.trajectory(fn, "ranger", steps=100, lr=0.01)
    assert not np.allclose(plain.path, ranger.path)


def test_trajectory_is_reproducible_from_its_seed_and_noise_changes_it():
    a = landscape.trajectory("rosenbrock", "adam", steps=200, noise=0.5, seed=3)
    b = landscape.trajectory("rosenbrock", "adam", steps=200, noise=0.5, seed=3)
    c = landscape.trajectory("rosenbrock", "adam", steps=200, noise=0.5, seed=4)
    clean = landscape.trajectory("rosenbrock", "adam", steps=200)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.allclose(a.path, c.path) and not np.allclose(a.path, clean.path)
    # Losses and gradient norms are the true ones at the noisy path's points.
    fn = landscape.get("rosenbrock")
    np.testing.assert_allclose(a.losses, [fn.value(p) for p in a.path], rtol=1e-14)
    np.testing.assert_allclose(a.grad_norms, [np.linalg.norm(fn.grad(p)) for p in a.path], rtol=1e-14)


def test_native_adam_matches_torch():
    torch = pytest.importorskip("torch")
    fn = landscape.get("six_hump_camel")
    t = landscape.trajectory(fn, "adam", steps=200, lr=0.05)
    p = torch.tensor(fn.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.05)
    path = [p.detach().numpy().copy()]
    for _ in range(200):
        p.grad = torch.from_numpy(fn.grad(p.detach().numpy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    np.testing.assert_allclose(t.path, np.array(path), rtol=1e-10, atol=1e-12)


def test_default_learning_rates_make_progress_in_view():
    for name, row in landscape.DEFAULT_LR.items():
        fn = landscape.get(name)
        (x0, x1), (y0, y1) = fn.domain
        for optimizer, lr in row.items():
            t = landscape.trajectory(fn, optimizer)
            assert t.lr == lr, (name, optimizer)
            assert np.all(np.isfinite(t.path)) and t.losses[-1] < t.losses[0], (name, optimizer)
            assert np.all((t.path[:, 0] >= x0 - (x1 - x0)) & (t.path[:, 0] <= x1 + (x1 - x0))), (name, optimizer)
    assert landscape.trajectory("rosenbrock", "adam").lr == landscape.DEFAULT_LR["rosenbrock"]["adam"]


def test_custom_function_steps_in_python_and_matches_builtin():
    ref = landscape.get("rosenbrock")
    fn = landscape.custom(ref.value, ref.grad, domain=ref.domain, minima=[[1.0, 1.0]], min_value=0.0,
                          name="my_rosenbrock")
    assert not fn.native and fn.minima.shape == (1, 2)
    np.testing.assert_allclose(fn.hessian([0.3, -0.2]), ref.hessian([0.3, -0.2]), rtol=1e-6)
    X, Y = np.meshgrid(np.linspace(-2, 2, 4), np.linspace(-1, 3, 3))
    np.testing.assert_allclose(fn.grid(X, Y), ref.grid(X, Y), rtol=1e-15)
    mine = landscape.trajectory(fn, "momentum", x0=ref.start, steps=100, lr=1e-4)
    builtin = landscape.trajectory(ref, "momentum", steps=100, lr=1e-4)
    assert not mine.native and builtin.native
    np.testing.assert_allclose(mine.path, builtin.path, rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match="native=True"):
        landscape.trajectory(fn, "adam", steps=3, native=True)


def test_trajectories_by_name_and_zero_steps():
    out = landscape.trajectories("booth", ["sgd", "adam"], steps=50)
    assert list(out) == ["sgd", "adam"] and out["adam"].path.shape == (51, 2)
    t = landscape.trajectory("booth", "adam", steps=0)
    assert t.path.shape == (1, 2) and t.losses.shape == (1,)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"unknown function 'rosenbrok'; choose from rosenbrock, beale"):
        landscape.get("rosenbrok")
    with pytest.raises(ValueError, match=r"x0: expected 2 coordinates for rosenbrock"):
        landscape.trajectory("rosenbrock", "adam", x0=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"steps: must be >= 0, got -1"):
        landscape.trajectory("rosenbrock", "adam", steps=-1)
    with pytest.raises(ValueError, match=r"optimizer: unknown 'adamm'; choose a first-order optimizer \(sgd"):
        landscape.trajectory("rosenbrock", "adamm")
    with pytest.raises(ValueError, match=r"noise: must be a finite number >= 0"):
        landscape.trajectory("rosenbrock", "adam", noise=-1.0)
    with pytest.raises(ValueError, match=r"dim: beale is defined only for dim=2, got 3"):
        landscape.get("beale", dim=3)
    with pytest.raises(ValueError, match=r"unknown parameter 'kappa' for quadratic \(it takes: condition\)"):
        landscape.get("quadratic", kappa=3)
    with pytest.raises(ValueError, match=r"condition: must be a finite number >= 1"):
        landscape.get("quadratic", condition=0.5)
    with pytest.raises(ValueError, match=r"x: expected shape \(3,\) for rastrigin \(dim=3\), got \(2,\)"):
        landscape.get("rastrigin", dim=3).grad([1.0, 2.0])
    with pytest.raises(ValueError, match=r"grid: rastrigin has dim=3"):
        landscape.get("rastrigin", dim=3).grid(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"grid: X has shape \(3,\) but Y has shape \(4,\)"):
        landscape.get("bowl").grid(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"schedule: must return finite multipliers >= 0"):
        landscape.trajectory("bowl", "sgd", steps=5, schedule=lambda t: -1.0)
    with pytest.raises(TypeError, match=r"optimizer: expected a name"):
        landscape.trajectory("bowl", 3)
    with pytest.raises(TypeError, match=r"steps: expected an int"):
        landscape.trajectory("bowl", "sgd", steps=2.5)
    assert math.isfinite(landscape.get("bowl").value([1.0, 2.0]))


# ---------------------------------------------------------------- large dimensions
@pytest.mark.parametrize("name", ["rosenbrock", "rastrigin", "styblinski_tang", "quadratic"])
def test_a_dense_hessian_above_the_limit_is_refused(name):
    # dim 46341: dim^2 overflows int32, and the indices wrote out of bounds.  The refusal comes before
    # any entry is written (the array the binding reserves is never touched).
    fn = landscape.get(name, dim=46341)
    with pytest.raises(ValueError, match=rf"hessian: {name} at dim=46341 has a 46341 x 46341 Hessian, 16\.0 GiB of "
                                         r"float64; dense Hessians are limited to 2\^28 entries \(2 GiB, dim <= 16384\)"):
        fn.hessian(np.zeros(46341))
    with pytest.raises(ValueError, match=r"hessian: rastrigin at dim=16385 .* 2\.0 GiB"):
        landscape.get("rastrigin", dim=16385).hessian(np.zeros(16385))


def test_a_huge_dim_works_for_value_and_grad_or_is_refused_with_the_bound():
    n = 10**7  # was refused with "needs dim >= 2"
    fn = landscape.get("rastrigin", dim=n)
    x = np.full(n, 0.5)
    assert fn.value(x) == pytest.approx(n * (0.25 + 20.0))
    np.testing.assert_allclose(fn.grad(x)[[0, -1]], 1.0, rtol=1e-12, atol=1e-9)
    del fn, x
    with pytest.raises(ValueError, match=r"dim: rastrigin needs 1 <= dim <= 16777216, got 1099511627776"):
        landscape.get("rastrigin", dim=2**40)
    with pytest.raises(ValueError, match=r"dim: rosenbrock needs 2 <= dim <= 16777216, got 1\b"):
        landscape.get("rosenbrock", dim=1)


def test_extended_rosenbrock_needs_an_even_dim_and_threads_agree(num_threads):
    with pytest.raises(ValueError, match=r"dim: extended_rosenbrock needs an even dim \(pairs\), got 7"):
        landscape.get("extended_rosenbrock", dim=7)
    # 2^17 coordinates: above the serial threshold, so the threaded pass runs; it must match NumPy.
    n = 1 << 17
    fn = landscape.get("extended_rosenbrock", dim=n)
    x = np.random.default_rng(3).uniform(-2, 2, n)
    want = REFERENCE["extended_rosenbrock"](x)
    for threads in (1, 2):
        num_threads(threads)
        assert fn.value(x) == pytest.approx(want, rel=1e-12)
        g = fn.grad(x)
        np.testing.assert_allclose(g[0::2], -400 * x[0::2] * (x[1::2] - x[0::2] ** 2) - 2 * (1 - x[0::2]), rtol=1e-12,
                                   atol=1e-10)
        np.testing.assert_allclose(g[1::2], 200 * (x[1::2] - x[0::2] ** 2), rtol=1e-12, atol=1e-10)
