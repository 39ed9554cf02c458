"""The closure-style optimizers (fastopt.LBFGS, BFGS, ConjugateGradient): against torch.optim.LBFGS on the
same f and g, against scipy's minima and fastopt.minimize's iterates; exact resume; a closure that raises;
bad input."""
import pickle

import numpy as np
import pytest
import scipy.optimize as so

import fastopt

CLASSES = {"lbfgs": fastopt.LBFGS, "bfgs": fastopt.BFGS, "cg": fastopt.ConjugateGradient}


def quadratic(dim=20, condition=1e3, seed=0):
    """f(x) = x'Ax/2 - b'x with A's eigenvalues log-spaced in [1, condition]: (A, b)."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q @ np.diag(np.logspace(0, np.log10(condition), dim)) @ q.T, rng.standard_normal(dim)


def numpy_closure(params, value_grad):
    """closure() -> (f, [grad]) of value_grad on the one flat param."""
    def closure():
        f, g = value_grad(params[0].astype(np.float64))
        return f, [g]
    return closure


def rosen_value_grad(x):
    return so.rosen(x), so.rosen_der(x)


A20, B20 = quadratic()
X_STAR = np.linalg.solve(A20, B20)
A4, B4 = quadratic(dim=4, condition=10)


def quadratic4_value_grad(x):
    return 0.5 * x @ A4 @ x - B4 @ x, A4 @ x - B4


def quad_value_grad(x):
    """The quadratic as (x - x*)'A(x - x*)/2: f* = 0, so f resolves its decrease down to tiny gradients
    (x'Ax/2 - b'x carries the constant f* = -b'A^-1 b/2, whose rounding hides steps once |g| ~ 1e-7)."""
    r = x - X_STAR
    return 0.5 * r @ A20 @ r, A20 @ r


def steps(opt, closure, params, count):
    """The params after each of `count` steps."""
    out = []
    for _ in range(count):
        opt.step(closure)
        out.append(np.concatenate([p.ravel() for p in params]).astype(np.float64))
    return out


# ----------------------------------------------------------------------------- against torch.optim.LBFGS
@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(before)


def torch_problem(torch, name):
    """(f(x) on torch tensors, x0) of one of the problems the L-BFGS comparison runs on."""
    if name == "rosenbrock":
        return (lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2), [-1.2, 1.0]
    rng = np.random.default_rng(1)
    if name == "logistic":
        X, y = torch.tensor(rng.standard_normal((200, 20))), torch.tensor(np.sign(rng.standard_normal(200)))
        return (lambda w: torch.nn.functional.softplus(-y * (X @ w)).mean() + 5e-4 * (w @ w)), \
            list(rng.standard_normal(20))
    A, b = (torch.tensor(a) for a in (A20, B20))
    return (lambda w: 0.5 * w @ (A @ w) - b @ w), list(rng.standard_normal(20))


def against_torch(torch, name, n_steps, **options):
    """Both optimizers stepped n_steps times on the same problem, f and g computed by torch for both: the
    iterates of each after every step, and the two optimizers."""
    fun, x0 = torch_problem(torch, name)
    xt = torch.tensor(x0, requires_grad=True)
    reference = torch.optim.LBFGS([xt], **options)

    def torch_closure():
        reference.zero_grad()
        loss = fun(xt)
        loss.backward()
        return loss

    x = np.array(x0)
    opt = fastopt.LBFGS([x], **options)

    def closure():
        xc = torch.tensor(x, requires_grad=True)
        loss = fun(xc)
        loss.backward()
        return loss, [xc.grad.numpy()]  # a tensor that requires grad, as torch's closures return

    ours, theirs, full_steps = [x.copy()], [x.copy()], 0
    for _ in range(n_steps):
        assert opt.step(closure) == pytest.approx(reference.step(torch_closure).item(), rel=1e-8)
        ours.append(x.copy())
        theirs.append(xt.detach().numpy().copy())
        full_steps += opt.status == 1
    return np.array(ours), np.array(theirs), opt, reference.state[xt], full_steps


@pytest.mark.parametrize("name, n_steps, max_iter, max_eval", [
    ("rosenbrock", 12, 5, None), ("rosenbrock", 4, 20, None), ("rosenbrock", 10, 4, 3), ("rosenbrock", 6, 20, 12),
    ("logistic", 4, 10, None), ("quadratic", 5, 10, None)])
@pytest.mark.parametrize("history_size", [5, 100])
def test_lbfgs_strong_wolfe_matches_torch(torch, name, n_steps, max_iter, max_eval, history_size):
    ours, theirs, opt, state, _ = against_torch(torch, name, n_steps, line_search_fn="strong_wolfe",
                                                max_iter=max_iter, max_eval=max_eval, history_size=history_size)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)
    assert np.abs(ours[0] - ours[-1]).max() > 0.1  # it moved
    assert (opt.n_iter, opt.func_evals) == (state["n_iter"], state["func_evals"])


