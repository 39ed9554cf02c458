"""fastopt.least_squares (Levenberg-Marquardt) against scipy.optimize.least_squares(method="lm"), a NumPy
float64 transcription of Madsen, Nielsen & Tingleff's Algorithm 3.16, and dense Gauss-Newton."""
import numpy as np
import pytest
import scipy.optimize as so

import fastopt
from fastopt import landscape


def rosenbrock_residuals(x):
    """Chained n-D Rosenbrock as residuals: (10 (x_i+1 - x_i^2), 1 - x_i) for each i < n - 1."""
    r = np.empty(2 * (len(x) - 1))
    r[0::2], r[1::2] = 10 * (x[1:] - x[:-1] ** 2), 1 - x[:-1]
    return r


def rosenbrock_jacobian(x):
    n = len(x)
    jac = np.zeros((2 * (n - 1), n))
    i = np.arange(n - 1)
    jac[2 * i, i], jac[2 * i, i + 1], jac[2 * i + 1, i] = -20 * x[:-1], 10, -1
    return jac


def quadratic(condition, dim=10):
    """0.5 x.diag(lambda) x as residuals sqrt(lambda) (x - 1) (minimum at 1, cost 0)."""
    root = np.sqrt(np.logspace(0, np.log10(condition), dim))
    return (lambda x: root * (x - 1)), (lambda x: np.diag(root)), np.full(dim, -1.5), np.ones(dim)


BEALE = landscape.get("beale")
PROBLEMS = {
    "rosenbrock-2": (rosenbrock_residuals, rosenbrock_jacobian, np.array([-1.2, 1.0]), np.ones(2)),
    "rosenbrock-10": (rosenbrock_residuals, rosenbrock_jacobian, np.tile([-1.2, 1.0], 5), np.ones(10)),
    "quadratic-1e3": quadratic(1e3),
    "quadratic-1e6": quadratic(1e6),
    "beale": (BEALE.residuals, BEALE.jacobian, np.array([1.0, 1.0]), np.array([3.0, 0.5])),
}


@pytest.mark.parametrize("jac", ["analytic", "2-point"])
@pytest.mark.parametrize("name", PROBLEMS)
def test_same_minimum_as_scipy(name, jac):
    fun, jacobian, x0, minimum = PROBLEMS[name]
    given = jacobian if jac == "analytic" else "2-point"
    ref = so.least_squares(fun, x0, jac=given, method="lm", xtol=1e-12, ftol=1e-12, gtol=1e-12)
    res = fastopt.least_squares(fun, x0, jac=given, xtol=1e-12, ftol=1e-12, gtol=1e-10)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.x, minimum, atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.fun, fun(res.x), rtol=1e-12, atol=1e-15)
    assert res.cost == pytest.approx(0.5 * res.fun @ res.fun, abs=1e-30)
    np.testing.assert_allclose(res.grad, res.jac.T @ res.fun, atol=1e-14)


def lm_reference(fun, jac, x, damping, steps):
    """Algorithm 3.16 of Madsen, Nielsen & Tingleff (2004) in NumPy float64: the iterates, rejected
    steps repeating x."""
    r, j = fun(x), jac(x)
    a, g = j.T @ j, j.T @ r
    mu, nu, path = damping * a.diagonal().max(), 2.0, [x]
    for _ in range(steps):
        h = np.linalg.solve(a + mu * np.eye(len(x)), -g)
        r_new = fun(x + h)
        rho = (0.5 * r @ r - 0.5 * r_new @ r_new) / (0.5 * h @ (mu * h - g))
        if rho > 0:
            x, r = x + h, r_new
            j = jac(x)
            a, g = j.T @ j, j.T @ r
            mu, nu = mu * max(1 / 3, 1 - (2 * rho - 1) ** 3), 2.0
        else:
            mu, nu = mu * nu, 2 * nu
        path.append(x)
    return np.array(path)


@pytest.mark.parametrize("damping", [1e-6, 1e-3, 1.0])
@pytest.mark.parametrize("name", ["rosenbrock-2", "rosenbrock-10", "beale"])
def test_iterates_equal_the_numpy_algorithm(name, damping):
    fun, jacobian, x0, _ = PROBLEMS[name]
    res = fastopt.least_squares(fun, x0, jac=jacobian, damping=damping, gtol=1e-10, path=True)
    steps = len(res.path) - 1
    assert steps >= 5
    expected = lm_reference(fun, jacobian, x0, damping, steps)
    np.testing.assert_allclose(res.path, expected, atol=1e-9, rtol=1e-9)
    rejected = np.all(np.diff(res.path, axis=0) == 0, axis=1)
    if damping == 1e-6 and name == "beale":
        assert rejected.any()  # the mu-increase branch is exercised


