"""The NumPy API's step with params that have no gradient (None, as torch skips a param whose .grad is None),
and the messages a first-time user's mistakes get."""
import copy

import numpy as np
import pytest

import fastopt
from optim_cases import CASES, TOL, problem

SHAPES = ((3, 5), (17,), (0,), (4,))
# Plain optimizers: a wrapper such as Ranger (Lookahead) syncs every k steps of the optimizer, not of each param; and
# not Prodigy, whose distance estimate sums over the params that step together (so a param's path depends on which
# others have a grad: documented in its docstring).
PLAIN = [c for c in CASES if c.lookahead is None and getattr(fastopt, c.name).step is fastopt.Optimizer.step
         and c.name != "Prodigy"]


# Which params have a gradient at each step: none at step 3, the first frozen at steps 5-11, the last joining at 8.
def has_grad(step, i):
    return step != 3 and not (i == 0 and 5 <= step < 12) and not (i == 3 and step < 8)


def masked(grads):
    return [[g if has_grad(step, i) else None for i, g in enumerate(gs)] for step, gs in enumerate(grads)]


@pytest.mark.parametrize("case", PLAIN, ids=lambda c: c.id)
def test_none_grads_skip_the_param_as_its_own_optimizer_would(case):
    """Each param moves exactly as an optimizer over that param alone, stepped only when it has a gradient: its
    state and step count wait while its grad is None (the rules are per element, so params are independent)."""
    params0, grads = problem(SHAPES, np.float64, steps=20)
    params = [p.copy() for p in params0]
    opt = case.make(params)
    for g in masked(grads):
        opt.step(g)
    for i, p0 in enumerate(params0):
        alone = [p0.copy()]
        solo = case.make(alone)
        for step, g in enumerate(grads):
            if has_grad(step, i):
                solo.step([g[i]])
        np.testing.assert_allclose(params[i], alone[0], **TOL[np.float64])


def test_all_grads_none_changes_nothing():
    params = [np.ones(3)]
    opt = fastopt.NAdam(params)
    opt.step([None])
    assert opt.state[0].step == 0 and not opt.state[0].slots and np.all(params[0] == 1)


def test_uneven_state_survives_a_state_dict():
    params0, grads = problem(SHAPES, np.float64, steps=20)
    whole = [p.copy() for p in params0]
    opt = fastopt.NAdam(whole, lr=0.01)
    resumed = [p.copy() for p in params0]
    first = fastopt.NAdam(resumed, lr=0.01)
    for step, g in enumerate(masked(grads)):
        opt.step(g)
        if step < 9:
            first.step(g)
        if step == 8:  # mid-freeze: the params' step counts differ
            saved = copy.deepcopy(first.state_dict())
            assert saved["state"][0]["param_steps"] == [4, 8, 8, 1]
            second = fastopt.NAdam(resumed, lr=0.01)
            second.load_state_dict(saved)
        if step > 8:
            second.step(g)
    for a, b in zip(whole, resumed):
        np.testing.assert_allclose(a, b, **TOL[np.float64])
    assert opt.state[0].param_steps == [12, 19, 19, 12]  # the state keeps each param's own count


def test_step_counts_even_again_collapse():
    params = [np.ones(2), np.ones(2)]
    opt = fastopt.Adam(params)
    opt.step([None, np.ones(2)])
    assert opt.state[0].param_steps == [0, 1]
    opt.step([np.ones(2), None])
    assert opt.state[0].param_steps is None and opt.state[0].step == 1
    assert "param_steps" not in opt.state_dict()["state"][0]


@pytest.mark.parametrize("make, error, match", [
    (lambda p: fastopt.Adam(p, betas=0.9), ValueError, r"Invalid betas: 0.9 \(expected a pair \(beta1, beta2\)\)"),
    (lambda p: fastopt.Adam(p, lr=True), TypeError, "lr: expected a real number, got bool True"),
    (lambda p: fastopt.Adam([]), ValueError, "params: an empty parameter list"),
    (lambda p: fastopt.Adam([{"lr": 0.1}]), ValueError, "param group 0 has no 'params' key"),
    (lambda p: fastopt.SGD(p).add_param_group({"lr": 0.1}), ValueError, "param group has no 'params' key"),
    (lambda p: fastopt.Adam(p).step(lambda: 0.0), TypeError, r"step: got a callable; Adam.step takes the gradients"),
])
def test_first_time_mistakes_get_a_message(make, error, match):
    params = [np.ones(3)]
    with pytest.raises(error, match=match):
        make(params)
    assert np.all(params[0] == 1)


def test_misspelt_key_set_after_construction_is_caught_at_the_step():
    params = [np.ones(3)]
    opt = fastopt.SGD(params, lr=0.1, momentum=0.9)
    opt.param_groups[0]["momentun"] = 0.5
    with pytest.raises(ValueError, match="unknown hyperparameters 'momentun' \\(did you mean 'momentum'\\?\\)"):
        opt.step([np.ones(3)])
    assert np.all(params[0] == 1) and opt.state[0].step == 0
    del opt.param_groups[0]["momentun"]
    opt.param_groups[0]["label"] = "encoder"  # not close to any hyperparameter: a label, kept as torch keeps it
    opt.step([np.ones(3)])
    np.testing.assert_allclose(params[0], 0.9)


@pytest.mark.parametrize("name, kwargs", [("Adam", dict(lr=0.01, amsgrad=True)), ("NAdam", dict(lr=0.01)),
                                          ("SGD", dict(lr=0.05, momentum=0.9)), ("Adagrad", dict(lr=0.05)),
                                          ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_none_grads_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    params0, grads = problem(SHAPES, np.float64, steps=20)
    params = [p.copy() for p in params0]
    opt = getattr(fastopt, name)(params, **kwargs)
    tensors = [torch.tensor(p, requires_grad=True) for p in params0]
    theirs = getattr(torch.optim, name)(tensors, **kwargs)
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch keeps scalar state (NAdam's mu product) in the default dtype
    try:
        for g in masked(grads):
            opt.step(g)
            for t, a in zip(tensors, g):
                t.grad = None if a is None else torch.tensor(a)
            theirs.step()
    finally:
        torch.set_default_dtype(before)
    for p, t in zip(params, tensors):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-10, atol=1e-12)
