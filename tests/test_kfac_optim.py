"""EKFAC's rescaled diagonal and the natural gradient against dense NumPy; every curvature optimizer trains a
small problem, resumes bit-identically from its state_dict, skips a non-finite step without changing anything
and rejects bad hyperparameters."""
import numpy as np
import pytest

import fastopt
from kfac_reference import layer_statistics, projected_squares, running_average

SIZES = [6, 5, 4, 3]
OPTIMIZERS = {
    "kfac_eigen": lambda m: fastopt.KFAC(m, lr=0.1, inv_update_steps=3),
    "kfac_inverse_true": lambda m: fastopt.KFAC(m, lr=0.1, compute_method="inverse", fisher="true", seed=4,
                                                factor_update_steps=2, inv_update_steps=3),
    "kfac_factored": lambda m: fastopt.KFAC(m, lr=0.1, factored_damping=True, weight_decay=1e-3),
    "ekfac": lambda m: fastopt.EKFAC(m, lr=0.1, damping=0.1, inv_update_steps=3, scale_update_steps=2,
                                     fisher="true"),
    "ngd": lambda m: fastopt.NaturalGradient(m, lr=0.2, momentum=0.5, damping=0.3),
}


def separable(n=240, seed=0):
    """Three classes split by the argmax of a linear map: a problem every method must solve."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, SIZES[0]))
    return x, np.argmax(x @ rng.standard_normal((SIZES[0], SIZES[-1])), axis=1)


def run(opt, x, y, steps, batch=40, start=0):
    model = opt.model
    for t in range(start, start + steps):
        i = (t * batch) % len(x)
        model.forward_backward(x[i:i + batch], y[i:i + batch], capture=opt.next_capture())
        opt.step(model.grads)


# ---------------------------------------------------------------------------------------------- EKFAC
def test_ekfac_scale_is_the_running_average_of_per_example_squared_projections():
    model = fastopt.nn.MLP(SIZES, dtype=np.float64)
    opt = fastopt.EKFAC(model, lr=0.05, factor_decay=0.7, inv_update_steps=100)
    x, y = separable(60)
    seen = []
    for t in range(4):
        xb, yb = x[15 * t:15 * (t + 1)], y[15 * t:15 * (t + 1)]
        model.forward_backward(xb, yb, capture=opt.next_capture())
        seen.append(layer_statistics(model, xb, yb)[0])
        opt.step(model.grads)
    for layer in range(len(SIZES) - 1):  # the basis of step 1 throughout
        qa, qg = opt.state["QA"][layer], opt.state["QG"][layer]
        expected = running_average([projected_squares(*s[layer], qa, qg) for s in seen], 0.7)
        np.testing.assert_allclose(opt.state["scale"][layer], expected, rtol=1e-12, atol=1e-14)


def test_ekfac_restarts_its_scale_with_a_new_basis():
    model = fastopt.nn.MLP(SIZES, dtype=np.float64)
    opt = fastopt.EKFAC(model, lr=0.05, inv_update_steps=2)
    x, y = separable(60)
    for t in range(3):  # step 3 recomputes the basis: the scale is then that step's batch alone
        xb, yb = x[15 * t:15 * (t + 1)], y[15 * t:15 * (t + 1)]
        model.forward_backward(xb, yb, capture=opt.next_capture())
        last = layer_statistics(model, xb, yb)[0]
        opt.step(model.grads)
    for layer in range(len(SIZES) - 1):
        expected = projected_squares(*last[layer], opt.state["QA"][layer], opt.state["QG"][layer])
        np.testing.assert_allclose(opt.state["scale"][layer], expected, rtol=1e-12, atol=1e-14)


def test_ekfac_restarts_from_kfacs_eigenvalues():
    """Right after a decomposition (before its next scale update) the scale is K-FAC's d_G d_A^T."""
    model = fastopt.nn.MLP(SIZES, dtype=np.float64)
    opt = fastopt.EKFAC(model, lr=0.05)
    x, y = separable(30)
    model.forward_backward(x, y, capture=opt.next_capture())
    opt.step(model.grads)
    opt._decompose(opt.param_groups[0])  # the restart: K-FAC's eigenvalues in the new basis
    for layer, s in enumerate(opt.state["scale"]):
        np.testing.assert_array_equal(s, np.outer(opt.state["dG"][layer], opt.state["dA"][layer]))


