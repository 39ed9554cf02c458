"""What ``help()`` shows of fastopt's optimizers, NumPy and torch: the class docstring with its Parameters section
and the public methods, not the hooks implementers use (the torch half is skipped without torch)."""
import pydoc

import pytest

import fastopt

# Hooks for implementers: the native declaration (``spec``), the NumPy class behind an adapter, the validation and
# state-parsing helpers of the base classes.
INTERNAL = ("spec", "numpy_class", "validate", "check", "grads_per_group", "device_steps", "parse_state",
            "parse_uneven", "hyper", "names", "adopt", "loss_scale", "plans", "rules")
NUMPY_PUBLIC = ("step(self, grads", "add_param_group(", "state_dict(", "load_state_dict(", "kernel_calls(")
TORCH_PUBLIC = ("step(self, closure=None)", "add_param_group(", "state_dict(", "load_state_dict(", "zero_grad(")


def shown(cls) -> str:
    return pydoc.render_doc(cls, renderer=pydoc.plaintext)


def assert_help(cls, params_entry: str, public: tuple):
    text = shown(cls)
    assert "Parameters\n |  ----------\n" in text
    assert f" |  {params_entry}\n" in text and " |  lr : float\n |      Learning rate" in text
    for name in public:
        assert f" |  {name}" in text, name
    listed = {line.split("(")[0].split(" = ")[0].strip(" |") for line in text.splitlines()
              if line.startswith(" |  ") and not line.startswith(" |   ")}
    leaked = {name for name in INTERNAL for prefix in ("", "_") if prefix + name in listed}
    assert not leaked, leaked


@pytest.mark.parametrize("name", ["Adam", "SGD", "AdamW", "Adagrad"])
def test_numpy_optimizer_help(name):
    cls = getattr(fastopt, name)
    assert_help(cls, "params : list, dict or list of param groups", NUMPY_PUBLIC)
    assert cls.spec.name and "spec" not in dir(cls)  # out of help, not out of reach


@pytest.mark.parametrize("name", ["Adam", "SGD", "AdamW", "Adagrad"])
def test_torch_adapter_help(name):
    pytest.importorskip("torch")
    import fastopt.torch

    cls = getattr(fastopt.torch, name)
    assert_help(cls, "params : iterable of torch.Tensor, or of dicts", TORCH_PUBLIC)
    assert "torch.optim." + name in shown(cls)
