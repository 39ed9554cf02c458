"""A 2-D loss surface of the 784-512-256-10 MLP: fastopt's native grid against per-point loops, in one run.

    python bench/bench_surface.py [--resolution 51] [--samples 10000] [--threads N] [--quick]

The grid: resolution x resolution points theta + a d1 + b d2 (filter-normalised directions), the mean
loss and accuracy of each over the first --samples MNIST test images (float32, no dropout). Timed:

- fastopt, ``parallel="points"`` (OpenMP over grid points, each thread its own parameter buffer) and
  ``parallel="rows"`` (the points in turn, the threads on blocks of rows) on the same first
  --compare-points points; then the whole grid with the faster one (as ``fastopt surface`` would run it
  with that choice).
- The loops people write, per point on the first --peer-points points: set the parameters, then
  ``MLP.evaluate`` (fastopt's own forward); and PyTorch (torch.nn with the same weights, ``no_grad``,
  ``vector_to_parameters`` then the loss in batches of 1,000, as Li et al.'s code does).

GFLOP/s count the GEMMs' 2 x samples x sum(in x out) per point; the GEMM peak is the best float32
2048^3 matmul of NumPy and PyTorch (bench_mlp.gemm_peak_gflops), measured before and after the grid
in the same run (the higher is used). The issue's targets: the grid under 3 minutes, at >= 70% of that peak.
"""
import argparse
import os
import sys
import time

import numpy as np

import fastopt
from fastopt import datasets
from fastopt.curvature import surface
from fastopt.nn import MLP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_mlp import gemm_peak_gflops  # noqa: E402

SIZES = [784, 512, 256, 10]


def gemm_flops_per_point(samples):
    return 2 * samples * sum(i * o for i, o in zip(SIZES[:-1], SIZES[1:]))


