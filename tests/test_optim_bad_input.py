"""Every bad input raises TypeError/ValueError naming the param and the problem, and modifies no array."""
import pickle

import numpy as np
import pytest

import fastopt


def two_params(dtype=np.float64):
    return {"w": np.arange(6, dtype=dtype).reshape(2, 3), "b": np.ones(4, dtype=dtype)}


def ones_like(params):
    return {k: np.ones_like(v) for k, v in params.items()}


def assert_step_rejected(opt, grads, exc, match, extra=()):
    """opt.step(grads) raises exc matching `match`; params, grads, `extra` arrays and the state stay as they were."""
    arrays = [p for g in opt.param_groups for p in g["params"]] + list(extra)
    given = grads.values() if isinstance(grads, dict) else grads
    arrays += [g for g in given if isinstance(g, np.ndarray)]
    before = [a.copy() for a in arrays]
    state = pickle.dumps(opt.state_dict())
    with pytest.raises(exc, match=match):
        opt.step(grads)
    for a, b in zip(arrays, before):
        assert a.tobytes() == b.tobytes()
    assert pickle.dumps(opt.state_dict()) == state


@pytest.fixture
def adam():
    """An Adam optimizer over {'w', 'b'} that has taken one step, so its state exists."""
    params = two_params()
    opt = fastopt.Adam(params, lr=0.1)
    opt.step(ones_like(params))
    return opt, params


@pytest.mark.parametrize("bad, exc, match", [
    (lambda p: {**ones_like(p), "b": np.ones(4, np.float32)}, TypeError, r"grad for param 'b'.*dtype float32.*float64"),
    (lambda p: {**ones_like(p), "b": np.ones(4, np.int64)}, TypeError, r"grad for param 'b'.*dtype int64"),
    (lambda p: {**ones_like(p), "b": np.ones(5)}, ValueError, r"grad for param 'b'.*shape \(5,\).*\(4,\)"),
    (lambda p: {**ones_like(p), "w": np.ones((3, 2))}, ValueError, r"grad for param 'w'.*shape \(3, 2\).*\(2, 3\)"),
    (lambda p: {**ones_like(p), "w": np.ones((3, 2)).T}, ValueError, r"grad for param 'w'.*C-contiguous"),
    (lambda p: {**ones_like(p), "b": np.ones(8)[::2]}, ValueError, r"grad for param 'b'.*C-contiguous"),
    (lambda p: {**ones_like(p), "b": p["b"]}, ValueError, r"grad for param 'b'.*shares memory"),
    (lambda p: {**ones_like(p), "b": [1.0, 1.0, 1.0, 1.0]}, TypeError, r"grad for param 'b'.*numpy.ndarray.*list"),
    (lambda p: {"w": np.ones((2, 3))}, ValueError, r"grads: names do not match.*missing \['b'\]"),
    (lambda p: {**ones_like(p), "x": np.ones(1)}, ValueError, r"grads: names do not match.*unexpected \['x'\]"),
    (lambda p: [np.ones((2, 3))], ValueError, r"grads: got 1 arrays for 2 params"),
    (lambda p: [np.ones((2, 3)), np.ones(4), np.ones(1)], ValueError, r"grads: got 3 arrays for 2 params"),
    (lambda p: np.ones(4), TypeError, r"grads: .*single array"),
], ids=["dtype-mismatch", "int-grad", "shape", "shape-2d", "transposed-grad", "strided-grad", "grad-is-param",
        "list-grad", "missing-name", "extra-name", "too-few", "too-many", "single-array"])
def test_bad_grads(adam, bad, exc, match):
    opt, params = adam
    assert_step_rejected(opt, bad(params), exc, match)


def test_grad_overlapping_the_param_is_rejected():
    base = np.arange(20.0)
    params = [np.ones(3), base[:10]]
    opt = fastopt.SGD(params, lr=0.1)
    assert_step_rejected(opt, [np.ones(3), base[5:15]], ValueError, r"grad for param '1'.*shares memory", [base])


def test_param_made_read_only_after_construction_is_rejected(adam):
    opt, params = adam
    params["b"].flags.writeable = False
    assert_step_rejected(opt, ones_like(params), ValueError, r"param 'b'.*read-only")


