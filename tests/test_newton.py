"""The Newton family (newton, saddle-free-newton, newton-cg, trust-ncg) against scipy.optimize and dense
NumPy computations, and the landscape functions' Hessian-vector products against finite differences."""
import numpy as np
import pytest
import scipy.optimize as so

import fastopt
from fastopt import landscape

METHODS = ["newton", "saddle-free-newton", "newton-cg", "trust-ncg"]
# The scipy method each is compared with (scipy has no modified or saddle-free Newton: its exact
# trust-region Newton reaches the same minimum).
SCIPY = {"newton": "trust-exact", "saddle-free-newton": "trust-exact", "newton-cg": "Newton-CG",
         "trust-ncg": "trust-ncg"}
SCIPY_OPTIONS = {"trust-exact": {"gtol": 1e-8}, "Newton-CG": {"xtol": 1e-14}, "trust-ncg": {"gtol": 1e-10}}


def problem(name, dim=2, **params):
    f = landscape.get(name, dim=dim, **params)
    return f, np.array(f.start)


PROBLEMS = {
    "rosenbrock-2": lambda: (landscape.get("rosenbrock"), np.array([-1.2, 1.0])),
    # scipy's n-D example start (from the alternating (-1.2, 1, ...) start Newton reaches the local
    # minimum near (-1, 1, ..., 1) and scipy's trust-exact the global one).
    "rosenbrock-10": lambda: (landscape.get("rosenbrock", dim=10), np.tile([1.3, 0.7, 0.8, 1.9, 1.2], 2)),
    "quadratic-1e3": lambda: problem("quadratic", dim=10, condition=1e3),
    "quadratic-1e6": lambda: problem("quadratic", dim=10, condition=1e6),
    "beale": lambda: (landscape.get("beale"), np.array([1.0, 1.0])),
}


def callables(f, method="newton"):
    """fun, jac and the curvature the method uses: hess for the dense ones, hessp for the others."""
    curvature = {"hess": f.hessian} if method in ("newton", "saddle-free-newton", "trust-exact") else {"hessp": f.hessp}
    return dict(fun=f.value, jac=f.grad, **curvature)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", PROBLEMS)
def test_same_minimum_as_scipy(method, name):
    f, x0 = PROBLEMS[name]()
    ref = so.minimize(x0=x0, method=SCIPY[method], options=SCIPY_OPTIONS[SCIPY[method]],
                      **callables(f, SCIPY[method]))
    assert ref.success, ref.message
    res = fastopt.minimize(x0=x0, method=method, options={"gtol": 1e-9}, **callables(f, method))
    assert res.success, res.message
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.x, f.minima[0], atol=1e-6, rtol=0)
    # The same problem as a built-in function runs natively and takes the same path.
    native = fastopt.minimize(f, x0, method=method, options={"gtol": 1e-9})
    np.testing.assert_allclose(native.x, res.x, atol=1e-12, rtol=0)
    assert native.nit == res.nit


def test_trust_ncg_takes_scipys_iterates():
    f, x0 = PROBLEMS["rosenbrock-2"]()
    xs, ys = [], []
    so.minimize(x0=x0, method="trust-ncg", options={"gtol": 1e-8}, callback=lambda xk: xs.append(xk.copy()),
                **callables(f, "trust-ncg"))
    fastopt.minimize(x0=x0, method="trust-ncg", options={"gtol": 1e-8}, callback=lambda xk: ys.append(xk.copy()),
                     **callables(f, "trust-ncg"))
    assert len(xs) == len(ys) > 10
    np.testing.assert_allclose(ys, xs, atol=1e-10, rtol=0)


@pytest.mark.parametrize("method", ["newton", "saddle-free-newton"])
@pytest.mark.parametrize("condition", [1e3, 1e6])
def test_newton_solves_a_quadratic_in_one_step(method, condition):
    f = landscape.get("quadratic", dim=20, condition=condition)
    res = fastopt.minimize(f, f.start, method=method, options={"gtol": 1e-9})
    assert res.nit == 1 and res.status == 0
    np.testing.assert_allclose(res.x, 0, atol=1e-12)