@pytest.mark.parametrize("name", ["rosenbrock-2", "rosenbrock-10", "beale"])
def test_zero_damping_is_gauss_newton(name):
    fun, jacobian, x0, _ = PROBLEMS[name]
    if name == "beale":
        x0 = np.array([2.0, 0.8])  # at y = 1 Beale's J^T J is singular
    j, r = jacobian(x0), fun(x0)
    gauss_newton = x0 - np.linalg.solve(j.T @ j, j.T @ r)
    res = fastopt.least_squares(fun, x0, jac=jacobian, damping=0.0, adaptive=False, path=True)
    np.testing.assert_allclose(res.path[1], gauss_newton, rtol=1e-12, atol=1e-12)
    # A fixed damping mu_0 = damping max diag(J^T J) gives the damped step.
    mu = 0.1 * (j.T @ j).diagonal().max()
    damped = x0 - np.linalg.solve(j.T @ j + mu * np.eye(len(x0)), j.T @ r)
    res = fastopt.least_squares(fun, x0, jac=jacobian, damping=0.1, adaptive=False, path=True)
    np.testing.assert_allclose(res.path[1], damped, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,dim,x0", [("rosenbrock", 2, [-1.2, 1.0]), ("rosenbrock", 6, None),
                                         ("beale", 2, [1.0, 1.0]), ("booth", 2, None), ("himmelblau", 2, None)])
def test_landscape_functions_run_natively(name, dim, x0):
    f = landscape.get(name, dim=dim)
    x0 = np.array(f.start if x0 is None else x0)
    native = fastopt.least_squares(f, x0, path=True)
    python = fastopt.least_squares(f.residuals, x0, jac=f.jacobian, path=True)
    assert native.success, native.message
    np.testing.assert_allclose(native.path, python.path, rtol=0, atol=0)
    assert native.nfev == python.nfev and native.nit == python.nit
    assert native.cost == pytest.approx(f.value(native.x) / 2, abs=1e-20)
    assert min(np.abs(native.x - np.array(m)).max() for m in f.minima) < 1e-6
    # The raw binding gives the path the landscape drawings use.
    s = fastopt._core.curvature.LeastSquaresSettings()
    raw = fastopt._core.curvature.least_squares(f._fn, x0, s, None, True)
    np.testing.assert_array_equal(raw["path"], native.path)


@pytest.mark.parametrize("name,dim", [("rosenbrock", 2), ("rosenbrock", 5), ("beale", 2), ("booth", 2),
                                      ("himmelblau", 2)])
def test_residuals_and_jacobian_of_the_landscape(name, dim):
    f = landscape.get(name, dim=dim)
    rng = np.random.default_rng(1)
    for _ in range(3):
        x = rng.uniform(-2, 2, dim)
        r = f.residuals(x)
        assert r @ r == pytest.approx(f.value(x), rel=1e-14)
        h = 1e-6
        fd = np.stack([(f.residuals(x + h * e) - f.residuals(x - h * e)) / (2 * h) for e in np.eye(dim)], axis=1)
        np.testing.assert_allclose(f.jacobian(x), fd, rtol=1e-7, atol=1e-7)


def test_functions_without_residuals_are_refused():
    f = landscape.get("saddle")
    assert not f.has_residuals and landscape.get("beale").has_residuals
    with pytest.raises(ValueError, match="residuals: saddle is not a sum of squares"):
        f.residuals([0.0, 0.0])
    with pytest.raises(ValueError, match="fun: saddle is not a sum of squares"):
        fastopt.least_squares(f, [1.0, 1.0])


def test_forward_differences_count_in_nfev():
    calls = []

    def fun(x):
        calls.append(1)
        return rosenbrock_residuals(x)

    res = fastopt.least_squares(fun, [-1.2, 1.0])
    assert res.success and res.nfev == len(calls) and res.nfev >= 3 * res.njev


def test_args_and_callback():
    seen = []

    def record(intermediate_result):
        seen.append(intermediate_result.cost)

    res = fastopt.least_squares(lambda x, c: x - c, [0.0, 0.0], jac=lambda x, c: np.eye(2),
                                args=(np.array([1.0, 2.0]),), callback=record)
    np.testing.assert_allclose(res.x, [1, 2], atol=1e-12)
    assert seen and seen[-1] == res.cost

    def stop(xk):
        raise StopIteration

    res = fastopt.least_squares(rosenbrock_residuals, [-1.2, 1.0], jac=rosenbrock_jacobian, callback=stop)
    assert res.status == 6 and res.nit == 1


