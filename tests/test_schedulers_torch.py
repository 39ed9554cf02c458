"""fastopt's scheduler objects against torch.optim.lr_scheduler: the same rates (and momenta) over the same steps."""
import math
import warnings

import fastopt
import numpy as np
import pytest
from fastopt.optim import schedules as S

torch = pytest.importorskip("torch")
T = torch.optim.lr_scheduler
TOL = 1e-12


def _ours(kind: str):
    params = [np.zeros(3, np.float32), np.zeros(2, np.float32)]
    groups = [{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.03}]
    return fastopt.SGD(groups, momentum=0.9) if kind == "sgd" else fastopt.Adam(groups, betas=(0.9, 0.999))


def _theirs(kind: str):
    params = [torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)]
    groups = [{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.03}]
    return torch.optim.SGD(groups, momentum=0.9) if kind == "sgd" else torch.optim.Adam(groups, betas=(0.9, 0.999))


# (id, optimizer kind, builder(module, optimizer), steps).  The builders use only the names both modules share.
CASES = [
    ("step", "sgd", lambda M, o: M.StepLR(o, step_size=3, gamma=0.5), 20),
    ("step-every", "sgd", lambda M, o: M.StepLR(o, step_size=1, gamma=0.9), 20),
    ("multistep", "sgd", lambda M, o: M.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3), 15),
    ("constant", "sgd", lambda M, o: M.ConstantLR(o, factor=0.25, total_iters=4), 10),
    ("constant-default", "adam", lambda M, o: M.ConstantLR(o), 10),
    ("linear-up", "sgd", lambda M, o: M.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=7), 12),
    ("linear-down", "adam", lambda M, o: M.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=10), 15),
    ("exponential", "sgd", lambda M, o: M.ExponentialLR(o, gamma=0.93), 30),
    ("polynomial", "sgd", lambda M, o: M.PolynomialLR(o, total_iters=8, power=2.0), 12),
    ("polynomial-sqrt", "adam", lambda M, o: M.PolynomialLR(o, total_iters=5, power=0.5), 8),
    ("cosine", "sgd", lambda M, o: M.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 45),
    ("cosine-short", "adam", lambda M, o: M.CosineAnnealingLR(o, T_max=1), 6),
    ("sgdr", "sgd", lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0=5), 23),
    ("sgdr-mult", "sgd", lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01), 40),
    ("cyclic", "sgd", lambda M, o: M.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4), 30),
    ("cyclic-2", "sgd", lambda M, o: M.CyclicLR(o, 0.01, [0.1, 0.05], step_size_up=3, step_size_down=5,
                                                 mode="triangular2"), 40),
    ("cyclic-exp", "adam", lambda M, o: M.CyclicLR(o, 0.001, 0.01, step_size_up=5, mode="exp_range", gamma=0.97,
                                                   base_momentum=0.85, max_momentum=0.95), 40),
    ("cyclic-nomomentum", "adam", lambda M, o: M.CyclicLR(o, 0.001, 0.01, step_size_up=2, cycle_momentum=False), 9),
    ("onecycle", "sgd", lambda M, o: M.OneCycleLR(o, max_lr=0.1, total_steps=50), 49),
    ("onecycle-linear-3", "adam", lambda M, o: M.OneCycleLR(o, max_lr=[0.1, 0.02], epochs=4, steps_per_epoch=10,
                                                            anneal_strategy="linear", three_phase=True,
                                                            pct_start=0.25), 39),
    ("lambda", "sgd", lambda M, o: M.LambdaLR(o, lambda t: 0.95 ** t), 20),
    ("lambda-groups", "sgd", lambda M, o: M.LambdaLR(o, [lambda t: 1 / (t + 1), lambda t: 0.9 ** t]), 20),
    ("multiplicative", "sgd", lambda M, o: M.MultiplicativeLR(o, lambda t: 0.9 if t % 2 else 1.0), 20),
    ("sequential", "sgd", lambda M, o: M.SequentialLR(
        o, [M.LinearLR(o, start_factor=0.1, total_iters=4), M.CosineAnnealingLR(o, T_max=10)], milestones=[4]), 20),
    ("sequential-3", "adam", lambda M, o: M.SequentialLR(
        o, [M.ConstantLR(o, factor=0.5, total_iters=2), M.ExponentialLR(o, gamma=0.8), M.StepLR(o, 2, 0.5)],
        milestones=[3, 8]), 16),
    ("chained", "sgd", lambda M, o: M.ChainedScheduler([M.ConstantLR(o, factor=0.1, total_iters=2),
                                                        M.ExponentialLR(o, gamma=0.9)]), 12),
    ("chained-cosine-step", "adam", lambda M, o: M.ChainedScheduler([M.CosineAnnealingLR(o, T_max=6),
                                                                     M.StepLR(o, 3, 0.5)]), 12),
]


