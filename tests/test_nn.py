"""fastopt.nn.MLP against an independent NumPy float64 network, finite differences and PyTorch."""
import math
import os

import numpy as np
import pytest

import fastopt
from fastopt.nn import ACTIVATIONS, MLP

erf = np.vectorize(math.erf)
SLOPE = 0.05  # leaky_relu's negative slope in these tests (not the default, so it is really passed)


# ---------------------------------------------------------------- independent NumPy reference
def act_value(name, z):
    return {"relu": lambda: np.maximum(z, 0.0), "leaky_relu": lambda: np.where(z > 0, z, SLOPE * z),
            "tanh": lambda: np.tanh(z), "sigmoid": lambda: 1.0 / (1.0 + np.exp(-z)),
            "gelu": lambda: 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))}[name]()


def act_slope(name, z):
    s = 1.0 / (1.0 + np.exp(-z))
    return {"relu": lambda: (z > 0).astype(float), "leaky_relu": lambda: np.where(z > 0, 1.0, SLOPE),
            "tanh": lambda: 1.0 - np.tanh(z) ** 2, "sigmoid": lambda: s * (1.0 - s),
            "gelu": lambda: 0.5 * (1.0 + erf(z / np.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)}[name]()


def reference(weights, biases, x, y, activation, smoothing=0.0):
    """Float64 forward and backward of the network: (mean loss, [dW], [db], logits)."""
    x = x.astype(np.float64)
    inputs, zs, h = [], [], x
    for i, (w, b) in enumerate(zip(weights, biases)):
        inputs.append(h)
        z = h @ w.T.astype(np.float64) + b
        zs.append(z)
        h = act_value(activation, z) if i < len(weights) - 1 else z
    logits = h
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    k = logits.shape[1]
    q = np.full_like(logp, smoothing / k)
    q[np.arange(len(y)), y] += 1.0 - smoothing
    loss = -(q * logp).sum(axis=1).mean()
    dz = (np.exp(logp) - q) / len(y)
    dws, dbs = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        dws[i], dbs[i] = dz.T @ inputs[i], dz.sum(axis=0)
        if i > 0:
            dz = (dz @ weights[i].astype(np.float64)) * act_slope(activation, zs[i - 1])
    return loss, dws, dbs, logits


def layer_arrays(model, source):
    n = len(model.sizes) - 1
    return [source[f"{i}.weight"] for i in range(n)], [source[f"{i}.bias"] for i in range(n)]


def make(sizes=(6, 9, 7, 4), activation="tanh", dtype=np.float64, seed=0, **kw):
    model = MLP(list(sizes), activation=activation, dtype=dtype, seed=seed, negative_slope=SLOPE, **kw)
    rng = np.random.default_rng(seed + 100)
    for b in layer_arrays(model, model.params)[1]:
        b[...] = rng.normal(0.0, 0.1, b.shape)  # non-zero biases so the bias paths are exercised
    return model


def batch(model, n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, model.sizes[0])), rng.integers(0, model.sizes[-1], n)


# ---------------------------------------------------------------- correctness
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_matches_numpy_reference(activation, smoothing):
    model = make(activation=activation, label_smoothing=smoothing)
    x, y = batch(model, 13)
    loss = model.forward_backward(x, y)
    ref_loss, dws, dbs, logits = reference(*layer_arrays(model, model.params), x, y, activation, smoothing)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for got, want in zip(layer_arrays(model, model.grads)[0] + layer_arrays(model, model.grads)[1], dws + dbs):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(model.forward(x), logits, rtol=1e-12, atol=1e-13)
    proba = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(model.predict_proba(x), proba / proba.sum(1, keepdims=True), rtol=1e-12, atol=1e-15)
    assert model.evaluate(x, y) == pytest.approx((ref_loss, np.mean(logits.argmax(1) == y)), rel=1e-12)