@pytest.mark.parametrize("name, lr, max_iter", [("quadratic", 1.0, 20), ("quadratic", 0.5, 7), ("rosenbrock", 0.1, 20),
                                                ("logistic", 0.3, 20)])
def test_lbfgs_fixed_step_matches_torch(torch, name, lr, max_iter):
    ours, theirs, opt, state, full_steps = against_torch(torch, name, 60 // max_iter, lr=lr, max_iter=max_iter,
                                                         history_size=10)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)
    assert np.abs(ours[0] - ours[-1]).max() > 0.1
    # torch skips the closure call of a step's last iteration, fastopt makes it: one more per full step.
    assert opt.n_iter == state["n_iter"] and full_steps > 0
    assert opt.func_evals == state["func_evals"] + full_steps


# ----------------------------------------------------------------------------- BFGS, CG and minimize
@pytest.mark.parametrize("method, scipy_method", [("bfgs", "BFGS"), ("cg", "CG"), ("lbfgs", "L-BFGS-B")])
@pytest.mark.parametrize("value_grad, x0", [(rosen_value_grad, [-1.2, 1.0]), (rosen_value_grad, [-1.2, 1.0] * 3),
                                            (quad_value_grad, np.zeros(20))])
def test_reaches_scipys_minimum(method, scipy_method, value_grad, x0):
    reference = so.minimize(value_grad, np.array(x0, float), jac=True, method=scipy_method,
                            options={"gtol": 1e-10} if scipy_method != "L-BFGS-B" else {"gtol": 1e-10, "ftol": 0})
    x = np.array(x0, float)
    opt = CLASSES[method]([x], max_iter=50, tolerance_change=0,  # the default tolerance_grad 1e-7
                          line_search_fn="strong_wolfe")
    for _ in range(40):
        opt.step(numpy_closure([x], value_grad))
        if opt.status not in (1, 5):  # a step's own iteration or evaluation limit: go on
            break
    assert opt.status == 0, opt.message
    np.testing.assert_allclose(x, reference.x, atol=1e-6)


@pytest.mark.parametrize("method, options", [
    ("bfgs", {}), ("cg", {"variant": "PR+"}), ("cg", {"variant": "FR"}), ("cg", {"variant": "HS", "restart_every": 5}),
    ("lbfgs", {"history_size": 4})])
def test_equals_minimize_across_steps(method, options):
    """k steps of max_iter iterations make the iterates of one minimize run (the state carries everything)."""
    per_step, n_steps = 3, 8
    x0 = np.array([-1.2, 1.0] * 2)
    run_options = {"variant": options["variant"]} if "variant" in options else {}
    run_options.update({k: v for k, v in options.items() if k in ("restart_every", "history_size")})
    res = fastopt.minimize(so.rosen, x0, jac=so.rosen_der, method=method, path=True,
                           options={"maxiter": per_step * n_steps, "gtol": 0, "ftol": 0, "xtol": 0, **run_options})
    x = x0.copy()
    opt = CLASSES[method]([x], max_iter=per_step, max_eval=10**6, tolerance_grad=0, tolerance_change=0,
                          line_search_fn="strong_wolfe", **options)
    ours = steps(opt, numpy_closure([x], rosen_value_grad), [x], n_steps)
    np.testing.assert_array_equal(ours, res.path[per_step::per_step])


