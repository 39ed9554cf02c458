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
    with pytest.raises(ValueError, match="schedule: 'bogus'"):
        by_name("bogus", 5)
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


# ---------------------------------------------------------------------------------------------- new schedules
from fastopt.optim import schedules as S  # noqa: E402


def test_warmup_shapes_ramp_to_the_inner_schedules_start():
    lin = S.Warmup(S.CosineDecay(10), warmup=4)
    cos = S.Warmup(S.CosineDecay(10), warmup=4, shape="cosine")
    assert [lin(t) for t in range(4)] == pytest.approx([0.0, 0.25, 0.5, 0.75])
    assert [cos(t) for t in range(4)] == pytest.approx([0.5 * (1 - math.cos(math.pi * t / 4)) for t in range(4)])
    assert lin(4) == cos(4) == 1.0 and lin(9) == pytest.approx(S.CosineDecay(10)(5))
    assert S.LinearWarmup is S.Warmup


@pytest.mark.parametrize("shape, down", [("linear", lambda u: 1 - u), ("cosine", lambda u: 0.5 * (1 + math.cos(math.pi * u))),
                                         ("sqrt", lambda u: 1 - math.sqrt(u))])
def test_wsd_warms_up_holds_then_decays(shape, down):
    s = S.WarmupStableDecay(total=20, warmup=4, decay=5, final=0.1, decay_shape=shape)
    assert [s(t) for t in range(5)] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert all(s(t) == 1.0 for t in range(4, 15))
    assert [s(t) for t in range(15, 20)] == pytest.approx([0.1 + 0.9 * down(k / 5) for k in range(5)])
    assert s(20) == s(100) == pytest.approx(0.1)


def test_sequential_product_multiplicative_compose():
    seq = S.Sequential([S.Constant(), S.StepDecay(2, 0.5), S.ExponentialDecay(0.9)], milestones=[3, 7])
    assert [seq(t) for t in range(9)] == pytest.approx([1, 1, 1, 1, 1, 0.5, 0.5, 1, 0.9])
    assert S.Product(S.StepDecay(2, 0.5), S.ConstantFactor(0.1, 3))(2) == pytest.approx(0.05)
    m = S.Multiplicative(lambda t: 0.5)
    assert [m(t) for t in (3, 0, 5)] == [0.125, 1.0, 0.03125]


def test_cyclic_onecycle_restarts_shapes():
    c = S.Cyclic(step_size_up=2, low=0.2)
    assert [c(t) for t in range(5)] == pytest.approx([0.2, 0.6, 1.0, 0.6, 0.2])
    one = S.OneCycle(100)
    assert one(0) == pytest.approx(1 / 25) and max(one(t) for t in range(100)) == pytest.approx(1.0, abs=1e-3)
    assert one(99) == pytest.approx(1 / 25 / 1e4)
    with pytest.raises(ValueError, match="total_steps=100"):
        one(100)
    r = S.CosineRestarts(2, T_mult=2)
    c4 = [(1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)]
    assert [r(t) for t in range(7)] == pytest.approx([1, 0.5, *c4, 1], abs=1e-15)


@pytest.mark.parametrize("name", S.SCHEDULES)
def test_every_named_schedule_starts_and_stays_in_range(name):
    s = S.by_name(name, 30) if name == "onecycle" else S.by_name(name, 30, warmup=3, warmup_shape="cosine")
    values = [s(t) for t in range(30)]
    assert all(0.0 <= v <= 1.0 for v in values) and max(values) == pytest.approx(1.0, abs=0.02)


