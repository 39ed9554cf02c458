"""Data-parallel training with torch.distributed and a fastopt.torch optimizer, on CPU.

Run it with torchrun (2 processes on this machine, gloo over loopback):

    torchrun --nproc_per_node 2 examples/torch_ddp.py                 # DistributedDataParallel + fastopt.torch.AdamW
    torchrun --nproc_per_node 2 examples/torch_ddp.py --zero          # ZeroRedundancyOptimizer(fastopt.torch.AdamW)

Each rank trains a replica on its half of every global batch; DistributedDataParallel averages the gradients
(an all-reduce), and each rank's fastopt optimizer then takes the same step, so the replicas stay identical.
With ``--zero`` each rank keeps the optimizer state of its shard of the parameters only and steps that shard
(ZeRO stage 1), then the shards are broadcast. Threads: each rank uses cores / ranks threads (torch's and
fastopt's), so two ranks do not oversubscribe the cores.
"""
from __future__ import annotations

import argparse
import os

import torch
import torch.distributed as dist
from torch.distributed.optim import ZeroRedundancyOptimizer
from torch.nn.parallel import DistributedDataParallel

import fastopt
import fastopt.torch


def make_model(seed: int = 0) -> torch.nn.Module:
    """The MNIST-sized MLP 784-128-64-10, the same initial weights on every rank (seeded)."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                               torch.nn.Linear(64, 10))


def global_batches(steps: int, batch: int, seed: int = 1) -> list:
    """The (inputs, labels) of every step's global batch: the same on every rank, each rank takes its slice."""
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randn(batch, 784, generator=generator), torch.randint(0, 10, (batch,), generator=generator))
            for _ in range(steps)]


def set_threads(world_size: int) -> None:
    """Give each rank its share of the cores, for torch's kernels and fastopt's."""
    threads = max(1, (os.cpu_count() or 1) // world_size)
    torch.set_num_threads(threads)
    fastopt.set_num_threads(threads)


def train(rank: int, world_size: int, steps: int = 20, batch: int = 64, zero: bool = False, lr: float = 1e-2):
    """Train ``steps`` steps on this rank; returns the final parameters (flattened, a CPU tensor).

    With ``world_size == 1`` no process group is needed: the single-process run over the same global batches.
    """
    model = make_model()
    if world_size > 1:
        model = DistributedDataParallel(model)
    if zero:
        optimizer = ZeroRedundancyOptimizer(model.parameters(), optimizer_class=fastopt.torch.AdamW, lr=lr,
                                            weight_decay=1e-2)
    else:
        optimizer = fastopt.torch.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    share = batch // world_size
    for x, y in global_batches(steps, batch):
        x, y = x[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share]
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()  # DDP all-reduces (averages) the gradients
        optimizer.step()
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--zero", action="store_true", help="shard the optimizer state (ZeroRedundancyOptimizer)")
    args = parser.parse_args()
    dist.init_process_group("gloo")  # torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT
    rank, world_size = dist.get_rank(), dist.get_world_size()
    set_threads(world_size)
    params = train(rank, world_size, args.steps, zero=args.zero)
    gathered = [torch.empty_like(params) for _ in range(world_size)]
    dist.all_gather(gathered, params)
    if rank == 0:
        spread = max(float((g - gathered[0]).abs().max()) for g in gathered)
        print(f"{world_size} ranks, {args.steps} steps{' (ZeRO)' if args.zero else ''}: the replicas differ by at "
              f"most {spread:.1e}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
