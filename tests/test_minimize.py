"""fastopt.minimize against scipy.optimize.minimize (same minima from the same starts), the line search's
conditions at every accepted step, BFGS's inverse Hessian on a quadratic, and the API's contract
(options, callbacks, paths, bad input)."""
import math

import numpy as np
import pytest
import scipy.optimize

import fastopt
from fastopt import _core
from fastopt.curvature import METHOD_OPTIONS
from fastopt.curvature.minimize import settings
from minimize_problems import SCIPY_METHOD, SCIPY_USES_HESSIAN, problems, quadratic, rosenbrock

PROBLEMS = {p.name: p for p in problems()}
# Tight enough that both sides reach the minimiser to well under 1e-6 (gradient tolerance, max-norm).
GTOL = 1e-9
# The native methods' needs: name -> (needs_hessian, needs_hessp).
NEEDS = {name: (hessian, hessp) for name, _, hessian, hessp in _core.curvature.methods()}
LINE_SEARCH_METHODS = [m for m, o in METHOD_OPTIONS.items() if o.get("line_search") in ("strong_wolfe", "armijo")]
# The line-search methods that need only the gradient (the API tests below give no Hessian; the Newton
# methods' own API tests are in test_newton.py).
GRADIENT_METHODS = [m for m in LINE_SEARCH_METHODS if not any(NEEDS[m])]


def fastopt_run(method, p, **kw):
    """fastopt.minimize on problem p, with the derivatives the method needs, tight tolerances."""
    options = {"maxiter": 20000} if "maxiter" in METHOD_OPTIONS[method] else {}
    if "ftol" in METHOD_OPTIONS[method]:
        options["ftol"] = 0.0  # stop on the gradient only, as scipy is told below
    options.update(kw.pop("options", {}))
    derivatives = dict(hess=p.hess, hessp=p.hessp) if any(NEEDS[method]) else {}
    return fastopt.minimize(p.value_grad, p.x0, jac=True, method=method, tol=kw.pop("tol", GTOL), options=options,
                            **derivatives, **kw)


def scipy_run(scipy_method, p):
    options = {"maxiter": 20000}
    if scipy_method == "Newton-CG":
        options["xtol"] = 1e-12
    else:
        options["gtol"] = GTOL
    if scipy_method == "L-BFGS-B":
        options["ftol"] = 0.0
    hessian = dict(hess=p.hess) if scipy_method in SCIPY_USES_HESSIAN else {}
    return scipy.optimize.minimize(p.value_grad, p.x0, jac=True, method=scipy_method, options=options, **hessian)


def test_every_method_has_a_scipy_counterpart():
    # A method added to fastopt.minimize must be added to SCIPY_METHOD (tests/minimize_problems.py), so
    # that the comparison below covers it.
    assert set(fastopt.curvature.methods()) <= set(SCIPY_METHOD)
    assert set(METHOD_OPTIONS) == set(fastopt.curvature.methods())


# From the alternating start, scipy's trust-exact and fastopt's (modified, or saddle-free) Newton both end
# in Rosenbrock's other local minimum near (-0.99, 1, ..., 1), f = 3.99: the comparison is still like for
# like, against scipy, but not against the global minimiser.
LOCAL_MINIMUM = {(m, f"rosenbrock-{n}d") for m in ("newton", "saddle-free-newton") for n in (12, 100)}


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("method", list(SCIPY_METHOD))
def test_same_minimum_as_scipy(method, problem):
    p = PROBLEMS[problem]
    scipy_method, _ = SCIPY_METHOD[method]
    ours, theirs = fastopt_run(method, p), scipy_run(scipy_method, p)
    # The reference itself must be right, or the comparison means nothing.
    if (method, problem) in LOCAL_MINIMUM:
        assert theirs.success and np.abs(theirs.jac).max() <= GTOL and theirs.fun > 3.98
    else:
        np.testing.assert_allclose(theirs.x, p.minimizer, rtol=0, atol=1e-6, err_msg=f"scipy {scipy_method}")
    assert ours.status in (0, 2, 4), ours.message  # 2: the line search met the precision of f
    np.testing.assert_allclose(ours.x, theirs.x, rtol=0, atol=1e-6)
    assert ours.fun == pytest.approx(theirs.fun, rel=1e-10, abs=1e-12)
    assert ours.fun == pytest.approx(p.fun(ours.x), rel=1e-15, abs=0)  # fun is the value at x
    np.testing.assert_array_equal(ours.jac, p.jac(ours.x))


