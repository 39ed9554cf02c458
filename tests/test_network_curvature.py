"""Curvature operators of the MLP's loss (fastopt.curvature.hessian / ggn / fisher) against
independent references: central differences of the native gradient, per-sample gradients, and
torch.autograd double-backward where torch is installed."""
import numpy as np
import pytest

import fastopt
from fastopt.curvature import CurvatureOperator, fisher, ggn, hessian
from fastopt.nn import ACTIVATIONS, MLP


def make_problem(sizes=(5, 4, 3, 3), activation="tanh", n=11, dtype=np.float64, seed=0, **kwargs):
    """A model with random weights and biases, and a data set of n samples."""
    rng = np.random.default_rng(seed)
    model = MLP(list(sizes), activation=activation, init="xavier", seed=seed, dtype=dtype, **kwargs)
    model.flat_params[...] = rng.standard_normal(model.num_params) * 0.7
    x = rng.standard_normal((n, sizes[0]))
    y = rng.integers(0, sizes[-1], n)
    return model, x, y


def native_grad(model, x, y, params):
    """The native gradient of the mean loss at `params` (dropout off)."""
    saved = model.flat_params.copy()
    model.flat_params[...] = params
    model.forward_backward(x, y, train=False)
    grad = model.flat_grads.copy()
    model.flat_params[...] = saved
    return grad


def fd_hvp(model, x, y, v, eps=1e-5):
    """Central difference of the gradient along v: (g(p + eps v) - g(p - eps v)) / (2 eps)."""
    p = model.flat_params.copy()
    return (native_grad(model, x, y, p + eps * v) - native_grad(model, x, y, p - eps * v)) / (2 * eps)


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_hvp_matches_finite_differences_of_the_native_gradient(activation, smoothing):
    model, x, y = make_problem(activation=activation, label_smoothing=smoothing)
    v = np.random.default_rng(1).standard_normal(model.num_params)
    hv = hessian(model, x, y).matvec(v)
    assert rel_err(hv, fd_hvp(model, x, y, v)) < 1e-6


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_hessian_column_by_column_matches_finite_differences(activation):
    model, x, y = make_problem(sizes=(3, 4, 3), activation=activation, n=6)
    dense = hessian(model, x, y).to_dense()
    p = model.num_params
    reference = np.column_stack([fd_hvp(model, x, y, np.eye(p)[j]) for j in range(p)])
    assert rel_err(dense, reference) < 1e-6
    assert np.abs(dense - dense.T).max() <= 1e-12 * np.abs(dense).max()


def torch_network(model):
    """The model's function in torch float64 (same weights), and its parameter tensors in flat order."""
    import torch

    tensors = []
    for i in range(len(model.sizes) - 1):
        for name in ("weight", "bias"):
            tensors.append(torch.tensor(model.params[f"{i}.{name}"], dtype=torch.float64, requires_grad=True))
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
           "gelu": torch.nn.functional.gelu,
           "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, model.negative_slope)}[model.activation]

    def logits(x, params):
        a = x
        for i in range(0, len(params), 2):
            a = a @ params[i].T + params[i + 1]
            if i + 2 < len(params):
                a = act(a)
        return a

    return logits, tensors


def torch_flat(tensors):
    import torch
    return torch.cat([t.reshape(-1) for t in tensors]).detach().numpy()


def torch_split(v, tensors):
    import torch
    out, start = [], 0
    for t in tensors:
        out.append(torch.tensor(v[start:start + t.numel()]).reshape(t.shape))
        start += t.numel()
    return out


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_hvp_matches_torch_double_backward(activation, smoothing):
    torch = pytest.importorskip("torch")
    model, x, y = make_problem(sizes=(6, 8, 5, 4), activation=activation, n=13, label_smoothing=smoothing)
    v = np.random.default_rng(2).standard_normal(model.num_params)
    logits, params = torch_network(model)
    loss = torch.nn.functional.cross_entropy(logits(torch.tensor(x), params), torch.tensor(y),
                                             label_smoothing=smoothing)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    reference = torch_flat(torch.autograd.grad(grads, params, grad_outputs=torch_split(v, params)))
    assert rel_err(hessian(model, x, y).matvec(v), reference) < 1e-10


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_ggn_matches_jacobian_reference(activation):
    torch = pytest.importorskip("torch")
    model, x, y = make_problem(sizes=(4, 5, 3), activation=activation, n=7)
    logits, params = torch_network(model)
    flat = torch.tensor(model.flat_params.copy())

    def logits_of_flat(theta):
        return logits(torch.tensor(x), torch_split_tensor(theta, params))

    jac = torch.autograd.functional.jacobian(logits_of_flat, flat).numpy()  # (N, K, P)
    p = torch.softmax(logits_of_flat(flat), 1).detach().numpy()
    reference = sum(jac[i].T @ (np.diag(p[i]) - np.outer(p[i], p[i])) @ jac[i] for i in range(len(y))) / len(y)
    assert rel_err(ggn(model, x, y).to_dense(), reference) < 1e-10