def test_multiple_arrays_of_different_shapes_equal_one_flat_array():
    sizes, shapes = [12, 5, 3], [(3, 4), (5,), (3, 1)]
    x0 = np.random.default_rng(2).standard_normal(20)
    flat = x0.copy()
    expected = steps(fastopt.LBFGS([flat], history_size=5), numpy_closure([flat], quad_value_grad), [flat], 3)
    params = [a.reshape(s).copy() for a, s in zip(np.split(x0, np.cumsum(sizes)[:-1]), shapes)]
    grads = [np.zeros_like(p) for p in params]

    def closure():  # fills grads= in place, returns the loss only
        f, g = quad_value_grad(np.concatenate([p.ravel() for p in params]))
        for out, piece in zip(grads, np.split(g, np.cumsum(sizes)[:-1])):
            out[...] = piece.reshape(out.shape)
        return f

    got = steps(fastopt.LBFGS(params, history_size=5, grads=grads), closure, params, 3)
    np.testing.assert_array_equal(got, expected)
    assert [p.shape for p in params] == shapes


def test_float32_params_keep_their_dtype_and_converge():
    x = np.array([-1.2, 1.0], dtype=np.float32)
    seen = []

    def closure():
        seen.append(x.dtype)
        return rosen_value_grad(x.astype(np.float64))[0], [so.rosen_der(x.astype(np.float64)).astype(np.float32)]

    opt = fastopt.LBFGS([x], line_search_fn="strong_wolfe", tolerance_grad=1e-4)
    for _ in range(10):
        opt.step(closure)
    assert x.dtype == np.float32 and set(seen) == {np.dtype(np.float32)}
    np.testing.assert_allclose(x, [1, 1], atol=1e-3)
    assert all(a.dtype == np.float64 for a in opt.state_dict()["state"][0]["arrays"].values())


def test_nonfinite_trial_points_are_never_kept():
    """f is +inf outside |x| < 1.5: the fixed-step method stops (status 3) at its last finite iterate."""
    def value_grad(x):
        return (so.rosen(x), so.rosen_der(x)) if np.abs(x).max() < 1.5 else (np.inf, np.full_like(x, np.nan))

    x = np.array([-1.2, 1.0])
    opt = fastopt.LBFGS([x], lr=1.0, max_iter=50)
    for _ in range(5):
        opt.step(numpy_closure([x], value_grad))
        assert np.all(np.isfinite(x)) and np.abs(x).max() < 1.5
    assert opt.status == 3 and "NaN or Inf" in opt.message


def test_status_converged_at_the_start_costs_one_call():
    x = np.ones(2)
    opt = fastopt.BFGS([x])
    assert opt.step(numpy_closure([x], rosen_value_grad)) == 0.0
    assert (opt.status, opt.n_iter, opt.func_evals) == (0, 0, 1)
    assert "gtol" in opt.message


# ----------------------------------------------------------------------------- checkpoints and failures
def state_equal(a, b):
    sa, sb = a["state"][0], b["state"][0]
    return a["param_groups"] == b["param_groups"] and sa["scalars"].keys() == sb["scalars"].keys() and \
        all(np.array_equal(sa["arrays"][k], sb["arrays"][k]) for k in sa["arrays"]) and \
        np.array_equal(list(sa["scalars"].values()), list(sb["scalars"].values()), equal_nan=True) and \
        (sa["n_iter"], sa["func_evals"]) == (sb["n_iter"], sb["func_evals"])