@pytest.mark.parametrize("condition", [1e3, 1e6])
def test_newton_cg_takes_scipys_iterates_on_a_quadratic(condition):
    # Every step is 1 on a quadratic (the CG iterate minimises f along itself), so the line searches
    # agree and the iterates are scipy's until rounding flips a CG truncation test (after 7-11 steps
    # here; then both still converge, by different CG lengths).
    f = landscape.get("quadratic", dim=20, condition=condition)
    xs, ys = [], []
    so.minimize(f.value, f.start, jac=f.grad, hessp=f.hessp, method="Newton-CG", options={"xtol": 1e-12},
                callback=lambda xk: xs.append(xk.copy()))
    fastopt.minimize(f.value, f.start, jac=f.grad, hessp=f.hessp, method="newton-cg", options={"gtol": 1e-9},
                     callback=lambda xk: ys.append(xk.copy()))
    k = 7
    assert len(xs) > k and len(ys) > k
    np.testing.assert_allclose(ys[:k], xs[:k], atol=1e-9, rtol=0)


def test_newton_cg_takes_the_newton_step_where_the_gradient_is_tiny():
    # Near Rosenbrock's minimum (Hessian eigenvalues 0.4 and 1000), with g = 1e-9 v_soft + 5e-10 v_stiff:
    # g.Hg = 2.5e-16 is below scipy's absolute zero-curvature bound 3 eps = 6.7e-16, under which the
    # inner CG returned no direction and the method fell back to -g, whose best step leaves the error
    # where it was (condition 2500).  The relative test (p.Hp <= 3 eps |p| |Hp|) keeps the CG step, here
    # the Newton step, which lands on the minimum.
    _, vectors = np.linalg.eigh(so.rosen_hess([1.0, 1.0]))
    x0 = 1.0 + 2.5e-9 * vectors[:, 0] + 5e-13 * vectors[:, 1]
    g = so.rosen_der(x0)
    assert g @ so.rosen_hess(x0) @ g < 3 * np.finfo(float).eps
    res = fastopt.minimize(so.rosen, x0, jac=so.rosen_der, hessp=so.rosen_hess_prod, method="newton-cg",
                           options={"maxiter": 1, "gtol": 0.0}, path=True)
    assert np.abs(res.path[1] - 1.0).max() <= 1e-3 * np.abs(x0 - 1.0).max()


def shifted_newton_direction(h, g, beta=1e-3):
    """Nocedal & Wright Algorithm 3.3 in NumPy: the tau that first gives a Cholesky factor, and d."""
    tau = 0.0 if h.diagonal().min() > 0 else beta - h.diagonal().min()
    while True:
        try:
            np.linalg.cholesky(h + tau * np.eye(len(g)))
            break
        except np.linalg.LinAlgError:
            tau = max(2 * tau, beta)
    return tau, -np.linalg.solve(h + tau * np.eye(len(g)), g)


A_INDEFINITE = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues -1 and 3, positive diagonal


def quartic(x):
    """0.5 x.A x + 0.25 |x|^4 with A indefinite: bounded below, indefinite Hessian near 0."""
    return 0.5 * x @ A_INDEFINITE @ x + 0.25 * (x @ x) ** 2


def quartic_grad(x):
    return A_INDEFINITE @ x + (x @ x) * x


def quartic_hess(x):
    return A_INDEFINITE + (x @ x) * np.eye(2) + 2 * np.outer(x, x)


@pytest.mark.parametrize("x0", [[0.1, -0.05], [0.3, 0.2], [-0.02, 0.01]])
def test_modified_newton_applies_the_shift(x0):
    x0 = np.array(x0)
    h = quartic_hess(x0)
    assert np.linalg.eigvalsh(h).min() < 0
    tau, d = shifted_newton_direction(h, quartic_grad(x0))
    assert tau > 1  # several doublings from beta
    step = fastopt.minimize(quartic, x0, jac=quartic_grad, hess=quartic_hess, method="newton",
                            options={"line_search": "none", "maxiter": 1}, path=True)
    np.testing.assert_allclose(step.path[1] - x0, d, rtol=1e-12, atol=1e-15)
    # With a line search, the shifted direction descends, down to the minimum along the negative
    # curvature (eigenvector (1, -1) of A).
    res = fastopt.minimize(quartic, x0, jac=quartic_grad, hess=quartic_hess, method="newton", options={"gtol": 1e-10},
                           path=True)
    assert res.success and np.all(np.diff(res.path_fun) < 0)
    np.testing.assert_allclose(abs(res.x), [np.sqrt(0.5)] * 2, atol=1e-8)


