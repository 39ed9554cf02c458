"""fastopt.torch's C++ reader of tensor addresses (python/fastopt/torch/addresses.cpp, built on first use) against
the Python path it replaces: the same addresses, the same checks, the same training run (skipped without torch;
the native half is skipped where the reader cannot be built, which test_reader_builds_here reports)."""
import shutil

import pytest

torch = pytest.importorskip("torch")

import fastopt.torch
from fastopt.torch import native
from torch_adapter_cases import train


@pytest.fixture
def reader():
    if native.module() is None:
        pytest.skip(native.status())
    return native.module()


@pytest.fixture
def python_path():
    native.use(False)
    yield
    native.use(True)


def test_reader_builds_here():
    """Where torch's extension build can run (a C++ compiler and ninja), the reader must build."""
    from torch.utils import cpp_extension

    if shutil.which("c++") is None or not cpp_extension.is_ninja_available():
        pytest.skip("no C++ compiler or ninja: the Python path runs")
    assert native.status() == "native"


def test_status_names_the_python_path(python_path):
    assert native.module() is None
    assert native.status().startswith("python (switched off")


def test_scan_reads_what_python_reads(reader):
    contiguous = torch.nn.Parameter(torch.randn(3, 4))
    contiguous.grad = torch.randn(3, 4)
    no_grad = torch.nn.Parameter(torch.randn(5))
    empty = torch.nn.Parameter(torch.zeros(0))
    empty.grad = torch.zeros(0)
    strided_grad = torch.nn.Parameter(torch.randn(3, 4))
    strided_grad.grad = torch.randn(4, 3).t()  # the param's shape, another layout: Python copies it
    transposed = torch.nn.Parameter(torch.randn(4, 3).t())  # a dense param laid out otherwise: Python's path
    transposed.grad = torch.randn(4, 3).t()
    sparse = torch.nn.Parameter(torch.randn(6))
    sparse.grad = torch.randn(6).to_sparse()
    negated = torch.nn.Parameter(torch.randn(3))
    negated.grad = torch._neg_view(torch.randn(3))
    double = torch.nn.Parameter(torch.randn(2, dtype=torch.float64))
    double.grad = torch.randn(2, dtype=torch.float64)
    params = [contiguous, no_grad, empty, strided_grad, transposed, sparse, negated, double]
    pointers, numels, grads = reader.scan(params)
    assert pointers == [p.data_ptr() for p in params] and numels == [p.numel() for p in params]
    assert grads == [contiguous.grad.data_ptr(), None, empty.grad.data_ptr(), -1, -1, -1, -1, double.grad.data_ptr()]


def test_scan_refuses_what_is_not_a_tensor(reader):
    with pytest.raises(TypeError, match="param 1: expected a torch.Tensor, got int"):
        reader.scan([torch.zeros(1), 3])
    with pytest.raises(TypeError, match="scan: params must be a list of tensors"):
        reader.scan((torch.zeros(1),))
    meta = torch.zeros(2, device="meta")
    assert reader.scan([meta]) == ([-1], [2], [-1])


def test_bump_versions_as_torch_does(reader):
    ps = [torch.zeros(2), torch.zeros(3)]
    before = [p._version for p in ps]
    reader.bump_versions(ps)
    assert [p._version for p in ps] == [v + 1 for v in before]


def training_run():
    net, opt = train(lambda groups: fastopt.torch.Adam(groups, lr=0.01, amsgrad=True), torch.float32, steps=16)
    return [p.detach().clone() for p in net.parameters()], opt.state_dict()


def test_both_paths_train_identically(reader):
    native_params, native_state = training_run()
    native.use(False)
    try:
        python_params, python_state = training_run()
    finally:
        native.use(True)
    for a, b in zip(native_params, python_params, strict=True):
        assert torch.equal(a, b)
    assert native_state["state"].keys() == python_state["state"].keys()
    for key, st in native_state["state"].items():
        for name, value in st.items():
            assert torch.equal(value, python_state["state"][key][name]), (key, name)


@pytest.mark.parametrize("path", ["native", "python"])
def test_bad_grads_are_refused_on_both_paths(path):
    if path == "native" and native.module() is None:
        pytest.skip(native.status())
    native.use(path == "native")
    try:
        p = torch.nn.Parameter(torch.ones(6))
        p.grad = torch.ones(6).to_sparse()
        opt = fastopt.torch.Adam([p], lr=0.1)
        with pytest.raises(ValueError, match="grad of param 0: torch.sparse_coo gradients are not supported"):
            opt.step()
        assert torch.equal(p.detach(), torch.ones(6)) and not opt.state
        q = torch.nn.Parameter(torch.ones(2, 3))
        q.grad = torch.ones(3, 2).t()  # copied into the param's layout: stepped as a contiguous grad of ones
        opt = fastopt.torch.SGD([q], lr=0.5)
        opt.step()
        assert torch.equal(q.detach(), torch.full((2, 3), 0.5))
    finally:
        native.use(True)


@pytest.mark.parametrize("path", ["native", "python"])
def test_a_param_narrowed_in_place_is_seen(path):
    """``p.data = p.data[:k]`` keeps the data address: the step must notice the size (its state no longer fits:
    a clear error, nothing written) rather than hand the kernel the old size with a gradient of k elements."""
    if path == "native" and native.module() is None:
        pytest.skip(native.status())
    native.use(path == "native")
    try:
        p = torch.nn.Parameter(torch.ones(10))
        p.grad = torch.ones(10)
        opt = fastopt.torch.Adam([p], lr=0.1)
        opt.step()
        before = p.untyped_storage().data_ptr()
        p.data = p.data[:4]
        p.grad = torch.ones(4)
        assert p.data_ptr() == before
        kept, kept_p = {k: v.clone() for k, v in opt.state[p].items()}, p.detach().clone()
        with pytest.raises(ValueError, match="optimizer state for param .0. does not match the param"):
            opt.step()
        assert all(torch.equal(opt.state[p][k], v) for k, v in kept.items())
        assert torch.equal(p.detach(), kept_p)
        opt.state[p] = {}  # a fresh state of the new size: it steps again
        opt.step()
        assert float(opt.state[p]["step"]) == 1
    finally:
        native.use(True)