# ---------------------------------------------------------------------------------------------- natural gradient
@pytest.mark.parametrize("kind", ["true", "empirical"])
def test_natural_gradient_solves_the_damped_dense_fisher(kind):
    model = fastopt.nn.MLP(SIZES, dtype=np.float64)
    x, y = separable(30)
    damping = 0.05
    opt = fastopt.NaturalGradient(model, lr=1.0, damping=damping, cg_tol=1e-10, cg_max_iter=500, fisher=kind)
    before = model.flat_params.copy()
    model.forward_backward(x, y, capture=opt.next_capture())
    grad = model.flat_grads.copy()
    dense = fastopt.curvature.fisher(model, x, y, kind=kind).to_dense()
    expected = np.linalg.solve(dense + damping * np.eye(len(dense)), grad)
    opt.step(model.grads)
    np.testing.assert_allclose(before - model.flat_params, expected, rtol=1e-7, atol=1e-9)
    assert opt.last_cg[1] <= 1e-10


# ---------------------------------------------------------------------------------------------- training
@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trains_a_separable_problem(name, dtype):
    model = fastopt.nn.MLP(SIZES, dtype=dtype, seed=1)
    x, y = separable()
    loss0, _ = model.evaluate(x, y)
    run(OPTIMIZERS[name](model), x, y, steps=150)
    loss, accuracy = model.evaluate(x, y)
    assert accuracy >= 0.95 and loss < 0.15 * loss0, (loss0, loss, accuracy)


# ---------------------------------------------------------------------------------------------- resume
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_resumes_bit_identically_from_its_state_dict(name):
    x, y = separable()
    straight = OPTIMIZERS[name](fastopt.nn.MLP(SIZES, seed=2))
    run(straight, x, y, steps=11)
    first = OPTIMIZERS[name](fastopt.nn.MLP(SIZES, seed=2))
    run(first, x, y, steps=5)
    saved, params = first.state_dict(), first.model.flat_params.copy()
    run(first, x, y, steps=2, start=5)  # the saved state must be a copy, unaffected by these
    resumed = OPTIMIZERS[name](fastopt.nn.MLP(SIZES, seed=9))
    resumed.model.flat_params[...] = params
    resumed.load_state_dict(saved)
    run(resumed, x, y, steps=6, start=5)
    np.testing.assert_array_equal(resumed.model.flat_params, straight.model.flat_params)
    assert resumed.step_count == straight.step_count == 11


def test_state_dict_of_another_layout_or_class_is_refused_and_changes_nothing():
    x, y = separable()
    opt = fastopt.KFAC(fastopt.nn.MLP(SIZES))
    run(opt, x, y, steps=2)
    other = fastopt.KFAC(fastopt.nn.MLP([6, 7, 3]))
    with pytest.raises(ValueError, match="does not match"):
        other.load_state_dict(opt.state_dict())
    assert other.step_count == 0 and not other.state["A"][0].any()
    with pytest.raises(ValueError, match="made by optimizer 'KFAC', cannot load into EKFAC"):
        fastopt.EKFAC(fastopt.nn.MLP(SIZES)).load_state_dict(opt.state_dict())
    inverse = fastopt.KFAC(fastopt.nn.MLP(SIZES), compute_method="inverse")
    inverse.load_state_dict(opt.state_dict())  # the settings travel with the state
    assert inverse.param_groups[0]["compute_method"] == "eigen" and "QA" in inverse.state


# ---------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_non_finite_gradient_skips_the_step_and_changes_nothing(name):
    x, y = separable()
    opt = OPTIMIZERS[name](fastopt.nn.MLP(SIZES, dtype=np.float64))
    run(opt, x, y, steps=3)
    before, params = opt.state_dict(), opt.model.flat_params.copy()
    capture = opt.next_capture()
    opt.model.forward_backward(x[:40], y[:40], capture=capture)
    opt.model.grads["1.weight"][0, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="step 4 skipped: the gradient holds a NaN"):
        opt.step(opt.model.grads)
    np.testing.assert_array_equal(opt.model.flat_params, params)
    after = opt.state_dict()
    assert after["state"]["skipped_steps"] == 1
    after["state"]["skipped_steps"] = 0
    if capture is not None and capture.native is not None:  # counts the captures (the drawn labels' key), not steps
        assert after["state"]["capture_calls"] == before["state"]["capture_calls"] + 1
        after["state"]["capture_calls"] -= 1
    for key, value in before["state"].items():
        if isinstance(value, list):
            for a, b in zip(value, after["state"][key]):
                np.testing.assert_array_equal(a, b)
        else:
            assert after["state"][key] == value, key
    run(opt, x, y, steps=1, start=3)  # and the next good step goes on
    assert opt.step_count == 4


