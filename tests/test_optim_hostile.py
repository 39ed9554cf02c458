"""What probing the optimizers as a hostile user found: each input is refused with a clear message, and
nothing changes; concurrent steps of one optimizer serialise."""
import threading

import numpy as np
import pytest

import fastopt
from fastopt import landscape


def snapshot(opt, params):
    return [p.copy() for p in params], repr(opt.state_dict())


def assert_unchanged(opt, params, before):
    for p, b in zip(params, before[0]):
        np.testing.assert_array_equal(p, b)
    assert repr(opt.state_dict()) == before[1]


@pytest.mark.parametrize("cls, key, value", [
    (fastopt.SGD, "lr", float("inf")), (fastopt.Adam, "weight_decay", float("inf")),
    (fastopt.SGD, "momentum", float("inf")), (fastopt.RMSprop, "eps", float("nan")),
    (fastopt.Adam, "betas", (0.9, float("nan"))),
])
def test_non_finite_hyperparameters_are_refused(cls, key, value):
    with pytest.raises(ValueError, match="must be finite"):
        cls([np.zeros(3)], **{key: value})
    params = [np.ones(3)]
    opt = cls(params)
    opt.step([np.ones(3)])
    before = snapshot(opt, params)
    opt.param_groups[0][key] = value
    with pytest.raises(ValueError, match="must be finite"):
        opt.step([np.ones(3)])
    opt.param_groups[0][key] = cls([np.zeros(1)]).defaults[key]
    assert_unchanged(opt, params, before)


@pytest.mark.parametrize("key, value", [("lr", True), ("weight_decay", np.True_), ("eps", False)])
def test_bools_are_not_real_numbers(key, value):
    with pytest.raises(TypeError, match=f"{key}: expected a real number, got bool"):
        fastopt.Adam([np.zeros(3)], **{key: value})


def test_flags_must_be_bools():
    with pytest.raises(TypeError, match="amsgrad: expected a bool, got float 0.5"):
        fastopt.Adam([np.zeros(3)], amsgrad=0.5)
    fastopt.Adam([np.zeros(3)], amsgrad=1)  # 0 and 1 are accepted as PyTorch users write them


def test_masked_params_and_grads_are_refused():
    masked = np.ma.masked_array(np.array([1.0, 1e30]), mask=[False, True])
    with pytest.raises(TypeError, match="param '0': masked arrays are not supported"):
        fastopt.SGD([masked])
    params = [np.ones(2)]
    opt = fastopt.SGD(params, lr=0.1)
    before = snapshot(opt, params)
    with pytest.raises(TypeError, match="grad for param '0': masked arrays are not supported"):
        opt.step([masked])
    assert_unchanged(opt, params, before)


def test_state_arrays_sharing_memory_in_a_state_dict_are_refused():
    params = [np.ones(3)]
    opt = fastopt.Adam(params)
    opt.step([np.ones(3)])
    state = opt.state_dict()
    state["state"][0]["exp_avg_sq"] = state["state"][0]["exp_avg"]
    before = snapshot(opt, params)
    with pytest.raises(ValueError, match="state 'exp_avg(_sq)?' of param '0' is the same memory as state 'exp_avg"):
        opt.load_state_dict(state)
    assert_unchanged(opt, params, before)


def test_unknown_state_in_a_state_dict_is_refused():
    opt = fastopt.Adam([np.ones(3)])
    state = opt.state_dict()
    state["state"][0]["momentum_buffer"] = [np.zeros(3)]
    with pytest.raises(ValueError, match="group 0 has state 'momentum_buffer', which Adam does not keep"):
        opt.load_state_dict(state)


def test_a_step_count_at_the_int64_limit_gets_a_short_message():
    params = [np.ones(3)]
    opt = fastopt.Adam(params)
    opt.step([np.ones(3)])
    opt.state[0].step = 2**63 - 1
    with pytest.raises(OverflowError, match="the most a step count holds"):
        opt.step([np.ones(3)])
    spec = fastopt.Adam.spec
    group = opt.param_groups[0]
    with pytest.raises(ValueError) as error:
        spec.step(group["params"], [np.ones(3)], opt.state[0].slots, group["names"], group, {}, 2**64)
    assert "step: must be an integer in [1, 2**63 - 1]" in str(error.value) and len(str(error.value)) < 100
    state = opt.state_dict()
    state["state"][0]["step"] = 2**63
    with pytest.raises(ValueError, match=r"step of group 0 must be an integer in \[0, 2\*\*63 - 1\]"):
        opt.load_state_dict(state)


def test_two_threads_stepping_one_optimizer_take_turns():
    # SGD at lr 1 on a small-integer gradient is exact in any order, so the result tells lost updates (two
    # steps running at once over the same array; seen without the lock) from steps that took turns.
    g = np.random.default_rng(0).integers(-8, 8, 4_000_000).astype(np.float64)
    params = [np.zeros(g.size)]
    opt = fastopt.SGD(params, lr=1.0)
    threads = [threading.Thread(target=lambda: [opt.step([g]) for _ in range(20)]) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert opt.state[0].step == 40
    np.testing.assert_array_equal(params[0], -40 * g)


def test_lookahead_refuses_a_bad_state_before_the_inner_step_changes_anything():
    params = [np.ones(4, np.float32)]
    opt = fastopt.Lookahead(fastopt.Adam(params, lr=0.1), k=2)
    opt.step([np.ones(4, np.float32)])
    state = opt.state_dict()
    before = snapshot(opt, params)
    with pytest.raises(ValueError, match="Invalid k: 0"):
        opt.load_state_dict({**state, "k": 0})
    with pytest.raises(ValueError, match="slow weights have another parameter layout"):
        opt.load_state_dict({**state, "slow": [[np.ones(4, np.float64)]]})
    assert_unchanged(opt, params, before)
    opt.slow = [[np.ones(4, np.float64)]]  # corrupted in place: the step must refuse before the inner step
    with pytest.raises(ValueError, match="optimizer state for param '0' does not match the param"):
        opt.step([np.ones(4, np.float32)])
    np.testing.assert_array_equal(params[0], before[0][0])
    opt.slow, opt.k = None, 0
    with pytest.raises(ValueError, match="Invalid k: 0"):
        opt.step([np.ones(4, np.float32)])
    np.testing.assert_array_equal(params[0], before[0][0])


def test_a_trajectory_too_large_for_memory_is_refused_with_its_size():
    with pytest.raises(ValueError, match=r"steps: 1000000000 steps of rosenbrock \(dim=2\) would need 37.3 GiB"):
        landscape.trajectory("rosenbrock", "adam", steps=10**9)


def test_kernel_calls_are_what_a_step_makes():
    opt = fastopt.Lookahead(fastopt.NAdam([np.zeros(2)], lr=0.1), k=3, alpha=0.4)
    calls = opt.kernel_calls()
    assert [(c.spec.name, c.every) for c in calls] == [("nadam", 1), ("lookahead", 3)]
    assert calls[0].carry == {"mu_product": 1.0} and calls[1].group == {"alpha": 0.4}
    opt.step([np.ones(2)])
    assert opt.kernel_calls() is None  # its state has begun: only the Python loop continues it exactly
    assert fastopt.Adam([{"params": [np.zeros(1)]}, {"params": [np.zeros(1)]}]).kernel_calls() is None
