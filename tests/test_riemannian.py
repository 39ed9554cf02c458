"""Manifolds (Sphere, Stiefel), the Riemannian optimizers, riemannian_minimize and `fastopt riemannian`."""
import copy
import math

import numpy as np
import pytest

import fastopt
from fastopt import cli
from fastopt.curvature import (RiemannianAdam, RiemannianCG, RiemannianSGD, Sphere, Stiefel,
                               riemannian_minimize)
from fastopt.studies.riemannian import principal_angles, random_symmetric
from study_helpers import gif_frames, image

MANIFOLDS = [(Sphere(5), "normalize"), (Sphere(5), "exp"), (Stiefel(6, 3), "qr"), (Stiefel(6, 3), "polar"),
             (Stiefel(4, 4), "qr"), (Stiefel(5, 1), "polar")]
IDS = [f"{m!r}-{r}" for m, r in MANIFOLDS]


def off_manifold(manifold, x) -> float:
    """|x| - 1 or |X^T X - I|_F, computed here rather than by the manifold under test."""
    if isinstance(manifold, Sphere):
        return abs(np.linalg.norm(x) - 1.0)
    return np.linalg.norm(x.T @ x - np.eye(x.shape[1]))


def tangency(manifold, x, u) -> float:
    """|x^T u| on the sphere, |X^T U + U^T X|_F on Stiefel: 0 for a tangent vector."""
    if isinstance(manifold, Sphere):
        return abs(x @ u)
    return np.linalg.norm(x.T @ u + u.T @ x)


def brockett(manifold, a):
    """f(X) = trace(X^T A X N) with N = diag(1, 2, ..., p) (the Rayleigh quotient for the sphere) and its
    Euclidean gradient 2 A X N."""
    if isinstance(manifold, Sphere):
        return lambda x: (float(x @ a @ x), 2.0 * a @ x)
    weights = np.arange(1.0, manifold.p + 1)
    return lambda x: (float(np.sum((x * weights) * (a @ x))), 2.0 * (a @ x) * weights)


def symmetric(n, seed=0):
    return random_symmetric(n, seed)


def slope(ts, values) -> float:
    return float(np.polyfit(np.log(ts), np.log(values), 1)[0])


# ---------------------------------------------------------------------------------------------- manifolds
@pytest.mark.parametrize("manifold, retraction", MANIFOLDS, ids=IDS)
def test_projection_tangent_and_idempotent(manifold, retraction, rng):
    x = manifold.random_point(rng)
    assert off_manifold(manifold, x) < 1e-13
    u = rng.standard_normal(manifold.shape)
    pu = manifold.project(x, u)
    assert tangency(manifold, x, pu) < 1e-13
    np.testing.assert_allclose(manifold.project(x, pu), pu, atol=1e-14)
    # the residual is normal: orthogonal to every tangent vector
    v = manifold.project(x, rng.standard_normal(manifold.shape))
    assert abs(manifold.inner(x, u - pu, v)) < 1e-13
    np.testing.assert_array_equal(manifold.egrad_to_rgrad(x, u), pu)


@pytest.mark.parametrize("manifold, retraction", MANIFOLDS, ids=IDS)
def test_retractions_land_on_manifold_and_agree_to_first_order(manifold, retraction, rng):
    x = manifold.random_point(rng)
    u = manifold.random_tangent(x, rng)
    for t in (0.0, 1e-3, 0.5, 3.0, 50.0):
        y = manifold.retract(x, t * u, method=retraction)
        assert off_manifold(manifold, y) < 1e-12, t
    # R_x(0) = x: for QR this holds only with R's diagonal made positive (else columns may flip sign)
    np.testing.assert_allclose(manifold.retract(x, np.zeros(manifold.shape), method=retraction), x, atol=1e-14)
    # d/dt R_x(t u) at 0 is u: the error of the difference quotient is O(t)
    ts = np.array([1e-2, 5e-3, 2.5e-3, 1.25e-3])
    errors = [np.linalg.norm((manifold.retract(x, t * u, retraction) - x) / t - u) for t in ts]
    assert 0.9 < slope(ts, errors) < 1.1 or max(errors) < 1e-9


