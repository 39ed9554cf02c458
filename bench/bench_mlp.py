"""MLP training speed: fastopt.nn + fastopt.Adam against NumPy and PyTorch, in one run.

    python bench/bench_mlp.py [--threads N] [--quick]
    OPENBLAS_NUM_THREADS=1 python bench/bench_mlp.py --threads 1   # every library on one thread

Network 784-512-256-10 (ReLU), softmax cross-entropy, Adam (lr 1e-3), float32, random
MNIST-shaped data (timing does not depend on the values).  Measures forward + backward + Adam step
at batch 128 and 1024, and one epoch (best of two) over 60000 samples at batch 128 (pre-made arrays/tensors,
contiguous slices, no DataLoader), prints ms, ratios, and GFLOP/s by exact GEMM FLOP count against
the machine's float32 GEMM rate measured in the same run (best of NumPy and PyTorch, 2048 x 2048).
First checks that the NumPy baseline computes what fastopt computes (same loss and gradients).
"""
import argparse
import os
import sys
import time

import numpy as np

import fastopt
from fastopt.nn import MLP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_numpy import NumpyAdam, NumpyMLP  # noqa: E402

SIZES = [784, 512, 256, 10]
SAMPLES = 60000


def gemm_flops_per_sample(sizes):
    """Forward x W^T, backward dz^T x for every layer and dz W for all but the first."""
    products = [i * o for i, o in zip(sizes[:-1], sizes[1:])]
    return 2 * (2 * sum(products) + sum(products[1:]))


def fastopt_trainer(threads):
    fastopt.set_num_threads(threads)
    model = MLP(SIZES, seed=0)
    opt = fastopt.Adam(model.params, lr=1e-3)

    def train_step(x, y):
        model.forward_backward(x, y)
        opt.step(model.grads)
    return train_step, (lambda x: x), (lambda y: y)


def numpy_trainer(threads):
    model = NumpyMLP(SIZES, seed=0)
    opt = NumpyAdam(model.flat_params, lr=1e-3)

    def train_step(x, y):
        model.forward_backward(x, y)
        opt.step(model.flat_grads)
    return train_step, (lambda x: x), (lambda y: y)


def torch_trainer(threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()

    def train_step(x, y):
        opt.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        opt.step()
    return train_step, torch.from_numpy, torch.from_numpy


def time_steps(train_step, x, y, repeats):
    """Best of 3 rounds of `repeats` steps: ms per step."""
    for _ in range(3):
        train_step(x, y)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            train_step(x, y)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best * 1e3


def time_epoch(train_step, x, y, batch):
    start = time.perf_counter()
    for i in range(0, len(x), batch):
        train_step(x[i:i + batch], y[i:i + batch])
    return time.perf_counter() - start


def gemm_peak_gflops(threads):
    """The best float32 2048x2048 matmul rate of NumPy (OpenBLAS) and PyTorch: the GEMM ceiling."""
    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    products = [lambda: a @ a]
    try:
        import torch
        torch.set_num_threads(threads)
        t = torch.from_numpy(a)
        products.append(lambda: t @ t)
    except ImportError:
        pass
    best = float("inf")
    for product in products:
        product()
        for _ in range(5):
            start = time.perf_counter()
            product()
            best = min(best, time.perf_counter() - start)
    return 2 * 2048 ** 3 / best / 1e9


def check_numpy_baseline(x, y):
    """The NumPy network given fastopt's weights must give fastopt's loss and gradients."""
    model, baseline = MLP(SIZES, seed=1), NumpyMLP(SIZES)
    baseline.flat_params[...] = model.flat_params
    loss = model.forward_backward(x, y)
    assert abs(baseline.forward_backward(x, y) - loss) < 1e-5 * loss, "NumPy baseline loss differs from fastopt's"
    scale = np.abs(model.flat_grads).max()
    assert np.allclose(baseline.flat_grads, model.flat_grads, rtol=1e-3, atol=1e-5 * scale), \
        "NumPy baseline gradients differ from fastopt's"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for fastopt and PyTorch")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a 10000-sample epoch (smoke test)")
    args = parser.parse_args()
    samples = 10000 if args.quick else SAMPLES
    rng = np.random.default_rng(0)
    x_all = rng.random((samples, SIZES[0]), dtype=np.float32)
    y_all = rng.integers(0, SIZES[-1], samples)

    check_numpy_baseline(x_all[:128], y_all[:128])
    trainers = {"fastopt": fastopt_trainer, "numpy": numpy_trainer}
    try:
        import torch
        trainers["torch"] = torch_trainer
        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    flops = gemm_flops_per_sample(SIZES)
    peak = gemm_peak_gflops(args.threads)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (timings are noisy when it exceeds the "
          f"core count); threads {args.threads}; torch {torch_version}; fastopt {fastopt.__version__} "
          f"({fastopt.build_info()['simd']})")
    print(f"NumPy's OpenBLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '<unset: all cores>')}"
          " (set it to --threads for an equal-threads comparison)")
    print(f"float32 GEMM rate, best 2048x2048 matmul of NumPy and PyTorch: {peak:.1f} GFLOP/s; {flops / 1e6:.3f} MFLOP per sample")

    results = {}
    for name, make in trainers.items():
        train_step, to_x, to_y = make(args.threads)
        x, y = to_x(x_all), to_y(y_all)
        row = {}
        for batch, repeats in ((128, 10 if args.quick else 40), (1024, 3 if args.quick else 8)):
            row[batch] = time_steps(train_step, x[:batch], y[:batch], repeats)
        row["epoch"] = min(time_epoch(train_step, x, y, 128) for _ in range(1 if args.quick else 2))
        results[name] = row

    print(f"\n{'':10}{'step b=128':>14}{'step b=1024':>14}{f'epoch ({samples})':>16}{'GFLOP/s':>10}{'of peak':>9}"
          f"{'vs torch':>10}{'vs numpy':>10}")
    for name, row in results.items():
        gflops = flops * samples / row["epoch"] / 1e9
        vs = {ref: f"{row['epoch'] / results[ref]['epoch']:.2f}x" if ref in results else "-"
              for ref in ("torch", "numpy")}
        print(f"{name:10}{row[128]:>11.2f} ms{row[1024]:>11.2f} ms{row['epoch']:>14.3f} s{gflops:>10.1f}"
              f"{gflops / peak:>8.0%}{vs['torch']:>10}{vs['numpy']:>10}")
    floor = flops * samples / peak / 1e9
    print(f"\nepoch floor at the measured GEMM rate: {floor:.3f} s (GEMMs only); ratios are epoch time / reference's.")


if __name__ == "__main__":
    main()
