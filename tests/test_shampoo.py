"""Shampoo: native inverse roots (eigen vs coupled Newton), the optimizer against a NumPy float64
reference over many steps and every option, its reduction to the grafted method, training, exact
resume, non-finite gradients and bad hyperparameters."""
import numpy as np
import pytest

import fastopt
from fastopt import _core
from fastopt.train import fit
from shampoo_reference import ShampooReference, inverse_root


def spd(n, condition, seed):
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return (q * np.geomspace(1.0, 1.0 / condition, n)) @ q.T


@pytest.mark.parametrize("condition", [1.0, 1e2, 1e4, 1e6])
@pytest.mark.parametrize("n, root", [(1, 4), (7, 4), (40, 4), (40, 2), (12, 6)])
def test_roots_by_eigen_and_newton_agree(n, root, condition):
    mats = [spd(n, condition, seed=n + root)]
    eigen, newton = [np.empty((n, n))], [np.empty((n, n))]
    (ok_e, _, _, _), = _core.shampoo.inverse_roots(mats, eigen, root, 0.0, "eigen")
    (ok_n, iterations, residual, fell_back), = _core.shampoo.inverse_roots(mats, newton, root, 0.0, "newton")
    assert ok_e and ok_n and residual <= 1e-10 and iterations < 100 and not fell_back
    scale = np.linalg.norm(eigen[0])
    assert np.linalg.norm(newton[0] - eigen[0]) <= 1e-5 * scale
    np.testing.assert_allclose(eigen[0], inverse_root(mats[0], root, 0.0), rtol=0, atol=1e-9 * scale)
    # the definition: X^root (A) = I
    np.testing.assert_allclose(np.linalg.matrix_power(newton[0], root) @ mats[0], np.eye(n), atol=1e-5)


def test_roots_of_a_singular_matrix_use_epsilon_and_float32_works():
    g = np.random.default_rng(0).standard_normal((5, 2))
    a = g @ g.T  # rank 2
    for dtype in (np.float64, np.float32):
        out = [np.empty((5, 5), dtype)]
        for method in ("eigen", "newton"):
            (ok, _, _, fell_back), = _core.shampoo.inverse_roots([a.astype(dtype)], out, 4, 1e-3, method)
            assert ok and not fell_back
            np.testing.assert_allclose(out[0], inverse_root(a, 4, 1e-3), rtol=2e-4 if dtype == np.float32 else 1e-7,
                                       atol=1e-4)


def test_newton_falls_back_to_eigen_where_rounding_made_the_matrix_indefinite():
    a = np.diag([1.0, 0.5, -1e-9])  # float32 statistics with a tiny epsilon look like this
    newton, eigen = [np.empty((3, 3))], [np.empty((3, 3))]
    (ok, _, _, fell_back), = _core.shampoo.inverse_roots([a], newton, 4, 1e-12, "newton")
    _core.shampoo.inverse_roots([a], eigen, 4, 1e-12, "eigen")
    assert ok and fell_back
    np.testing.assert_array_equal(newton[0], eigen[0])
    np.testing.assert_allclose(eigen[0], inverse_root(a, 4, 1e-12))


def test_a_non_finite_matrix_reports_and_leaves_its_root():
    out = [np.full((3, 3), 7.0), np.empty((2, 2))]
    bad = np.eye(3)
    bad[0, 1] = bad[1, 0] = np.nan
    reports = _core.shampoo.inverse_roots([bad, np.eye(2)], out, 4, 0.0, "eigen")
    assert [r[0] for r in reports] == [False, True]
    np.testing.assert_array_equal(out[0], 7.0)
    np.testing.assert_allclose(out[1], np.eye(2))


