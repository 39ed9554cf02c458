"""Learning-rate schedules against their closed forms (and torch.optim.lr_scheduler where installed)."""
import math

import numpy as np
import pytest

import fastopt
from fastopt.optim.schedules import (Constant, CosineDecay, ExponentialDecay, LinearWarmup, StepDecay, apply,
                                     by_name)


def test_constant_step_exponential_closed_forms():
    assert [Constant()(t) for t in range(3)] == [1.0, 1.0, 1.0]
    assert [StepDecay(3, gamma=0.5)(t) for t in range(7)] == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]
    assert ExponentialDecay(0.9)(4) == pytest.approx(0.9 ** 4, rel=1e-15)


def test_cosine_endpoints_midpoint_and_floor():
    s = CosineDecay(total=10, final=0.1)
    assert s(0) == 1.0
    assert s(5) == pytest.approx(0.1 + 0.9 * 0.5)
    assert s(10) == pytest.approx(0.1) and s(25) == pytest.approx(0.1)
    values = [CosineDecay(10)(t) for t in range(11)]
    assert all(a > b for a, b in zip(values, values[1:]))  # strictly decreasing to 0
    assert values[-1] == pytest.approx(0.0, abs=1e-15)


def test_linear_warmup_ramps_then_runs_the_inner_schedule_from_its_start():
    s = LinearWarmup(StepDecay(2, gamma=0.1), warmup=4, start=0.2)
    assert [s(t) for t in range(4)] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert [s(t) for t in range(4, 8)] == pytest.approx([1.0, 1.0, 0.1, 0.1])


def test_schedules_match_torch_lr_schedulers():
    torch = pytest.importorskip("torch")
    # (torch's cosine rises again after T_max, where ours stays at its floor: compare up to T_max)
    cases = [(CosineDecay(8, final=0.05), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 8, eta_min=0.05), 9),
             (StepDecay(3, 0.3), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.3), 12),
             (ExponentialDecay(0.7), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.7), 12)]
    for ours, make, horizon in cases:
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        sched = make(opt)
        for t in range(horizon):
            assert ours(t) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12, abs=1e-15), (ours, t)
            opt.step()
            sched.step()


def test_apply_scales_each_groups_base_lr_and_survives_state_dict():
    a, b = np.zeros(3, np.float32), np.zeros(2, np.float32)
    opt = fastopt.Adam([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.01}])
    apply(opt, 0.5)
    apply(opt, 0.25)  # scales the base, not the current rate
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.025, 0.0025])
    resumed = fastopt.Adam([{"params": [a.copy()], "lr": 0.1}, {"params": [b.copy()], "lr": 0.01}])
    resumed.load_state_dict(opt.state_dict())
    apply(resumed, 1.0)
    assert [g["lr"] for g in resumed.param_groups] == pytest.approx([0.1, 0.01])


def test_apply_works_through_lookahead_and_steps_with_the_new_rate():
    p = np.ones(4, np.float32)
    opt = fastopt.optim.create("ranger", [p], lr=1e-2)
    apply(opt, 0.0)
    opt.step([np.ones(4, np.float32)])
    assert np.array_equal(p, np.ones(4, np.float32))  # lr 0: nothing moves


def test_by_name():
    assert isinstance(by_name("constant", 5), Constant)
    assert by_name("cosine", 10)(10) == pytest.approx(0.0, abs=1e-15)
    assert [by_name("step", 9)(t) for t in (0, 3, 6)] == pytest.approx([1, 0.1, 0.01])
    assert by_name("exponential", 5)(4) == pytest.approx(0.01)
    warm = by_name("cosine", 10, warmup=2)
    assert warm(0) == 0.0 and warm(2) == 1.0 and warm(10) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        by_name("linear", 5)
    with pytest.raises(ValueError, match="warmup"):
        by_name("cosine", 5, warmup=5)


@pytest.mark.parametrize("make, match", [(lambda: StepDecay(0), "step_size"), (lambda: StepDecay(2, 1.5), "gamma"),
                                         (lambda: ExponentialDecay(0.0), "gamma"), (lambda: CosineDecay(0), "total"),
                                         (lambda: CosineDecay(5, final=2.0), "final"),
                                         (lambda: LinearWarmup(Constant(), -1), "warmup")])
def test_bad_hyperparameters_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("t", [-1, 1.5, True, "3"])
def test_bad_t(t):
    with pytest.raises(ValueError, match="Invalid t"):
        CosineDecay(5)(t)


def test_apply_rejects_bad_factor_and_changes_nothing():
    opt = fastopt.SGD([np.zeros(2)], lr=0.1)
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="lr factor"):
            apply(opt, bad)
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]