BAD = [(lambda: S.MultiStepDecay([3, -1]), "milestones"), (lambda: S.MultiStepDecay("3"), "milestones"),
       (lambda: S.ConstantFactor(0.0), "factor"), (lambda: S.LinearFactor(0.0), "start_factor"),
       (lambda: S.LinearFactor(0.5, 1.5), "end_factor"), (lambda: S.LinearFactor(total_iters=0), "total_iters"),
       (lambda: S.PolynomialDecay(0), "total_iters"), (lambda: S.PolynomialDecay(5, -1.0), "power"),
       (lambda: S.CosineRestarts(0), "T_0"), (lambda: S.CosineRestarts(2, 0), "T_mult"),
       (lambda: S.Cyclic(0), "step_size_up"), (lambda: S.Cyclic(2, mode="sawtooth"), "mode"),
       (lambda: S.Cyclic(2, low=1.5), "low"), (lambda: S.OneCycle(1), "total_steps"),
       (lambda: S.OneCycle(10, pct_start=1.0), "pct_start"), (lambda: S.OneCycle(10, anneal_strategy="cubic"),
                                                              "anneal_strategy"),
       (lambda: S.OneCycle(10, pct_start=0.01), "pct_start"),
       (lambda: S.Warmup(3, 2), "inner"), (lambda: S.Warmup(S.Constant(), 2, shape="exp"), "shape"),
       (lambda: S.WarmupStableDecay(10, 6, 5), "decay"), (lambda: S.WarmupStableDecay(10, 2, 3, decay_shape="x"),
                                                           "decay_shape"),
       (lambda: S.Sequential([S.Constant()], [2]), "milestones"),
       (lambda: S.Sequential([S.Constant(), S.Constant(), S.Constant()], [4, 2]), "milestones"),
       (lambda: S.Product(), "schedules"), (lambda: S.by_name("onecycle", 10, warmup=2), "warmup"),
       (lambda: S.by_name("cosine", 10, warmup_shape="exp"), "warmup_shape")]


@pytest.mark.parametrize("make, match", BAD)
def test_bad_function_arguments_are_named(make, match):
    with pytest.raises(ValueError, match=f"Invalid {match}"):
        make()


def _sgd():
    return fastopt.SGD([{"params": [np.zeros(2)], "lr": 0.1}, {"params": [np.zeros(3)], "lr": 0.2}], momentum=0.9)


BAD_SCHEDULERS = [
    (lambda o: S.StepLR(o, 0), "step_size"), (lambda o: S.StepLR(o, 2, gamma=-0.1), "gamma"),
    (lambda o: S.StepLR(o, 2, last_epoch=-2), "last_epoch"), (lambda o: S.StepLR(o, 2, last_epoch=3), "initial_lr"),
    (lambda o: S.MultiStepLR(o, [1, "2"]), "milestones"), (lambda o: S.ConstantLR(o, factor=2.0), "factor"),
    (lambda o: S.LinearLR(o, total_iters=0), "total_iters"), (lambda o: S.ExponentialLR(o, math.nan), "gamma"),
    (lambda o: S.PolynomialLR(o, power=-2), "power"), (lambda o: S.CosineAnnealingLR(o, 0), "total"),
    (lambda o: S.CosineAnnealingLR(o, 5, eta_min=-1), "eta_min"),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 2.5), "T_0"),
    (lambda o: S.CyclicLR(o, 0.1, [0.2, 0.3, 0.4]), "max_lr"), (lambda o: S.CyclicLR(o, -0.1, 0.2), "base_lr"),
    (lambda o: S.CyclicLR(o, 0.1, 0.2, mode="x"), "mode"), (lambda o: S.CyclicLR(o, 0.1, 0.2, max_momentum=1.5),
                                                            "max_momentum"),
    (lambda o: S.OneCycleLR(o, 0.1), "total_steps"), (lambda o: S.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3),
                                                      "epochs"),
    (lambda o: S.LambdaLR(o, [lambda t: 1.0]), "lr_lambda"), (lambda o: S.MultiplicativeLR(o, 3), "lr_lambda"),
    (lambda o: S.ChainedScheduler([]), "schedulers"),
    (lambda o: S.ReduceLROnPlateau(o, mode="minimum"), "mode"), (lambda o: S.ReduceLROnPlateau(o, factor=1.0), "factor"),
    (lambda o: S.ReduceLROnPlateau(o, patience=-1), "patience"),
    (lambda o: S.ReduceLROnPlateau(o, threshold_mode="pct"), "threshold_mode"),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.0]), "min_lr")]


@pytest.mark.parametrize("make, match", BAD_SCHEDULERS)
def test_bad_scheduler_arguments_are_named_and_change_no_group(make, match):
    opt = _sgd()
    before = [dict((k, v) for k, v in g.items() if k not in ("params", "names")) for g in opt.param_groups]
    with pytest.raises(ValueError, match=match):
        make(opt)
    assert [dict((k, v) for k, v in g.items() if k not in ("params", "names")) for g in opt.param_groups] == before