@pytest.mark.parametrize("method", CLASSES)
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe", "armijo"])
def test_state_dict_resumes_exactly(method, line_search_fn):
    # Fixed steps (no line search) diverge on Rosenbrock, at a point that moves with rounding (the Debug
    # build overflowed): they run on a well-conditioned quadratic instead.
    value_grad = rosen_value_grad if line_search_fn else quadratic4_value_grad
    x = np.array([-1.2, 1.0] * 2)
    opt = CLASSES[method]([x], max_iter=3, line_search_fn=line_search_fn, lr=0.1 if line_search_fn is None else 1)
    steps(opt, numpy_closure([x], value_grad), [x], 4)
    saved, x_saved = pickle.loads(pickle.dumps(opt.state_dict())), x.copy()
    expected = steps(opt, numpy_closure([x], value_grad), [x], 5)
    assert np.all(np.isfinite(expected))
    y = x_saved.copy()
    resumed = CLASSES[method]([y], max_iter=7)  # the hyperparameters come from the state_dict
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["max_iter"] == 3
    np.testing.assert_array_equal(steps(resumed, numpy_closure([y], value_grad), [y], 5), expected)


@pytest.mark.parametrize("method", CLASSES)
@pytest.mark.parametrize("fail_at", [1, 2, 5, 9])
def test_closure_that_raises_leaves_params_and_state_untouched(method, fail_at):
    x = np.array([-1.2, 1.0] * 2)
    opt = CLASSES[method]([x], max_iter=10)
    steps(opt, numpy_closure([x], rosen_value_grad), [x], 2)
    before, x_before = opt.state_dict(), x.copy()
    calls = []

    def closure():
        calls.append(1)
        if len(calls) == fail_at:
            raise KeyError("data loader failed")
        return numpy_closure([x], rosen_value_grad)()

    with pytest.raises(KeyError, match="data loader failed"):
        opt.step(closure)
    np.testing.assert_array_equal(x, x_before)
    assert state_equal(opt.state_dict(), before) and (opt.status, opt.message) == (before["state"][0]["status"],
                                                                                  before["state"][0]["message"])
    # and it goes on as if the failed step never happened
    twin = np.array(x_before)
    reference = CLASSES[method]([twin])
    reference.load_state_dict(before)
    np.testing.assert_array_equal(steps(opt, numpy_closure([x], rosen_value_grad), [x], 2),
                                  steps(reference, numpy_closure([twin], rosen_value_grad), [twin], 2))


def test_load_state_dict_checks_the_layout():
    x = np.array([-1.2, 1.0])
    opt = fastopt.LBFGS([x], history_size=3, line_search_fn="strong_wolfe")
    steps(opt, numpy_closure([x], rosen_value_grad), [x], 1)
    good = opt.state_dict()
    with pytest.raises(ValueError, match="made by optimizer 'LBFGS', cannot load into BFGS"):
        fastopt.BFGS([x.copy()]).load_state_dict(good)
    with pytest.raises(ValueError, match="another parameter layout"):
        fastopt.LBFGS([np.zeros(3)]).load_state_dict(good)
    with pytest.raises(ValueError, match="another parameter layout"):
        fastopt.LBFGS([x.astype(np.float32)]).load_state_dict(good)

    def corrupted(edit):
        bad = pickle.loads(pickle.dumps(good))
        edit(bad["state"][0])
        target = fastopt.LBFGS([x.copy()])
        before = target.state_dict()
        with pytest.raises(ValueError) as err:
            target.load_state_dict(bad)
        assert state_equal(target.state_dict(), before)
        return str(err.value)

    assert "array 's' must be 1-D float with 0 or 8 entries" in corrupted(lambda s: s["arrays"].update(s=np.zeros(5)))
    assert "scalar 'count' must be an integer in [0, 3]" in corrupted(lambda s: s["scalars"].update(count=4.0))
    assert "scalar 'head'" in corrupted(lambda s: s["scalars"].update(head=0.5))
    assert "scalar 't' must be a finite real number" in corrupted(lambda s: s["scalars"].update(t=np.nan))
    assert "lbfgs keeps" in corrupted(lambda s: s["arrays"].pop("rho"))
    assert "holds the state of method 'bfgs'" in corrupted(lambda s: s.update(method="bfgs"))
    assert "do not fit" in corrupted(lambda s: s["scalars"].update(n=3.0))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": -1}, ValueError, "Invalid learning rate: -1"), ({"lr": "1"}, TypeError, "lr: expected a real number"),
    ({"max_iter": 0}, ValueError, "Invalid max_iter: 0"), ({"max_iter": 2.5}, ValueError, "Invalid max_iter: 2.5"),
    ({"max_eval": 0}, ValueError, "Invalid max_eval: 0"),
    ({"tolerance_grad": -1e-3}, ValueError, "Invalid tolerance_grad"),
    ({"tolerance_change": float("nan")}, ValueError, "Invalid tolerance_change: nan"),
    ({"line_search_fn": "wolfe"}, ValueError, "Invalid line_search_fn: 'wolfe'"),
    ({"history_size": 0}, ValueError, "Invalid history_size: 0")])