def wolfe_violations(p, path, c1, c2, strong):
    """The iterations k at which the step s = x_{k+1} - x_k breaks sufficient decrease
    f_{k+1} <= f_k + c1 g_k.s, or (strong) the curvature condition |g_{k+1}.s| <= c2 |g_k.s|,
    recomputed from f and g at the recorded iterates (a few ulps of slack for rounding)."""
    armijo, curvature = [], []
    f, g = p.value_grad(path[0])
    for k in range(len(path) - 1):
        s = path[k + 1] - path[k]
        f_next, g_next = p.value_grad(path[k + 1])
        slope, slope_next = g @ s, g_next @ s
        assert slope < 0, f"step {k} is not a descent step"
        if not f_next <= f + c1 * slope + 8 * np.finfo(float).eps * abs(f):
            armijo.append(k)
        if strong and not abs(slope_next) <= c2 * abs(slope) * (1 + 1e-12):
            curvature.append(k)
        f, g = f_next, g_next
    return armijo, curvature


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("method", LINE_SEARCH_METHODS)
def test_wolfe_conditions_hold_at_every_accepted_step(method, problem):
    p, o = PROBLEMS[problem], METHOD_OPTIONS[method]
    res = fastopt_run(method, p, tol=o["gtol"], options={"ftol": o["ftol"]} if "ftol" in o else {}, path=True)
    assert res.success, res.message
    assert res.nit >= 1  # Newton solves the quadratics in one step
    armijo, curvature = wolfe_violations(p, res.path, o["c1"], o["c2"], strong=o["line_search"] == "strong_wolfe")
    assert armijo == [] and curvature == []


def test_strong_wolfe_holds_in_the_endgame_except_where_the_result_says():
    # Run to |g| <= 1e-9, where the line search meets the precision of f: a step may then satisfy
    # sufficient decrease but not the strong curvature condition; the result lists exactly those.
    for method in (m for m in LINE_SEARCH_METHODS if METHOD_OPTIONS[m]["line_search"] == "strong_wolfe"):
        o = METHOD_OPTIONS[method]
        for p in PROBLEMS.values():
            res = fastopt_run(method, p, path=True)
            armijo, curvature = wolfe_violations(p, res.path, o["c1"], o["c2"], True)
            assert armijo == [], (method, p.name)
            assert [k + 1 for k in curvature] == res.weak_steps, (method, p.name)


def test_bfgs_recovers_the_inverse_hessian_of_a_quadratic():
    # f = x'Ax/2 - b'x with a (nearly) exact line search (c2 = 1e-9): the BFGS update has the hereditary
    # property H_k y_j = s_j for j < k, so after n steps H = A^{-1} (the quadratic termination of the
    # Broyden family with exact line searches; Fletcher, Practical Methods of Optimization, ch. 3).
    n = 6
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(np.geomspace(1, 100, n)) @ q.T
    b = rng.standard_normal(n)

    def value_grad(x):
        return 0.5 * x @ a @ x - b @ x, a @ x - b

    s = settings("bfgs", {"c1": 1e-12, "c2": 1e-9, "gtol": 0.0, "maxiter": 1})
    state = _core.curvature.DescentState(s)
    x = np.zeros(n)
    f, g = value_grad(x)
    steps, changes = [], []
    for k in range(n):
        x_old, g_old = x.copy(), g.copy()
        f, status, message, nit, _ = state.run(value_grad, x, f, g, s, None)
        assert (status, nit) == (1, 1), message  # one iteration each call, never an early stop
        steps.append(x - x_old)
        changes.append(g - g_old)
        upper = state.export()[0]["H"].reshape(n, n)  # row-major, upper triangle valid
        h = np.triu(upper) + np.triu(upper, 1).T
        for s_j, y_j in zip(steps, changes):
            np.testing.assert_allclose(h @ y_j, s_j, rtol=1e-8, atol=1e-10 * np.abs(s_j).max())
    np.testing.assert_allclose(h, np.linalg.inv(a), rtol=0, atol=1e-9 * np.abs(np.linalg.inv(a)).max())
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=0, atol=1e-10)


# ---- the API ----------------------------------------------------------------------------------------

ROSEN = rosenbrock(2)