# (the schedulers composed are built first and set the rates, as in PyTorch; the composition is refused after)
@pytest.mark.parametrize("make, match", [
    (lambda o: S.SequentialLR(o, [S.ConstantLR(o), S.ConstantLR(o)], [0]), "milestones"),
    (lambda o: S.SequentialLR(o, [S.ConstantLR(o), S.ConstantLR(o)], [3, 4]), "milestones"),
    (lambda o: S.SequentialLR(o, [S.ConstantLR(o), S.ReduceLROnPlateau(o)], [2]), "cannot be composed"),
    (lambda o: S.SequentialLR(o, [S.ConstantLR(o), S.StepLR(_sgd(), 2)], [2]), "another optimizer"),
    (lambda o: S.ChainedScheduler([S.ConstantLR(o), S.StepLR(_sgd(), 2)]), "another optimizer")])
def test_bad_compositions_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make(_sgd())


def test_scheduler_type_errors():
    with pytest.raises(TypeError, match="optimizer"):
        S.StepLR(object(), 2)
    with pytest.raises(TypeError, match="fastopt scheduler"):
        S.ChainedScheduler([object()], optimizer=_sgd())
    with pytest.raises(TypeError, match="metrics"):
        S.ReduceLROnPlateau(_sgd()).step("low")
    with pytest.raises(ValueError, match="cycle_momentum"):
        S.OneCycleLR(fastopt.Adagrad([np.zeros(2)]), 0.1, total_steps=10)


def test_load_state_dict_refuses_another_schedulers_state_and_changes_nothing():
    a, b = S.StepLR(_sgd(), 2), S.CosineAnnealingLR(_sgd(), 5)
    before = b.state_dict()
    with pytest.raises(ValueError, match="not a CosineAnnealingLR state"):
        b.load_state_dict(a.state_dict())
    with pytest.raises(TypeError, match="state_dict"):
        b.load_state_dict([1])
    assert b.state_dict() == before
    seq = S.SequentialLR((o := _sgd()), [S.ConstantLR(o), S.StepLR(o, 2)], [3])
    with pytest.raises(ValueError, match="SequentialLR"):
        seq.load_state_dict({"_schedulers": []})


def test_onecycle_refuses_steps_past_its_total():
    opt = _sgd()
    sched = S.OneCycleLR(opt, 0.1, total_steps=5)
    for _ in range(4):
        sched.step()
    sched.step()  # PyTorch allows stepping to total_steps itself
    with pytest.raises(ValueError, match="total_steps=5"):
        sched.step()


def test_per_epoch_and_per_step_use_through_fit_agree_with_the_function():
    from fastopt.train import fit
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 5)).astype(np.float32), rng.integers(0, 3, 64)
    model = fastopt.nn.MLP([5, 8, 3], seed=0)
    opt = fastopt.SGD(model.params, lr=0.1)
    seen = []
    history = fit(model, opt, (x, y), epochs=3, batch_size=16, schedule=S.OneCycle(12), schedule_unit="step",
                  progress=False, callbacks=[lambda h: seen.append(opt.param_groups[0]["lr"])])
    assert history["lr"] == pytest.approx([0.1 * S.OneCycle(12)(4 * e) for e in range(3)])
    assert seen == pytest.approx([0.1 * S.OneCycle(12)(4 * e + 3) for e in range(3)])  # the epoch's last step


@pytest.mark.parametrize("make", [lambda o: S.CyclicLR(o, 0.01, 0.1, last_epoch=-2),
                                  lambda o: S.OneCycleLR(o, 0.1, total_steps=10, base_momentum=2.0),
                                  lambda o: S.OneCycleLR(o, 0.1, total_steps=10, last_epoch=-3)])
def test_cyclic_schedulers_check_everything_before_changing_a_group(make):
    opt = _sgd()
    before = [dict(g) for g in opt.param_groups]
    with pytest.raises(ValueError):
        make(opt)
    assert [dict(g) for g in opt.param_groups] == before