def test_qr_retraction_is_continuous_and_polar_is_the_closest_point(rng):
    st = Stiefel(7, 3)
    x = st.random_point(rng)
    # a point whose plain QR factor has negative diagonal entries in R: the sign fix keeps it
    flipped = x * np.array([-1.0, 1.0, -1.0])
    np.testing.assert_allclose(st.retract(flipped, np.zeros((7, 3)), "qr"), flipped, atol=1e-14)
    # Y = qf(X + U) with X + U = Y R, R upper triangular with a positive diagonal
    step = 0.3 * st.random_tangent(x, rng)
    y = st.retract(x, step, "qr")
    r = y.T @ (x + step)
    np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=1e-14)
    assert np.all(np.diag(r) > 0)
    np.testing.assert_allclose(y @ r, x + step, atol=1e-14)
    # polar: (X + U)(I + U^T U)^(-1/2) for a tangent U, computed here with eigh
    u = 0.7 * st.random_tangent(x, rng)
    w, v = np.linalg.eigh(np.eye(3) + u.T @ u)
    expected = (x + u) @ (v / np.sqrt(w)) @ v.T
    np.testing.assert_allclose(st.retract(x, u, "polar"), expected, atol=1e-13)
    # ... the closest point of St(7, 3) to X + U: closer than the QR retraction
    assert np.linalg.norm(expected - x - u) <= np.linalg.norm(st.retract(x, u, "qr") - x - u)


def test_sphere_exp_is_the_great_circle():
    sphere = Sphere(3)
    x, u = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    for t in (0.0, 0.3, 1.0, math.pi / 2, 2.5):
        y = sphere.exp(x, t * u)
        np.testing.assert_allclose(y, [math.cos(t), 0.0, math.sin(t)], atol=1e-15)
        assert abs(sphere.dist(x, y) - t) < 1e-14
    np.testing.assert_array_equal(sphere.retract(x, 0.4 * u, "exp"), sphere.exp(x, 0.4 * u))


@pytest.mark.parametrize("n", [3, 50])
def test_exp_and_normalize_agree_to_second_order(n, rng):
    """|Exp_x(tu) - R_x(tu)| = O(t^3): normalisation is a second-order retraction (it moves arctan t, not t)."""
    sphere = Sphere(n)
    x = sphere.random_point(rng)
    u = sphere.random_tangent(x, rng)
    ts = np.array([0.2, 0.1, 0.05, 0.025, 0.0125])
    gaps = [np.linalg.norm(sphere.exp(x, t * u) - sphere.retract(x, t * u, "normalize")) for t in ts]
    assert 2.9 < slope(ts, gaps) < 3.1
    # the leading term: the angles differ by t - arctan t = t^3/3 + O(t^5)
    np.testing.assert_allclose(gaps[-1], ts[-1] ** 3 / 3, rtol=1e-3)


@pytest.mark.parametrize("manifold, retraction", MANIFOLDS, ids=IDS)
def test_transport_keeps_vectors_tangent(manifold, retraction, rng):
    x = manifold.random_point(rng)
    v = manifold.random_tangent(x, rng)
    y = manifold.retract(x, 0.8 * manifold.random_tangent(x, rng), retraction)
    w = manifold.transport(x, y, v)
    assert tangency(manifold, y, w) < 1e-13
    assert manifold.norm(y, w) <= manifold.norm(x, v) + 1e-14  # projection never lengthens


@pytest.mark.parametrize("manifold, retraction", MANIFOLDS, ids=IDS)
def test_riemannian_gradient_taylor_remainder_has_slope_2(manifold, retraction, rng):
    """f(R_x(t u)) - f(x) - t <grad f(x), u> = O(t^2) for the Riemannian gradient; O(t) for a wrong one."""
    a = symmetric(manifold.shape[0], 3)
    fun = brockett(manifold, a)
    x = manifold.random_point(rng)
    u = manifold.random_tangent(x, rng)
    f0, egrad = fun(x)
    grad = manifold.egrad_to_rgrad(x, egrad)
    ts = np.logspace(-1, -4, 7)
    values = [fun(manifold.retract(x, t * u, retraction))[0] for t in ts]
    remainder = [abs(f - f0 - t * manifold.inner(x, grad, u)) for f, t in zip(values, ts)]
    assert 1.95 < slope(ts, remainder) < 2.05
    wrong = [abs(f - f0 - t * manifold.inner(x, 1.1 * grad, u)) for f, t in zip(values, ts)]
    assert 0.95 < slope(ts, wrong) < 1.05