# Bad input.

def test_nan_residuals_stop_with_a_clear_status():
    x0 = np.array([-1.2, 1.0])

    def fun(x):
        return rosenbrock_residuals(x) if np.array_equal(x, x0) else np.full(2, np.nan)

    res = fastopt.least_squares(fun, x0, jac=rosenbrock_jacobian)
    assert res.status == 3 and not res.success and "NaN" in res.message
    np.testing.assert_array_equal(res.x, x0)
    res = fastopt.least_squares(fun, x0, jac=rosenbrock_jacobian, damping=0.0, adaptive=False)
    assert res.status == 3
    res = fastopt.least_squares(lambda x: np.full(2, np.nan), x0, jac=rosenbrock_jacobian)
    assert res.status == 3 and res.nit == 0


def test_singular_gauss_newton_stops():
    def one_equation(x):
        return np.array([x[0] + x[1] - 1.0])

    def its_jacobian(x):
        return np.array([[1.0, 1.0]])

    res = fastopt.least_squares(one_equation, [0.0, 0.0], jac=its_jacobian, damping=0.0, adaptive=False)
    assert res.status == 2 and "singular" in res.message
    res = fastopt.least_squares(one_equation, [0.0, 0.0], jac=its_jacobian)
    assert res.success and res.x.sum() == pytest.approx(1.0)


def test_max_nfev_stops():
    res = fastopt.least_squares(rosenbrock_residuals, [-1.2, 1.0], jac=rosenbrock_jacobian, max_nfev=4)
    assert res.status == 5 and res.nfev == 4


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(fun=lambda x: np.ones((2, 1))), ValueError, r"fun: must return a non-empty 1-D array"),
    (dict(jac=lambda x: np.ones((3, 2))), ValueError, r"jac: returned shape \(3, 2\), expected \(2, 2\)"),
    (dict(method="trf"), ValueError, "method: least_squares has only 'lm'"),
    (dict(damping=0.0), ValueError, "damping: must be finite and > 0"),
    (dict(damping=-1.0, adaptive=False), ValueError, "damping:"),
    (dict(xtol=-1.0), ValueError, "xtol: must be a finite number >= 0"),
    (dict(gtol="small"), TypeError, "gtol: expected a number"),
    (dict(max_nfev=0), ValueError, "max_nfev: expected an integer >= 1"),
    (dict(x0=[np.nan, 1.0]), ValueError, "x0: must be finite"),
    (dict(adaptive=1), TypeError, "adaptive: expected a bool"),
    (dict(jac="3-point"), TypeError, "jac: expected a callable"),
])
def test_bad_input_is_named(kwargs, error, match):
    args = dict(fun=rosenbrock_residuals, x0=[-1.2, 1.0], jac=rosenbrock_jacobian)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        fastopt.least_squares(**args)


def test_fun_returning_a_different_length_later_is_named():
    def fun(x):
        return rosenbrock_residuals(x) if x[0] == -1.2 else np.ones(3)

    with pytest.raises(ValueError, match=r"fun: returned shape \(3,\), expected \(2,\)"):
        fastopt.least_squares(fun, [-1.2, 1.0], jac=rosenbrock_jacobian)


def test_exports():
    assert fastopt.least_squares is fastopt.curvature.least_squares


def test_minimize_with_lm_runs_levenberg_marquardt_on_a_landscape_sum_of_squares():
    fn = fastopt.landscape.get("rosenbrock")
    direct = fastopt.least_squares(fn, [-1.2, 1.0], path=True)
    res = fastopt.minimize(fn, [-1.2, 1.0], method="lm", path=True)
    np.testing.assert_array_equal(res.x, direct.x)
    assert res.fun == fn.value(res.x) and res.method == "lm" and res.success
    np.testing.assert_allclose(res.jac, fn.grad(res.x), rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(res.path, direct.path)
    np.testing.assert_allclose(res.path_fun, [fn.value(p) for p in res.path], rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="method: 'lm' minimises a sum of squares"):
        fastopt.minimize(lambda x: float(x @ x), [1.0, 2.0], method="lm")
    with pytest.raises(ValueError, match="method: 'lm' minimises a sum of squares"):
        fastopt.minimize(fastopt.landscape.get("six_hump_camel"), [0.5, 0.5], method="lm")
    with pytest.raises(ValueError, match="options: lm has no option 'maxiter'"):
        fastopt.minimize(fn, [-1.2, 1.0], method="lm", options={"maxiter": 5})