def test_unknown_method_and_option_are_named():
    with pytest.raises(ValueError, match=r"method: unknown method 'lbgfs'; choose from .*lbfgs"):
        fastopt.minimize(ROSEN.fun, ROSEN.x0, method="lbgfs")
    with pytest.raises(ValueError, match=r"options: lbfgs has no option 'gtoll'; it takes .*gtol"):
        fastopt.minimize(ROSEN.fun, ROSEN.x0, method="lbfgs", options={"gtoll": 1e-3})
    with pytest.raises(ValueError, match=r"options\['maxiter'\]: expected an integer >= 0, got -1"):
        fastopt.minimize(ROSEN.fun, ROSEN.x0, options={"maxiter": -1})
    with pytest.raises(ValueError, match=r"0 < c1 < c2 < 1, got c1=0.5, c2=0.1"):
        fastopt.minimize(ROSEN.fun, ROSEN.x0, method="cg", options={"c1": 0.5})


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_tol_sets_the_gradient_tolerance_unless_options_do(method):
    loose = fastopt.minimize(ROSEN.value_grad, ROSEN.x0, jac=True, method=method, tol=1e-2)
    tight = fastopt.minimize(ROSEN.value_grad, ROSEN.x0, jac=True, method=method, tol=1e-2,
                             options={"gtol": 1e-8, "ftol": 0.0})
    assert loose.status == 0 and np.abs(loose.jac).max() <= 1e-2
    assert tight.status == 0 and np.abs(tight.jac).max() <= 1e-8
    assert loose.nit < tight.nit


def test_callback_with_the_iterate():
    seen = []
    res = fastopt.minimize(ROSEN.value_grad, ROSEN.x0, jac=True, callback=lambda xk: seen.append(xk.copy()), path=True)
    assert len(seen) == res.nit
    np.testing.assert_array_equal(np.array(seen), res.path[1:])


def test_callback_with_the_intermediate_result():
    seen = []
    res = fastopt.minimize(ROSEN.value_grad, ROSEN.x0, jac=True,
                           callback=lambda intermediate_result: seen.append(intermediate_result))
    assert [r.nit for r in seen] == list(range(1, res.nit + 1))
    assert seen[-1].fun == res.fun
    np.testing.assert_array_equal(seen[-1].x, res.x)
    np.testing.assert_array_equal(seen[-1].jac, res.jac)
    assert all(r.fun == ROSEN.fun(r.x) for r in seen)
    assert all(a.nfev <= b.nfev for a, b in zip(seen, seen[1:]))


def test_callback_stops_the_run_with_stop_iteration():
    calls = []

    def stop_after_three(xk):
        calls.append(xk)
        if len(calls) == 3:
            raise StopIteration

    res = fastopt.minimize(ROSEN.value_grad, ROSEN.x0, jac=True, callback=stop_after_three)
    assert (res.status, res.nit, res.success) == (6, 3, False)
    assert "callback" in res.message
    np.testing.assert_array_equal(res.x, calls[-1])


def test_args_reach_fun_and_jac():
    p = quadratic(4, 10.0)
    shift = np.array([1.0, -2.0, 0.5, 3.0])

    def fun(x, c, scale):
        return scale * p.fun(x - c)

    def jac(x, c, scale):
        return scale * p.jac(x - c)

    res = fastopt.minimize(fun, p.x0, args=(shift, 2.0), jac=jac, method="bfgs", tol=1e-10)
    assert res.status == 0
    np.testing.assert_allclose(res.x, shift, atol=1e-9)


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_finite_difference_gradient_when_jac_is_none(method):
    # Forward differences are accurate to ~sqrt(eps) |f''| ~ 1e-5 on Rosenbrock, so ask for 1e-4.
    calls = []

    def fun(x):
        calls.append(1)
        return ROSEN.fun(x)

    res = fastopt.minimize(fun, ROSEN.x0, method=method, tol=1e-4)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-3)
    np.testing.assert_allclose(res.jac, ROSEN.jac(res.x), atol=1e-5)  # jac is the difference quotient
    assert res.nfev == len(calls) == 3 * res.njev  # each gradient: f(x) and one f per coordinate


def test_path_shapes_and_contents():
    p = rosenbrock(5)
    res = fastopt.minimize(p.value_grad, p.x0, jac=True, path=True)
    k = res.nit + 1
    assert res.path.shape == (k, 5) and res.path_fun.shape == (k,) and res.path_nfev.shape == (k,)
    assert res.path.dtype == np.float64 and res.path_nfev.dtype == np.int64
    np.testing.assert_array_equal(res.path[0], p.x0)
    np.testing.assert_array_equal(res.path[-1], res.x)
    np.testing.assert_array_equal(res.path_fun, [p.fun(x) for x in res.path])
    assert np.all(np.diff(res.path_fun) < 0)  # every accepted step decreases f
    assert res.path_nfev[0] == 1 and np.all(np.diff(res.path_nfev) >= 1) and res.path_nfev[-1] == res.nfev
    assert "path" not in fastopt.minimize(p.value_grad, p.x0, jac=True)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x0_is_refused_before_any_call(bad):
    calls = []
    with pytest.raises(ValueError, match=r"x0: must be finite"):
        fastopt.minimize(lambda x: calls.append(1) or 0.0, [1.0, bad])
    assert calls == []


