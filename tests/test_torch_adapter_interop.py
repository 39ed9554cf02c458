"""fastopt.torch with torch's training-loop machinery (schedulers, clipping, swa_utils, checkpoints) and on
bad input (skipped without torch)."""
import copy
import io

import pytest

torch = pytest.importorskip("torch")

import fastopt.torch  # noqa: E402
from torch_adapter_cases import Net, batches  # noqa: E402


def run(make_optimizer, steps=12, make_scheduler=None, clip=None, seed_net=None):
    """Train a Net; ``make_scheduler(opt)`` steps after each optimizer step, ``clip`` clips the grad norm."""
    net = seed_net or Net(torch.float32)
    opt = make_optimizer(net.parameters())
    scheduler = make_scheduler(opt) if make_scheduler else None
    lrs = []
    for x, y in batches(torch.float32, steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
        if scheduler:
            scheduler.step()
    return net, opt, lrs


def assert_same_params(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, make_scheduler", [
    ("Adam", lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.3)),
    ("SGD", lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=12)),  # cycles momentum
    ("Adam", lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=12)),  # cycles beta1
])
def test_schedulers_change_what_the_kernel_uses(name, make_scheduler):
    kwargs = dict(lr=0.1, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    ours, _, lrs = run(lambda p: getattr(fastopt.torch, name)(p, **kwargs), make_scheduler=make_scheduler)
    theirs, _, want_lrs = run(lambda p: getattr(torch.optim, name)(p, **kwargs), make_scheduler=make_scheduler)
    assert lrs == want_lrs and len(set(lrs)) > 2
    constant, _, _ = run(lambda p: getattr(fastopt.torch, name)(p, **kwargs))
    assert_same_params(ours, theirs)
    assert not torch.allclose(ours.head.weight, constant.head.weight)


def test_clip_grad_norm_and_swa_utils():
    ours, _, _ = run(lambda p: fastopt.torch.AdamW(p, lr=0.01), clip=0.1)
    theirs, _, _ = run(lambda p: torch.optim.AdamW(p, lr=0.01), clip=0.1)
    assert_same_params(ours, theirs)

    def swa(cls):
        net = Net(torch.float32)
        averaged = torch.optim.swa_utils.AveragedModel(net)
        opt = cls(net.parameters(), lr=0.05, momentum=0.9)
        scheduler = torch.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=3)
        for x, y in batches(torch.float32, 8):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x), y).backward()
            opt.step()
            averaged.update_parameters(net)
            scheduler.step()
        return averaged, opt.param_groups[0]["lr"]

    (ours, lr), (theirs, want_lr) = swa(fastopt.torch.SGD), swa(torch.optim.SGD)
    assert lr == pytest.approx(want_lr) == pytest.approx(0.01)
    assert_same_params(ours, theirs)


def checkpoint(opt):
    """The state_dict as it comes back from disk."""
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer)


