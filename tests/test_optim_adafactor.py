"""Adafactor against the NumPy float64 reference (tests/reference.py) and torch 2.13's torch.optim.Adafactor on
matrices of several shapes (tall, wide, batched), vectors, every option, 50 steps; its state and bad input."""
import numpy as np
import pytest

import fastopt
import reference
from mnist_data import MNIST_DIR, needs_mnist

# wide, tall, square, a row, a column, a batch of matrices, a matrix and a vector large enough to run in parallel
SHAPES = ((32, 48), (48, 32), (7, 7), (1, 20), (20, 1), (4, 3, 5), (20,), (1,), (300, 200), (40000,))
OPTIONS = [{}, dict(weight_decay=0.1), dict(maximize=True), dict(beta2_decay=-0.5, d=2.0),
           dict(eps=(1e-3, 1e-1)), dict(lr=0.5), dict(lr=1e-3, weight_decay=0.2, maximize=True, eps=(None, 0.0))]


def problem(shapes, dtype, steps=50, seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal(s).astype(dtype) for s in shapes],
            [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)])


def run(shapes, dtype, options, steps=50):
    params0, grads = problem(shapes, dtype, steps)
    params = [p.copy() for p in params0]
    opt = fastopt.Adafactor(params, **options)
    for g in grads:
        opt.step(g)
    return params0, grads, params, opt


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_matches_the_float64_reference(options):
    params0, grads, got, _ = run(SHAPES, np.float64, options)
    ref = reference.Reference("Adafactor", params0, **options)
    for g in grads:
        ref.step(g)
    for a, b in zip(got, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_matches_torch(options, dtype):
    torch = pytest.importorskip("torch")
    params0, grads, got, ours = run(SHAPES, dtype, options)
    tensors = [torch.tensor(p, requires_grad=True) for p in params0]
    opt = torch.optim.Adafactor(tensors, foreach=False, **options)
    for g in grads:
        for t, gi in zip(tensors, g):
            t.grad = torch.tensor(gi)
        opt.step()
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    for a, t in zip(got, tensors):
        np.testing.assert_allclose(a, t.detach().numpy(), **tol)
    for i, t in enumerate(tensors):  # torch's state names and shapes
        for name in ("row_var", "col_var"):
            if name in opt.state[t]:
                np.testing.assert_allclose(ours.state[0][name][i], opt.state[t][name].numpy(), **tol)


def test_state_has_torchs_shapes_and_is_sublinear():
    opt = fastopt.Adafactor([np.ones((2, 30, 40)), np.ones(5)])
    opt.step([np.ones((2, 30, 40)), np.ones(5)])
    state = opt.state[0]
    assert [a.shape for a in state["row_var"]] == [(2, 30, 1), (5,)]
    assert [a.shape for a in state["col_var"]] == [(2, 1, 40), (0,)]


def test_one_or_two_threads_agree():
    results = []
    for threads in (1, 2):
        before = fastopt.get_num_threads()
        fastopt.set_num_threads(threads)
        try:
            results.append(run(SHAPES, np.float64, {}, steps=5)[2])
        finally:
            fastopt.set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("bad, error, words", [
    (dict(beta2_decay=0.1), ValueError, "beta2_decay"), (dict(d=0.5), ValueError, "clipping threshold"),
    (dict(eps=1e-3), ValueError, "eps"), (dict(eps=(None, None)), TypeError, "eps"),
    (dict(eps=(-1.0, 1e-3)), ValueError, "epsilon1"), (dict(lr=-1.0), ValueError, "learning rate"),
    (dict(weight_decay=float("inf")), ValueError, "weight_decay")])
def test_bad_hyperparameters_are_named(bad, error, words):
    with pytest.raises(error, match=words):
        fastopt.Adafactor([np.zeros((2, 2))], **bad)


def test_a_bad_grad_or_state_changes_nothing():
    w, b = np.ones((3, 4)), np.ones(4)
    opt = fastopt.Adafactor([w, b])
    opt.step([np.ones((3, 4)), np.ones(4)])
    before = [w.copy(), b.copy()]
    with pytest.raises(ValueError, match="grad for param '1': shape"):
        opt.step([np.ones((3, 4)), np.ones(5)])
    sd = opt.state_dict()
    sd["state"][0]["col_var"][0] = np.zeros((3, 1))
    with pytest.raises(ValueError, match="col_var"):
        opt.load_state_dict(sd)
    np.testing.assert_array_equal(w, before[0])
    np.testing.assert_array_equal(b, before[1])


@needs_mnist
def test_trains_mnist_to_97_5_percent_in_3_epochs_at_its_default_rate():
    """The issue's MNIST test for the matrix family (one per family: Adafactor, the cheapest step): MLP 784-512-256-10,
    batches of 128, the registry's rate (torch's default lr) held constant."""
    data = fastopt.datasets.load_mnist(MNIST_DIR, download_missing=False)
    model = fastopt.nn.MLP((784, 512, 256, 10), seed=0)
    opt = fastopt.optim.create("adafactor", model.params, lr=fastopt.optim.entry("adafactor").mnist_lr)
    history = fastopt.train.fit(model, opt, data.train, data.test, epochs=3, batch_size=128, seed=0, progress=False)
    assert history[-1]["test_accuracy"] >= 0.975, history["test_accuracy"]


@pytest.mark.parametrize("name", ["Adafactor", "Muon"])
def test_scalars_and_empty_arrays_match_the_reference(name):
    """A 0-d param (no shape to index: it once crashed the binding) and empty matrices beside ordinary ones."""
    shapes = ((), (0, 3), (3, 0), (2, 0, 3), (4, 3), (5,))
    params0, grads = problem(shapes, np.float64, steps=5)
    params = [p.copy() for p in params0]
    opt = getattr(fastopt, name)(params)
    ref = reference.Reference(name, params0)
    for g in grads:
        opt.step(g)
        ref.step(g)
    for a, b in zip(params, ref.params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
