"""fastopt.torch against torch.optim: the same params and every state tensor over one training run
(skipped without torch).

The run (tests/torch_adapter_cases.py) has a step where no param has a gradient, a layer frozen then
unfrozen, a zero-size param, a param no loss reaches, and a param group added mid-run; each torch
optimizer is run as a for-loop, foreach and fused where torch has it.
"""
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import fastopt  # noqa: E402
import fastopt.torch  # noqa: E402
from torch_adapter_cases import CASES, Net, batches, implementations, torch_flags, train  # noqa: E402

DTYPES = [torch.float32, torch.float64]
# float64: torch.testing.assert_close's defaults.  float32: the kernels order a rule's operations otherwise than
# torch's (and than each other), and over 40 steps a state that sums normalised steps (RMSprop's momentum buffer)
# drifts by a few dozen ulps, past the default rtol of 1.3e-6; fastopt's float32 tolerance holds (tests/optim_cases.py).
TOL = {torch.float32: dict(rtol=1e-5, atol=1e-5), torch.float64: dict(rtol=1e-7, atol=1e-7)}


def assert_same_state(ours, theirs):
    """Every state entry torch keeps, ours keeps with the same value (and nothing for params torch never
    stepped); torch's Adagrad makes its state eagerly, so a param it holds at step 0 we may not hold."""
    assert len(ours.param_groups) == len(theirs.param_groups)
    for mine, group in zip(ours.param_groups, theirs.param_groups):
        for q, p in zip(mine["params"], group["params"], strict=True):
            want = theirs.state.get(p, {})
            got = ours.state.get(q, {})
            if not got and float(want.get("step", 0)) == 0:
                continue
            assert set(got) == set(want), (set(got), set(want))
            for key, value in want.items():
                torch.testing.assert_close(got[key].to(value.dtype), value, **TOL.get(value.dtype, {}),
                                           msg=lambda m: f"state {key!r}: {m}")


@pytest.fixture
def float64_default():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def test_import_fastopt_does_not_import_torch():
    code = "import sys, fastopt, fastopt.optim; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_registered_optimizer_has_an_adapter():
    """Every elementwise one; Muon and Adafactor (state not shaped as the param, their own native calls) have none:
    torch.optim has both."""
    for entry in fastopt.optim.REGISTRY.values():
        cls = entry.cls
        if issubclass(cls, fastopt.optim.Optimizer) and cls.step is fastopt.optim.Optimizer.step:
            if cls.__name__ in ("Muon", "Adafactor"):
                assert not hasattr(fastopt.torch, cls.__name__)
                continue
            adapter = getattr(fastopt.torch, cls.__name__)
            assert issubclass(adapter, torch.optim.Optimizer) and adapter._numpy_class is cls


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}({','.join(f'{k}={v}' for k, v in kw.items())})"
                                                     for n, kw in CASES])
def test_matches_torch_params_and_state(name, kwargs, dtype):
    ours_net, ours = train(lambda groups: getattr(fastopt.torch, name)(groups, **kwargs), dtype)
    if name == "Adagrad":  # torch's Adagrad makes its state at construction, and so does fastopt.torch's
        assert float(ours.state[ours_net.unused]["step"]) == 0
    else:
        assert ours_net.unused not in ours.state  # never had a gradient: no state made
    for impl in implementations(name):
        net, theirs = train(lambda groups: getattr(torch.optim, name)(groups, **kwargs, **torch_flags(impl)), dtype)
        for (pname, got), want in zip(ours_net.named_parameters(), net.parameters()):
            torch.testing.assert_close(got, want, **TOL[dtype], msg=lambda m: f"{impl}: param {pname}: {m}")
        assert_same_state(ours, theirs)


def test_frozen_layer_keeps_its_step_count():
    net, opt = train(lambda groups: fastopt.torch.Adam(groups, lr=0.01), torch.float32, steps=20)
    steps = {n: float(opt.state[p]["step"]) for n, p in net.named_parameters() if p in opt.state}
    # 20 steps, one without gradients; the first layer also missed steps 8..13, the extra layer steps 0..9.
    assert steps["body.0.weight"] == 13 and steps["head.weight"] == 19 and steps["extra.weight"] == 10


def test_step_with_closure_returns_its_loss():
    net = Net(torch.float32)
    opt = fastopt.torch.SGD(net.parameters(), lr=0.1)
    x, y = torch.randn(4, 6), torch.tensor([0, 1, 2, 0])

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        return loss

    first = opt.step(closure)
    assert opt.step(closure).detach() < first.detach()


