"""The configurations and the training run the fastopt.torch tests compare against torch.optim."""
from __future__ import annotations

import inspect

import torch

# (torch.optim class name, hyperparameters): every option the kernels branch on, weight decay and maximize.
CASES = [
    ("SGD", dict(lr=0.05)), ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.01)), ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.05)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True)), ("RMSprop", dict(lr=0.002, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adadelta", dict()), ("Adadelta", dict(lr=0.5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.01)), ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01)), ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, maximize=True)),
]


def implementations(name: str) -> list[str]:
    """torch's implementations of ``name`` on CPU: the for-loop, foreach, and fused where it has one."""
    fused = "fused" in inspect.signature(getattr(torch.optim, name).__init__).parameters
    return ["for-loop", "foreach"] + (["fused"] if fused else [])


def torch_flags(implementation: str) -> dict:
    return {"for-loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}[implementation]


class Net(torch.nn.Module):
    """A small MLP with a zero-size param (it still gets a gradient) and a param no loss reaches."""

    def __init__(self, dtype):
        super().__init__()
        torch.manual_seed(0)
        self.body = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh())
        self.head = torch.nn.Linear(8, 3)
        self.empty = torch.nn.Parameter(torch.zeros(0))
        self.unused = torch.nn.Parameter(torch.ones(4))
        self.extra = torch.nn.Linear(8, 3)  # joins the optimizer mid-run as its own param group
        self.to(dtype)

    def forward(self, x):
        h = self.body(x)
        return self.head(h) + 0.5 * self.extra(h) + self.empty.sum()


def batches(dtype, steps: int):
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(16, 6, generator=g, dtype=dtype), torch.randint(0, 3, (16,), generator=g))
            for _ in range(steps)]


def train(make_optimizer, dtype, steps=40, on_step=None):
    """Train a fresh Net with ``make_optimizer(groups)``; at step 5 no param has a gradient, at steps 8-13 the
    first layer is frozen, at step 10 the ``extra`` layer joins as a param group with its own lr.  Returns
    the model and the optimizer."""
    net = Net(dtype)
    first = [p for n, p in net.named_parameters() if not n.startswith("extra")]
    opt = make_optimizer([{"params": first}])
    for step, (x, y) in enumerate(batches(dtype, steps)):
        if step == 10:
            opt.add_param_group({"params": list(net.extra.parameters()), "lr": opt.param_groups[0]["lr"] / 2})
        net.body[0].requires_grad_(not 8 <= step < 14)
        opt.zero_grad(set_to_none=True)
        if step != 5:
            loss = torch.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            if step < 10:  # the extra layer is not optimized yet
                for p in net.extra.parameters():
                    p.grad = None
        if on_step:
            on_step(net, opt, step)
        opt.step()
    return net, opt
