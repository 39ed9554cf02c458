"""fastopt against torch.optim over the same gradient sequences, in float64 (skipped without torch).

Every fastopt optimizer whose class name torch.optim also has is checked here; the others (Lion, Lookahead, Ranger,
...) against tests/reference.py only.
"""
import inspect

import numpy as np
import pytest

import fastopt
from optim_cases import CASES, TOL, problem

torch = pytest.importorskip("torch")

SHAPES = ((3, 5), (17,), (0,), (1,), (2, 2, 2))
# fastopt's own options (cautious) are left out: torch has no such keyword to compare against.  Muon and Adafactor
# are compared in tests/test_optim_muon.py and test_optim_adafactor.py (torch's Muon takes matrices only and
# iterates in bfloat16; torch's Adafactor divides by zero on an empty param, which SHAPES has).
OWN_TESTS = {"Muon", "Adafactor"}
TORCH_CASES = [c for c in CASES if c.lookahead is None and hasattr(torch.optim, c.name) and c.name not in OWN_TESTS
               and set(c.kwargs) <= set(inspect.signature(getattr(torch.optim, c.name)).parameters)]


@pytest.fixture(autouse=True)
def torch_float64():
    """torch keeps scalar state (NAdam's mu product, step counts) in the default dtype: make it float64 too."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def torch_trajectory(name, groups, grads, defaults=None, lr_schedule=None):
    """Params after torch.optim.<name>(groups, **defaults) (single-tensor loop, float64) on the given grads."""
    tensors = [[torch.tensor(p) for p in g["params"]] for g in groups]
    for ts in tensors:
        for t in ts:
            t.requires_grad_(True)
    opt = getattr(torch.optim, name)([{**g, "params": ts} for g, ts in zip(groups, tensors)], foreach=False,
                                     **(defaults or {}))
    flat = [t for ts in tensors for t in ts]
    for step, grad in enumerate(grads):
        if lr_schedule:
            for group in opt.param_groups:
                group["lr"] = lr_schedule(step, group["lr"])
        for t, g in zip(flat, grad):
            t.grad = torch.tensor(g)
        opt.step()
    return [t.detach().numpy() for t in flat]


def test_every_torch_optimizer_is_covered():
    covered = {c.name for c in TORCH_CASES}
    assert covered == {name for name in fastopt.optim.CLASSES if hasattr(torch.optim, name)} - OWN_TESTS
    assert covered >= {"SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Rprop",
                       "ASGD"}


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.id)
def test_matches_torch(case):
    params0, grads = problem(SHAPES, np.float64)
    params = [p.copy() for p in params0]
    opt = case.make(params)
    for g in grads:
        opt.step(g)
    # Passed to the constructor: torch reads initial_accumulator_value there, not from the group.
    want = torch_trajectory(case.name, [{"params": params0}], grads, case.kwargs)
    for got, w in zip(params, want):
        np.testing.assert_allclose(got, w, **TOL[np.float64])


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(momentum=0.9, nesterov=True)), ("Adam", dict(amsgrad=True)),
                                          ("RMSprop", dict(centered=True, momentum=0.5)), ("NAdam", {}),
                                          ("RAdam", dict(decoupled_weight_decay=True, weight_decay=0.1))])
def test_param_groups_and_lr_schedule_match_torch(name, kwargs):
    """Two groups with their own hyperparameters, and the lr of every group changed before each step."""
    params0, grads = problem(SHAPES, np.float64, seed=3)
    groups = [{"params": params0[:2], "lr": 0.02, **kwargs}, {"params": params0[2:], "lr": 0.005, "weight_decay": 0.2}]
    def schedule(step, lr):
        return lr * 0.95 if step else lr

    params = [p.copy() for p in params0]
    opt = getattr(fastopt, name)([{**g, "params": params[:2] if i == 0 else params[2:]} for i, g in enumerate(groups)])
    for step, g in enumerate(grads):
        for group in opt.param_groups:
            group["lr"] = schedule(step, group["lr"])
        opt.step(g)
    want = torch_trajectory(name, groups, grads, lr_schedule=schedule)
    for got, w in zip(params, want):
        np.testing.assert_allclose(got, w, **TOL[np.float64])