@pytest.mark.parametrize("name, kwargs", [("Adam", dict(lr=0.01, amsgrad=True)), ("SGD", dict(lr=0.05, momentum=0.9)),
                                          ("NAdam", dict(lr=0.01)), ("Adagrad", dict(lr=0.05)),
                                          ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
@pytest.mark.parametrize("first, second", [("torch", "fastopt"), ("fastopt", "torch")])
def test_state_dict_moves_between_torch_and_fastopt(name, kwargs, first, second):
    """Train 6 steps with one, checkpoint, resume with the other for 6 more: as if one had run all 12."""
    module = {"torch": torch.optim, "fastopt": fastopt.torch}
    whole, whole_opt, _ = run(lambda p: getattr(torch.optim, name)(p, **kwargs), steps=12)
    net, opt, _ = run(lambda p: getattr(module[first], name)(p, **kwargs), steps=6)
    saved = checkpoint(opt)
    resumed = getattr(module[second], name)(net.parameters(), **kwargs)
    resumed.load_state_dict(saved)
    assert set(resumed.state_dict()["state"][0]) == set(saved["state"][0])
    for x, y in batches(torch.float32, 12)[6:]:
        resumed.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        resumed.step()
    assert_same_params(net, whole)
    for p, q in zip(net.parameters(), whole.parameters()):
        for key, value in whole_opt.state[q].items() if p is not net.unused else ():
            torch.testing.assert_close(resumed.state[p][key].float(), value.float(), rtol=1e-5, atol=1e-5)


def test_loaded_state_is_a_copy_and_a_bad_one_changes_nothing():
    net, opt, _ = run(lambda p: fastopt.torch.Adam(p, lr=0.01), steps=3)
    saved = opt.state_dict()
    other = fastopt.torch.Adam(net.parameters(), lr=0.01)
    other.load_state_dict(saved)
    first = net.head.weight
    assert other.state[first]["exp_avg"].data_ptr() != opt.state[first]["exp_avg"].data_ptr()
    bad = copy.deepcopy(saved)
    bad["state"][0]["exp_avg"] = torch.zeros(3)
    before = copy.deepcopy(other.state_dict())
    with pytest.raises(ValueError, match="state 'exp_avg' of param 0 does not match the param"):
        other.load_state_dict(bad)
    bad = copy.deepcopy(saved)
    bad["state"][0]["momentum_buffer"] = torch.zeros_like(first)
    with pytest.raises(ValueError, match="has state 'momentum_buffer', which Adam does not keep"):
        other.load_state_dict(bad)
    after = other.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i, st in before["state"].items():
        for key, value in st.items():
            assert torch.equal(after["state"][i][key], value)


def test_optimizer_deep_copies_and_steps():
    net, opt, _ = run(lambda p: fastopt.torch.RAdam(p, lr=0.01), steps=2)
    twin = copy.deepcopy((net, opt))
    for n, o in ((net, opt), twin):
        x, y = batches(torch.float32, 1)[0]
        o.zero_grad()
        torch.nn.functional.cross_entropy(n(x), y).backward()
        o.step()
    assert_same_params(net, twin[0])


def test_tensor_lr_and_ignored_torch_flags():
    p = torch.nn.Parameter(torch.ones(4))
    opt = fastopt.torch.Adam([p], lr=torch.tensor(0.1), foreach=True, fused=True)
    p.grad = torch.ones(4)
    opt.step()
    torch.testing.assert_close(p.detach(), torch.full((4,), 0.9))


def bad(p=None, grad=None, **kwargs):
    p = torch.nn.Parameter(torch.ones(3)) if p is None else p
    return p, fastopt.torch.Adam([p], **kwargs)


@pytest.mark.parametrize("make, error, match", [
    (lambda: bad(torch.nn.Parameter(torch.ones(3, dtype=torch.float16))), TypeError, "unsupported dtype torch.float16"),
    (lambda: bad(torch.nn.Parameter(torch.ones(3, device="meta"))), ValueError, "is on device 'meta'; fastopt.torch "
                                                                                  "steps CPU tensors only"),
    (lambda: bad(torch.randn(4, 6)[:, ::2].requires_grad_()), ValueError, "do not fill one span of storage"),
    (lambda: bad(lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (lambda: bad(betas=0.9), ValueError, "betas"),
    (lambda: bad(capturable=True), ValueError, "capturable=True: fastopt.torch does not support it"),
    (lambda: fastopt.torch.SGD([], lr=0.1), ValueError, "empty parameter list"),
])
def test_bad_construction(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_step_changes_nothing():
    p, opt = bad(lr=0.1)
    q = torch.nn.Parameter(torch.ones(3))
    opt.add_param_group({"params": [q]})
    p.grad, q.grad = torch.ones(3), torch.ones(3)
    opt.param_groups[1]["lr"] = float("nan")  # set after construction: caught at the step, before any write
    with pytest.raises(ValueError, match="learning rate"):
        opt.step()
    opt.param_groups[1]["lr"] = 0.1
    q.grad = torch.ones(3).to_sparse()
    with pytest.raises(ValueError, match="grad of param 1: torch.sparse_coo gradients are not supported"):
        opt.step()
    assert torch.equal(p.detach(), torch.ones(3)) and torch.equal(q.detach(), torch.ones(3)) and not opt.state


def test_bad_param_group_is_not_added():
    _, opt = bad()
    with pytest.raises(TypeError, match="unsupported dtype torch.int64"):
        opt.add_param_group({"params": [torch.ones(2, dtype=torch.int64)]})
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))], "eps": -1.0})
    assert len(opt.param_groups) == 1


def test_replaced_state_and_replaced_param_data_are_seen_at_the_next_step():
    p = torch.nn.Parameter(torch.ones(3))
    opt = fastopt.torch.Adam([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    opt.state[p] = {}  # a fresh state: the next step is a first step again
    opt.step()
    assert float(opt.state[p]["step"]) == 1
    p.data = torch.zeros(3, dtype=torch.float64)  # as model.double() after the optimizer was made
    p.grad = torch.ones(3, dtype=torch.float64)
    opt.state.clear()
    opt.step()
    torch.testing.assert_close(p.detach(), torch.full((3,), -0.1, dtype=torch.float64))
    assert opt.state[p]["exp_avg"].dtype == torch.float64


def test_grad_scaler_unscales_and_skips_nonfinite_steps():
    """torch.amp.GradScaler drives fastopt.torch as any optimizer: unscale_, skip the step on inf, update."""
    def train(cls):
        net = Net(torch.float32)
        opt = cls(net.parameters(), lr=0.01)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
        for step, (x, y) in enumerate(batches(torch.float32, 6)):
            opt.zero_grad()
            scaler.scale(torch.nn.functional.cross_entropy(net(x), y)).backward()
            if step == 2:
                net.head.weight.grad[0, 0] = float("inf")
            scaler.step(opt)
            scaler.update()
        return net, opt, scaler.get_scale()

    ours, opt, scale = train(fastopt.torch.Adam)
    theirs, _, want_scale = train(torch.optim.Adam)
    assert scale == want_scale == 2.0**9  # halved once, at the step with inf
    assert float(opt.state[ours.head.weight]["step"]) == 5
    assert_same_params(ours, theirs)
