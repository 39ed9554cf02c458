"""Real training loops on CPU: torch.optim.AdamW(fused=True) against fastopt.torch.AdamW, the time of a whole
training step (forward, backward, optimizer) and the share of it the optimizer takes.

    python bench/bench_torch_training.py [--steps N] [--rounds R] [--threads T]

Two models: the MNIST MLP 784-512-256-10 (6 parameter tensors, 0.5 M params, batch 128) and a small transformer
encoder (16 layers of d_model 64, 4 heads, feed-forward 128, batch 32 x 32 tokens: about 200 parameter tensors,
where a per-tensor optimizer loop pays most). Each round trains each optimizer for ``--steps`` steps from the
same weights on the same batches, the optimizers visited in turn; times are the medians over rounds.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import fastopt
import fastopt.torch

OPTIMIZERS = {"torch AdamW (fused)": lambda params: torch.optim.AdamW(params, lr=1e-3, fused=True),
              "fastopt.torch AdamW": lambda params: fastopt.torch.AdamW(params, lr=1e-3)}


class Encoder(torch.nn.Module):
    """Token embedding, a TransformerEncoder and a linear head: many small parameter tensors."""

    def __init__(self, vocab: int = 1000, d_model: int = 64, layers: int = 16):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d_model)
        layer = torch.nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=128, batch_first=True,
                                                 dropout=0.0)
        self.encoder = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = torch.nn.Linear(d_model, vocab)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)))


def mlp_workload():
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, 10))
    x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
    return model, lambda m: torch.nn.functional.cross_entropy(m(x), y)


def encoder_workload():
    model = Encoder()
    tokens = torch.randint(0, 1000, (32, 32))
    return model, lambda m: torch.nn.functional.cross_entropy(m(tokens).reshape(-1, 1000), tokens.reshape(-1))


WORKLOADS = {"MLP 784-512-256-10": mlp_workload, "transformer encoder (16 layers)": encoder_workload}


def train(model, loss_of, make_optimizer, steps: int) -> tuple[float, float]:
    """(seconds per training step, seconds per optimizer step) over ``steps`` steps after 3 warm-up steps."""
    optimizer = make_optimizer(model.parameters())
    total = in_step = 0.0
    for i in range(steps + 3):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss_of(model).backward()
        before_step = time.perf_counter()
        optimizer.step()
        end = time.perf_counter()
        if i >= 3:
            total, in_step = total + end - start, in_step + end - before_step
    return total / steps, in_step / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch's and fastopt's threads (default: all)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
        fastopt.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; fastopt {fastopt.__version__}, "
          f"{fastopt.get_num_threads()} threads; {args.steps} steps x {args.rounds} rounds\n")
    print("| model | tensors | params | optimizer | ms per training step | ms in optimizer.step | share |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for label, workload in WORKLOADS.items():
        torch.manual_seed(0)
        reference, loss_of = workload()
        start = {k: v.clone() for k, v in reference.state_dict().items()}
        times = {name: [] for name in OPTIMIZERS}
        for _ in range(args.rounds):
            for name, make in OPTIMIZERS.items():
                reference.load_state_dict(start)
                times[name].append(train(reference, loss_of, make, args.steps))
        tensors = sum(1 for _ in reference.parameters())
        params = sum(p.numel() for p in reference.parameters())
        for name, samples in times.items():
            step = statistics.median(t for t, _ in samples)
            opt = statistics.median(o for _, o in samples)
            print(f"| {label} | {tensors} | {params / 1e6:.2f} M | {name} | {1e3 * step:.2f} | {1e3 * opt:.3f} | "
                  f"{100 * opt / step:.1f}% |")
        fused, ours = (statistics.median(o for _, o in times[n]) for n in OPTIMIZERS)
        print(f"| {label} | | | optimizer step, torch fused / fastopt: {fused / ours:.2f}x | | | |")


if __name__ == "__main__":
    main()
