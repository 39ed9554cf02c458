"""fastopt.torch under torch.amp.GradScaler's protocol for fused optimizers, against torch's own optimizers
under the same scaler (skipped without torch).

The scaler hands a fused optimizer its scale and ``found_inf`` instead of unscaling the gradients itself;
over a run with steps whose gradients hold Inf or NaN (skipped, the scale halved) and a scale that grows
back, the params, every state tensor and the scale must match torch's fused and foreach optimizers.
"""
import math

import pytest

torch = pytest.importorskip("torch")

import fastopt.torch  # noqa: E402
from torch_adapter_cases import Net, batches, implementations, torch_flags  # noqa: E402

TOL = dict(rtol=1e-5, atol=1e-5)
# Steps whose gradients a fp16 overflow would have spoiled: the scaler must skip them and halve its scale.
SPOILED = {3: float("inf"), 9: float("nan"), 10: -float("inf"), 21: float("inf")}
AMP_CASES = [("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
             ("AdamW", dict(lr=0.01, weight_decay=0.1)), ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
             ("Adagrad", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, centered=True))]


def train(make_optimizer, steps=30, spoiled=SPOILED, unscale_first=False, init_scale=2.0**12):
    """Train a Net with a GradScaler (growing its scale every 4 clean steps); ``spoiled`` puts a non-finite value
    into one gradient at those steps; ``unscale_first`` unscales and clips before the step, as loops that clip
    do.  Returns the net, the optimizer, the scales after each step, and the grads the last step left."""
    net = Net(torch.float32)
    opt = make_optimizer(net.parameters())
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=4)
    scales = []
    for step, (x, y) in enumerate(batches(torch.float32, steps)):
        opt.zero_grad(set_to_none=True)
        scaler.scale(torch.nn.functional.cross_entropy(net(x), y)).backward()
        if step in spoiled:
            net.body[2].weight.grad[1, 2] = spoiled[step]
        if unscale_first:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return net, opt, scales, [p.grad for p in net.parameters()]


def assert_same(ours, theirs):
    """The same params and every state tensor of every param (state made at the same steps)."""
    (net, opt, scales, _), (their_net, their_opt, their_scales, _) = ours, theirs
    assert scales == their_scales
    for (name, got), want in zip(net.named_parameters(), their_net.parameters(), strict=True):
        torch.testing.assert_close(got, want, **TOL, msg=lambda m: f"param {name}: {m}")
    for q, p in zip(net.parameters(), their_net.parameters(), strict=True):
        want, got = their_opt.state.get(p, {}), opt.state.get(q, {})
        assert set(got) == set(want)
        for key, value in want.items():
            torch.testing.assert_close(got[key], value, **TOL, msg=lambda m: f"state {key!r}: {m}")


@pytest.mark.parametrize("name, kwargs", AMP_CASES, ids=[f"{n}{sorted(kw)}" for n, kw in AMP_CASES])
@pytest.mark.parametrize("unscale_first", [False, True], ids=["scaler-steps", "unscale-then-clip"])
def test_grad_scaler_matches_torch(name, kwargs, unscale_first):
    ours = train(lambda params: getattr(fastopt.torch, name)(params, **kwargs), unscale_first=unscale_first)
    scales = ours[2]
    assert scales[3] == scales[2] / 2 and scales[9] == scales[8] / 2 and scales[10] == scales[9] / 2
    assert max(scales) > 2.0**12  # the scale grew back after clean stretches
    steps = 30 - len(SPOILED)
    if name != "SGD":  # torch's SGD keeps no step count
        stepped = [p for p in ours[0].parameters() if p.grad is not None]
        assert stepped and all(float(ours[1].state[p]["step"]) == steps for p in stepped)
    for impl in implementations(name):
        if impl == "for-loop":
            continue  # the same math as foreach, on the scaler's unscaled grads
        theirs = train(lambda params: getattr(torch.optim, name)(params, **kwargs, **torch_flags(impl)),
                       unscale_first=unscale_first)
        assert_same(ours, theirs)


def test_scaler_takes_the_fused_path():
    """The scaler does not unscale the grads itself: the kernel divides by the scale as it reads them, and the
    grads keep their scaled values (the scaled loss's backward: at step 0 exactly init_scale x the loss's)."""
    net, opt, scales, grads = train(lambda params: fastopt.torch.Adam(params, lr=0.01), steps=1, spoiled={})
    plain_net = Net(torch.float32)
    x, y = batches(torch.float32, 1)[0]
    torch.nn.functional.cross_entropy(plain_net(x), y).backward()
    for got, p in zip(grads, plain_net.parameters(), strict=True):
        assert (got is None) == (p.grad is None)  # the param no loss reaches has none
        if got is not None:
            torch.testing.assert_close(got, p.grad * 2.0**12)
    theirs = train(lambda params: torch.optim.Adam(params, lr=0.01, foreach=True), steps=1, spoiled={})
    assert_same((net, opt, scales, grads), theirs)


def test_spoiled_first_step_makes_state_and_takes_no_step():
    """As torch's fused Adam: the state exists after a skipped first step, at step 0 and all zeros."""
    ours = train(lambda params: fastopt.torch.Adam(params, lr=0.01), steps=3, spoiled={0: float("inf")})
    theirs = train(lambda params: torch.optim.Adam(params, lr=0.01, fused=True), steps=3, spoiled={0: float("inf")})
    assert_same(ours, theirs)
    net, opt, *_ = train(lambda params: fastopt.torch.Adam(params, lr=0.01), steps=1, spoiled={0: float("inf")})
    fresh = Net(torch.float32)
    for p, q in zip(net.parameters(), fresh.parameters()):
        assert torch.equal(p, q)
        if p.grad is not None:  # all but the param no loss reaches
            assert float(opt.state[p]["step"]) == 0 and not opt.state[p]["exp_avg"].any()


@pytest.mark.parametrize("scale", [0.0, -1.0, math.inf, math.nan, torch.tensor(0.0)])
def test_bad_grad_scale_changes_nothing(scale):
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    opt = fastopt.torch.Adam([p], lr=0.1)
    opt.grad_scale = scale
    with pytest.raises(ValueError, match="grad_scale: the loss scale must be a finite number > 0"):
        opt.step()
    assert torch.equal(p.detach(), torch.ones(3)) and not opt.state
    del opt.grad_scale
    opt.step()
    assert float(opt.state[p]["step"]) == 1