@pytest.mark.parametrize("bad, exc, match", [
    (lambda: [np.zeros(3), np.zeros(3, np.int32)], TypeError, r"param '1'.*unsupported dtype int32"),
    (lambda: [np.zeros(3, np.int8)], TypeError, r"param '0'.*unsupported dtype int8"),
    (lambda: {"w": np.zeros(3, np.complex128)}, TypeError, r"param 'w'.*unsupported dtype complex128"),
    (lambda: [np.zeros((3, 4)).T], ValueError, r"param '0'.*C-contiguous"),
    (lambda: {"w": np.zeros(8)[::2]}, ValueError, r"param 'w'.*C-contiguous"),
    (lambda: [np.frombuffer(bytes(24))], ValueError, r"param '0'.*read-only"),
    (lambda: [[1.0, 2.0]], TypeError, r"param '0'.*numpy.ndarray.*list"),
    (lambda: np.zeros(3), TypeError, r"params: .*single numpy.ndarray"),
    (lambda: [{"params": np.zeros(3)}], TypeError, r"'params' must be a list or dict"),
    (lambda: [np.zeros(3), {"params": [np.zeros(3)]}], TypeError, r"params: mix of arrays and param-group dicts"),
    (lambda: [{"params": [np.zeros(3)], "momentumm": 0.9}], ValueError,
         r"unknown hyperparameters 'momentumm' \(did you mean 'momentum'\?\)"),
    (lambda: [{"params": {"a": np.zeros(3)}}, {"params": {"a": np.zeros(2)}}], ValueError,
     r"param name 'a' appears in more than one group"),
], ids=["int", "int8", "complex", "transposed", "strided", "read-only", "list", "single-array", "group-array",
        "mixed", "unknown-key", "duplicate-name"])
def test_bad_params_at_construction(bad, exc, match):
    with pytest.raises(exc, match=match):
        fastopt.SGD(bad())


def test_the_same_array_twice_is_rejected():
    a = np.zeros(3)
    with pytest.raises(ValueError, match=r"param '1': shares memory with param '0'"):
        fastopt.SGD([a, a])


def test_params_sharing_memory_are_rejected_within_and_across_groups():
    """Two views of one buffer would be updated twice per step (racing across threads): rejected up front."""
    base = np.zeros(100)
    with pytest.raises(ValueError, match=r"param 'tail': shares memory with param 'head'"):
        fastopt.Adam({"head": base[:60], "tail": base[50:]})
    with pytest.raises(ValueError, match=r"param 'inner': shares memory with param 'whole'"):
        fastopt.Adam({"whole": base, "other": np.zeros(3), "inner": base[10:20]})
    opt = fastopt.SGD([{"params": {"w": base.reshape(10, 10)}}])
    with pytest.raises(ValueError, match=r"param 'v': shares memory with param 'w'"):
        opt.add_param_group({"params": {"v": base[99:]}})
    assert len(opt.param_groups) == 1
    fastopt.SGD([base[:50], base[50:], np.zeros(0), np.zeros(0)])  # adjacent or empty: fine