def test_dense_non_contiguous_params_and_grads():
    """A channels_last conv weight and a transposed leaf are stepped in place, as torch steps them."""
    def make():
        torch.manual_seed(0)
        conv = torch.nn.Conv2d(3, 4, 3).to(memory_format=torch.channels_last)
        t = torch.nn.Parameter(torch.randn(5, 7).t())
        return conv, t

    results = []
    for cls in (fastopt.torch.Adam, torch.optim.Adam):
        conv, t = make()
        opt = cls([*conv.parameters(), t], lr=0.01)
        x = torch.randn(2, 3, 6, 6).to(memory_format=torch.channels_last)
        for _ in range(5):
            opt.zero_grad()
            (conv(x).square().mean() + (t * torch.arange(5.0)).sum()).backward()
            t.grad = t.grad.contiguous()  # a grad laid out otherwise than its param
            opt.step()
        assert not conv.weight.is_contiguous() and conv.weight.is_contiguous(memory_format=torch.channels_last)
        results.append((conv.weight.detach().clone(), t.detach().clone(), opt.state[conv.weight]["exp_avg_sq"]))
    for got, want in zip(*results):
        torch.testing.assert_close(got, want)


def test_state_shares_memory_with_the_kernels_arrays():
    p = torch.nn.Parameter(torch.ones(3))
    opt = fastopt.torch.Adam([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    exp_avg = opt.state[p]["exp_avg"]
    opt.step()
    torch.testing.assert_close(exp_avg, torch.full((3,), 0.19))  # updated in place by the second step
    assert p._version > 0  # autograd sees the in-place update, as with torch's optimizers


@pytest.mark.parametrize("name", [n for n in fastopt.torch.__all__ if n != "TorchOptimizer"])
def test_every_adapter_steps_as_its_numpy_class(name, float64_default):
    """Every adapter (those torch has no twin of too: Yogi, Lion, and any optimizer added to the registry)
    makes exactly the NumPy API's steps, including over params without gradients.  (Under a float64 default
    dtype, as torch then keeps scalar state such as NAdam's mu product in float64, as the NumPy API does.)"""
    ours, _ = train(lambda groups: getattr(fastopt.torch, name)(groups), torch.float64, steps=16)
    net = Net(torch.float64)
    arrays = [p.detach().numpy() for p in net.parameters()]
    numpy_opt = getattr(fastopt, name)([{"params": arrays[:-2]}])  # extra.* join at step 10, at half the lr
    for step, (x, y) in enumerate(batches(torch.float64, 16)):
        if step == 10:
            numpy_opt.add_param_group({"params": arrays[-2:], "lr": numpy_opt.param_groups[0]["lr"] / 2})
        net.body[0].requires_grad_(not 8 <= step < 14)
        net.zero_grad(set_to_none=True)
        if step != 5:
            torch.nn.functional.cross_entropy(net(x), y).backward()
        grads = [None if p.grad is None else p.grad.numpy() for p in net.parameters()]
        numpy_opt.step(grads[:-2] if step < 10 else grads)
    for (pname, got), want in zip(ours.named_parameters(), net.parameters()):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12, msg=lambda m: f"{pname}: {m}")


def test_a_groups_new_state_is_one_buffer_per_slot_and_dtype():
    """The state a step makes lies in one NumPy buffer per slot and dtype (consecutive for the kernel, huge pages
    for large ones), each tensor on its own 64-byte line, in its param's layout; the values are torch's."""
    params = [torch.nn.Parameter(torch.randn(5)), torch.nn.Parameter(torch.randn(4, 3).t()),
              torch.nn.Parameter(torch.randn(7, dtype=torch.float64)), torch.nn.Parameter(torch.randn(2))]
    for p in params:
        p.grad = torch.randn_like(p)
    twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
    for p, q in zip(params, twins):
        q.grad = p.grad.clone()
    ours, theirs = fastopt.torch.Adam(params, lr=0.1), torch.optim.Adam(twins, lr=0.1)
    ours.step()
    theirs.step()
    for slot in ("exp_avg", "exp_avg_sq"):
        state = [ours.state[p][slot] for p in params]
        assert all(t.data_ptr() % 64 == 0 for t in state)
        assert len({t.untyped_storage().data_ptr() for t in state[:2] + state[3:]}) == 1  # the float32 ones
        assert state[2].untyped_storage().data_ptr() != state[0].untyped_storage().data_ptr()
        assert state[1].stride() == params[1].stride()
        for got, q in zip(state, twins):
            torch.testing.assert_close(got, theirs.state[q][slot], rtol=1e-6, atol=1e-7)
        state[0].fill_(7.0)  # each tensor owns its elements
        assert not any((t == 7.0).any() for t in state[1:])
