"""The spectrum tools (fastopt.curvature: top_eigenvalues, condition_number, trace, diagonal,
spectral_density, lanczos_quadrature) against numpy.linalg on dense symmetric matrices, and the
landscapes' curvature along a path against eigvalsh of their exact Hessians."""
import numpy as np
import pytest

import fastopt
from fastopt import curvature, landscape


def symmetric(n, seed):
    """A random symmetric matrix: indefinite, eigenvalues spread like a semicircle."""
    b = np.random.default_rng(seed).standard_normal((n, n))
    return (b + b.T) / 2


def with_spectrum(values, seed):
    """Q diag(values) Q^T for a random orthogonal Q."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(values), len(values))))
    return (q * np.asarray(values, dtype=float)) @ q.T


def expected_ends(w, k, which):
    largest, smallest = w[::-1][:k], w[:k]
    return {"largest": largest, "smallest": smallest, "both": np.concatenate([largest, smallest])}[which]


MATRICES = {
    "indefinite": lambda: symmetric(60, 1),
    "indefinite_odd": lambda: symmetric(37, 2),
    "positive_definite": lambda: with_spectrum(np.geomspace(1e-2, 1e2, 50), 3),
    "negative_definite": lambda: -with_spectrum(np.linspace(1, 30, 40), 4),
    "low_rank_psd": lambda: with_spectrum(np.r_[np.linspace(5, 9, 6), np.zeros(34)], 5),
}


@pytest.mark.parametrize("name", MATRICES)
@pytest.mark.parametrize("which", ["largest", "smallest", "both"])
@pytest.mark.parametrize("k", [1, 3])
def test_lanczos_matches_eigvalsh(name, which, k):
    a = MATRICES[name]()
    w = np.linalg.eigvalsh(a)
    result = curvature.top_eigenvalues(a, k=k, which=which, tol=1e-10, return_vectors=True)
    assert result.converged and result.method == "lanczos"
    np.testing.assert_allclose(result.values, expected_ends(w, k, which), rtol=1e-8, atol=1e-8 * np.abs(w).max())
    assert 1 <= result.matvecs <= a.shape[0]
    for value, vector, residual in zip(result.values, result.vectors, result.residuals):
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-10)
        assert np.linalg.norm(a @ vector - value * vector) <= residual + 1e-10 * np.abs(w).max()


def test_lanczos_spends_few_matvecs_on_a_separated_top_eigenvalue():
    a = with_spectrum(np.r_[100.0, np.linspace(0, 10, 499)], 6)
    result = curvature.top_eigenvalues(a, tol=1e-8)
    assert result.values[0] == pytest.approx(100.0, rel=1e-10)
    assert result.matvecs < 30


def test_lanczos_with_k_equal_to_n_gives_the_whole_spectrum():
    a = symmetric(12, 7)
    result = curvature.top_eigenvalues(a, k=12, which="smallest", tol=1e-12)
    np.testing.assert_allclose(result.values, np.linalg.eigvalsh(a), rtol=1e-10, atol=1e-12)
    assert curvature.top_eigenvalues([[3.0]]).values[0] == 3.0


def test_lanczos_continues_past_an_invariant_subspace():
    # The start vector decides nothing here: every start lies in an invariant subspace of a multiple of
    # the identity plus a rank-one term after one step; the process restarts orthogonally and goes on.
    a = 2.0 * np.eye(30)
    a[0, 0] = 5.0
    result = curvature.top_eigenvalues(a, k=2, which="both", tol=1e-10)
    np.testing.assert_allclose(result.values[[0, 2]], [5.0, 2.0], rtol=1e-10)


# Power iteration: spectra with clear gaps at both ends, as its convergence rate needs.
POWER_SPECTRA = {
    "indefinite": np.r_[10.0, 8.0, 6.0, np.linspace(-3, 3, 30), -5.0, -7.0, -9.5],
    "positive": np.r_[50.0, 40.0, 32.0, np.linspace(2, 20, 40), 1.0],
    "negative_dominant": np.r_[4.0, 3.0, np.linspace(-5, 2, 20), -12.0, -20.0],
}


@pytest.mark.parametrize("name", POWER_SPECTRA)
@pytest.mark.parametrize("which", ["largest", "smallest", "both"])
def test_power_iteration_matches_eigvalsh(name, which):
    a = with_spectrum(POWER_SPECTRA[name], 8)
    w = np.linalg.eigvalsh(a)
    result = curvature.top_eigenvalues(a, k=2, method="power", which=which, tol=1e-9, max_iter=5000,
                                       return_vectors=True)
    assert result.converged and result.method == "power"
    np.testing.assert_allclose(result.values, expected_ends(w, 2, which), rtol=1e-8)
    for value, vector in zip(result.values, result.vectors):
        assert np.linalg.norm(a @ vector - value * vector) <= 1e-8 * abs(value)


def test_an_iteration_cut_short_reports_it_is_not_converged():
    a = symmetric(80, 9)
    assert not curvature.top_eigenvalues(a, method="power", max_iter=3).converged
    short = curvature.top_eigenvalues(a, k=2, max_iter=4, tol=1e-12)
    assert not short.converged and short.matvecs == 4


def test_operators_other_than_dense_matrices():
    from scipy.sparse.linalg import aslinearoperator

    a = symmetric(40, 10)
    w = np.linalg.eigvalsh(a)
    linear = curvature.top_eigenvalues(aslinearoperator(a), k=2, which="both", tol=1e-10)
    np.testing.assert_allclose(linear.values, expected_ends(w, 2, "both"), rtol=1e-8)

    class Float32Operator:
        shape, dtype = a.shape, np.dtype(np.float32)
        seen = set()

        def matvec(self, v):
            self.seen.add(v.dtype)
            return (a.astype(np.float32) @ v).astype(np.float32)

    op = Float32Operator()
    result = curvature.top_eigenvalues(op, tol=1e-5)
    assert op.seen == {np.dtype(np.float32)}
    assert result.values[0] == pytest.approx(w[-1], rel=1e-5)


@pytest.mark.parametrize("name, dim", [("rosenbrock", 2), ("rosenbrock", 30), ("quadratic", 20), ("himmelblau", 2)])
def test_landscape_hessian_operator(name, dim):
    fn = landscape.get(name, dim=dim)
    x = fn.start + 0.1
    w = np.linalg.eigvalsh(fn.hessian(x))
    op = landscape.hessian_operator(fn, x)
    result = curvature.top_eigenvalues(op, k=1, which="both", tol=1e-11)
    np.testing.assert_allclose(result.values, [w[-1], w[0]], rtol=1e-8, atol=1e-10 * np.abs(w).max())
    np.testing.assert_allclose(curvature.trace(op, "hutch++", samples=3 * dim + 3).value, w.sum(), rtol=1e-9)


# Trace and diagonal estimators.

@pytest.mark.parametrize("name", MATRICES)
@pytest.mark.parametrize("seed", range(4))
def test_hutchinson_is_within_four_standard_errors(name, seed):
    a = MATRICES[name]()
    estimate = curvature.trace(a, samples=200, seed=seed)
    assert estimate.samples == 200 and estimate.method == "hutchinson"
    assert abs(estimate.value - np.trace(a)) <= 4 * estimate.stderr
    # The reported standard error is the sample estimate of the exact one, sqrt(2 (|A|_F^2 - sum A_ii^2) / s).
    exact = np.sqrt(2 * (np.sum(a**2) - np.sum(np.diag(a) ** 2)) / 200)
    assert estimate.stderr == pytest.approx(exact, rel=0.3)


@pytest.mark.parametrize("name", MATRICES)
@pytest.mark.parametrize("seed", range(4))
def test_hutch_plus_plus_is_within_four_standard_errors(name, seed):
    a = MATRICES[name]()
    estimate = curvature.trace(a, method="hutch++", samples=60, seed=seed)
    assert estimate.samples == 60 and estimate.method == "hutch++"
    assert abs(estimate.value - np.trace(a)) <= 4 * estimate.stderr + 1e-9 * np.abs(a).sum()


def test_hutch_plus_plus_is_exact_when_the_sketch_covers_a_low_rank_matrix():
    a = MATRICES["low_rank_psd"]()  # rank 6
    hutchinson = curvature.trace(a, samples=30, seed=0)
    sketched = curvature.trace(a, method="hutch++", samples=30, seed=0)
    assert sketched.value == pytest.approx(np.trace(a), rel=1e-10)
    assert sketched.stderr < 1e-10 < hutchinson.stderr


def test_diagonal_estimator_converges():
    a = MATRICES["indefinite"]()
    errors = []
    for samples in (20, 2000):
        estimate = curvature.diagonal(a, samples=samples, seed=1)
        assert estimate.samples == samples
        assert np.max(np.abs(estimate.values - np.diag(a)) / estimate.stderr) < 5
        errors.append(np.linalg.norm(estimate.values - np.diag(a)))
    assert errors[1] < errors[0] / 5  # 1/sqrt(samples): 10x expected
    assert np.array_equal(curvature.diagonal(np.diag([1.0, -2.0, 3.0]), samples=2).values, [1.0, -2.0, 3.0])


# Stochastic Lanczos quadrature.

@pytest.mark.parametrize("name", MATRICES)
@pytest.mark.parametrize("steps", [1, 4, 9])
def test_quadrature_reproduces_the_moments_below_2m(name, steps):
    a = MATRICES[name]()
    a = a / np.abs(np.linalg.eigvalsh(a)).max()  # moments of a unit-norm matrix stay O(1)
    v = np.random.default_rng(11).standard_normal(a.shape[0])
    nodes, weights = curvature.lanczos_quadrature(a, v, steps)
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0, abs=1e-12)
    u = v / np.linalg.norm(v)
    power = u.copy()
    for j in range(2 * steps + 1):
        exact = u @ power
        quadrature = np.sum(weights * nodes**j)
        if j < 2 * steps:
            assert quadrature == pytest.approx(exact, abs=1e-10), f"moment {j}"
        elif steps == 1:  # a one-point rule misses the second moment by the variance |A u|^2 - (u^T A u)^2
            assert exact - quadrature == pytest.approx(np.linalg.norm(a @ u) ** 2 - (u @ a @ u) ** 2, rel=1e-10)
            assert exact - quadrature > 1e-3
        power = a @ power


def test_spectral_density():
    w = np.r_[np.linspace(-1, 1, 30), np.full(20, 3.0)]
    a = with_spectrum(w, 12)
    density = curvature.spectral_density(a, lanczos_steps=10, runs=20, seed=0)
    assert density.matvecs == 200 and density.runs == 20 and density.lanczos_steps == 10
    assert density.nodes.shape == density.weights.shape == (20, 10)
    assert np.trapezoid(density.density, density.grid) == pytest.approx(1.0, abs=1e-3)
    # Ten Hutchinson-like samples of the trace: E[n v^T A v] = tr(A) with this error bar.
    per_run = a.shape[0] * np.sum(density.weights * density.nodes, axis=1)
    assert abs(density.trace() - np.trace(a)) <= 4 * per_run.std(ddof=1) / np.sqrt(20)
    # 40% of the eigenvalues sit at 3: the mass of the density there.
    near = np.abs(density.grid - 3.0) < 0.3
    assert np.trapezoid(density.density[near], density.grid[near]) == pytest.approx(0.4, abs=0.1)
    # With n steps the nodes are the eigenvalues (the distinct ones carry the weight).
    full = curvature.spectral_density(with_spectrum(np.arange(1.0, 9.0), 13), lanczos_steps=8, runs=2, sigma=0.01)
    np.testing.assert_allclose(full.nodes[0], np.arange(1.0, 9.0), atol=1e-10)
    assert full.sigma == 0.01


def test_condition_number():
    a = MATRICES["positive_definite"]()
    estimate = curvature.condition_number(a, tol=1e-10)
    assert estimate.converged
    assert estimate.condition == pytest.approx(np.linalg.cond(a), rel=1e-8)
    assert estimate.ratio == pytest.approx(1 / np.linalg.cond(a), rel=1e-8)
    w = np.linalg.eigvalsh(MATRICES["indefinite"]())
    indefinite = curvature.condition_number(MATRICES["indefinite"](), method="power", tol=1e-6, max_iter=20000)
    assert np.isnan(indefinite.condition)
    assert indefinite.ratio == pytest.approx(abs(w[0] / w[-1]), rel=1e-5)
    assert indefinite.lambda_min == pytest.approx(w[0], rel=1e-5)


# The landscapes' curvature along a path.

@pytest.mark.parametrize("name, method", [("rosenbrock", "adam"), ("himmelblau", "sgd"), ("rosenbrock", "newton")])
def test_curvature_along_matches_eigvalsh(name, method):
    fn = landscape.get(name)
    run = landscape.trajectory(name, method, steps=200)
    along = landscape.curvature_along(fn, run)
    assert along.eigenvalues.shape == run.path.shape
    for x, values, kappa, ratio in zip(run.path, along.eigenvalues, along.condition, along.ratio):
        w = np.linalg.eigvalsh(fn.hessian(x))
        np.testing.assert_allclose(values, w, rtol=1e-14)
        assert kappa == pytest.approx(np.abs(w).max() / np.abs(w).min(), rel=1e-12)
        assert ratio == pytest.approx(abs(w[0] / w[1]), rel=1e-12)
    assert np.array_equal(along.convex, along.eigenvalues[:, 0] >= 0)


def test_curvature_along_by_name_in_n_dimensions_and_with_a_diverged_point():
    fn = landscape.get("quadratic", dim=5, condition=100)
    path = np.vstack([np.ones((2, 5)), np.full((1, 5), np.nan)])
    along = landscape.curvature_along(fn, path)
    np.testing.assert_allclose(along.eigenvalues[0], np.linalg.eigvalsh(fn.hessian(path[0])))
    assert along.condition[0] == pytest.approx(100.0)
    assert np.all(np.isnan(along.eigenvalues[2])) and np.isnan(along.condition[2])
    assert landscape.curvature_along("rosenbrock", [[1.0, 1.0]]).eigenvalues.shape == (1, 2)


def test_curvature_figure(tmp_path):
    fastopt_plots = pytest.importorskip("fastopt.plots")
    fn = landscape.get("rosenbrock")
    runs = [landscape.trajectory("rosenbrock", "adam", steps=100), landscape.trajectory("rosenbrock", "bfgs")]
    figure = fastopt_plots.curvature_along_path(fn, runs, save=tmp_path / "curvature.png")
    assert (tmp_path / "curvature.png").stat().st_size > 0
    top, bottom = figure.axes[:2]
    along = landscape.curvature_along(fn, runs[0])
    np.testing.assert_allclose(top.lines[0].get_ydata(), along.eigenvalues[:, 1])
    np.testing.assert_allclose(bottom.lines[0].get_ydata(), along.condition)


# Bad input.

class Returning:
    """An operator whose matvec returns a fixed array."""

    def __init__(self, n, out):
        self.shape, self.out = (n, n), out

    def matvec(self, v):
        return self.out


@pytest.mark.parametrize("call, error, message", [
    (lambda: curvature.top_eigenvalues(np.eye(4), k=5), ValueError, r"k: 5 eigenvalues asked for .* dimension 4"),
    (lambda: curvature.top_eigenvalues(np.eye(4), k=3, which="both"), ValueError, r"k: 6 eigenvalues"),
    (lambda: curvature.top_eigenvalues(np.eye(4), k=0), ValueError, r"k: must be >= 1"),
    (lambda: curvature.top_eigenvalues(np.eye(4), k=1.5), TypeError, r"k: expected an integer"),
    (lambda: curvature.top_eigenvalues(np.eye(4), method="arnoldi"), ValueError, r"method: expected"),
    (lambda: curvature.top_eigenvalues(np.eye(4), which="middle"), ValueError, r"which: expected"),
    (lambda: curvature.top_eigenvalues(np.eye(4), tol=0), ValueError, r"tol: must be in \(0, 1\)"),
    (lambda: curvature.top_eigenvalues(np.eye(4), max_iter=5), ValueError, r"max_iter: Lanczos takes at most n = 4"),
    (lambda: curvature.top_eigenvalues(np.ones((3, 4))), ValueError, r"op: a dense operator must be .* \(3, 4\)"),
    (lambda: curvature.top_eigenvalues(np.triu(np.ones((3, 3)))), ValueError, r"op: the matrix is not symmetric"),
    (lambda: curvature.top_eigenvalues(np.full((2, 2), np.inf)), ValueError, r"op: the matrix has non-finite"),
    (lambda: curvature.top_eigenvalues("H"), TypeError, r"op: expected an operator"),
    (lambda: curvature.top_eigenvalues(Returning(4, np.ones(3))), ValueError,
     r"op.matvec: returned shape \(3,\), expected \(4,\)"),
    (lambda: curvature.top_eigenvalues(Returning(4, np.r_[1.0, np.nan, 0, 0])), ValueError,
     r"op.matvec: returned non-finite values \(product 1\)"),
    (lambda: curvature.trace(Returning(4, np.full(4, np.inf))), ValueError, r"op.matvec: returned non-finite"),
    (lambda: curvature.trace(np.eye(3), samples=1), ValueError, r"samples: must be >= 2"),
    (lambda: curvature.trace(np.eye(3), method="hutch++", samples=4), ValueError, r"samples: must be >= 5"),
    (lambda: curvature.trace(np.eye(3), method="girard"), ValueError, r"method: expected 'hutchinson' or 'hutch\+\+'"),
    (lambda: curvature.diagonal(np.eye(3), samples=1), ValueError, r"samples: must be >= 2"),
    (lambda: curvature.spectral_density(np.eye(3), lanczos_steps=4), ValueError,
     r"lanczos_steps: at most the dimension n = 3, got 4"),
    (lambda: curvature.spectral_density(np.eye(3), lanczos_steps=2, sigma=0), ValueError,
     r"sigma: must be a positive finite number, got 0"),
    (lambda: curvature.spectral_density(np.eye(3), lanczos_steps=2, grid=[[0.0]]), ValueError, r"grid: expected"),
    (lambda: curvature.lanczos_quadrature(np.eye(3), np.ones(4), 2), ValueError, r"start: expected shape \(3,\)"),
    (lambda: curvature.lanczos_quadrature(np.eye(3), np.zeros(3), 2), ValueError, r"start: must be finite and nonzero"),
    (lambda: curvature.condition_number([[1.0]]), ValueError, r"k: 2 eigenvalues"),
    (lambda: landscape.curvature_along(landscape.get("rosenbrock"), np.ones((3, 3))), ValueError,
     r"path: expected shape \(k, 2\) with k >= 1, got \(3, 3\)"),
    (lambda: landscape.curvature_along(42, np.ones((3, 2))), TypeError, r"fn: expected a test function"),
    (lambda: landscape.hessian_operator("rosenbrock", [np.nan, 1.0]), ValueError, r"x: expected a finite point"),
])
def test_bad_input_is_refused_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_operator_is_left_untouched_and_its_exceptions_propagate():
    a = symmetric(10, 14)
    before = a.copy()
    curvature.top_eigenvalues(a, k=2, which="both")
    curvature.spectral_density(a, lanczos_steps=5, runs=2)
    assert np.array_equal(a, before)

    class Failing:
        shape = (10, 10)

        def matvec(self, v):
            raise RuntimeError("the network's data loader failed")

    for call in (lambda: curvature.top_eigenvalues(Failing()), lambda: curvature.spectral_density(Failing(), 3, 1)):
        with pytest.raises(RuntimeError, match="data loader failed"):
            call()
    assert fastopt.curvature.top_eigenvalues(a).converged  # the native core is usable afterwards
