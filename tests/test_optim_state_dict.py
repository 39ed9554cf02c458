"""state_dict / load_state_dict: exact resume (bit-identical, also through pickle) and layout checks."""
import pickle

import numpy as np
import pytest

import fastopt
from optim_cases import CASES, CASE_IDS, problem

SHAPES = ((17,), (3, 5), (0,), (1,))


def snapshot(opt):
    return pickle.dumps(opt.state_dict())


@pytest.mark.parametrize("stop", [0, 8])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_resume_is_bit_identical(case, stop):
    """Save after `stop` steps, pickle, load into a fresh optimizer over copies, continue: same bits as no stop."""
    params0, grads = problem(SHAPES, np.float64, steps=20)
    straight = [p.copy() for p in params0]
    opt = case.make(straight)
    for g in grads:
        opt.step(g)

    first = [p.copy() for p in params0]
    opt = case.make(first)
    for g in grads[:stop]:
        opt.step(g)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    resumed = [p.copy() for p in first]
    opt = case.make(resumed)
    opt.load_state_dict(saved)
    for g in grads[stop:]:
        opt.step(g)
    for a, b in zip(resumed, straight):
        assert a.tobytes() == b.tobytes()


def test_resume_with_groups_dict_params_and_mixed_dtypes():
    rng = np.random.default_rng(0)
    start = {"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(3).astype(np.float32),
             "h": rng.standard_normal(5).astype(np.float32)}
    grads = [{k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in start.items()} for _ in range(10)]

    def adam_over(arrays):
        return fastopt.Adam([{"params": {"w": arrays["w"], "b": arrays["b"]}, "lr": 0.05},
                             {"params": {"h": arrays["h"]}, "betas": (0.5, 0.9), "amsgrad": True}])

    straight = {k: v.copy() for k, v in start.items()}
    opt = adam_over(straight)
    for g in grads:
        opt.step(g)

    first = {k: v.copy() for k, v in start.items()}
    opt = adam_over(first)
    for g in grads[:4]:
        opt.step(g)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    resumed = {k: v.copy() for k, v in first.items()}
    opt = adam_over(resumed)
    opt.load_state_dict(saved)
    for g in grads[4:]:
        opt.step(g)
    for k, v in straight.items():
        assert resumed[k].dtype == v.dtype and resumed[k].tobytes() == v.tobytes()


def test_load_restores_hyperparameters():
    params = [np.ones(3)]
    opt = fastopt.SGD(params, lr=0.1, momentum=0.9)
    opt.step([np.ones(3)])
    opt.param_groups[0]["lr"] = 0.01
    saved = opt.state_dict()
    other = fastopt.SGD([np.ones(3)], lr=0.5, momentum=0.9)
    other.load_state_dict(saved)
    assert other.param_groups[0]["lr"] == 0.01
    assert other.state[0]["step"] == 1


def test_state_dict_is_a_copy():
    params = [np.ones(4)]
    opt = fastopt.Adam(params, lr=0.1)
    opt.step([np.ones(4)])
    saved = opt.state_dict()
    before = pickle.dumps(saved)
    opt.step([np.ones(4)])
    assert pickle.dumps(saved) == before  # stepping does not reach into the saved arrays
    other = fastopt.Adam([params[0].copy()], lr=0.1)
    other.load_state_dict(saved)
    loaded = snapshot(other)
    for group_state in saved["state"]:
        for v in group_state.values():
            if isinstance(v, list):
                for a in v:
                    a += 1.0
    assert snapshot(other) == loaded  # mutating the dict after loading does not reach the optimizer


def make_adam(shapes=((3,), (2, 2)), dtype=np.float64, names=None):
    arrays = [np.zeros(s, dtype) for s in shapes]
    return fastopt.Adam(dict(zip(names, arrays)) if names else arrays, lr=0.1)


def stepped(opt):
    grads = [np.ones_like(p) for g in opt.param_groups for p in g["params"]]
    opt.step(grads)
    return opt


@pytest.mark.parametrize("source, target, match", [
    (lambda: stepped(fastopt.SGD([np.zeros(3), np.zeros((2, 2))], momentum=0.9)), make_adam, "SGD"),
    (lambda: stepped(fastopt.AdamW([np.zeros(3), np.zeros((2, 2))])), make_adam, "AdamW"),
    (lambda: stepped(fastopt.Lookahead(make_adam())), make_adam, "Lookahead"),
    (lambda: stepped(make_adam()), lambda: fastopt.Lookahead(make_adam()), "Adam"),
    (lambda: stepped(fastopt.Ranger([np.zeros(3), np.zeros((2, 2))])),
     lambda: fastopt.Lookahead(fastopt.RAdam([np.zeros(3), np.zeros((2, 2))])), "Ranger"),
    (lambda: stepped(make_adam(shapes=((4,), (2, 2)))), make_adam, "layout"),
    (lambda: stepped(make_adam(shapes=((3,),))), make_adam, "layout"),
    (lambda: stepped(make_adam(dtype=np.float32)), make_adam, "layout"),
    (lambda: stepped(make_adam(names=["a", "b"])), lambda: make_adam(names=["a", "c"]), "layout"),
    (lambda: stepped(fastopt.Adam([{"params": [np.zeros(3)]}, {"params": [np.zeros((2, 2))]}])), make_adam,
     "param groups"),
    (lambda: stepped(fastopt.Lookahead(make_adam(shapes=((5,), (2, 2))))), lambda: fastopt.Lookahead(make_adam()),
     "layout"),
], ids=["sgd->adam", "adamw->adam", "lookahead->adam", "adam->lookahead", "ranger->lookahead", "shape", "count",
        "dtype", "names", "groups", "lookahead-shape"])
def test_load_from_another_optimizer_or_layout_raises(source, target, match):
    saved = source().state_dict()
    opt = stepped(target())
    before = snapshot(opt)
    params_before = [p.copy() for g in opt.param_groups for p in g["params"]]
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(saved)
    assert snapshot(opt) == before
    for p, q in zip([p for g in opt.param_groups for p in g["params"]], params_before):
        assert np.array_equal(p, q)


def test_load_state_with_a_wrong_array_raises():
    saved = stepped(make_adam()).state_dict()
    saved["state"][0]["exp_avg"][1] = np.zeros(4)
    opt = stepped(make_adam())
    before = snapshot(opt)
    with pytest.raises(ValueError, match="exp_avg"):
        opt.load_state_dict(saved)
    assert snapshot(opt) == before