BAD_HYPER = [
    (fastopt.SGD, dict(lr=-0.1), r"learning rate: -0.1"),
    (fastopt.SGD, dict(lr=float("nan")), r"learning rate: nan"),
    (fastopt.SGD, dict(momentum=-0.5), r"momentum value: -0.5"),
    (fastopt.SGD, dict(weight_decay=-1e-4), r"weight_decay value: -0.0001"),
    (fastopt.SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), r"nesterov.*zero dampening"),
    (fastopt.SGD, dict(nesterov=True), r"nesterov.*requires a momentum"),
    (fastopt.Adagrad, dict(lr_decay=-0.1), r"lr_decay value: -0.1"),
    (fastopt.Adagrad, dict(initial_accumulator_value=-1.0), r"initial_accumulator_value: -1.0"),
    (fastopt.Adagrad, dict(eps=-1e-10), r"epsilon value: -1e-10"),
    (fastopt.RMSprop, dict(alpha=1.5), r"alpha value: 1.5"),
    (fastopt.RMSprop, dict(eps=-1.0), r"epsilon value: -1.0"),
    (fastopt.RMSprop, dict(momentum=-0.1), r"momentum value: -0.1"),
    (fastopt.Adadelta, dict(rho=1.1), r"rho value: 1.1"),
    (fastopt.Adadelta, dict(lr=-1.0), r"learning rate: -1.0"),
    (fastopt.Adam, dict(betas=(1.0, 0.999)), r"beta parameter at index 0: 1.0"),
    (fastopt.Adam, dict(betas=(0.9, -0.1)), r"beta parameter at index 1: -0.1"),
    (fastopt.Adam, dict(betas=(0.9,)), r"betas"),
    (fastopt.Adam, dict(eps=-1e-8), r"epsilon value: -1e-08"),
    (fastopt.AdamW, dict(weight_decay=-0.01), r"weight_decay value: -0.01"),
    (fastopt.Adamax, dict(betas=(0.9, 1.0)), r"beta parameter at index 1: 1.0"),
    (fastopt.NAdam, dict(momentum_decay=-4e-3), r"momentum_decay value: -0.004"),
    (fastopt.RAdam, dict(betas=(-0.1, 0.999)), r"beta parameter at index 0: -0.1"),
    (fastopt.Lion, dict(betas=(0.9, 1.5)), r"beta parameter at index 1: 1.5"),
    (fastopt.Lion, dict(lr=-1e-4), r"learning rate: -0.0001"),
    (fastopt.Ranger, dict(k=0), r"Invalid k: 0"),
    (fastopt.Ranger, dict(alpha=1.5), r"Invalid alpha: 1.5"),
    (fastopt.Ranger, dict(eps=-1.0), r"epsilon value: -1.0"),
    (fastopt.SGDW, dict(weight_decay=-0.01), r"weight_decay value: -0.01"),
    (fastopt.AdaBelief, dict(eps_root=-1e-16), r"eps_root value: -1e-16 \(must be >= 0\)"),
    (fastopt.ADOPT, dict(betas=(0.9, 1.0)), r"beta parameter at index 1: 1.0"),
    (fastopt.AdEMAMix, dict(betas=(0.9, 0.999)), r"Invalid betas: \(0.9, 0.999\) \(expected a triple"),
    (fastopt.AdEMAMix, dict(betas=(0.9, 0.999, 1.0)), r"beta parameter at index 2: 1.0"),
    (fastopt.AdEMAMix, dict(alpha=-1.0), r"alpha value: -1.0"),
    (fastopt.AdEMAMix, dict(beta3_warmup=-5), r"beta3_warmup value: -5"),
    (fastopt.Adan, dict(betas=(0.98, 0.92, 0.99, 0.9)), r"expected a triple \(beta1, beta2, beta3\)"),
    (fastopt.Rprop, dict(etas=(1.5, 1.2)), r"Invalid eta values: \(1.5, 1.2\)"),
    (fastopt.Rprop, dict(etas=(0.5, 1.0)), r"need 0 < etaminus < 1 < etaplus"),
    (fastopt.Rprop, dict(step_sizes=(1.0, 0.1)), r"Invalid step_sizes: \(1.0, 0.1\) \(need 0 <= minimum <= maximum"),
    (fastopt.Rprop, dict(step_sizes=(1e-6,)), r"step_sizes: \(1e-06,\) \(expected a pair of real numbers"),
    (fastopt.ASGD, dict(lambd=-1e-4), r"lambd value: -0.0001"),
    (fastopt.ASGD, dict(t0=float("inf")), r"t0: inf \(must be finite"),
]