def test_bad_hyperparameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastopt.LBFGS([np.zeros(2)], **kwargs)


def test_bad_cg_hyperparameters():
    with pytest.raises(ValueError, match="Invalid variant: 'PR'"):
        fastopt.ConjugateGradient([np.zeros(2)], variant="PR")
    with pytest.raises(ValueError, match="Invalid restart_every: -1"):
        fastopt.ConjugateGradient([np.zeros(2)], restart_every=-1)


def test_bad_params():
    a = np.zeros(4)
    cases = [(a, TypeError, "wrap it in a list"), ([], ValueError, "empty list"),
             ([np.zeros(0)], ValueError, "hold no elements"), ([np.zeros(2, int)], TypeError, "unsupported dtype"),
             ([np.zeros((4, 4))[:, 0]], ValueError, "C-contiguous"), ([a, a], ValueError, "shares memory"),
             ([a[:3], a[2:]], ValueError, "shares memory"),
             ([{"params": [a]}, {"params": [np.ones(1)]}], ValueError, "one param group"),
             ([{"params": [a], "momentum": 0.9}], ValueError, "unknown hyperparameters")]
    read_only = np.zeros(2)
    read_only.flags.writeable = False
    cases.append(([read_only], ValueError, "read-only"))
    for params, error, match in cases:
        with pytest.raises(error, match=match):
            fastopt.LBFGS(params)
    with pytest.raises(ValueError, match=r"grads\[0\]: shape \(3,\) differs"):
        fastopt.LBFGS([a], grads=[np.zeros(3)])
    with pytest.raises(ValueError, match=r"grads\[0\]: shares memory with param '0'"):
        fastopt.LBFGS([a], grads=[a])
    with pytest.raises(TypeError, match="grads: expected a list of arrays"):
        fastopt.LBFGS([a], grads=np.zeros(4))
    with pytest.raises(ValueError, match="grads: expected a list of 1 arrays shaped like the params, got 2"):
        fastopt.LBFGS([a], grads=[np.zeros(4), np.zeros(4)])
    with pytest.raises(TypeError, match=r"grads\[0\]: expected a float32 or float64"):
        fastopt.LBFGS([a], grads=[np.zeros(4, int)])
    opt = fastopt.LBFGS([{"params": [a], "lr": 0.5}])
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["max_eval"] == 25


@pytest.mark.parametrize("returned, error, match", [
    ((1.0, [np.zeros(3)]), ValueError, r"grads\[0\] has shape \(3,\), expected \(2,\)"),
    ((1.0, np.zeros(2)), ValueError, "grads must be a list of 1 arrays"),
    ((1.0, [np.zeros(2)], 2), TypeError, "a tuple of 3"),
    (("a", [np.zeros(2)]), TypeError, "the loss must be a real number"),
    ((1.0, [np.array(["a", "b"])]), TypeError, "expected real numbers"),
    (1.0, TypeError, "no grads= arrays were given")])
def test_bad_closure_results_leave_everything_untouched(returned, error, match):
    x = np.array([-1.2, 1.0])
    opt = fastopt.LBFGS([x], line_search_fn="strong_wolfe")
    steps(opt, numpy_closure([x], rosen_value_grad), [x], 1)
    before, x_before = opt.state_dict(), x.copy()
    calls = []

    def closure():  # good for two calls, then bad: fails in the middle of a line search
        calls.append(1)
        return numpy_closure([x], rosen_value_grad)() if len(calls) < 3 else returned

    with pytest.raises(error, match=match):
        opt.step(closure)
    np.testing.assert_array_equal(x, x_before)
    assert state_equal(opt.state_dict(), before)


