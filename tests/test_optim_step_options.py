"""step's gradient options: clip_grad_norm (global norm, one native pass), clip_grad_value, grad_scale and
skip_nonfinite, against the same optimizer stepped on gradients transformed in NumPy (float64)."""
import numpy as np
import pytest

import fastopt
from optim_cases import TOL

SHAPES = ((3, 5), (32785,), (0,), (17,))  # 32785: three chunks of the driver, so its per-thread buffer is reused
CASES = [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
         ("RMSprop", dict(lr=0.01, centered=True)), ("NAdam", dict(lr=0.01)), ("Lion", dict(lr=1e-3))]


def problem(dtype, steps=8, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[(rng.standard_normal(s) * rng.uniform(0.1, 30)).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return params, grads


def two_groups(params):
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.003}]


def transformed(grads, clip_norm=None, clip_value=None, scale=1.0):
    """What torch's clip_grad_norm_ / clip_grad_value_ leave in the grads (computed in float64)."""
    gs = [g.astype(np.float64) / scale for g in grads]
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in gs))
    if clip_norm is not None:
        gs = [g * min(1.0, clip_norm / (norm + 1e-6)) for g in gs]
    if clip_value is not None:
        gs = [np.clip(g, -clip_value, clip_value) for g in gs]
    return [g.astype(grads[0].dtype) for g in gs], norm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(clip_grad_norm=1.0), dict(clip_grad_value=0.5), dict(grad_scale=1024.0),
                                     dict(grad_scale=64.0, clip_grad_norm=2.0, clip_grad_value=0.1)],
                         ids=["norm", "value", "scale", "all"])
@pytest.mark.parametrize("name, kwargs", CASES, ids=[c[0] for c in CASES])
def test_options_equal_stepping_on_transformed_grads(name, kwargs, options, dtype):
    params0, grads = problem(dtype)
    scale = options.get("grad_scale", 1.0)
    ours = [p.copy() for p in params0]
    opt = getattr(fastopt, name)(two_groups(ours), **kwargs)
    want = [p.copy() for p in params0]
    ref = getattr(fastopt, name)(two_groups(want), **kwargs)
    for g in grads:
        scaled = [(a * scale).astype(dtype) for a in g]
        norm = opt.step(scaled, **options)
        clipped, want_norm = transformed(scaled, options.get("clip_grad_norm"), options.get("clip_grad_value"), scale)
        ref.step(clipped)
        if "clip_grad_norm" in options:
            assert norm == pytest.approx(want_norm, rel=1e-6)
        else:
            assert norm is None
    for a, b in zip(ours, want):
        np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_skip_nonfinite_leaves_everything_untouched(bad):
    params0, grads = problem(np.float32, steps=3)
    params = [p.copy() for p in params0]
    opt = fastopt.Adam(two_groups(params), lr=0.01)
    assert np.isfinite(opt.step(grads[0], skip_nonfinite=True))
    before = [p.copy() for p in params], [a.copy() for a in opt.state[0]["exp_avg"]], opt.state[0].step
    poisoned = [g.copy() for g in grads[1]]
    poisoned[3][5] = bad
    assert not np.isfinite(opt.step(poisoned, skip_nonfinite=True, clip_grad_norm=1.0))
    assert opt.skipped_steps == 1 and opt.state[0].step == before[2]
    for a, b in zip(params + opt.state[0]["exp_avg"], before[0] + before[1]):
        np.testing.assert_array_equal(a, b)
    opt.step(grads[2], skip_nonfinite=True)
    assert opt.state[0].step == 2 and opt.skipped_steps == 1


@pytest.mark.parametrize("options, error, match", [
    (dict(clip_grad_norm=0.0), ValueError, r"Invalid clip_grad_norm: 0.0 \(must be > 0\)"),
    (dict(clip_grad_value=-1.0), ValueError, "clip_grad_value"),
    (dict(grad_scale=float("nan")), ValueError, "grad_scale"),
    (dict(clip_grad_norm=True), TypeError, "clip_grad_norm: expected a real number, got bool"),
])
def test_bad_options_change_nothing(options, error, match):
    params = [np.ones(3)]
    opt = fastopt.Adam(params)
    with pytest.raises(error, match=match):
        opt.step([np.ones(3)], **options)
    assert np.all(params[0] == 1) and opt.state[0].step == 0


def test_clip_grad_norm_matches_torch():
    torch = pytest.importorskip("torch")
    params0, grads = problem(np.float64, steps=6)
    params = [p.copy() for p in params0]
    opt = fastopt.AdamW(params, lr=0.01)
    tensors = [torch.tensor(p, requires_grad=True) for p in params0]
    theirs = torch.optim.AdamW(tensors, lr=0.01)
    for g in grads:
        norm = opt.step(g, clip_grad_norm=3.0)
        for t, a in zip(tensors, g):
            t.grad = torch.tensor(a)
        want = torch.nn.utils.clip_grad_norm_(tensors, 3.0)
        theirs.step()
        assert norm == pytest.approx(float(want), rel=1e-12)
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-10, atol=1e-12)