@pytest.mark.parametrize("n", [1, 3, 300])
def test_threaded_path_matches_reference_in_float32(n):
    """Big enough to run threaded (with idle threads for n < threads); float32 within float32
    rounding of the float64 reference."""
    model = make(sizes=(784, 64, 32, 10), activation="relu", dtype=np.float32)
    x, y = batch(model, n)
    loss = model.forward_backward(x, y)
    weights, biases = layer_arrays(model, model.params)
    ref_loss, dws, dbs, _ = reference([w.astype(np.float64) for w in weights], biases, x.astype(np.float32), y, "relu")
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    for got, want in zip(layer_arrays(model, model.grads)[0] + layer_arrays(model, model.grads)[1], dws + dbs):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-6 * np.abs(want).max())


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_gradient_matches_finite_differences(activation, smoothing):
    model = make(sizes=(5, 7, 6, 4), activation=activation, label_smoothing=smoothing)
    x, y = batch(model, 8)
    model.forward_backward(x, y)
    analytic = model.flat_grads.copy()
    numeric = np.empty_like(analytic)
    h = 1e-6
    for i in range(model.num_params):
        saved = model.flat_params[i]
        model.flat_params[i] = saved + h
        up = model.evaluate(x, y)[0]
        model.flat_params[i] = saved - h
        down = model.evaluate(x, y)[0]
        model.flat_params[i] = saved
        numeric[i] = (up - down) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_dropout_gradient_matches_finite_differences():
    """With the mask counter held fixed the training loss is a smooth function of the parameters;
    its gradient checks that backward reuses exactly the forward's mask."""
    model = make(sizes=(5, 12, 10, 3), activation="sigmoid", dropout=0.4)
    x, y = batch(model, 6)
    def train_loss():
        model.dropout_calls = 7
        return model.forward_backward(x, y)

    train_loss()
    analytic = model.flat_grads.copy()
    assert train_loss() != pytest.approx(model.evaluate(x, y)[0])  # dropout really acts in training
    h = 1e-6
    for i in range(model.num_params):
        saved = model.flat_params[i]
        model.flat_params[i] = saved + h
        up = train_loss()
        model.flat_params[i] = saved - h
        down = train_loss()
        model.flat_params[i] = saved
        assert analytic[i] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-8)


