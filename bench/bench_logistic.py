"""Softmax-regression evaluations on full MNIST: fastopt's native objective against NumPy and PyTorch, in one run.

    python bench/bench_logistic.py [--threads N] [--repeats R] [--limit N]

Times f + gradient, f alone and one Hessian-vector product of multinomial logistic regression
(60000 x 784 float32 images, 10 classes, 7,850 float64 parameters) for
  fastopt, X float32   fastopt.curvature.LogisticRegression on float32 data (float64 arithmetic)
  fastopt, X float64   the same on a float64 copy of the data
  numpy float64        the same formulas in NumPy on the float64 copy (its OpenBLAS threads)
  torch float64        the same with torch.autograd (value and gradient; double backward for Hv)
and prints the best of R runs in ms, each row's ratio to fastopt float32, and the GFLOP/s of the
GEMMs (2 N d K per product).  First checks that every peer computes fastopt's numbers.
"""
import argparse
import os
import time

import numpy as np

import fastopt
from fastopt import datasets
from fastopt.curvature import LogisticRegression

L2 = 1e-4


def numpy_objective(X, y, k):
    """value_grad(theta) and hessp(theta, v) in NumPy float64."""
    n, d = X.shape
    rows = np.arange(n)

    def probabilities(theta):
        W, b = theta[:k * d].reshape(k, d), theta[k * d:]
        Z = X @ W.T + b
        Z -= Z.max(1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(1, keepdims=True)
        return W, P

    def value_grad(theta):
        W, P = probabilities(theta)
        f = -np.mean(np.log(P[rows, y])) + 0.5 * L2 * np.sum(W * W)
        P[rows, y] -= 1
        return f, np.concatenate([(P.T @ X / n + L2 * W).ravel(), P.mean(0)])

    def value(theta):
        W, P = probabilities(theta)
        return -np.mean(np.log(P[rows, y])) + 0.5 * L2 * np.sum(W * W)

    def hessp(theta, v):
        _, P = probabilities(theta)
        V, c = v[:k * d].reshape(k, d), v[k * d:]
        U = X @ V.T + c
        R = P * (U - np.sum(P * U, axis=1, keepdims=True))
        return np.concatenate([(R.T @ X / n + L2 * V).ravel(), R.mean(0)])

    return value_grad, value, hessp


def torch_objective(X, y, k):
    import torch
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    d = X.shape[1]

    def loss(t):
        W, b = t[:k * d].reshape(k, d), t[k * d:]
        return torch.nn.functional.cross_entropy(Xt @ W.T + b, yt) + 0.5 * L2 * (W * W).sum()

    def value_grad(theta):
        t = torch.tensor(theta, requires_grad=True)
        f = loss(t)
        f.backward()
        return f.item(), t.grad.numpy()

    def value(theta):
        with torch.no_grad():
            return loss(torch.from_numpy(theta)).item()

    def hessp(theta, v):
        t = torch.tensor(theta, requires_grad=True)
        (g,) = torch.autograd.grad(loss(t), t, create_graph=True)
        (hv,) = torch.autograd.grad(g @ torch.from_numpy(v), t)
        return hv.numpy()

    return value_grad, value, hessp


def best_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="fastopt's and torch's threads")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--limit", type=int, help="first N training samples only")
    args = parser.parse_args()
    fastopt.set_num_threads(args.threads)
    data = datasets.load_mnist(download_missing=False)
    X32, y = data.train.x[:args.limit], data.train.y[:args.limit]
    X64 = X32.astype(np.float64)
    n, d = X32.shape
    k = 10
    rng = np.random.default_rng(0)
    theta, v = 0.01 * rng.normal(size=(2, k * (d + 1)))
    impls = {"fastopt, X float32": LogisticRegression(X32, y, k, L2),
             "fastopt, X float64": LogisticRegression(X64, y, k, L2)}
    rows = {name: (o.value_grad, o.value, o.hessp) for name, o in impls.items()}
    rows["numpy float64"] = numpy_objective(X64, y, k)
    try:
        import torch
        torch.set_num_threads(args.threads)
        rows["torch float64"] = torch_objective(X64, y, k)
    except ImportError:
        print("torch not installed: its row is left out")
    f_ref, g_ref = rows["fastopt, X float32"][0](theta)
    hv_ref = rows["fastopt, X float32"][2](theta, v)
    for name, (value_grad, value, hessp) in rows.items():
        f, g = value_grad(theta)
        assert abs(f - f_ref) <= 1e-12 * abs(f_ref) and abs(value(theta) - f_ref) <= 1e-12 * abs(f_ref), name
        assert np.allclose(g, g_ref, rtol=1e-9, atol=1e-12), name
        assert np.allclose(hessp(theta, v), hv_ref, rtol=1e-9, atol=1e-12), name
    print(f"{n} x {d} samples, {k} classes; fastopt threads {args.threads}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '<unset>')}; best of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.1f}; all rows checked against fastopt's numbers")
    timed = {name: [best_ms(lambda: vg(theta), args.repeats), best_ms(lambda: val(theta), args.repeats),
                    best_ms(lambda: hp(theta, v), args.repeats)] for name, (vg, val, hp) in rows.items()}
    base = timed["fastopt, X float32"]
    gemm = 2 * n * d * k / 1e6  # MFLOP per product
    print(f"{'':20s} {'f+grad ms':>10s} {'x':>6s} {'f ms':>8s} {'x':>6s} {'Hv ms':>8s} {'x':>6s} "
          f"{'f+grad GFLOP/s':>15s}")
    for name, (vg, val, hp) in timed.items():
        print(f"{name:20s} {vg:10.1f} {vg / base[0]:6.2f} {val:8.1f} {val / base[1]:6.2f} {hp:8.1f} "
              f"{hp / base[2]:6.2f} {2 * gemm / vg:15.1f}")
    print("x: time over fastopt float32's (above 1: slower than fastopt)")


if __name__ == "__main__":
    main()