def test_dimensions_and_repr():
    assert Sphere(3).dim == 2 and Sphere(3).shape == (3,) and repr(Sphere(3)) == "Sphere(3)"
    assert Stiefel(5, 2).dim == 10 - 3 and Stiefel(5, 2).shape == (5, 2) and repr(Stiefel(5, 2)) == "Stiefel(5, 2)"
    assert Stiefel(4, 4).dim == 6  # the orthogonal group O(4)
    assert Sphere(4) == Sphere(4) and Sphere(4) != Sphere(5) and Stiefel(4, 2) != Sphere(4)
    assert not hasattr(Stiefel(4, 2), "exp")  # only the sphere's geodesics are closed-form here


# ---------------------------------------------------------------------------------------------- staying on the manifold
def make_optimizer(name, manifold, x, retraction):
    if name == "sgd":
        return RiemannianSGD(manifold, x, lr=0.1, retraction=retraction)
    if name == "momentum":
        return RiemannianSGD(manifold, x, lr=0.05, momentum=0.9, retraction=retraction)
    if name == "nesterov":
        return RiemannianSGD(manifold, x, lr=0.05, momentum=0.9, nesterov=True, retraction=retraction)
    if name == "adam":
        return RiemannianAdam(manifold, x, lr=0.05, retraction=retraction)
    if name == "amsgrad":
        return RiemannianAdam(manifold, x, lr=0.05, amsgrad=True, retraction=retraction)
    return RiemannianCG(manifold, x, retraction=retraction)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "amsgrad", "cg"])
@pytest.mark.parametrize("manifold, retraction", [(Sphere(30), "normalize"), (Sphere(30), "exp"),
                                                  (Stiefel(30, 4), "qr"), (Stiefel(30, 4), "polar")],
                         ids=["sphere-normalize", "sphere-exp", "stiefel-qr", "stiefel-polar"])
def test_iterates_stay_on_the_manifold_at_every_step(name, manifold, retraction):
    fun = brockett(manifold, symmetric(30, 1))
    x = manifold.random_point(2)
    opt = make_optimizer(name, manifold, x, retraction)
    f_start = fun(x)[0]
    for _ in range(150):
        if name == "cg":
            opt.step(fun)
        else:
            opt.step(fun(x)[1])
        assert off_manifold(manifold, x) <= 1e-12
    assert fun(x)[0] < f_start
    for key, value in opt.state.items():  # state vectors are tangent at the current point
        if isinstance(value, np.ndarray) and key != "point":
            assert tangency(manifold, x, value) < 1e-12, key


# ---------------------------------------------------------------------------------------------- eigenproblems
@pytest.mark.parametrize("method, options", [("cg", {}), ("cg", {"beta_rule": "fr"}), ("sgd", {"lr": 0.2}),
                                             ("sgd", {"lr": 0.1, "momentum": 0.5}), ("adam", {"lr": 0.05})])
def test_rayleigh_quotient_minimum_is_the_top_eigenvalue(method, options):
    n = 60
    a = symmetric(n, 7)
    eigenvalues, vectors = np.linalg.eigh(a)
    sphere = Sphere(n)
    x0 = sphere.random_point(8)
    x0_before = x0.copy()
    result = riemannian_minimize(lambda x: (-float(x @ a @ x), -2.0 * a @ x), sphere, x0, method=method,
                                 maxiter=3000, gtol=1e-9, **options)
    assert abs(-result.fun - eigenvalues[-1]) < 1e-8
    assert abs(abs(result.x @ vectors[:, -1]) - 1.0) < 1e-8
    np.testing.assert_array_equal(x0, x0_before)  # the start is not modified
    assert result.path.shape == (result.nit + 1, n)
    assert result.funs.shape == result.grad_norms.shape == (result.nit + 1,)
    np.testing.assert_array_equal(result.path[-1], result.x)


@pytest.mark.parametrize("method, options", [("cg", {"retraction": "qr"}), ("cg", {"retraction": "polar"}),
                                             ("sgd", {"lr": 0.2})])