def test_dropout_is_seeded_and_off_at_evaluation():
    a, b, c = (make(sizes=(20, 64, 5), activation="relu", dropout=0.5, seed=s) for s in (3, 3, 4))
    c.flat_params[...] = a.flat_params  # same weights, other dropout seed
    x, y = batch(a, 32)
    losses_a = [a.forward_backward(x, y) for _ in range(3)]
    assert losses_a == [b.forward_backward(x, y) for _ in range(3)]  # same seed: same masks
    assert len(set(losses_a)) == 3  # a new mask per call
    assert losses_a[0] != c.forward_backward(x, y)  # another seed: another mask
    assert a.dropout_calls == 3
    a.dropout_calls = 1  # rewinding the counter replays the masks (what a resumed run relies on)
    assert a.forward_backward(x, y) == losses_a[1]
    plain = make(sizes=(20, 64, 5), activation="relu", seed=3)
    plain.flat_params[...] = a.flat_params
    assert a.evaluate(x, y) == plain.evaluate(x, y)
    np.testing.assert_array_equal(a.predict_proba(x), plain.predict_proba(x))
    assert a.forward_backward(x, y, train=False) == plain.forward_backward(x, y)
    np.testing.assert_array_equal(a.flat_grads, plain.flat_grads)
    # the mask keeps about 1 - p of the hidden units: with sigmoid (slope never 0) a first-layer
    # weight row gets a gradient from one sample exactly when its unit was kept
    wide = make(sizes=(20, 400, 5), activation="sigmoid", dropout=0.3)
    wide.forward_backward(x[:1], y[:1])
    kept = np.mean(np.any(wide.grads["0.weight"] != 0, axis=1))
    assert abs(kept - 0.7) < 0.07


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matches_torch(activation):
    torch = pytest.importorskip("torch")
    model = make(sizes=(10, 16, 12, 5), activation=activation, label_smoothing=0.1)
    x, y = batch(model, 9)
    layers = []
    for i in range(3):
        linear = torch.nn.Linear(model.sizes[i], model.sizes[i + 1]).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(model.params[f"{i}.weight"]))
            linear.bias.copy_(torch.from_numpy(model.params[f"{i}.bias"]))
        layers.append(linear)
        if i < 2:
            layers.append({"relu": torch.nn.ReLU(), "leaky_relu": torch.nn.LeakyReLU(SLOPE), "tanh": torch.nn.Tanh(),
                           "sigmoid": torch.nn.Sigmoid(), "gelu": torch.nn.GELU()}[activation])
    net = torch.nn.Sequential(*layers)
    loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y), label_smoothing=0.1)
    loss.backward()
    assert model.forward_backward(x, y) == pytest.approx(loss.item(), rel=1e-12)
    for i in range(3):
        np.testing.assert_allclose(model.grads[f"{i}.weight"], layers[2 * i].weight.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(model.grads[f"{i}.bias"], layers[2 * i].bias.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- API
def test_params_are_zero_copy_named_views():
    model = make(sizes=(4, 3, 2), dtype=np.float32)
    assert list(model.params) == ["0.weight", "0.bias", "1.weight", "1.bias"] == list(model.grads)
    assert model.params["0.weight"].shape == (3, 4) and model.params["1.bias"].shape == (2,)
    assert model.flat_params.dtype == np.float32 and model.num_params == 4 * 3 + 3 + 3 * 2 + 2
    for name, view in model.params.items():
        assert np.shares_memory(view, model.flat_params) and np.shares_memory(model.grads[name], model.flat_grads)
    x, y = batch(model, 5)
    before = model.forward(x)
    model.params["1.bias"][1] += 1.0
    np.testing.assert_allclose(model.forward(x)[:, 1], before[:, 1] + 1.0, rtol=1e-6)
    grads = model.grads["0.weight"]
    model.forward_backward(x, y)
    assert grads is model.grads["0.weight"] and np.any(grads != 0)


def test_adam_trains_it():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(3, 8)) * 3
    y = rng.integers(0, 3, 256)
    x = centers[y] + rng.normal(size=(256, 8))
    model = MLP([8, 32, 3], seed=1)
    opt = fastopt.Adam(model.params, lr=1e-2)
    first = model.evaluate(x, y)[0]
    for _ in range(100):
        model.forward_backward(x, y)
        opt.step(model.grads)
    loss, accuracy = model.evaluate(x, y)
    assert loss < 0.2 * first and accuracy > 0.95
    np.testing.assert_array_equal(model.predict(x), model.predict_proba(x).argmax(1))


def test_inference_chunks_and_threads_agree():
    model = make(sizes=(784, 48, 10), activation="gelu", dtype=np.float32)
    x, y = batch(model, 257)
    whole = model.forward(x, batch_size=1024)
    np.testing.assert_allclose(model.forward(x, batch_size=50), whole, rtol=1e-5, atol=2e-5)
    loss, acc = model.evaluate(x, y, batch_size=64)
    assert (loss, acc) == pytest.approx(model.evaluate(x, y, batch_size=1000), rel=1e-5)
    threads = fastopt.get_num_threads()
    model.forward_backward(x, y)
    threaded = model.flat_grads.copy()
    fastopt.set_num_threads(1)
    try:
        model.forward_backward(x, y)
    finally:
        fastopt.set_num_threads(threads)
    np.testing.assert_allclose(model.flat_grads, threaded, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("init", ["he", "xavier", "glorot", "normal", "zeros"])
def test_initialisations(init):
    model = MLP([400, 300, 10], init=init, init_std=0.05, seed=2)
    w = model.params["0.weight"]
    want = {"he": np.sqrt(2 / 400), "xavier": np.sqrt(2 / 700), "glorot": np.sqrt(2 / 700), "normal": 0.05,
            "zeros": 0.0}[init]
    assert w.std() == pytest.approx(want, rel=0.02, abs=1e-12)
    assert not np.any(model.params["0.bias"])
    np.testing.assert_array_equal(w, MLP([400, 300, 10], init=init, init_std=0.05, seed=2).params["0.weight"])


def test_save_load_is_exact(tmp_path):
    model = make(sizes=(6, 10, 3), activation="leaky_relu", dtype=np.float32, dropout=0.3, label_smoothing=0.1)
    x, y = batch(model, 7)
    model.forward_backward(x, y)
    path = tmp_path / "model.npz"
    model.save(path)
    assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file was renamed, none left behind
    loaded = MLP.load(path)
    assert (loaded.sizes, loaded.activation, loaded.dropout, loaded.dtype, loaded.init, loaded.negative_slope) == (
        model.sizes, model.activation, model.dropout, model.dtype, model.init, model.negative_slope)
    np.testing.assert_array_equal(loaded.flat_params, model.flat_params)
    assert loaded.forward_backward(x, y) == model.forward_backward(x, y)  # dropout masks continue identically
    np.testing.assert_array_equal(loaded.flat_grads, model.flat_grads)
    np.savez(tmp_path / "other.npz", params=model.flat_params)
    with pytest.raises(ValueError, match="not a fastopt.nn.MLP file"):
        MLP.load(tmp_path / "other.npz")


# ---------------------------------------------------------------- bad input
def unchanged(model):
    return model.flat_params.copy(), model.flat_grads.copy(), model.dropout_calls


@pytest.mark.parametrize("x_fix, y_fix, error, message", [
    (lambda x: x[:, :5], None, ValueError, r"x: expected shape \(batch, 6\), got \(4, 5\)"),
    (lambda x: x[0], None, ValueError, r"x: expected shape \(batch, 6\), got \(6,\)"),
    (lambda x: np.where(np.arange(6) == 2, np.nan, x), None, ValueError, "x: contains a non-finite value.*feature 2"),
    (lambda x: np.where(np.arange(6) == 5, np.inf, x), None, ValueError, "x: contains a non-finite value"),
    (lambda x: x.astype(complex), None, TypeError, "x: expected a real numeric array"),
    (None, lambda y: y[:3], ValueError, r"y: expected shape \(4,\) to match x's batch, got \(3,\)"),
    (None, lambda y: y + 10, ValueError, r"y: label 1\d at index 0 is out of range \[0, 3\)"),
    (None, lambda y: -y - 1, ValueError, r"y: label -\d at index 0 is out of range"),
    (None, lambda y: y.astype(np.float64), TypeError, "y: expected integer class labels, got dtype float64"),
])
def test_bad_batches_are_rejected_and_change_nothing(x_fix, y_fix, error, message):
    model = make(sizes=(6, 5, 3), dropout=0.2)
    x, y = batch(model, 4)
    x = x_fix(x) if x_fix else x
    y = y_fix(y) if y_fix else y
    before = unchanged(model)
    with pytest.raises(error, match=message):
        model.forward_backward(x, y)
    with pytest.raises(error, match=message):
        model.evaluate(x, y)
    after = unchanged(model)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2] == after[2]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(sizes=[5]), TypeError, "sizes: expected a list of at least two ints"),
    (dict(sizes=[5, 0, 2]), ValueError, "sizes: every width must be >= 1"),
    (dict(activation="swish"), ValueError, "activation: unknown 'swish'"),
    (dict(init="orthogonal"), ValueError, "init: unknown 'orthogonal'"),
    (dict(dropout=1.0), ValueError, r"dropout: must be in \[0, 1\)"),
    (dict(dtype=np.int32), TypeError, "dtype: expected float32 or float64"),
    (dict(label_smoothing=1.5), ValueError, "label_smoothing"),
])
def test_bad_construction(kwargs, error, message):
    with pytest.raises(error, match=message):
        MLP(**{"sizes": [5, 4, 2], **kwargs})