def _momenta(opt) -> list:
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _close(a, b) -> bool:
    return len(a) == len(b) and all(abs(float(x) - float(y)) <= TOL for x, y in zip(a, b))


def _run_both(build, kind: str, steps: int):
    """Yield (our rates, torch's rates, our momenta, torch's momenta) after construction and each step."""
    ours, theirs = _ours(kind), _theirs(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's advice about the order of the step calls
        sched_o, sched_t = build(S, ours), build(T, theirs)
        yield sched_o.get_last_lr(), sched_t.get_last_lr(), _momenta(ours), _momenta(theirs)
        for _ in range(steps):
            theirs.step()
            sched_o.step()
            sched_t.step()
            yield sched_o.get_last_lr(), sched_t.get_last_lr(), _momenta(ours), _momenta(theirs)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rates_and_momenta_match_torch(case):
    _, kind, build, steps = case
    for t, (ours, theirs, m_ours, m_theirs) in enumerate(_run_both(build, kind, steps)):
        assert _close(ours, theirs), (t, ours, theirs)
        assert _close(m_ours, m_theirs), (t, m_ours, m_theirs)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_state_dict_round_trip_continues_identically(case):
    _, kind, build, steps = case
    half = steps // 2
    reference, opt_ref = None, _ours(kind)
    reference = build(S, opt_ref)
    rates = []
    for _ in range(steps):
        reference.step()
        rates.append(reference.get_last_lr())
    opt = _ours(kind)
    sched = build(S, opt)
    for _ in range(half):
        sched.step()
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    resumed_opt = _ours(kind)
    resumed = build(S, resumed_opt)  # built before the optimizer's state is loaded, as in PyTorch
    resumed_opt.load_state_dict(saved_opt)
    resumed.load_state_dict(saved_sched)
    for t in range(half, steps):
        resumed.step()
        assert _close(resumed.get_last_lr(), rates[t]), t
        assert _close([g["lr"] for g in resumed_opt.param_groups], rates[t])


# Pure functions against torch: base_lr * f(t) is torch's rate (its recursive rule agrees with the closed form).
FUNCTION_CASES = [
    ("step", S.StepDecay(3, 0.5), lambda o: T.StepLR(o, 3, 0.5), 20),
    ("multistep", S.MultiStepDecay([2, 5, 5, 9], 0.3), lambda o: T.MultiStepLR(o, [2, 5, 5, 9], 0.3), 15),
    ("constant", S.ConstantFactor(0.25, 4), lambda o: T.ConstantLR(o, 0.25, 4), 10),
    ("linear", S.LinearFactor(0.1, 0.9, 7), lambda o: T.LinearLR(o, 0.1, 0.9, 7), 12),
    ("exponential", S.ExponentialDecay(0.93), lambda o: T.ExponentialLR(o, 0.93), 30),
    ("polynomial", S.PolynomialDecay(8, 2.0), lambda o: T.PolynomialLR(o, 8, 2.0), 12),
    ("cosine", S.CosineDecay(10, final=0.01), lambda o: T.CosineAnnealingLR(o, 10, eta_min=0.01), 10),
    ("sgdr", S.CosineRestarts(3, 2, final=0.1), lambda o: T.CosineAnnealingWarmRestarts(o, 3, 2, eta_min=0.1), 40),
    ("cyclic", S.Cyclic(3, 5, low=0.1, mode="triangular2"),
     lambda o: T.CyclicLR(o, 0.1, 1.0, 3, 5, mode="triangular2", cycle_momentum=False), 40),
    ("cyclic-exp", S.Cyclic(4, low=0.2, mode="exp_range", gamma=0.95),
     lambda o: T.CyclicLR(o, 0.2, 1.0, 4, mode="exp_range", gamma=0.95, cycle_momentum=False), 40),
    ("onecycle", S.OneCycle(50), lambda o: T.OneCycleLR(o, 1.0, 50, cycle_momentum=False), 49),
    ("onecycle-3", S.OneCycle(40, 0.25, "linear", 10.0, 100.0, True),
     lambda o: T.OneCycleLR(o, 1.0, 40, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
                            final_div_factor=100.0, three_phase=True, cycle_momentum=False), 39),
    ("multiplicative", S.Multiplicative(lambda t: 0.9 if t % 2 else 1.1),
     lambda o: T.MultiplicativeLR(o, lambda t: 0.9 if t % 2 else 1.1), 20),
    ("sequential", S.Sequential([S.LinearFactor(0.1, 1.0, 4), S.CosineDecay(10)], [4]),
     lambda o: T.SequentialLR(o, [T.LinearLR(o, 0.1, 1.0, 4), T.CosineAnnealingLR(o, 10)], [4]), 14),
    ("product", S.Product(S.ConstantFactor(0.1, 2), S.ExponentialDecay(0.9)),
     lambda o: T.ChainedScheduler([T.ConstantLR(o, 0.1, 2), T.ExponentialLR(o, 0.9)]), 12),
]


@pytest.mark.parametrize("case", FUNCTION_CASES, ids=[c[0] for c in FUNCTION_CASES])
def test_pure_functions_are_torchs_rates(case):
    _, schedule, build, steps = case
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = build(opt)
        for t in range(steps + 1):
            assert abs(schedule(t) - opt.param_groups[0]["lr"]) <= TOL, (t, schedule(t), opt.param_groups[0]["lr"])
            opt.step()
            sched.step()


def test_schedulers_match_their_closed_forms_over_long_runs():
    opt = _ours("sgd")
    sched = S.CosineAnnealingLR(opt, T_max=1000, eta_min=0.0)
    f = S.CosineDecay(1000)
    for t in range(1, 1001):
        sched.step()
        assert abs(sched.get_last_lr()[0] - 0.1 * f(t)) <= TOL


def test_lambda_lr_takes_any_fastopt_schedule():
    opt = _ours("adam")
    wsd = S.WarmupStableDecay(total=20, warmup=4, decay=5)
    sched = S.LambdaLR(opt, wsd)
    for t in range(1, 20):
        sched.step()
        assert sched.get_last_lr() == pytest.approx([0.1 * wsd(t), 0.03 * wsd(t)], abs=TOL)


PLATEAU = [dict(), dict(mode="max", factor=0.5, patience=1, threshold=0.01),
           dict(patience=2, threshold_mode="abs", threshold=0.05, cooldown=2, min_lr=[0.02, 0.001]),
           dict(mode="max", threshold_mode="abs", patience=0, factor=0.3, eps=1e-3)]


@pytest.mark.parametrize("kwargs", PLATEAU)
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = list(np.r_[np.linspace(1.0, 0.5, 6), np.full(8, 0.5), np.linspace(0.5, 0.45, 5), [math.nan],
                         np.full(15, 0.44)])
    ours, theirs = _ours("sgd"), _theirs("sgd")
    s_o, s_t = S.ReduceLROnPlateau(ours, **kwargs), T.ReduceLROnPlateau(theirs, **kwargs)
    for i, m in enumerate(metrics):
        s_o.step(m)
        s_t.step(m)
        assert _close(s_o.get_last_lr(), s_t.get_last_lr()), (i, s_o.get_last_lr(), s_t.get_last_lr())
        assert s_o.num_bad_epochs == s_t.num_bad_epochs and s_o.in_cooldown == s_t.in_cooldown
    resumed = S.ReduceLROnPlateau(_ours("sgd"), **kwargs)
    resumed.load_state_dict(s_o.state_dict())
    assert resumed.best == s_o.best and resumed.num_bad_epochs == s_o.num_bad_epochs