@pytest.mark.parametrize("cls, kwargs, match", BAD_HYPER, ids=lambda x: getattr(x, "__name__", None))
def test_bad_hyperparameters_at_construction(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([np.zeros(3)], **kwargs)


@pytest.mark.parametrize("kwargs, match", [(dict(k=0), "Invalid k: 0"), (dict(k=2.5), "Invalid k: 2.5"),
                                           (dict(k=True), "Invalid k: True"),
                                           (dict(alpha=-0.1), "Invalid alpha: -0.1"),
                                           (dict(alpha=1.01), "Invalid alpha: 1.01")])
def test_bad_lookahead_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastopt.Lookahead(fastopt.SGD([np.zeros(3)]), **kwargs)


def test_lookahead_needs_a_fastopt_optimizer():
    with pytest.raises(TypeError, match="inner optimizer: expected a fastopt optimizer, got list"):
        fastopt.Lookahead([np.zeros(3)])


@pytest.mark.parametrize("key, value, match", [("lr", -0.01, r"learning rate: -0.01"),
                                               ("betas", (0.9, 1.0), r"beta parameter at index 1: 1.0"),
                                               ("eps", -1.0, r"epsilon value: -1.0"),
                                               ("weight_decay", -0.5, r"weight_decay value: -0.5")])
def test_hyperparameter_made_invalid_before_a_step(adam, key, value, match):
    opt, params = adam
    opt.param_groups[0][key] = value
    assert_step_rejected(opt, ones_like(params), ValueError, match)


@pytest.mark.parametrize("cls, key, value, match", [
    (fastopt.Rprop, "etas", (0.5, 0.9), r"Invalid eta values"),
    (fastopt.AdEMAMix, "betas", (0.9, 0.999, 1.5), r"beta parameter at index 2: 1.5"),
    (fastopt.Adan, "betas", (0.9, 0.9), r"expected a triple"),
    (fastopt.ADOPT, "use_clipping", 2, r"use_clipping: expected a bool, got int 2"),
    (fastopt.ASGD, "lambd", -1.0, r"lambd value: -1.0"),
], ids=lambda x: getattr(x, "__name__", None))
def test_new_optimizers_reject_a_hyperparameter_made_invalid_after_a_step(cls, key, value, match):
    """The state exists (one step taken); the bad value is caught before anything changes."""
    params = two_params()
    opt = cls(params, lr=0.01)
    opt.step(ones_like(params))
    opt.param_groups[0][key] = value
    assert_step_rejected(opt, ones_like(params), TypeError if key == "use_clipping" else ValueError, match)


def test_lookahead_step_with_bad_grads_changes_nothing():
    params = two_params()
    opt = fastopt.Lookahead(fastopt.Adam(params, lr=0.1), k=2)
    opt.step(ones_like(params))
    steps, slow = opt.steps, [[a.copy() for a in s] for s in opt.slow]
    assert_step_rejected(opt, {**ones_like(params), "b": np.ones(4, np.float32)}, TypeError, r"grad for param 'b'")
    assert opt.steps == steps
    assert all(np.array_equal(a, b) for s, t in zip(slow, opt.slow) for a, b in zip(s, t))


def _groups():
    rng = np.random.default_rng(0)
    return [{"params": {"a": rng.standard_normal(5), "b": rng.standard_normal(40000)}, "lr": 0.1},
            {"params": {"c": rng.standard_normal(3), "d": rng.standard_normal((2, 2)).astype(np.float32)}}]


def _break_lr(opt, params, grads):
    opt.param_groups[1]["lr"] = -1.0


def _break_dtype(opt, params, grads):
    grads["d"] = grads["d"].astype(np.float64)


def _break_shape(opt, params, grads):
    grads["d"] = np.ones(4, np.float32)


def _break_read_only(opt, params, grads):
    params["d"].flags.writeable = False


def _break_alias(opt, params, grads):
    grads["d"] = params["d"]


@pytest.mark.parametrize("cls", [fastopt.Adam, fastopt.SGD, fastopt.RMSprop, fastopt.Ranger])
@pytest.mark.parametrize("breaks, exc, match", [
    (_break_lr, ValueError, r"learning rate: -1.0"),
    (_break_dtype, TypeError, r"grad for param 'd'.*dtype float64"),
    (_break_shape, ValueError, r"grad for param 'd'.*shape"),
    (_break_read_only, ValueError, r"param 'd'.*read-only"),
    (_break_alias, ValueError, r"grad for param 'd'.*shares memory"),
], ids=["lr", "dtype", "shape", "read-only", "alias"])
def test_only_the_last_group_bad_changes_nothing(cls, breaks, exc, match):
    groups = _groups()
    params = {k: v for g in groups for k, v in g["params"].items()}
    opt = cls(groups)
    opt.step(ones_like(params))
    grads = ones_like(params)
    breaks(opt, params, grads)
    assert_step_rejected(opt, grads, exc, match)


@pytest.mark.parametrize("make", [lambda p: fastopt.Adam(p), lambda p: fastopt.Ranger(p),
                                  lambda p: fastopt.Adam([{"params": {"w": p["w"]}}, {"params": {"b": p["b"]}}])],
                         ids=["adam", "ranger", "two-groups"])
def test_failed_first_step_creates_no_state(make):
    params = two_params()
    opt = make(params)
    assert_step_rejected(opt, {**ones_like(params), "b": np.ones(3)}, ValueError, r"grad for param 'b'.*shape")
    fresh = pickle.dumps(make(two_params()).state_dict())
    assert pickle.dumps(opt.state_dict()) == fresh


@pytest.mark.parametrize("key, value", [("lr", "0.1"), ("lr", None), ("eps", [1e-8]), ("momentum_decay", "fast"),
                                        ("betas", (0.9, "0.999")), ("maximize", "yes")])
def test_non_numeric_hyperparameter_is_a_type_error(key, value):
    with pytest.raises(TypeError, match=f"{key}: expected a (real number|bool), got (str|NoneType|list)"):
        fastopt.NAdam([np.zeros(3)], **{key: value})
    opt = fastopt.NAdam([np.zeros(3)])
    opt.param_groups[0][key] = value
    assert_step_rejected(opt, [np.ones(3)], TypeError, f"{key}: expected a (real number|bool)")


def test_extra_keys_added_to_a_group_are_ignored_by_the_kernel():
    """Schedulers store their own values in the groups (torch's schedulers add 'initial_lr')."""
    params = [np.zeros(3)]
    opt = fastopt.Adam(params, lr=0.1)
    opt.param_groups[0]["initial_lr"] = 0.1
    opt.param_groups[0]["name"] = "encoder"
    opt.step([np.ones(3)])
    np.testing.assert_allclose(params[0], -0.1)