def test_empty_batch_and_bad_batch_size():
    model = make(sizes=(6, 5, 3))
    with pytest.raises(ValueError, match="x: empty batch"):
        model.forward_backward(np.zeros((0, 6)), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match="batch_size: must be >= 1"):
        model.predict(np.zeros((2, 6)), batch_size=0)


# ---------------------------------------------------------------- native activation list, NaN, sizes
def test_activations_come_from_the_native_list():
    assert ACTIVATIONS == tuple(fastopt._core.nn.activations())
    assert {"relu", "leaky_relu", "tanh", "sigmoid", "gelu"} <= set(ACTIVATIONS)


@pytest.mark.parametrize("dropout", [0.0, 0.5])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_a_nan_weight_gives_a_nan_loss(activation, dropout):
    # relu(NaN) was 0: a NaN network then reported a finite loss and zero gradients.
    model = make(sizes=(6, 5, 3), activation=activation, dtype=np.float32, dropout=dropout)
    model.params["0.weight"][2, 0] = np.nan
    x, y = batch(model, 8)
    assert math.isnan(model.forward_backward(x, y))
    assert np.isnan(model.flat_grads).any()
    assert math.isnan(model.evaluate(x, y)[0])
    assert np.isnan(model.forward(x)).all()  # unit 2 of the hidden layer feeds every logit


def test_load_refuses_non_finite_params(tmp_path):
    model = make(sizes=(6, 5, 3), dtype=np.float32)
    path = tmp_path / "diverged.npz"
    model.save(path)
    with np.load(path) as data:
        contents = {k: data[k] for k in data.files}
    contents["params"][7] = np.inf
    contents["params"][9] = np.nan
    np.savez(path, **contents)
    with pytest.raises(ValueError, match=r"diverged\.npz: 2 parameters are not finite \(first inf at flat index 7\)"):
        MLP.load(path)


@pytest.mark.parametrize("sizes, native, message", [
    ([2**32 - 1, 2**32], False, r"sizes: \[4294967295, 4294967296\] would have 18446744073709551616 parameters, "
                                r"128\.0 EiB for them and their gradients \(4 bytes each\); widths above 2147483647"),
    ([2**31 - 1] * 3 + [5], True, r"would have 9223372043297226752 parameters, 64\.0 EiB .*more than 2\^63 - 1"),
    pytest.param([2**30, 2**30, 2], True, r"would have 1152921507828072450 parameters, 8\.0 EiB .*the allocation failed",
                 marks=pytest.mark.skipif("-fsanitize=address" in fastopt.build_info()["flags"],
                                          reason="AddressSanitizer's operator new aborts on a failed allocation "
                                                 "instead of throwing std::bad_alloc")),
    ([2**64, 2], False, r"sizes: widths above 2147483647 exceed BLAS's 32-bit sizes"),
])
def test_sizes_that_cannot_be_built_are_refused(sizes, native, message):
    with pytest.raises(ValueError, match=message):
        MLP(sizes)
    if native:  # the native class refuses them too, before any offset overflows
        with pytest.raises(ValueError, match=message):
            fastopt._core.nn.MLPFloat32(sizes, "relu", 0.01, 0.0, 0)
