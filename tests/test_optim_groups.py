"""Param groups with their own hyperparameters, lr schedules, dict params, mixed dtypes, empty arrays and groups."""
import numpy as np
import pytest

import fastopt
import reference
from optim_cases import TOL, problem

SHAPES = ((5,), (2, 3), (33,), (1,))


def reference_run(name, params0, grads, indices, hyper, lrs=None):
    """The reference over the params at `indices` (one group); lrs[t] overrides lr at step t."""
    ref = reference.Reference(name, [params0[i] for i in indices], **hyper)
    for t, g in enumerate(grads):
        if lrs is not None:
            ref.hyper["lr"] = lrs[t]
        ref.step([g[i] for i in indices])
    return ref.params


@pytest.mark.parametrize("name, first, second", [
    ("SGD", dict(lr=0.1, momentum=0.9), dict(lr=0.01, nesterov=True, momentum=0.5, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True), dict(lr=0.01, betas=(0.5, 0.9), maximize=True)),
    ("RMSprop", dict(centered=True), dict(momentum=0.9, alpha=0.5)),
    ("NAdam", dict(momentum_decay=0.1), dict(decoupled_weight_decay=True, weight_decay=0.2)),
])
def test_per_group_hyperparameters(name, first, second):
    params0, grads = problem(SHAPES, np.float64)
    params = [p.copy() for p in params0]
    opt = getattr(fastopt, name)([{"params": params[:2], **first}, {"params": params[2:], **second}])
    for g in grads:
        opt.step(g)
    want = (reference_run(name, params0, grads, [0, 1], first) + reference_run(name, params0, grads, [2, 3], second))
    for got, w in zip(params, want):
        np.testing.assert_allclose(got, w, **TOL[np.float64])


@pytest.mark.parametrize("name", list(reference.RULES))
def test_lr_changed_between_steps_takes_effect(name):
    params0, grads = problem(SHAPES, np.float64)
    lrs = [0.02 * (1 + np.cos(np.pi * t / len(grads))) / 2 for t in range(len(grads))]  # cosine schedule
    params = [p.copy() for p in params0]
    opt = getattr(fastopt, name)(params)
    for lr, g in zip(lrs, grads):
        opt.param_groups[0]["lr"] = lr
        opt.step(g)
    want = reference_run(name, params0, grads, range(len(SHAPES)), {}, lrs)
    for got, w in zip(params, want):
        np.testing.assert_allclose(got, w, **TOL[np.float64])
    constant = [p.copy() for p in params0]
    opt = getattr(fastopt, name)(constant, lr=lrs[0])
    for g in grads:
        opt.step(g)
    if name == "Rprop":  # lr only sets the initial step sizes: a schedule after the first step changes nothing
        np.testing.assert_array_equal(constant[0], params[0])
    elif name == "Muon":  # lr is the matrices' rate: vectors move by adamw_lr
        matrices = [i for i, p in enumerate(params) if p.ndim >= 2]
        assert matrices and all(not np.allclose(constant[i], params[i], rtol=1e-6, atol=0) for i in matrices)
    else:
        assert not np.allclose(constant[0], params[0], rtol=1e-6, atol=0)  # the schedule made a difference


def test_lookahead_sees_the_inner_param_groups():
    opt = fastopt.Ranger([np.zeros(3)], lr=0.1)
    opt.param_groups[0]["lr"] = 0.2
    assert opt.inner.param_groups[0]["lr"] == 0.2
    assert opt.defaults["lr"] == 0.1


def test_dict_params_with_dict_grads_equal_lists():
    params0, grads = problem(SHAPES, np.float64, steps=10)
    names = ["layer.weight", "layer.bias", "embedding", "scale"]
    as_list = [p.copy() for p in params0]
    as_dict = {n: p.copy() for n, p in zip(names, params0)}
    a, b = fastopt.AdamW(as_list, lr=0.1), fastopt.AdamW(as_dict, lr=0.1)
    for g in grads:
        a.step(g)
        b.step(dict(reversed(list(zip(names, g)))))  # grads matched by name, not by order
    for n, p in zip(names, as_list):
        assert as_dict[n].tobytes() == p.tobytes()
    assert a.param_groups[0]["names"] == ["0", "1", "2", "3"] and b.param_groups[0]["names"] == names


def test_mixed_float32_and_float64_in_one_group():
    p64, g64 = problem(((7,), (40000,)), np.float64, steps=20)  # 40000: the parallel path with two dtypes
    p32, g32 = problem(((9,), (3, 3)), np.float32, steps=20)
    params = [p64[0].copy(), p32[0].copy(), p64[1].copy(), p32[1].copy()]
    grads = [[a[0], b[0], a[1], b[1]] for a, b in zip(g64, g32)]
    opt = fastopt.Adam(params, lr=0.05, weight_decay=0.1)
    for g in grads:
        opt.step(g)
    want = reference_run("Adam", [p64[0], p32[0], p64[1], p32[1]], grads, range(4), dict(lr=0.05, weight_decay=0.1))
    for got, w in zip(params, want):
        assert got.dtype in (np.float32, np.float64)
        np.testing.assert_allclose(got, w, **TOL[got.dtype.type])
    assert [p.dtype for p in params] == [np.float64, np.float32, np.float64, np.float32]
    assert [s.dtype for s in opt.state[0]["exp_avg"]] == [p.dtype for p in params]