def test_modified_newton_shift_on_a_negative_diagonal():
    f = landscape.get("saddle")  # H = diag(2, -2): tau_0 = 2 + beta, which factors at once
    x0 = np.array([-1.8, 0.05])
    tau, d = shifted_newton_direction(f.hessian(x0), f.grad(x0))
    assert tau == pytest.approx(2.001)
    step = fastopt.minimize(f, x0, method="newton", options={"line_search": "none", "maxiter": 1}, path=True)
    np.testing.assert_allclose(step.path[1] - x0, d, rtol=1e-12)


def plain_newton(f, x, steps):
    for _ in range(steps):
        x = x - np.linalg.solve(f.hessian(x), f.grad(x))
    return x


@pytest.mark.parametrize("name,x0", [("saddle", [-1.8, 0.05]), ("monkey_saddle", [1.5, 0.2])])
def test_saddle_free_newton_leaves_the_saddle(name, x0):
    f, x0 = landscape.get(name), np.array(x0)
    attracted = plain_newton(f, x0, 30)
    assert np.linalg.norm(attracted) < 1e-6  # plain Newton converges to the saddle at the origin
    res = fastopt.minimize(f, x0, method="saddle-free-newton", options={"maxiter": 6}, path=True)
    distance = np.linalg.norm(res.path, axis=1)
    assert np.all(np.diff(res.path_fun) < 0)
    assert distance[-1] > 2 * distance[0] and res.path_fun[-1] < f.value(x0) - 1


def test_saddle_free_direction_is_newton_on_abs_h():
    f, x = landscape.get("monkey_saddle"), np.array([0.7, -0.4])
    w, v = np.linalg.eigh(f.hessian(x))
    d = -v @ ((v.T @ f.grad(x)) / np.maximum(abs(w), 1e-8))
    step = fastopt.minimize(f, x, method="saddle-free-newton", options={"line_search": "none", "maxiter": 1}, path=True)
    np.testing.assert_allclose(step.path[1] - x, d, rtol=1e-12)


def test_trust_ncg_steps_stay_in_the_radius():
    f, x0 = PROBLEMS["rosenbrock-2"]()
    res = fastopt.minimize(f, x0, method="trust-ncg", path=True,
                           options={"initial_trust_radius": 0.05, "max_trust_radius": 0.2, "gtol": 1e-8})
    assert res.success
    steps = np.linalg.norm(np.diff(res.path, axis=0), axis=1)
    assert steps[0] <= 0.05 * (1 + 1e-12)
    assert steps.max() <= 0.2 * (1 + 1e-12)
    assert steps.max() > 0.19  # the radius grew to its cap and was used


FUNCTIONS = landscape.functions()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_hessp_matches_finite_differences_of_the_gradient(name):
    rng = np.random.default_rng(0)
    for dim in (2, 7) if name in ("rosenbrock", "rastrigin", "styblinski_tang", "quadratic") else (2,):
        f = landscape.get(name, dim=dim)
        (x_lo, x_hi), _ = f.domain
        for _ in range(3):
            x, p = rng.uniform(x_lo, x_hi, dim) * 0.9, rng.standard_normal(dim)
            h = 1e-6 * max(1.0, np.abs(x).max())
            fd = (f.grad(x + h * p) - f.grad(x - h * p)) / (2 * h)
            hp = f.hessp(x, p)
            np.testing.assert_allclose(hp, fd, rtol=1e-5, atol=1e-5 * np.abs(fd).max())
            np.testing.assert_allclose(hp, f.hessian(x) @ p, rtol=1e-12, atol=1e-12 * np.abs(hp).max())