def test_the_native_pieces_against_numpy():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((m, n)) for m, n in ((3, 5), (70, 40))]
    left = [np.eye(m) for m, _ in ((3, 5), (70, 40))]
    right = [np.eye(n) for _, n in ((3, 5), (70, 40))]
    _core.shampoo.update_statistics(grads, left, right, 0.3, 0.5)
    for g, l, r in zip(grads, left, right):
        np.testing.assert_allclose(l, 0.5 * np.eye(len(l)) + 0.3 * g @ g.T, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r, 0.5 * np.eye(len(r)) + 0.3 * g.T @ g, rtol=1e-12, atol=1e-12)
    for ta in (False, True):
        for tb in (False, True):
            out = [np.empty_like(g) for g in grads]
            _core.shampoo.sandwich(left, grads, right, out, ta, tb)
            for o, g, l, r in zip(out, grads, left, right):
                np.testing.assert_allclose(o, (l.T if ta else l) @ g @ (r.T if tb else r), rtol=1e-10, atol=1e-9)


def test_the_native_functions_reject_bad_arrays():
    g = [np.ones((3, 4))]
    with pytest.raises(ValueError, match=r"left\[0\]: expected shape \(3, 3\), got \(4, 4\)"):
        _core.shampoo.update_statistics(g, [np.eye(4)], [np.eye(4)], 1.0, 1.0)
    with pytest.raises(TypeError, match=r"right\[0\]: expected a float64 array"):
        _core.shampoo.update_statistics(g, [np.eye(3)], [np.eye(4, dtype=np.float32)], 1.0, 1.0)
    with pytest.raises(ValueError, match="method: expected 'eigen' or 'newton'"):
        _core.shampoo.inverse_roots([np.eye(2)], [np.eye(2)], 4, 0.0, "cholesky")
    with pytest.raises(ValueError, match="must not share memory"):
        _core.shampoo.sandwich([np.eye(3)], g, [np.eye(4)], g, False, False)


# ---------------------------------------------------------------------------------------------- the optimizer
LAYERS = [6, 7, 3]