def torch_split_tensor(theta, like):
    out, start = [], 0
    for t in like:
        out.append(theta[start:start + t.numel()].reshape(t.shape))
        start += t.numel()
    return out


def test_ggn_equals_hessian_for_a_linear_model():
    model, x, y = make_problem(sizes=(6, 4), n=9, label_smoothing=0.1)
    v = np.random.default_rng(3).standard_normal(model.num_params)
    assert rel_err(ggn(model, x, y).matvec(v), hessian(model, x, y).matvec(v)) < 1e-13
    # and not for a network with a hidden layer: the activations' curvature is what the GGN drops
    model, x, y = make_problem(sizes=(6, 5, 4), n=9)
    w = np.ones(model.num_params)
    assert rel_err(ggn(model, x, y).matvec(w), hessian(model, x, y).matvec(w)) > 1e-3


def test_true_fisher_is_the_ggn():
    model, x, y = make_problem(activation="gelu", label_smoothing=0.05)
    v = np.random.default_rng(4).standard_normal(model.num_params)
    np.testing.assert_array_equal(fisher(model, x, y, kind="true").matvec(v), ggn(model, x, y).matvec(v))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_empirical_fisher_is_the_mean_outer_product_of_per_sample_gradients(smoothing):
    model, x, y = make_problem(activation="sigmoid", n=8, label_smoothing=smoothing)
    grads = np.stack([native_grad(model, x[i:i + 1], y[i:i + 1], model.flat_params) for i in range(len(y))])
    reference = grads.T @ grads / len(y)
    assert rel_err(fisher(model, x, y, kind="empirical").to_dense(), reference) < 1e-12


def test_monte_carlo_fisher_is_seeded_and_converges_to_the_true_fisher():
    model, x, y = make_problem(activation="relu", n=10)
    v = np.random.default_rng(5).standard_normal(model.num_params)
    one = fisher(model, x, y, kind="mc", seed=7, batch_size=3).matvec(v)
    np.testing.assert_allclose(fisher(model, x, y, kind="mc", seed=7).matvec(v), one, rtol=1e-12, atol=1e-15)
    assert rel_err(fisher(model, x, y, kind="mc", seed=8).matvec(v), one) > 1e-3
    dense = fisher(model, x, y, kind="mc", seed=7).to_dense()
    assert np.linalg.eigvalsh((dense + dense.T) / 2).min() > -1e-12  # a mean of outer products: PSD
    many = fisher(model, x, y, kind="mc", seed=3, mc_samples=40000).matvec(v)
    assert rel_err(many, ggn(model, x, y).matvec(v)) < 0.03  # ~ 1 / sqrt(40000) per sample


@pytest.mark.parametrize("kind", ["hessian", "ggn", "empirical", "mc"])
def test_batches_accumulate_to_the_one_batch_product(kind):
    model, x, y = make_problem(sizes=(7, 6, 5), activation="leaky_relu", n=23)
    v = np.random.default_rng(6).standard_normal(model.num_params)
    build = {"hessian": hessian, "ggn": ggn}.get(kind, lambda *a, **k: fisher(*a, kind=kind, **k))
    whole = build(model, x, y, batch_size=23).matvec(v)
    for batch_size in (1, 5, 22):
        assert rel_err(build(model, x, y, batch_size=batch_size).matvec(v), whole) < 1e-13


def test_float32_agrees_with_float64():
    model64, x, y = make_problem(sizes=(20, 16, 10), activation="gelu", n=50)
    model32 = MLP(model64.sizes, activation="gelu", dtype=np.float32)
    model32.flat_params[...] = model64.flat_params
    v = np.random.default_rng(7).standard_normal(model64.num_params)
    h32 = hessian(model32, x, y).matvec(v.astype(np.float32))
    assert h32.dtype == np.float32
    assert rel_err(h32, hessian(model64, x, y).matvec(v)) < 1e-4


