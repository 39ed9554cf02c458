"""Bad precision settings and bad low-precision arrays: a TypeError/ValueError naming the setting or array,
raised before anything is written (params, grads and state unchanged)."""
import pickle

import numpy as np
import pytest

import fastopt

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)


def assert_step_rejected(opt, grads, exc, match):
    """opt.step(grads) raises exc matching `match`; params, grads and the state stay as they were."""
    arrays = [p for g in opt.param_groups for p in g["params"]] + [g for g in grads if isinstance(g, np.ndarray)]
    before = [a.copy() for a in arrays]
    state = pickle.dumps(opt.state_dict())
    with pytest.raises(exc, match=match):
        opt.step(grads)
    for a, b in zip(arrays, before):
        assert a.tobytes() == b.tobytes()
    assert pickle.dumps(opt.state_dict()) == state


@pytest.mark.parametrize("make, exc, match", [
    (lambda: fastopt.Adam([np.zeros(3, np.float32)], state_dtype="int4"), ValueError,
     r"state_dtype: expected one of 'float32', 'bfloat16', 'int8', got 'int4'"),
    (lambda: fastopt.Adam([np.zeros(3, np.float32)], master_weights="yes"), TypeError,
     r"master_weights: expected a bool, got str 'yes'"),
    (lambda: fastopt.SGD([np.zeros(3, np.float32)], stochastic_rounding=1.0), TypeError,
     r"stochastic_rounding: expected a bool"),
    (lambda: fastopt.SGD([np.zeros(3, np.float32)], rounding_seed=-1), ValueError,
     r"rounding_seed: expected an integer in \[0, 2\*\*64\), got -1"),
    (lambda: fastopt.Muon([np.zeros((4, 4), np.float32)], state_dtype="bfloat16"), ValueError,
     r"state_dtype: Muon has no low-precision step"),
    (lambda: fastopt.Adafactor([np.zeros((4, 4), BF16)]), ValueError,
     r"bfloat16/float16 params: Adafactor has no low-precision step"),
    (lambda: fastopt.LAMB([np.zeros(3, np.float32)], state_dtype="int8"), ValueError,
     r"state_dtype: LAMB has no low-precision step"),
    (lambda: fastopt.Prodigy([np.zeros(3, BF16)]), ValueError,
     r"bfloat16/float16 params: Prodigy has no low-precision step"),
    (lambda: fastopt.ScheduleFreeAdamW([np.zeros(3, np.float32)], master_weights=True), ValueError,
     r"master_weights: ScheduleFreeAdamW has no low-precision step"),
    (lambda: fastopt.ASGD([np.zeros(3, np.float32)], state_dtype="int8"), ValueError,
     r"state_dtype: 'int8' does not suit ASGD"),
    (lambda: fastopt.Adam([np.zeros(3, np.float64)], state_dtype="bfloat16"), ValueError,
     r"not for float64 params"),
    (lambda: fastopt.Adam([{"params": [np.zeros(3, np.float32)], "state_dtpye": "int8"}]), ValueError,
     r"unknown hyperparameters 'state_dtpye' \(did you mean 'state_dtype'\?\)"),
], ids=["state-dtype", "master-weights", "stochastic-rounding", "seed", "muon", "adafactor-bf16", "lamb", "prodigy",
        "schedule-free", "asgd-int8",
        "float64", "misspelt"])
def test_bad_settings_at_construction(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_a_bad_setting_on_a_param_group_is_refused_at_the_step():
    param = np.ones(3, np.float32)
    opt = fastopt.Adam([param])
    opt.param_groups[0]["state_dtype"] = "float8"
    assert_step_rejected(opt, [np.ones(3, np.float32)], ValueError, r"state_dtype: expected one of")


@pytest.mark.parametrize("grad, exc, match", [
    (np.ones(300, np.float16), TypeError, r"grad for param '0': dtype float16 \(expected the param's bfloat16 or float32\)"),
    (np.ones(301, BF16), ValueError, r"grad for param '0': shape \(301,\) does not match the param's shape \(300,\)"),
    (np.ones(600, BF16)[::2], ValueError, r"grad for param '0': must be C-contiguous"),
    ([1.0] * 300, TypeError, r"grad for param '0': expected a numpy.ndarray, got list"),
], ids=["dtype", "shape", "strided", "list"])
def test_bad_low_precision_grads_change_nothing(grad, exc, match):
    param = np.linspace(-1, 1, 300).astype(BF16)
    opt = fastopt.Adam([param], state_dtype="int8", master_weights=True)
    assert_step_rejected(opt, [grad], exc, match)


def test_a_bad_second_group_leaves_the_first_unchanged():
    first, second = np.ones(5000, BF16), np.ones(4, BF16)
    opt = fastopt.Adam([{"params": [first], "state_dtype": "bfloat16"}, {"params": [second]}])
    opt.step([np.ones(5000, BF16), np.ones(4, BF16)])
    assert_step_rejected(opt, [np.ones(5000, BF16), np.ones(4, np.float16)], TypeError, r"grad for param '1'")


@pytest.mark.parametrize("corrupt, exc, match", [
    (lambda st: st["exp_avg_absmax"].__setitem__(1, np.zeros(3, np.float32)), ValueError,
     r"absmax of state 'exp_avg' of param '1': expected 20 float32 values \(one per block of 256\)"),
    (lambda st: st["exp_avg"].__setitem__(1, np.zeros(5000, np.float16)), ValueError,
     r"state 'exp_avg' of param '1' does not match the param"),
    (lambda st: st["master"].__setitem__(1, np.zeros(5000, np.float64)), ValueError,
     r"master copy of param '1': expected float32 of the param's size"),
    (lambda st: st["master"].__setitem__(1, st["exp_avg_sq_absmax"][1]), ValueError,
     r"master copy of param '1': expected float32 of the param's size"),
], ids=["absmax-size", "state-dtype", "master-dtype", "master-size"])
def test_corrupted_state_is_refused_before_any_write(corrupt, exc, match):
    """The native step's own checks (the second param: the Python side looks at the first param's state only)."""
    params = [np.linspace(-1, 1, 5000).astype(BF16), np.linspace(1, 2, 5000).astype(BF16)]
    opt = fastopt.Adam(params, state_dtype="int8", master_weights=True)
    opt.step([np.ones(5000, BF16), np.ones(5000, BF16)])
    corrupt(opt.state[0].slots)
    assert_step_rejected(opt, [np.ones(5000, BF16), np.ones(5000, BF16)], exc, match)


def test_state_sharing_memory_with_the_grad_is_refused():
    param, grad = np.ones(5000, BF16), np.ones(5000, np.float32)
    opt = fastopt.Adam([param], master_weights=True)
    opt.step([grad])
    opt.state[0].slots["master"][0] = grad
    assert_step_rejected(opt, [grad], ValueError, r"master copy of param '0' shares memory with its grad")


def test_changing_state_dtype_after_the_first_step_is_refused():
    param = np.ones(5000, np.float32)
    opt = fastopt.Adam([param])
    opt.step([np.ones(5000, np.float32)])
    opt.param_groups[0]["state_dtype"] = "int8"
    assert_step_rejected(opt, [np.ones(5000, np.float32)], ValueError,
                         r"state_dtype: the state 'exp_avg' was made as float32, not as state_dtype='int8' asks")