def test_stiefel_subspace_matches_eigh(method, options):
    n, p = 40, 3
    a = symmetric(n, 5)
    eigenvalues, vectors = np.linalg.eigh(a)
    st = Stiefel(n, p)
    result = riemannian_minimize(lambda x: (-float(np.sum(x * (a @ x))), -2.0 * a @ x), st, st.random_point(6),
                                 method=method, maxiter=3000, gtol=1e-9, **options)
    assert principal_angles(result.x, vectors[:, -p:]).max() < 1e-6
    assert abs(-result.fun - eigenvalues[-p:].sum()) < 1e-8
    assert off_manifold(st, result.x) < 1e-12


def test_principal_angles_are_accurate_for_small_angles():
    u = np.eye(4)[:, :2]
    for angle in (1e-9, 1e-4, 0.3):
        x = np.array([[math.cos(angle), 0.0], [0.0, 1.0], [math.sin(angle), 0.0], [0.0, 0.0]])
        np.testing.assert_allclose(principal_angles(x, u), [0.0, angle], rtol=1e-10, atol=1e-15)


# -------------------------------------------------------------------------------------- reference implementations
def reference_radam(manifold_kind, x, egrads, lr, betas, eps, amsgrad):
    """geoopt's RiemannianAdam step by step in float64, written out here: points, exp_avg, exp_avg_sq."""
    x = x.copy()
    m = np.zeros_like(x)
    v = vmax = 0.0
    out = []
    for t, egrad_of in enumerate(egrads, start=1):
        if manifold_kind == "sphere":
            x = x / np.sqrt(np.sum(x * x))
            proj = lambda y, w: w - np.sum(y * w) * y  # noqa: E731
            retr = lambda y, w: (y + w) / np.sqrt(np.sum((y + w) ** 2))  # noqa: E731
        else:
            uu, _, vv = np.linalg.svd(x, full_matrices=False)
            x = uu @ vv
            proj = lambda y, w: w - y @ ((y.T @ w + w.T @ y) / 2)  # noqa: E731

            def retr(y, w):
                q, r = np.linalg.qr(y + w)
                return q * np.sign(np.sign(np.diag(r)) + 0.5)
        g = proj(x, egrad_of(x))
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * np.sum(g * g)
        if amsgrad:
            vmax = max(vmax, v)
        denom = np.sqrt((vmax if amsgrad else v) / (1 - betas[1] ** t)) + eps
        y = retr(x, -lr * (m / (1 - betas[0] ** t)) / denom)
        m = proj(y, m)
        x = y
        out.append((x.copy(), m.copy(), v))
    return out