def test_dropout_is_off():
    model, x, y = make_problem(dropout=0.5)
    plain = MLP(model.sizes, activation=model.activation, dtype=np.float64)
    plain.flat_params[...] = model.flat_params
    v = np.random.default_rng(8).standard_normal(model.num_params)
    np.testing.assert_array_equal(hessian(model, x, y).matvec(v), hessian(plain, x, y).matvec(v))


def test_thread_counts_agree(num_threads):
    model, x, y = make_problem(sizes=(30, 64, 10), n=400)
    v = np.random.default_rng(9).standard_normal(model.num_params)
    num_threads(1)
    serial = hessian(model, x, y).matvec(v)
    num_threads(2)
    assert rel_err(hessian(model, x, y).matvec(v), serial) < 1e-13


def test_operator_follows_the_model_and_works_with_scipy():
    sla = pytest.importorskip("scipy.sparse.linalg")
    model, x, y = make_problem(sizes=(4, 6, 3), n=12)
    op = hessian(model, x, y, batch_size=5)
    assert isinstance(op, CurvatureOperator) and op.shape == (model.num_params,) * 2 and op.dtype == np.float64
    dense = op.to_dense()
    top = sla.eigsh(op.as_linear_operator(), k=3, which="LA", return_eigenvectors=False)
    np.testing.assert_allclose(np.sort(top), np.linalg.eigvalsh((dense + dense.T) / 2)[-3:], rtol=1e-8)
    v = np.ones(model.num_params, dtype=np.float32)  # the LinearOperator casts what scipy hands it
    np.testing.assert_allclose(op.as_linear_operator() @ v, dense @ v.astype(np.float64), rtol=1e-10)
    model.flat_params *= 0.5
    assert rel_err(op.to_dense(), dense) > 1e-3


def test_bad_input_raises_and_modifies_nothing():
    model, x, y = make_problem()
    params = model.flat_params.copy()
    op = hessian(model, x, y)
    v = np.ones(model.num_params)
    with pytest.raises(TypeError, match=r"v: expected a numpy array of float64.*got float32"):
        op.matvec(v.astype(np.float32))
    with pytest.raises(TypeError, match="v: expected a numpy array of float64.*got list"):
        op.matvec(list(v))
    with pytest.raises(ValueError, match=rf"v: expected shape \({model.num_params},\)"):
        op.matvec(v[:-1])
    bad = v.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="v: contains a non-finite value .* at index 3"):
        op.matvec(bad)
    assert np.isnan(bad[3]) and np.count_nonzero(bad == 1) == v.size - 1
    model.flat_params[5] = np.inf
    with pytest.raises(ValueError, match="model: parameter 5 is not finite"):
        op.matvec(v)
    model.flat_params[5] = params[5]
    np.testing.assert_array_equal(model.flat_params, params)
    np.testing.assert_array_equal(v, np.ones(model.num_params))
    with pytest.raises(ValueError, match="x: empty data set"):
        hessian(model, x[:0], y[:0])
    with pytest.raises(ValueError, match="x, y: the curvature of the loss needs data"):
        ggn(model, None, None)
    with pytest.raises(ValueError, match=r"y: expected shape \(11,\)"):
        ggn(model, x, y[:-1])
    with pytest.raises(ValueError, match=r"y: labels must be in \[0, 3\)"):
        ggn(model, x, y + 3)
    x_nan = x.copy()
    x_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="x: contains a non-finite value"):
        hessian(model, x_nan, y)
    with pytest.raises(ValueError, match=r"x: expected shape \(n, 5\)"):
        hessian(model, x[:, :4], y)
    with pytest.raises(TypeError, match="model: expected a fastopt.nn.MLP"):
        hessian("model", x, y)
    with pytest.raises(ValueError, match="batch_size: expected an int >= 1"):
        hessian(model, x, y, batch_size=0)
    with pytest.raises(ValueError, match="kind: expected one of 'empirical', 'true', 'mc'"):
        fisher(model, x, y, kind="exact")
    with pytest.raises(ValueError, match="mc_samples: expected an int >= 1"):
        fisher(model, x, y, kind="mc", mc_samples=0)
    with pytest.raises(ValueError, match=f"to_dense: the model has {model.num_params} parameters, above max_params=10"):
        op.to_dense(max_params=10)
    np.testing.assert_array_equal(model.flat_params, params)


def test_exported_from_fastopt_curvature():
    assert fastopt.curvature.hessian is hessian and fastopt.curvature.fisher is fisher