@pytest.mark.parametrize("cls", [fastopt.SGD, fastopt.Adam, fastopt.Ranger, fastopt.NAdam])
def test_empty_arrays_and_empty_groups(cls):
    empty = np.zeros((0, 3))
    one = np.ones(2)
    opt = cls([{"params": []}, {"params": [empty, one]}, {"params": {}}])
    for _ in range(7):
        opt.step([np.zeros((0, 3)), np.ones(2)])
    assert empty.shape == (0, 3)
    assert np.all(one < 1.0)
    with pytest.raises(ValueError, match="params: an empty parameter list"):  # as torch refuses one
        cls([])


def test_add_param_group_takes_the_defaults():
    opt = fastopt.SGD([np.zeros(2)], lr=0.1, momentum=0.9)
    late = np.zeros(3)
    opt.add_param_group({"params": [late], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    opt.step([np.ones(2), np.ones(3)])
    np.testing.assert_allclose(late, -0.5)
    assert opt.param_groups[1]["names"] == ["1"]


@pytest.mark.parametrize("nesterov, dampening", [(False, 0.5), (True, 0.0)])
def test_sgd_momentum_switched_on_mid_run_starts_its_buffer_at_the_gradient(nesterov, dampening):
    """As in PyTorch: the buffer is born on the first step that uses momentum, equal to that step's gradient
    (not dampened: a zero buffer updated with dampening would start at (1 - dampening) * g)."""
    rng = np.random.default_rng(7)
    params0 = [rng.standard_normal(9)]
    grads = [[rng.standard_normal(9)] for _ in range(12)]
    params = [p.copy() for p in params0]
    opt = fastopt.SGD(params, lr=0.1)
    ref = reference.Reference("SGD", [p.copy() for p in params0], lr=0.1)
    for t, g in enumerate(grads):
        if t == 5:  # switch momentum on after 5 plain steps
            for hyper in (opt.param_groups[0], ref.hyper):
                hyper.update(momentum=0.9, nesterov=nesterov, dampening=dampening)
        opt.step(g)
        ref.step(g)
    np.testing.assert_allclose(params[0], ref.params[0], **TOL[np.float64])
    torch = pytest.importorskip("torch")
    tp = torch.tensor(params0[0].copy(), requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.1)
    for t, g in enumerate(grads):
        if t == 5:
            topt.param_groups[0].update(momentum=0.9, nesterov=nesterov, dampening=dampening)
        tp.grad = torch.tensor(g[0])
        topt.step()
    np.testing.assert_allclose(params[0], tp.detach().numpy(), **TOL[np.float64])


def test_lookahead_syncs_a_param_group_added_after_the_first_step():
    """The new group's slow weights start at its first step and are pulled back on the global k-step clock."""
    rng = np.random.default_rng(0)
    first, added = rng.standard_normal(4), rng.standard_normal(3)
    grads = rng.standard_normal((12, 7))
    lr, k, alpha = 0.1, 3, 0.5
    params = [first.copy()]
    opt = fastopt.Lookahead(fastopt.SGD(params, lr=lr), k=k, alpha=alpha)
    want_first, slow_first = first.copy(), first.copy()
    want_added = slow_added = None
    for t, g in enumerate(grads, start=1):
        if t == 5:  # mid-cycle: the new group's first sync comes at step 6, after one fast step
            params.append(added.copy())
            opt.add_param_group({"params": [params[1]]})
            want_added, slow_added = added.copy(), added.copy()
        opt.step([g[:4]] + ([g[4:]] if want_added is not None else []))
        want_first -= lr * g[:4]
        if want_added is not None:
            want_added -= lr * g[4:]
        if t % k == 0:
            slow_first += alpha * (want_first - slow_first)
            want_first = slow_first.copy()
            if want_added is not None:
                slow_added += alpha * (want_added - slow_added)
                want_added = slow_added.copy()
    np.testing.assert_allclose(params[0], want_first, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(params[1], want_added, rtol=1e-13, atol=1e-15)
    assert not np.allclose(params[1], added - lr * grads[4:, 4:].sum(axis=0))  # the syncs did happen

    resumed = fastopt.Lookahead(fastopt.SGD([params[0].copy()], lr=lr), k=k, alpha=alpha)
    resumed.add_param_group({"params": [params[1].copy()]})
    resumed.load_state_dict(opt.state_dict())
    assert resumed.steps == opt.steps and len(resumed.slow) == 2