def seconds(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def python_loop_per_point(model, x, y, base, d1, d2, coords):
    """Seconds per point of: copy the point's parameters into a model, then MLP.evaluate."""
    probe = MLP(SIZES, seed=0)

    def run():
        for a, b in coords:
            probe.flat_params[...] = base + np.float32(a) * d1 + np.float32(b) * d2
            probe.evaluate(x, y, batch_size=1000)
    return seconds(run) / len(coords)


def torch_per_point(threads, x, y, base, d1, d2, coords, expected):
    """Seconds per point of the PyTorch loop (None without torch); checks its losses against fastopt's."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    names = [name for name in net.state_dict()]  # "0.weight", "0.bias", "2.weight", ... = fastopt's flat order
    assert len(names) == 2 * (len(SIZES) - 1)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    losses = []

    def run():
        with torch.no_grad():
            for a, b in coords:
                theta = torch.from_numpy(base + np.float32(a) * d1 + np.float32(b) * d2)
                torch.nn.utils.vector_to_parameters(theta, net.parameters())
                total = 0.0
                for start in range(0, len(tx), 1000):
                    logits = net(tx[start:start + 1000])
                    total += torch.nn.functional.cross_entropy(logits, ty[start:start + 1000], reduction="sum").item()
                losses.append(total / len(tx))
    per_point = seconds(run) / len(coords)
    np.testing.assert_allclose(losses, expected, rtol=1e-4, err_msg="torch's losses differ from fastopt's")
    return per_point


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolution", type=int, default=51)
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--threads", type=int, default=fastopt.get_num_threads())
    parser.add_argument("--compare-points", type=int, default=16, help="points timed in both parallel modes")
    parser.add_argument("--peer-points", type=int, default=4, help="points timed in the per-point loops")
    parser.add_argument("--quick", action="store_true", help="11 x 11 points on 1,000 samples")
    args = parser.parse_args()
    if args.quick:
        args.resolution, args.samples = 11, 1000
    fastopt.set_num_threads(args.threads)
    test = datasets.load("mnist", progress=False).test
    x, y = test.x[:args.samples].astype(np.float32), test.y[:args.samples]
    model = MLP(SIZES, seed=0)
    base = model.flat_params.copy()
    d1, d2 = (surface.filter_normalized_direction(model, seed) for seed in (0, 1))
    axis = np.linspace(-1.0, 1.0, args.resolution)
    coords = np.stack(np.meshgrid(axis, axis, indexing="ij"), axis=-1).reshape(-1, 2)
    directions = np.stack([d1, d2])
    flops = gemm_flops_per_point(len(y))
    points = len(coords)
    print(f"fastopt {fastopt.__version__} ({fastopt.build_info()['simd']}), {args.threads} threads, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; {SIZES} float32; {len(y)} MNIST test samples; "
          f"{args.resolution} x {args.resolution} = {points} points; {flops / 1e9:.2f} GFLOP per point")
    peak_before = gemm_peak_gflops(args.threads)

    per_mode = {}
    subset = coords[:min(args.compare_points, points)]
    for mode in surface.PARALLEL:
        surface.loss_at(model, x, y, directions, subset[:1], parallel=mode)  # warm the workspaces
        per_mode[mode] = seconds(lambda: surface.loss_at(model, x, y, directions, subset, parallel=mode)) / len(subset)
    best = min(per_mode, key=per_mode.get)

    result = {}
    grid_seconds = seconds(lambda: result.update(
        grid=surface.loss_grid(model, x, y, d1, d2, axis, axis, parallel=best)))
    peak = max(peak_before, gemm_peak_gflops(args.threads))
    grid = result["grid"]
    assert abs(grid.loss[args.resolution // 2, args.resolution // 2] - model.evaluate(x, y)[0]) < 1e-5 * grid.loss.max()

    peers = coords[:min(args.peer_points, points)]
    expected = surface.loss_at(model, x, y, directions, peers)[0]
    loop = python_loop_per_point(model, x, y, base, d1, d2, peers)
    torch_point = torch_per_point(args.threads, x, y, base, d1, d2, peers, expected)

    rate = flops * points / grid_seconds / 1e9
    print(f"float32 GEMM peak (best 2048^3 matmul of NumPy and PyTorch, before/after the grid): "
          f"{peak_before:.1f} / {peak:.1f} GFLOP/s")
    print(f"\nper point ({len(subset)} points each):")
    for mode, s in per_mode.items():
        gflops = flops / s / 1e9
        print(f"  fastopt parallel={mode:<7} {1e3 * s:9.1f} ms  {gflops:7.1f} GFLOP/s  {gflops / peak:5.0%} of peak")
    print(f"per point ({len(peers)} points each):")
    print(f"  set params + MLP.evaluate {1e3 * loop:9.1f} ms  ({loop / per_mode[best]:.2f}x fastopt's grid per point)")
    if torch_point is None:
        print("  torch: not installed")
    else:
        print(f"  torch no_grad loop        {1e3 * torch_point:9.1f} ms  "
              f"({torch_point / per_mode[best]:.2f}x fastopt's grid per point)")
    print(f"\ngrid {args.resolution} x {args.resolution} on {len(y)} samples, parallel={best}: {grid_seconds:.1f} s, "
          f"{rate:.1f} GFLOP/s = {rate / peak:.0%} of the GEMM peak; load {os.getloadavg()[0]:.2f} at end")
    print(f"the grid's GEMMs alone at the peak would take {flops * points / peak / 1e9:.1f} s on this machine")
    if args.resolution == 51 and len(y) == 10000:
        print(f"{'PASS' if grid_seconds < 180 else 'FAIL'} 51 x 51 grid on 10,000 samples under 3 minutes: "
              f"{grid_seconds:.1f} s")
        print(f"{'PASS' if rate >= 0.7 * peak else 'FAIL'} at >= 70% of the GEMM peak: {rate / peak:.0%}")


if __name__ == "__main__":
    main()