def gradients(model, steps, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    return [[scale * rng.standard_normal(a.shape) for a in model.params.values()] for _ in range(steps)]


def layer_pairs(arrays):
    return [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]


def run(opt_kwargs, steps=24, dtype=np.float64):
    model = fastopt.nn.MLP(LAYERS, seed=1, dtype=dtype)
    opt = fastopt.Shampoo(model, **opt_kwargs)
    ref = ShampooReference(layer_pairs([p.copy() for p in model.params.values()]), **opt_kwargs)
    for grads in gradients(model, steps):
        opt.step([g.astype(dtype) for g in grads])
        ref.step(layer_pairs(grads))
    return model, opt, ref


CASES = {
    "defaults": dict(epsilon=1e-6),
    "no grafting, sums": dict(lr=0.01, grafting="none", betas=(0.0, 1.0), epsilon=1e-4),
    "sgd grafting, momentum, decay": dict(lr=0.05, grafting="sgd", momentum=0.7, weight_decay=0.01, epsilon=1e-6),
    "blocked": dict(max_preconditioner_dim=3, epsilon=1e-6),
    "beta2 and frequencies": dict(betas=(0.5, 0.9), precondition_frequency=3, start_preconditioning_step=5,
                                  epsilon=1e-6),
    "newton roots": dict(root_method="newton", precondition_frequency=2, epsilon=1e-4, max_preconditioner_dim=4),
    "no bias correction": dict(use_bias_correction=False, betas=(0.8, 0.95), grafting_beta2=0.9,
                               grafting_epsilon=1e-3, epsilon=1e-5),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_the_numpy_reference_over_many_steps(case):
    model, opt, ref = run(CASES[case])
    mats = [np.concatenate([w, b[:, None]], axis=1) for w, b in layer_pairs(list(model.params.values()))]
    for got, want in zip(mats, ref.net.params):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
    assert opt.step_count == 24 and opt.root_updates == len([t for t in range(1, 25) if t >= ref.h["start"] and
                                                            (t - ref.h["start"]) % ref.h["freq"] == 0])


def test_float32_follows_the_reference_closely():
    model, _, ref = run(dict(epsilon=1e-4, max_preconditioner_dim=4), steps=10, dtype=np.float32)
    mats = [np.concatenate([w, b[:, None]], axis=1) for w, b in layer_pairs(list(model.params.values()))]
    for got, want in zip(mats, ref.net.params):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("grafting, first_order", [
    ("sgd", lambda p: fastopt.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("none", lambda p: fastopt.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.01)),
])
def test_unpreconditioned_it_is_exactly_sgd(grafting, first_order):
    steps = 12
    model = fastopt.nn.MLP(LAYERS, seed=1, dtype=np.float64)
    twin = fastopt.nn.MLP(LAYERS, seed=1, dtype=np.float64)
    opt = fastopt.Shampoo(model, lr=0.05, betas=(0.0, 1.0), momentum=0.9, weight_decay=0.01, grafting=grafting,
                          start_preconditioning_step=steps + 1)
    sgd = first_order(twin.params)
    for grads in gradients(model, steps):
        opt.step(grads)
        sgd.step(grads)
    np.testing.assert_array_equal(model.flat_params, twin.flat_params)
    assert opt.root_updates == 0


def test_unpreconditioned_adam_grafting_is_adam():
    steps = 12
    model = fastopt.nn.MLP(LAYERS, seed=1, dtype=np.float64)
    twin = fastopt.nn.MLP(LAYERS, seed=1, dtype=np.float64)
    opt = fastopt.Shampoo(model, lr=0.01, betas=(0.9, 1.0), grafting_beta2=0.99, grafting_epsilon=1e-6,
                          start_preconditioning_step=steps + 1)
    adam = fastopt.Adam(twin.params, lr=0.01, betas=(0.9, 0.99), eps=1e-6)
    for grads in gradients(model, steps):
        opt.step(grads)
        adam.step(grads)
    np.testing.assert_allclose(model.flat_params, twin.flat_params, rtol=1e-13, atol=1e-15)


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    return x, np.argmax(x @ rng.standard_normal((8, 4)), axis=1)


@pytest.mark.parametrize("kwargs", [dict(), dict(root_method="newton", max_preconditioner_dim=5, grafting="sgd", lr=0.5)])
def test_trains_a_linearly_separable_problem(kwargs):
    data = blobs()
    model = fastopt.nn.MLP([8, 4], seed=0)  # the classes are linear in x: a linear model separates them
    history = fit(model, fastopt.Shampoo(model, **{"lr": 0.05, "precondition_frequency": 5, **kwargs}), data,
                  epochs=15, batch_size=50, progress=False)
    assert history[-1]["train_accuracy"] >= 0.97 and history[-1]["train_loss"] < 0.3 * history[0]["train_loss"]


def test_resumes_bit_identically_mid_run():
    kwargs = dict(precondition_frequency=3, max_preconditioner_dim=4, momentum=0.5, weight_decay=1e-3)
    model = fastopt.nn.MLP(LAYERS, seed=1)
    opt = fastopt.Shampoo(model, **kwargs)
    grads = gradients(model, 14, scale=0.1)
    for g in grads[:7]:
        opt.step([a.astype(np.float32) for a in g])
    saved, saved_params = opt.state_dict(), model.flat_params.copy()
    for g in grads[7:]:
        opt.step([a.astype(np.float32) for a in g])
    again = fastopt.nn.MLP(LAYERS, seed=2)
    again.flat_params[:] = saved_params
    resumed = fastopt.Shampoo(again, **kwargs)
    resumed.load_state_dict(saved)
    for g in grads[7:]:
        resumed.step([a.astype(np.float32) for a in g])
    np.testing.assert_array_equal(again.flat_params, model.flat_params)
    for name, arrays in opt.state.items():
        for a, b in zip(arrays, resumed.state[name]):
            np.testing.assert_array_equal(a, b)
    assert resumed.root_updates == opt.root_updates and resumed.step_count == 14


def test_a_nan_gradient_is_skipped_and_nothing_changes():
    model = fastopt.nn.MLP(LAYERS, seed=1)
    opt = fastopt.Shampoo(model, momentum=0.9)
    grads = gradients(model, 3)
    for g in grads[:2]:
        opt.step([a.astype(np.float32) for a in g])
    before, params = opt.state_dict(), model.flat_params.copy()
    bad = [a.astype(np.float32) for a in grads[2]]
    bad[0][1, 2] = np.nan
    with pytest.warns(RuntimeWarning, match="Shampoo: step 3 skipped: the gradient holds a NaN"):
        opt.step(bad)
    after = opt.state_dict()
    np.testing.assert_array_equal(model.flat_params, params)
    assert after["state"]["step"] == 2 and after["state"]["skipped_steps"] == 1
    for name in opt.state:
        for a, b in zip(before["state"][name], after["state"][name]):
            np.testing.assert_array_equal(a, b)


def test_overflowing_statistics_keep_the_previous_roots():
    model = fastopt.nn.MLP([3, 2], seed=1)
    opt = fastopt.Shampoo(model, grafting="sgd")
    opt.step([np.ones((2, 3), np.float32), np.ones(2, np.float32)])
    roots = [r.copy() for r in opt.state["L_root"]]
    with pytest.warns(RuntimeWarning):  # 1e30^2 overflows float32: the roots fail, the direction is not finite
        opt.step([np.full((2, 3), 1e30, np.float32), np.ones(2, np.float32)])
    np.testing.assert_array_equal(opt.state["L_root"][0], roots[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(betas=(0.9,)), "Invalid betas: (0.9,)"),
    (dict(betas=(1.0, 1.0)), "Invalid beta at index 0 of betas: 1.0"),
    (dict(betas=(0.9, 1.5)), "Invalid beta at index 1 of betas: 1.5"),
    (dict(epsilon=0.0), "Invalid epsilon: 0.0"),
    (dict(max_preconditioner_dim=0), "Invalid max_preconditioner_dim: 0"),
    (dict(precondition_frequency=2.5), "Invalid precondition_frequency: 2.5"),
    (dict(start_preconditioning_step=0), "Invalid start_preconditioning_step: 0 (must be -1 or an integer >= 1)"),
    (dict(root_method="cholesky"), "Invalid root_method: 'cholesky'"),
    (dict(grafting="adagrad"), "Invalid grafting: 'adagrad'"),
    (dict(grafting_beta2=1.0), "Invalid grafting_beta2: 1.0"),
    (dict(grafting_epsilon=-1e-8), "Invalid grafting_epsilon: -1e-08"),
    (dict(momentum=1.5), "Invalid momentum: 1.5"),
    (dict(use_bias_correction="yes"), "Invalid use_bias_correction: 'yes'"),
])
def test_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError) as e:
        fastopt.Shampoo(fastopt.nn.MLP(LAYERS, seed=0), **kwargs)
    assert message in str(e.value)


def test_rejects_a_changed_block_size_and_params_instead_of_a_model():
    model = fastopt.nn.MLP(LAYERS, seed=0)
    opt = fastopt.Shampoo(model)
    state = opt.state_dict()
    state["param_groups"][0]["max_preconditioner_dim"] = 3
    with pytest.raises(ValueError, match="max_preconditioner_dim: fixed when the optimizer is built"):
        opt.load_state_dict(state)
    with pytest.raises(TypeError, match="model: expected a fastopt.nn.MLP"):
        fastopt.Shampoo(model.params)


def test_registered_and_built_by_name():
    model = fastopt.nn.MLP(LAYERS, seed=0)
    opt = fastopt.optim.create("shampoo", model, lr=0.1)
    assert isinstance(opt, fastopt.Shampoo) and opt.param_groups[0]["lr"] == 0.1
    assert fastopt.optim.entry("shampoo").takes_model