class NonFiniteLayer:
    """A native capture that reports layer 1 as non-finite (the network cannot make one with a finite gradient:
    an infinite activation makes the loss NaN), to test the optimizer's rule."""

    def __init__(self, native):
        self.native = native

    def first_non_finite_layer(self):
        return 1

    def __getattr__(self, name):
        return getattr(self.native, name)


def test_non_finite_captured_statistics_skip_the_step():
    model = fastopt.nn.MLP(SIZES, dtype=np.float64)
    opt = fastopt.KFAC(model)
    x, y = separable()
    model.forward_backward(x[:40], y[:40], capture=opt.next_capture())
    assert opt.capture.native.first_non_finite_layer() == -1
    opt.capture.native = NonFiniteLayer(opt.capture.native)
    params = model.flat_params.copy()
    with pytest.warns(RuntimeWarning, match="layer 1's captured statistics"):
        opt.step(model.grads)
    assert opt.step_count == 0 and opt.skipped_steps == 1 and not opt.state["A"][0].any()
    np.testing.assert_array_equal(model.flat_params, params)


def test_a_step_without_its_capture_is_refused():
    model = fastopt.nn.MLP(SIZES)
    opt = fastopt.KFAC(model)
    x, y = separable()
    model.forward_backward(x, y)
    params = model.flat_params.copy()
    with pytest.raises(ValueError, match="needs the layer statistics"):
        opt.step(model.grads)
    np.testing.assert_array_equal(model.flat_params, params)
    assert opt.step_count == 0


@pytest.mark.parametrize("cls, kwargs, message", [
    (fastopt.KFAC, {"lr": -1.0}, "Invalid learning rate: -1.0"),
    (fastopt.KFAC, {"momentum": 1.5}, "Invalid momentum: 1.5"),
    (fastopt.KFAC, {"weight_decay": -0.1}, "Invalid weight_decay: -0.1"),
    (fastopt.KFAC, {"damping": 0.0}, "Invalid damping: 0.0"),
    (fastopt.KFAC, {"factor_decay": 1.0}, "Invalid factor_decay: 1.0"),
    (fastopt.KFAC, {"factor_update_steps": 0}, "Invalid factor_update_steps: 0"),
    (fastopt.KFAC, {"inv_update_steps": 2.5}, "Invalid inv_update_steps: 2.5"),
    (fastopt.KFAC, {"compute_method": "cholesky"}, "Invalid compute_method: 'cholesky'"),
    (fastopt.KFAC, {"kl_clip": float("nan")}, "Invalid kl_clip: nan"),
    (fastopt.KFAC, {"fisher": "mc"}, "Invalid fisher: 'mc'"),
    (fastopt.KFAC, {"factored_damping": "yes"}, "Invalid factored_damping: 'yes'"),
    (fastopt.KFAC, {"seed": -1}, "Invalid seed: -1"),
    (fastopt.EKFAC, {"scale_update_steps": 0}, "Invalid scale_update_steps: 0"),
    (fastopt.NaturalGradient, {"damping": -1.0}, "Invalid damping: -1.0"),
    (fastopt.NaturalGradient, {"cg_tol": 0.0}, "Invalid cg_tol: 0.0"),
    (fastopt.NaturalGradient, {"cg_max_iter": 0}, "Invalid cg_max_iter: 0"),
])
def test_invalid_hyperparameters_are_rejected(cls, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        cls(fastopt.nn.MLP(SIZES), **kwargs)


def test_a_bad_hyperparameter_set_later_is_refused_before_the_step():
    model = fastopt.nn.MLP(SIZES)
    opt = fastopt.KFAC(model)
    x, y = separable()
    model.forward_backward(x, y, capture=opt.next_capture())
    opt.param_groups[0]["damping"] = -1.0
    params = model.flat_params.copy()
    with pytest.raises(ValueError, match="Invalid damping"):
        opt.step(model.grads)
    np.testing.assert_array_equal(model.flat_params, params)


def test_the_model_not_its_params():
    model = fastopt.nn.MLP(SIZES)
    with pytest.raises(TypeError, match="take the model, not its params"):
        fastopt.KFAC(model.params)


def test_an_overflowing_preconditioned_gradient_skips_the_step():
    model = fastopt.nn.MLP(SIZES)  # float32: a tiny damping overflows the direction in flat directions
    opt = fastopt.KFAC(model, kl_clip=0.0, damping=1e-300)
    x, y = separable()
    model.forward_backward(x[:40], y[:40], capture=opt.next_capture())
    params = model.flat_params.copy()
    with pytest.warns(RuntimeWarning, match="the preconditioned gradient holds a NaN or an infinity"):
        opt.step(model.grads)
    np.testing.assert_array_equal(model.flat_params, params)
    assert opt.step_count == 0 and opt.skipped_steps == 1
