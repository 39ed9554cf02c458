"""fastopt.curvature.LogisticRegression: value, gradient and Hessian-vector products against an independent
NumPy float64 implementation, finite differences and a dense Hessian; input checks; minimize reaches scipy's
minimum on an MNIST subset."""
import numpy as np
import pytest

import fastopt
from fastopt import _core
from fastopt.curvature import LogisticRegression
from mnist_data import needs_mnist


# ---------------------------------------------------------------------------------------------- reference
def reference(X, y, classes, l2, theta):
    """f, gradient and the dense Hessian of softmax regression, in float64, written from the definitions:
    z_i = M_i theta (M_i the (K, dim) Jacobian of the logits), H = (1/N) sum_i M_i^T (diag p_i - p_i p_i^T) M_i
    + l2 on W's diagonal."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    k = classes
    W, b = theta[:k * d].reshape(k, d), theta[k * d:]
    Z = X @ W.T + b
    lse = np.log(np.sum(np.exp(Z - Z.max(1, keepdims=True)), axis=1)) + Z.max(1)
    f = np.mean(lse - Z[np.arange(n), y]) + 0.5 * l2 * np.sum(W * W)
    P = np.exp(Z - lse[:, None])
    E = np.eye(k)[y]
    grad = np.concatenate([((P - E).T @ X / n + l2 * W).ravel(), (P - E).mean(0)])
    dim = k * (d + 1)
    H = np.zeros((dim, dim))
    for i in range(n):
        M = np.zeros((k, dim))
        for c in range(k):
            M[c, c * d:(c + 1) * d] = X[i]
            M[c, k * d + c] = 1.0
        A = np.diag(P[i]) - np.outer(P[i], P[i])
        H += M.T @ A @ M / n
    H[np.arange(k * d), np.arange(k * d)] += l2
    return f, grad, H


def problem(rng, n, d, k, dtype=np.float64):
    X = rng.normal(size=(n, d)).astype(dtype)
    y = rng.integers(0, k, n)
    return X, y


# ---------------------------------------------------------------------------------------------- the math
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, d, k, l2", [(1, 3, 2, 0.0), (63, 5, 3, 0.1), (64, 7, 10, 1e-3), (65, 2, 4, 1.0),
                                         (300, 11, 5, 1e-4)])
def test_value_grad_hessp_match_numpy_float64(rng, dtype, n, d, k, l2):
    X, y = problem(rng, n, d, k, dtype)
    obj = LogisticRegression(X, y, classes=k, l2=l2)
    assert obj.dim == k * (d + 1) and obj.dtype == np.dtype(dtype).name
    for _ in range(3):
        theta = rng.normal(size=obj.dim)
        v = rng.normal(size=obj.dim)
        f_ref, g_ref, H = reference(X, y, k, l2, theta)
        f, g = obj.value_grad(theta)
        assert f == pytest.approx(f_ref, rel=1e-13, abs=1e-14)
        assert obj.value(theta) == f
        np.testing.assert_allclose(g, g_ref, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(obj.grad(theta), g, rtol=0, atol=0)
        np.testing.assert_allclose(obj.hessp(theta, v), H @ v, rtol=1e-11, atol=1e-13)


def test_gradient_matches_central_differences(rng):
    X, y = problem(rng, 40, 6, 3)
    obj = LogisticRegression(X, y, classes=3, l2=0.05)
    theta = rng.normal(size=obj.dim)
    h = 1e-6
    fd = np.array([(obj.value(theta + h * e) - obj.value(theta - h * e)) / (2 * h) for e in np.eye(obj.dim)])
    np.testing.assert_allclose(obj.grad(theta), fd, rtol=1e-7, atol=1e-9)


def test_hessp_matches_differences_of_the_gradient_and_is_symmetric(rng):
    X, y = problem(rng, 50, 8, 4)
    obj = LogisticRegression(X, y, classes=4, l2=0.01)
    theta, u, v = rng.normal(size=(3, obj.dim))
    h = 1e-5
    fd = (obj.grad(theta + h * v) - obj.grad(theta - h * v)) / (2 * h)
    np.testing.assert_allclose(obj.hessp(theta, v), fd, rtol=1e-6, atol=1e-8)
    assert u @ obj.hessp(theta, v) == pytest.approx(v @ obj.hessp(theta, u), rel=1e-12)
    assert v @ obj.hessp(theta, v) >= 0  # convex: H is positive semi-definite


def test_hessp_equals_the_dense_hessian_on_a_tiny_problem(rng):
    X, y = problem(rng, 7, 3, 3)
    obj = LogisticRegression(X, y, classes=3, l2=0.2)
    theta = rng.normal(size=obj.dim)
    H = reference(X, y, 3, 0.2, theta)[2]
    dense = np.stack([obj.hessp(theta, e) for e in np.eye(obj.dim)], axis=1)
    np.testing.assert_allclose(dense, H, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dense, dense.T, rtol=0, atol=1e-15)


def test_float32_data_gives_the_float64_result_of_the_same_values(rng):
    X, y = problem(rng, 200, 9, 3, np.float32)
    a = LogisticRegression(X, y, classes=3, l2=0.01)
    b = LogisticRegression(X.astype(np.float64), y, classes=3, l2=0.01)
    theta = rng.normal(size=a.dim)
    fa, ga = a.value_grad(theta)
    fb, gb = b.value_grad(theta)
    assert fa == pytest.approx(fb, rel=1e-14)
    np.testing.assert_allclose(ga, gb, rtol=1e-13, atol=1e-16)


def test_one_and_two_threads_agree_and_repeat_exactly(rng, num_threads):
    X, y = problem(rng, 5000, 20, 10, np.float32)  # above the serial threshold: two threads share the blocks
    obj = LogisticRegression(X, y, classes=10, l2=1e-2)
    theta, v = rng.normal(size=(2, obj.dim))
    results = {}
    for threads in (1, 2):
        num_threads(threads)
        results[threads] = (*obj.value_grad(theta), obj.hessp(theta, v))
        again = (*obj.value_grad(theta), obj.hessp(theta, v))
        assert again[0] == results[threads][0]
        np.testing.assert_array_equal(again[1], results[threads][1])
        np.testing.assert_array_equal(again[2], results[threads][2])
    assert results[1][0] == pytest.approx(results[2][0], rel=1e-14)
    np.testing.assert_allclose(results[1][1], results[2][1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(results[1][2], results[2][2], rtol=1e-12, atol=1e-15)


def test_counters_seconds_and_the_python_face(rng):
    X, y = problem(rng, 30, 4, 3)
    obj = LogisticRegression(X, y, classes=3, l2=0.5)
    assert isinstance(obj, _core.curvature.Objective) and obj.has_hessp and not obj.has_hessian
    theta = rng.normal(size=obj.dim)
    obj.value(theta), obj.value_grad(theta), obj.hessp(theta, theta)
    assert (obj.nfev, obj.njev, obj.nhev) == (2, 1, 1) and obj.seconds > 0
    W, b = obj.split(theta)
    assert W.shape == (3, 4) and b.shape == (3,) and np.shares_memory(W, theta)
    predicted = np.argmax(X @ W.T + b, axis=1)
    np.testing.assert_array_equal(obj.predict(theta, X), predicted)
    assert obj.accuracy(theta, X, y) == pytest.approx(np.mean(predicted == y))
    assert repr(obj) == "LogisticRegression(samples=30, features=4, classes=3, l2=0.5, dtype=float64)"
    assert (obj.samples, obj.features, obj.classes, obj.l2) == (30, 4, 3, 0.5)


def test_the_data_is_copied(rng):
    X, y = problem(rng, 20, 3, 2)
    obj = LogisticRegression(X, y, classes=2, l2=0.0)
    theta = rng.normal(size=obj.dim)
    before = obj.value(theta)
    X[:] = 0.0
    y[:] = 0
    assert obj.value(theta) == before


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("make, error, message", [
    (lambda X, y: (X.astype(np.uint8), y, 3, 0.1), TypeError, "X: expected float32 or float64 features, got uint8"),
    (lambda X, y: (X[0], y, 3, 0.1), ValueError, r"X: expected a non-empty 2-D array \(samples, features\), got shape"),
    (lambda X, y: (X[:0], y[:0], 3, 0.1), ValueError, r"X: expected a non-empty 2-D array .* got shape \(0, 4\)"),
    (lambda X, y: (X, y.astype(float), 3, 0.1), TypeError, "y: expected integer labels, got float64"),
    (lambda X, y: (X, y[:-1], 3, 0.1), ValueError, r"y: expected shape \(10,\) to match X's rows, got \(9,\)"),
    (lambda X, y: (X, np.where(np.arange(10) == 4, 3, y), 3, 0.1), ValueError,
     r"y: labels must lie in \[0, 3\), got 3 at index 4"),
    (lambda X, y: (X, np.where(np.arange(10) == 2, -1, y), 3, 0.1), ValueError, "got -1 at index 2"),
    (lambda X, y: (np.where(np.arange(4) == 1, np.nan, X), y, 3, 0.1), ValueError, "X: must be finite"),
    (lambda X, y: (X, y, 1, 0.1), ValueError, "classes: must be >= 2, got 1"),
    (lambda X, y: (X, y, 3, -0.1), ValueError, "l2: must be finite and >= 0"),
    (lambda X, y: (X, y, 3, np.inf), ValueError, "l2: must be finite and >= 0"),
])
def test_bad_construction_raises_naming_the_argument(rng, make, error, message):
    X, y = problem(rng, 10, 4, 3)
    X_before, y_before = X.copy(), y.copy()
    with pytest.raises(error, match=message):
        LogisticRegression(*make(X, y))
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_bad_parameter_vectors_raise(rng):
    X, y = problem(rng, 10, 4, 3)
    obj = LogisticRegression(X, y, classes=3, l2=0.1)
    with pytest.raises(ValueError, match=r"x: expected shape \(15,\), got \(14,\)"):
        obj.value(np.zeros(14))
    with pytest.raises(ValueError, match=r"p: expected shape \(15,\), got \(15, 1\)"):
        obj.hessp(np.zeros(15), np.zeros((15, 1)))
    with pytest.raises(ValueError, match=r"params: expected shape \(15,\), got \(3,\)"):
        obj.accuracy(np.zeros(3), X, y)
    with pytest.raises(ValueError, match=r"X: expected shape \(M, 4\), got \(10, 3\)"):
        obj.predict(np.zeros(15), X[:, :3])
    assert (obj.nfev, obj.nhev) == (0, 0)


# ---------------------------------------------------------------------------------------------- minimize
@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "cg", "newton-cg"])
def test_every_method_reaches_scipys_minimum_on_small_data(rng, method):
    if method not in fastopt.curvature.methods():
        pytest.skip(f"{method} is not in this build's fastopt.minimize")
    scipy_optimize = pytest.importorskip("scipy.optimize")
    X, y = problem(rng, 200, 6, 4)
    obj = LogisticRegression(X, y, classes=4, l2=0.01)
    ref = scipy_optimize.minimize(lambda t: reference(X, y, 4, 0.01, t)[:2], np.zeros(obj.dim), jac=True,
                                  method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 10000})
    res = fastopt.minimize(obj, np.zeros(obj.dim), method=method, options={"gtol": 1e-7})
    assert res.success, res.message
    assert res.fun == pytest.approx(ref.fun, rel=1e-10)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-5)


@needs_mnist
def test_lbfgs_on_an_mnist_subset_reaches_scipys_minimum(mnist):
    scipy_optimize = pytest.importorskip("scipy.optimize")
    X, y = mnist.train.x[:500], mnist.train.y[:500]
    obj = LogisticRegression(X, y, classes=10, l2=1e-2)
    ref = scipy_optimize.minimize(lambda t: reference_value_grad(X, y, 1e-2, t), np.zeros(obj.dim), jac=True,
                                  method="L-BFGS-B", options={"gtol": 1e-8, "ftol": 1e-12, "maxiter": 20000})
    res = fastopt.minimize(obj, np.zeros(obj.dim), method="lbfgs",
                           options={"gtol": 1e-6, "ftol": 0, "maxiter": 20000})
    assert res.success, res.message
    assert res.fun == pytest.approx(ref.fun, rel=1e-6)
    assert res.nfev == obj.nfev  # the native run counted every evaluation it made on the objective
    assert obj.accuracy(res.x, X, y) > 0.95


def reference_value_grad(X, y, l2, theta):
    """f and gradient only (the dense Hessian of 7,850 parameters is not needed), same formulas as reference."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    W, b = theta[:10 * d].reshape(10, d), theta[10 * d:]
    Z = X @ W.T + b
    m = Z.max(1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0]
    P = np.exp(Z - lse[:, None])
    P[np.arange(n), y] -= 1
    f = np.mean(lse - Z[np.arange(n), y]) + 0.5 * l2 * np.sum(W * W)
    return f, np.concatenate([(P.T @ X / n + l2 * W).ravel(), P.mean(0)])