def test_structural_hyperparameters_cannot_change_between_steps():
    x = np.array([-1.2, 1.0])
    opt = fastopt.LBFGS([x], history_size=4)
    opt.param_groups[0]["history_size"] = 8
    with pytest.raises(ValueError, match="Invalid history_size: 8 .*built for 4"):
        opt.step(numpy_closure([x], rosen_value_grad))
    opt.param_groups[0].update(history_size=4, lr=0.01)  # the others may change (a schedule)
    opt.step(numpy_closure([x], rosen_value_grad))
    assert opt.status == 1


def test_step_or_load_from_inside_its_closure_is_refused():
    x = np.array([-1.2, 1.0])
    opt = fastopt.LBFGS([x])
    with pytest.raises(RuntimeError, match="inside its own closure"):
        opt.step(lambda: opt.step(numpy_closure([x], rosen_value_grad)))
    saved = opt.state_dict()
    with pytest.raises(RuntimeError, match="inside a step's closure"):
        opt.step(lambda: opt.load_state_dict(saved))


@pytest.mark.parametrize("method", ["lbfgs", "bfgs"])  # CG with Armijo steps crawls (see its docstring)
def test_armijo_line_search_reaches_the_minimum(method):
    x = np.array([-1.2, 1.0])
    opt = CLASSES[method]([x], line_search_fn="armijo", max_iter=100, max_eval=1000, tolerance_change=0)
    for _ in range(20):
        opt.step(numpy_closure([x], rosen_value_grad))
        if opt.status not in (1, 5):  # a step's own iteration or evaluation limit: go on
            break
    assert opt.status == 0, opt.message
    np.testing.assert_allclose(x, [1, 1], atol=1e-6)


# ------------------------------------------------------------------------------------------------ Newton
def _rosenbrock_closure(x):
    def closure():
        return so.rosen(x), [so.rosen_der(x)]

    return closure


@pytest.mark.parametrize("saddle_free", [False, True])
def test_newton_class_takes_the_steps_of_minimize(saddle_free):
    x = np.array([-1.2, 1.0])
    opt = fastopt.Newton([x], hessian=lambda: so.rosen_hess(x), max_iter=5, saddle_free=saddle_free)
    for _ in range(20):
        opt.step(_rosenbrock_closure(x))
    method = "saddle-free-newton" if saddle_free else "newton"
    res = fastopt.minimize(so.rosen, [-1.2, 1.0], jac=so.rosen_der, hess=so.rosen_hess, method=method,
                           options={"gtol": 1e-7, "xtol": 1e-9}, path=True)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(x, res.x, rtol=0, atol=1e-12)
    assert opt.n_iter == res.nit


def test_newton_class_solves_a_quadratic_in_one_iteration():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, -1.0])
    x = np.zeros(2)
    opt = fastopt.Newton([x], hessian=lambda: A, max_iter=1)
    opt.step(lambda: (0.5 * x @ A @ x - b @ x, [A @ x - b]))
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=0, atol=1e-14)


def test_newton_class_checks_the_hessian_and_its_arguments():
    x = np.array([-1.2, 1.0])
    with pytest.raises(TypeError, match="hessian: expected a callable"):
        fastopt.Newton([x], hessian=np.eye(2))
    with pytest.raises(ValueError, match="damping"):
        fastopt.Newton([x], hessian=lambda: np.eye(2), damping=0.0)
    opt = fastopt.Newton([x], hessian=lambda: np.eye(3))
    with pytest.raises(ValueError, match=r"hessian: returned shape \(3, 3\), expected \(2, 2\)"):
        opt.step(_rosenbrock_closure(x))
    np.testing.assert_array_equal(x, [-1.2, 1.0])  # the failed step left the params as they were