@pytest.mark.parametrize("kind", ["sphere", "stiefel"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_riemannian_adam_matches_an_independent_implementation(kind, amsgrad):
    manifold = Sphere(8) if kind == "sphere" else Stiefel(8, 3)
    a = symmetric(8, 11)
    fun = brockett(manifold, a)
    # gradients of a shifting target, so the second moment rises and falls (amsgrad matters)
    egrads = [(lambda y, k=k: fun(y)[1] * (1.0 + 0.8 * math.sin(k / 3.0))) for k in range(40)]
    x0 = manifold.random_point(4)
    expected = reference_radam(kind, x0, egrads, lr=0.03, betas=(0.8, 0.95), eps=1e-8, amsgrad=amsgrad)
    x = x0.copy()
    opt = RiemannianAdam(manifold, x, lr=0.03, betas=(0.8, 0.95), eps=1e-8, amsgrad=amsgrad)
    for egrad_of, (x_ref, m_ref, v_ref) in zip(egrads, expected):
        opt.step(egrad_of(x))
        np.testing.assert_allclose(x, x_ref, rtol=0, atol=1e-13)
        np.testing.assert_allclose(opt.state["exp_avg"], m_ref, rtol=0, atol=1e-13)
        assert opt.state["exp_avg_sq"] == pytest.approx(v_ref, rel=1e-13)
    assert opt.steps == len(egrads)
    if amsgrad:
        assert opt.state["max_exp_avg_sq"] >= opt.state["exp_avg_sq"]


@pytest.mark.parametrize("nesterov, dampening", [(False, 0.0), (True, 0.0), (False, 0.3)])
def test_riemannian_sgd_momentum_matches_an_independent_implementation(nesterov, dampening):
    sphere = Sphere(6)
    fun = brockett(sphere, symmetric(6, 2))
    x0 = sphere.random_point(3)
    x, buf = x0.copy(), None
    opt_x = x0.copy()
    opt = RiemannianSGD(sphere, opt_x, lr=0.07, momentum=0.8, dampening=dampening, nesterov=nesterov)
    for _ in range(30):
        egrad = fun(x)[1]
        g = egrad - (x @ egrad) * x
        buf = g.copy() if buf is None else 0.8 * buf + (1 - dampening) * g
        d = g + 0.8 * buf if nesterov else buf
        y = (x - 0.07 * d) / np.linalg.norm(x - 0.07 * d)
        buf = buf - (y @ buf) * y
        x = y
        opt.step(fun(opt_x)[1])
        np.testing.assert_allclose(opt_x, x, rtol=0, atol=1e-14)
        np.testing.assert_allclose(opt.state["momentum_buffer"], buf, rtol=0, atol=1e-14)


# ---------------------------------------------------------------------------------------------- state_dict
@pytest.mark.parametrize("name", ["momentum", "adam", "amsgrad", "cg"])
def test_state_dict_resumes_the_same_trajectory(name):
    manifold = Stiefel(10, 2)
    fun = brockett(manifold, symmetric(10, 4))

    def run(opt, x, steps):
        for _ in range(steps):
            opt.step(fun) if name == "cg" else opt.step(fun(x)[1])

    x = manifold.random_point(5)
    opt = make_optimizer(name, manifold, x, "qr")
    run(opt, x, 7)
    saved, x_saved = opt.state_dict(), x.copy()
    run(opt, x, 7)
    x2 = x_saved.copy()
    resumed = make_optimizer(name, manifold, x2, "qr")
    resumed.load_state_dict(copy.deepcopy(saved))
    assert resumed.steps == 7
    run(resumed, x2, 7)
    np.testing.assert_array_equal(x2, x)
    # state_dict hands out copies
    saved_again = opt.state_dict()
    for value in saved_again["state"].values():
        if isinstance(value, np.ndarray):
            value[...] = np.nan
    assert all(np.isfinite(v).all() for v in opt.state.values())


@pytest.mark.parametrize("mutate, error, match", [
    (lambda d: d.update(optimizer="RiemannianSGD"), ValueError, "saved by RiemannianSGD"),
    (lambda d: d.update(manifold="Sphere(3)"), ValueError, r"saved on Sphere\(3\)"),
    (lambda d: d["state"].update(exp_avg=np.zeros(4)), ValueError, r"state\['exp_avg'\]: expected shape \(4, 2\)"),
    (lambda d: d["state"].update(exp_avg=np.full((4, 2), np.nan)), ValueError, "non-finite"),
    (lambda d: d["state"].update(exp_avg_sq=-1.0), ValueError, "exp_avg_sq.*>= 0"),
    (lambda d: d["state"].update(velocity=np.zeros((4, 2))), ValueError, "unknown state"),
    (lambda d: d["hyperparameters"].update(lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (lambda d: d.pop("steps"), ValueError, "expected the keys"),
    (lambda d: d.update(retraction="cayley"), ValueError, "unknown retraction 'cayley'"),
])
def test_load_state_dict_rejects_bad_input_and_changes_nothing(mutate, error, match):
    st = Stiefel(4, 2)
    x = st.random_point(0)
    opt = RiemannianAdam(st, x, lr=0.1)
    for _ in range(3):
        opt.step(np.ones((4, 2)))
    before = opt.state_dict()
    bad = opt.state_dict()
    mutate(bad)
    with pytest.raises(error, match=match):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["steps"] == before["steps"] and after["hyperparameters"] == before["hyperparameters"]
    np.testing.assert_array_equal(after["state"]["exp_avg"], before["state"]["exp_avg"])
    with pytest.raises(TypeError, match="state_dict: expected a dict"):
        opt.load_state_dict([1, 2])


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("build, error, match", [
    (lambda: Sphere(1), ValueError, "n: expected an integer >= 2, got 1"),
    (lambda: Sphere(2.5), TypeError, "n: expected an integer, got float 2.5"),
    (lambda: Sphere(True), TypeError, "n: expected an integer"),
    (lambda: Stiefel(3, 4), ValueError, "p: expected p <= n"),
    (lambda: Stiefel(3, 0), ValueError, "p: expected an integer >= 1, got 0"),
])
def test_bad_manifolds(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_bad_retraction_name():
    sphere = Sphere(3)
    with pytest.raises(ValueError, match="method: unknown retraction 'qr' for Sphere\\(3\\)"):
        sphere.retract(np.array([1.0, 0, 0]), np.zeros(3), method="qr")
    with pytest.raises(ValueError, match="retraction: unknown retraction 'polar' for Sphere\\(3\\)"):
        RiemannianSGD(sphere, np.array([1.0, 0, 0]), lr=0.1, retraction="polar")


@pytest.mark.parametrize("x, error, match", [
    (np.array([1.0, 0.0]), ValueError, r"x: expected shape \(3,\), got \(2,\)"),
    (np.array([1.0, 0.0, 0.0], dtype=np.float32), TypeError, "x: expected a float64 array .* got dtype float32"),
    ([1.0, 0.0, 0.0], TypeError, "x: expected a numpy.ndarray .* got list"),
    (np.array([1.0, 0.1, 0.0]), ValueError,
     r"x: not a point of Sphere\(3\): \|x\| = 1 is off by 0.00499 \(tolerance 1e-10\)"),
    (np.array([np.nan, 0.0, 0.0]), ValueError, "x: contains non-finite values"),
    (np.array([1, 0, 0]), TypeError, "x: expected a float64 array"),
])
def test_bad_points(x, error, match):
    before = copy.deepcopy(x)
    for build in (lambda: RiemannianSGD(Sphere(3), x, lr=0.1), lambda: RiemannianAdam(Sphere(3), x),
                  lambda: RiemannianCG(Sphere(3), x)):
        with pytest.raises(error, match=match):
            build()
    np.testing.assert_array_equal(np.asarray(x), np.asarray(before))


def test_read_only_point_and_stiefel_off_manifold():
    x = np.array([1.0, 0.0, 0.0])
    x.flags.writeable = False
    with pytest.raises(ValueError, match="x: the array is read-only"):
        RiemannianAdam(Sphere(3), x)
    with pytest.raises(ValueError, match=r"x: not a point of Stiefel\(3, 2\): X\^T X = I is off by"):
        RiemannianSGD(Stiefel(3, 2), np.ones((3, 2)), lr=0.1)
    with pytest.raises(TypeError, match="manifold: expected a fastopt manifold"):
        RiemannianSGD("sphere", np.array([1.0, 0, 0]), lr=0.1)


@pytest.mark.parametrize("build, error, match", [
    (lambda x: RiemannianSGD(Sphere(3), x, lr=-1.0), ValueError, r"Invalid learning rate: -1.0 \(must be > 0\)"),
    (lambda x: RiemannianSGD(Sphere(3), x, lr=0.0), ValueError, "Invalid learning rate: 0.0"),
    (lambda x: RiemannianSGD(Sphere(3), x, lr="0.1"), TypeError, "lr: expected a real number, got str"),
    (lambda x: RiemannianSGD(Sphere(3), x, lr=math.nan), ValueError, "Invalid learning rate: nan"),
    (lambda x: RiemannianSGD(Sphere(3), x, lr=0.1, momentum=1.5), ValueError, "Invalid momentum value: 1.5"),
    (lambda x: RiemannianSGD(Sphere(3), x, lr=0.1, nesterov=True), ValueError, "Invalid nesterov: True"),
    (lambda x: RiemannianAdam(Sphere(3), x, betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0"),
    (lambda x: RiemannianAdam(Sphere(3), x, betas=0.9), ValueError, "expected a pair"),
    (lambda x: RiemannianAdam(Sphere(3), x, eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    (lambda x: RiemannianAdam(Sphere(3), x, amsgrad="yes"), TypeError, "amsgrad: expected a bool"),
    (lambda x: RiemannianCG(Sphere(3), x, beta_rule="hs"), ValueError, "Invalid beta_rule: 'hs'"),
    (lambda x: RiemannianCG(Sphere(3), x, c1=1.0), ValueError, r"Invalid c1: 1.0 \(must be in \(0, 1\)\)"),
    (lambda x: RiemannianCG(Sphere(3), x, shrink=0.0), ValueError, "Invalid shrink: 0.0"),
    (lambda x: RiemannianCG(Sphere(3), x, max_backtracks=0), ValueError, "Invalid max_backtracks: 0"),
    (lambda x: RiemannianCG(Sphere(3), x, max_backtracks=2.5), TypeError, "max_backtracks: expected an integer"),
])
def test_bad_hyperparameters(build, error, match):
    x = np.array([1.0, 0.0, 0.0])
    with pytest.raises(error, match=match):
        build(x)
    np.testing.assert_array_equal(x, [1.0, 0.0, 0.0])


def snapshot(opt):
    return opt.x.copy(), opt.state_dict()


def assert_unchanged(opt, before):
    x, saved = before
    np.testing.assert_array_equal(opt.x, x)
    now = opt.state_dict()
    assert now["steps"] == saved["steps"] and set(now["state"]) == set(saved["state"])
    for key, value in saved["state"].items():
        np.testing.assert_array_equal(now["state"][key], value)


@pytest.mark.parametrize("name", ["momentum", "adam"])
@pytest.mark.parametrize("egrad, error, match", [
    (np.zeros(4), ValueError, r"egrad: expected shape \(5,\), got \(4,\)"),
    (np.full(5, np.inf), ValueError, "egrad: contains non-finite values"),
    (np.ones(5, dtype=complex), TypeError, "egrad: expected an array of real numbers, got dtype complex128"),
    ("grad", TypeError, "egrad: expected an array of real numbers"),
])
def test_bad_gradients_change_nothing(name, egrad, error, match):
    sphere = Sphere(5)
    x = sphere.random_point(0)
    opt = make_optimizer(name, sphere, x, None)
    opt.step(np.arange(5.0))
    before = snapshot(opt)
    with pytest.raises(error, match=match):
        opt.step(egrad)
    assert_unchanged(opt, before)


def test_point_moved_off_the_manifold_and_bad_hyperparameter_between_steps():
    sphere = Sphere(5)
    x = sphere.random_point(0)
    opt = RiemannianAdam(sphere, x, lr=0.1)
    opt.step(np.arange(5.0))
    before = snapshot(opt)
    x *= 2.0
    with pytest.raises(ValueError, match=r"x: not a point of Sphere\(5\): \|x\| = 1 is off by 1"):
        opt.step(np.arange(5.0))
    x /= 2.0
    assert_unchanged(opt, before)
    opt.hyperparameters["lr"] = -0.1
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        opt.step(np.arange(5.0))
    assert_unchanged(opt, before)


@pytest.mark.parametrize("fun, error, match", [
    (lambda y: 1.0, TypeError, "fun_and_egrad: expected it to return a pair"),
    (lambda y: (math.nan, np.zeros(5)), ValueError, "fun_and_egrad: returned a non-finite value f = nan"),
    (lambda y: ("f", np.zeros(5)), TypeError, "fun_and_egrad: expected f to be a real number"),
    (lambda y: (1.0, np.zeros(3)), ValueError, r"egrad \(returned by fun_and_egrad\): expected shape \(5,\)"),
    (3.0, TypeError, "fun_and_egrad: expected a callable"),
])
def test_cg_bad_function_changes_nothing(fun, error, match):
    sphere = Sphere(5)
    a = symmetric(5, 0)
    x = sphere.random_point(1)
    opt = RiemannianCG(sphere, x)
    opt.step(lambda y: (float(y @ a @ y), 2 * a @ y))
    before = snapshot(opt)
    with pytest.raises(error, match=match):
        opt.step(fun)
    assert_unchanged(opt, before)


def test_cg_at_a_critical_point_and_when_the_line_search_fails():
    sphere = Sphere(4)
    x = np.array([1.0, 0.0, 0.0, 0.0])
    opt = RiemannianCG(sphere, x)
    f = opt.step(lambda y: (float(y[0] ** 2), np.array([2 * y[0], 0.0, 0.0, 0.0])))  # rgrad = 0 at e1
    assert f == 1.0 and opt.last_line_search["success"] and np.array_equal(x, [1.0, 0, 0, 0])
    # a function whose values ignore its (wrong) gradient: no step length decreases it
    x2 = sphere.random_point(0)
    start = x2.copy()
    opt2 = RiemannianCG(sphere, x2, max_backtracks=5)
    opt2.step(lambda y: (1.0, np.ones(4)))
    assert not opt2.last_line_search["success"] and opt2.last_line_search["evaluations"] == 1 + 6
    np.testing.assert_array_equal(x2, start)


def test_riemannian_minimize_arguments_and_callback():
    sphere = Sphere(4)
    a = symmetric(4, 1)
    fun = lambda y: (float(y @ a @ y), 2 * a @ y)  # noqa: E731
    x0 = sphere.random_point(2)
    with pytest.raises(ValueError, match="method: expected one of 'cg', 'sgd', 'adam', got 'bfgs'"):
        riemannian_minimize(fun, sphere, x0, method="bfgs")
    with pytest.raises(ValueError, match="lr: method 'sgd' needs a learning rate"):
        riemannian_minimize(fun, sphere, x0, method="sgd")
    with pytest.raises(ValueError, match="lr: method 'cg' chooses its steps by line search"):
        riemannian_minimize(fun, sphere, x0, lr=0.1)
    with pytest.raises(ValueError, match=r"x0: not a point of Sphere\(4\)"):
        riemannian_minimize(fun, sphere, 2 * x0)
    with pytest.raises(ValueError, match="maxiter: expected an integer >= 0, got -1"):
        riemannian_minimize(fun, sphere, x0, maxiter=-1)
    with pytest.raises(ValueError, match="Invalid gtol: -1"):
        riemannian_minimize(fun, sphere, x0, gtol=-1)
    with pytest.raises(TypeError, match="callback: expected a callable"):
        riemannian_minimize(fun, sphere, x0, callback=1)
    seen = []
    result = riemannian_minimize(fun, sphere, x0, method="sgd", lr=0.1, keep_path=False,
                                 callback=lambda k, x, f, g: seen.append((k, f, g)) or k == 5)
    assert result.nit == 5 and len(seen) == 5 and result.path is None and result.message == "callback asked to stop"
    assert [s[1] for s in seen] == list(result.funs[1:])
    result = riemannian_minimize(fun, sphere, x0, maxiter=0)
    assert result.nit == 0 and np.array_equal(result.x, x0) and not result.success


def test_public_names():
    for name in ("Sphere", "Stiefel", "RiemannianSGD", "RiemannianCG", "RiemannianAdam"):
        assert name in fastopt.__all__ and getattr(fastopt, name) is getattr(fastopt.curvature, name)
    assert "riemannian_minimize" in fastopt.curvature.__all__


# ---------------------------------------------------------------------------------------------- the command
def test_cli_riemannian_quick_writes_its_files(tmp_path, capsys):
    out = tmp_path / "figures"
    assert cli.main(["riemannian", "--quick", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["rayleigh_sphere.png", "sphere_paths.gif", "sphere_paths.png",
                                                     "stiefel_eigenspace.png"]
    for name in ("rayleigh_sphere.png", "stiefel_eigenspace.png", "sphere_paths.png"):
        image(out / name)
        assert f"wrote {out / name}\n" in captured.out
    assert gif_frames(out / "sphere_paths.gif") > 5
    assert "lambda_max = " in captured.out and "RCG (PR+, Armijo)" in captured.out and "max angle" in captured.out
    assert "[1/3]" in captured.err and "[3/3]" in captured.err
    # the measured CG error on the sphere is at rounding level
    line = next(s for s in captured.out.splitlines() if s.strip().startswith("RCG (PR+, Armijo) "))
    assert abs(float(line.split()[3])) < 1e-8 and float(line.split()[4]) < 1e-6


def test_cli_riemannian_bad_flags(tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for argv, message in ((["--out", str(a_file)], "is a file; expected a folder"),
                          (["--n", "5", "--p", "5"], "--p: expected p < n"),
                          (["--n", "0"], "argument --n: expected a positive integer, got '0'")):
        with pytest.raises(SystemExit) as e:
            cli.main(["riemannian", *argv])
        assert e.value.code == 2
        assert message in capsys.readouterr().err
