"""fastopt.torch optimizers in torch.distributed data-parallel training (gloo, 2 processes on loopback):
DistributedDataParallel and ZeroRedundancyOptimizer, against one process over the same global batches."""
import socket
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with gloo is not available", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
with warnings.catch_warnings():  # torch.distributed.optim's import uses the deprecated torch.jit.script
    warnings.simplefilter("ignore", DeprecationWarning)
    import torch_ddp  # noqa: E402  (examples/torch_ddp.py)

STEPS, WORLD = 12, 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_main(rank: int, port: int, zero: bool, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        torch_ddp.set_threads(WORLD)
        torch.save(torch_ddp.train(rank, WORLD, STEPS, zero=zero), f"{out}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def run_ranks(tmp_path, zero: bool) -> list:
    torch.multiprocessing.spawn(rank_main, args=(free_port(), zero, str(tmp_path)), nprocs=WORLD, join=True)
    return [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]


@pytest.fixture(scope="module")
def single_process():
    return torch_ddp.train(0, 1, STEPS)


@pytest.mark.parametrize("zero", [False, True], ids=["ddp", "zero"])
def test_ranks_stay_identical_and_match_one_process(tmp_path, single_process, zero):
    ranks = run_ranks(tmp_path, zero)
    start = torch.cat([p.detach().reshape(-1) for p in torch_ddp.make_model().parameters()])
    assert not torch.allclose(ranks[0], start)  # the optimizer moved the weights
    # The replicas agree (every rank took the same step from the same averaged gradient)...
    torch.testing.assert_close(ranks[1], ranks[0], rtol=0, atol=1e-6)
    # ...and equal one process over the whole global batches, to float32 reduction-order tolerance.
    torch.testing.assert_close(ranks[0], single_process, rtol=1e-4, atol=1e-5)
