"""Closure-optimizer overhead: fastopt.LBFGS against torch.optim.LBFGS, the same NumPy value-and-gradient for both.

The problem is the extended Rosenbrock function (independent pairs, from (-1.2, 1, -1.2, 1, ...)), strong Wolfe
line search, history m; each optimizer makes --steps steps of --max-iter iterations.  Time inside the closure's
function is measured separately, so "overhead" is everything else: the method's vector work, the line search,
fastopt's per-step snapshot of its state (for the closure-raises guarantee) and the flat-vector scatter/gather;
torch's tensor work and its param clones.  Rounds alternate the two; the median is printed.

    python bench/bench_closure.py [--dim 1000000] [--history 10] [--steps 3] [--max-iter 20] [--rounds 3] [--threads 1]

Threads: fastopt's vector work and torch's ops use --threads each (on a loaded 2-core host, OpenMP's spinning
barriers make 2 threads slower than 1).
"""
import argparse
import statistics
import time

import numpy as np

import fastopt


def extended_rosenbrock(x):
    """f and g of sum_i 100 (x_2i+1 - x_2i^2)^2 + (1 - x_2i)^2 (pairs (x_2i, x_2i+1))."""
    a, b = x[0::2], x[1::2]
    r = b - a * a
    g = np.empty_like(x)
    g[0::2] = -400 * a * r - 2 * (1 - a)
    g[1::2] = 200 * r
    return float(np.sum(100 * r * r + (1 - a) ** 2)), g


def start(dim):
    return np.tile([-1.2, 1.0], dim // 2)


def run_fastopt(args):
    x = start(args.dim)
    spent = [0.0]

    def closure():
        t = time.perf_counter()
        f, g = extended_rosenbrock(x)
        spent[0] += time.perf_counter() - t
        return f, [g]

    opt = fastopt.LBFGS([x], history_size=args.history, max_iter=args.max_iter, line_search_fn="strong_wolfe")
    t = time.perf_counter()
    for _ in range(args.steps):
        opt.step(closure)
    return time.perf_counter() - t, spent[0], opt.func_evals, extended_rosenbrock(x)[0]


def run_torch(torch, args):
    x = torch.tensor(start(args.dim), requires_grad=True)
    spent = [0.0]

    def closure():
        t = time.perf_counter()
        f, g = extended_rosenbrock(x.detach().numpy())
        spent[0] += time.perf_counter() - t
        x.grad = torch.from_numpy(g)
        return torch.tensor(f)

    opt = torch.optim.LBFGS([x], history_size=args.history, max_iter=args.max_iter, line_search_fn="strong_wolfe")
    t = time.perf_counter()
    for _ in range(args.steps):
        opt.step(closure)
    return time.perf_counter() - t, spent[0], opt.state[x]["func_evals"], extended_rosenbrock(x.detach().numpy())[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=10)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--max-iter", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch
    fastopt.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    runs = {"fastopt": [], "torch": []}
    for _ in range(args.rounds):
        runs["fastopt"].append(run_fastopt(args))
        runs["torch"].append(run_torch(torch, args))
    print(f"extended Rosenbrock n={args.dim}, m={args.history}, {args.steps} steps x max_iter={args.max_iter}, "
          f"strong Wolfe; {fastopt.get_num_threads()} threads, torch {torch.__version__}; median of {args.rounds}")
    print(f"{'':8} {'total s':>8} {'in f s':>8} {'overhead s':>10} {'evals':>6} {'ms/eval':>8} {'final f':>10}")
    overhead = {}
    for name, rs in runs.items():
        total, in_f = statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs)
        evals, final = rs[-1][2], rs[-1][3]
        overhead[name] = (total - in_f) / evals
        print(f"{name:8} {total:8.3f} {in_f:8.3f} {total - in_f:10.3f} {evals:6d} {1e3 * overhead[name]:8.2f} "
              f"{final:10.3g}")
    print(f"overhead per evaluation, fastopt / torch: {overhead['fastopt'] / overhead['torch']:.2f}")


if __name__ == "__main__":
    main()