@pytest.mark.parametrize("value", [np.nan, np.inf])
@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_fun_non_finite_away_from_x0_stops_with_a_status(method, value):
    # f is finite only at x0: every trial point is NaN/Inf, the search backs off, gives up, and the run
    # stops (never loops) with x, fun and jac those of x0.
    x0 = ROSEN.x0

    def value_grad(x):
        return ROSEN.value_grad(x) if np.array_equal(x, x0) else (value, np.full(2, value))

    res = fastopt.minimize(value_grad, x0, jac=True, method=method)
    assert res.status in (2, 3) and not res.success
    assert "NaN or Inf" in res.message if res.status == 3 else "line search" in res.message
    assert res.nfev <= 2 + METHOD_OPTIONS[method]["max_ls"]
    np.testing.assert_array_equal(res.x, x0)
    assert res.fun == ROSEN.fun(x0)


@pytest.mark.parametrize("method", GRADIENT_METHODS)
def test_fun_nan_only_far_away_still_converges(method):
    # f = sum sqrt(1 + (x_i - 5)^2) is nearly linear far from its minimum at 5, so from (0, 1) the line
    # search extrapolates past it, into x_i >= 5.5 where f is NaN; it must back off and converge.
    nan_calls = []

    def value_grad(x):
        if x.max() >= 5.5:
            nan_calls.append(x)
            return math.nan, np.full(2, math.nan)
        r = np.sqrt(1 + (x - 5) ** 2)
        return float(np.sum(r)), (x - 5) / r

    options = {"ftol": 0.0} if "ftol" in METHOD_OPTIONS[method] else {}
    res = fastopt.minimize(value_grad, [0.0, 1.0], jac=True, method=method, tol=1e-8, options=options)
    assert nan_calls, "the test must reach the NaN region to mean anything"
    assert res.status == 0, res.message
    np.testing.assert_allclose(res.x, 5.0, atol=1e-8)


def test_jac_of_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match=r"jac: returned shape \(3,\), expected \(2,\)"):
        fastopt.minimize(ROSEN.fun, ROSEN.x0, jac=lambda x: np.zeros(3))
    with pytest.raises(ValueError, match=r"jac: returned shape \(2, 1\), expected \(2,\)"):
        fastopt.minimize(lambda x: (ROSEN.fun(x), ROSEN.jac(x)[:, None]), ROSEN.x0, jac=True)


@pytest.mark.parametrize("where", ["first", "later"])
def test_an_exception_in_fun_propagates_unchanged(where):
    class Boom(Exception):
        pass

    error = Boom("from fun")
    calls = []

    def value_grad(x):
        calls.append(1)
        if where == "first" or len(calls) == 5:
            raise error
        return ROSEN.value_grad(x)

    with pytest.raises(Boom) as excinfo:
        fastopt.minimize(value_grad, ROSEN.x0, jac=True)
    assert excinfo.value is error


def test_x0_is_never_modified_and_fun_gets_its_own_copy():
    x0 = ROSEN.x0.copy()
    clean = fastopt.minimize(ROSEN.value_grad, x0, jac=True)

    def vandal(x):
        out = ROSEN.value_grad(x)
        x[:] = 123.0  # fun may scribble on its argument: the method's x is not that array
        return out

    res = fastopt.minimize(vandal, x0, jac=True)
    np.testing.assert_array_equal(x0, ROSEN.x0)
    np.testing.assert_array_equal(res.x, clean.x)
    assert res.nit == clean.nit


def test_an_x_the_callable_keeps_is_never_overwritten():
    # The binding refills the array of the last call only when the callable kept no reference to it:
    # arrays (and views of them) that were kept must keep the values of their call.
    kept, views, values = [], [], []

    def value_grad(x):
        values.append(x.copy())
        if len(values) % 2:
            kept.append(x)
        else:
            views.append(x[1:])
        return ROSEN.value_grad(x)

    fastopt.minimize(value_grad, ROSEN.x0, jac=True)
    assert len(kept) > 5
    for x, want in zip(kept, values[0::2]):
        np.testing.assert_array_equal(x, want)
    for v, want in zip(views, values[1::2]):
        np.testing.assert_array_equal(v, want[1:])
    assert len({id(x) for x in kept}) == len(kept)