def test_hessp_runs_at_a_dimension_without_a_dense_hessian():
    f = landscape.get("rosenbrock", dim=100_000)
    res = fastopt.minimize(f, f.start, method="trust-ncg", options={"maxiter": 3})
    assert res.nit == 3 and res.fun < f.value(f.start)


# Bad input.

def nan_away_from(x0):
    def fun(x):
        return so.rosen(x) if np.array_equal(x, x0) else np.nan
    return fun


@pytest.mark.parametrize("method", METHODS)
def test_nan_from_fun_stops_with_a_clear_status(method):
    x0 = np.array([-1.2, 1.0])
    res = fastopt.minimize(nan_away_from(x0), x0, jac=so.rosen_der, hess=so.rosen_hess, method=method)
    assert res.status == 3 and not res.success and "NaN" in res.message
    np.testing.assert_array_equal(res.x, x0)
    assert res.nit < 100


@pytest.mark.parametrize("method", METHODS)
def test_nan_hessian_stops(method):
    x0 = np.array([-1.2, 1.0])
    res = fastopt.minimize(so.rosen, x0, jac=so.rosen_der, hess=lambda x: np.full((2, 2), np.nan), method=method)
    assert res.status == 3 and not res.success


@pytest.mark.parametrize("method", ["newton", "saddle-free-newton", "newton-cg", "trust-ncg"])
def test_wrong_hessian_shapes_are_named(method):
    x0 = np.array([-1.2, 1.0])
    with pytest.raises(ValueError, match=r"hess: returned shape \(3, 3\), expected \(2, 2\)"):
        fastopt.minimize(so.rosen, x0, jac=so.rosen_der, hess=lambda x: np.eye(3), method=method)
    if method in ("newton-cg", "trust-ncg"):
        with pytest.raises(ValueError, match=r"hessp: returned shape \(3,\), expected \(2,\)"):
            fastopt.minimize(so.rosen, x0, jac=so.rosen_der, hessp=lambda x, p: np.ones(3), method=method)


@pytest.mark.parametrize("method,missing", [("newton", "hess"), ("saddle-free-newton", "hess"),
                                            ("newton-cg", "hessp"), ("trust-ncg", "hessp")])
def test_methods_refuse_without_curvature(method, missing):
    with pytest.raises(ValueError, match=f"^{missing}: method '{method}' needs"):
        fastopt.minimize(so.rosen, [-1.2, 1.0], jac=so.rosen_der, method=method)


@pytest.mark.parametrize("method,options,match", [
    ("newton", {"history_size": 3}, "newton has no option 'history_size'"),
    ("trust-ncg", {"line_search": "armijo"}, "trust-ncg has no option 'line_search'"),
    ("trust-ncg", {"eta": 0.3}, r"options\['eta'\]: expected 0 <= eta < 0.25"),
    ("trust-ncg", {"initial_trust_radius": 0}, r"options\['initial_trust_radius'\]: expected a finite number > 0"),
    ("trust-ncg", {"initial_trust_radius": 5.0, "max_trust_radius": 2.0}, "initial_trust_radius must be below"),
    ("saddle-free-newton", {"damping": 0.0}, r"options\['damping'\]: expected a finite number > 0"),
    ("newton-cg", {"cg_maxiter": 2.5}, r"options\['cg_maxiter'\]: expected an integer >= 0"),
    ("newton", {"line_search": "wolfe"}, r"options\['line_search'\]: expected one of"),
])
def test_bad_options_are_named(method, options, match):
    with pytest.raises(ValueError, match=match):
        fastopt.minimize(so.rosen, [-1.2, 1.0], jac=so.rosen_der, hess=so.rosen_hess, method=method, options=options)


def test_methods_are_listed_with_their_defaults():
    assert set(METHODS) <= set(fastopt.curvature.methods())
    opts = fastopt.curvature.METHOD_OPTIONS
    assert opts["trust-ncg"]["eta"] == 0.15 and opts["trust-ncg"]["max_trust_radius"] == 1000.0
    assert opts["saddle-free-newton"]["damping"] == 1e-8 and opts["newton-cg"]["cg_maxiter"] == 0
