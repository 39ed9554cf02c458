"""One exact Hessian-vector product of the MLP against one native gradient and against torch, in one run.

    FASTOPT_DATA=/work/shared/datasets/mnist python bench/bench_hvp.py [--threads N] [--samples 1000] [--repeats 15]

Network 784-512-256-10 (ReLU, float32, He initialisation), softmax cross-entropy, the first
``--samples`` MNIST training images (random MNIST-shaped data when the files are absent: the timing
does not depend on the values).  Timed, alternating, median of ``--repeats`` after a warm-up:

* fastopt gradient: ``model.forward_backward`` (forward + backward) on the samples;
* fastopt HVP: ``fastopt.curvature.hessian(model, x, y, batch_size=samples).matvec(v)`` (forward,
  R-forward, backward and R-backward in one native call);
* torch HVP: forward, ``torch.autograd.grad(loss, params, create_graph=True)``, then
  ``torch.autograd.grad(grads, params, grad_outputs=v)`` -- PyHessian's product over a data set;
* torch HVP, graph reused: only the second ``autograd.grad`` on a graph kept from one forward and
  backward (PyHessian's single-batch mode, which pays the first two once per operator).

Targets (issue 11): HVP <= 2.5x gradient; HVP >= 3x faster than torch's.  Checks first that
fastopt's and torch's products agree.
"""
import argparse
import os
import statistics
import time

import numpy as np

import fastopt
from fastopt.nn import MLP

SIZES = [784, 512, 256, 10]


def load_samples(n):
    """The first n MNIST training samples, or random data of the same shape when MNIST is absent."""
    try:
        data = fastopt.datasets.load_mnist(os.environ.get("FASTOPT_DATA"), download_missing=False, progress=False)
        return data.train.x[:n], data.train.y[:n], "MNIST"
    except fastopt.datasets.DatasetError:
        rng = np.random.default_rng(0)
        return rng.random((n, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], n), "random (MNIST absent)"


def torch_hvp(model, x, y):
    """Closures for torch's HVP from scratch and on a kept graph, with the model's weights."""
    import torch

    params = [torch.tensor(model.params[f"{i}.{k}"], requires_grad=True)
              for i in range(len(SIZES) - 1) for k in ("weight", "bias")]
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.asarray(y, dtype=np.int64))

    def gradient():
        a = xt
        for i in range(0, len(params), 2):
            a = torch.nn.functional.linear(a, params[i], params[i + 1])
            a = torch.relu(a) if i + 2 < len(params) else a
        return torch.autograd.grad(torch.nn.functional.cross_entropy(a, yt), params, create_graph=True)

    def split(v):
        return [t.reshape(p.shape) for t, p in zip(torch.from_numpy(v).split([p.numel() for p in params]), params)]

    def from_scratch(v):
        return torch.autograd.grad(gradient(), params, grad_outputs=split(v))

    kept = gradient()

    def on_kept_graph(v):
        return torch.autograd.grad(kept, params, grad_outputs=split(v), retain_graph=True)

    def flat(hv):
        return torch.cat([h.reshape(-1) for h in hv]).numpy()

    return from_scratch, on_kept_graph, flat


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=fastopt.get_num_threads())
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    import torch

    fastopt.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    x, y, source = load_samples(args.samples)
    model = MLP(SIZES, seed=0)
    v = np.random.default_rng(1).standard_normal(model.num_params).astype(np.float32)
    op = fastopt.curvature.hessian(model, x, y, batch_size=args.samples)
    from_scratch, on_kept_graph, flat = torch_hvp(model, x, y)

    ours, theirs = op.matvec(v), flat(from_scratch(v))
    agreement = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    print(f"{SIZES} ReLU float32, {args.samples} samples ({source}); threads {args.threads}; "
          f"torch {torch.__version__}; fastopt {fastopt.__version__}; load avg {os.getloadavg()[0]:.2f}")
    print(f"fastopt HVP vs torch HVP: relative difference {agreement:.1e}")

    cases = {"fastopt gradient": lambda: model.forward_backward(x, y, train=False),
             "fastopt HVP": lambda: op.matvec(v),
             "torch HVP": lambda: from_scratch(v),
             "torch HVP, graph reused": lambda: on_kept_graph(v)}
    for fn in cases.values():
        fn()
    samples = {name: [] for name in cases}
    for _ in range(args.repeats):  # alternate, so a busy moment hits every case alike
        for name, fn in cases.items():
            samples[name].append(median_ms(fn, 1))
    ms = {name: statistics.median(t) for name, t in samples.items()}
    for name, t in ms.items():
        print(f"  {name:<26} {t:8.2f} ms")
    hvp_vs_grad = ms["fastopt HVP"] / ms["fastopt gradient"]
    speedup = ms["torch HVP"] / ms["fastopt HVP"]
    verdict = {True: "pass", False: "FAIL"}
    print(f"HVP / gradient:             {hvp_vs_grad:.2f}x  (target <= 2.5x: {verdict[hvp_vs_grad <= 2.5]})")
    print(f"torch HVP / fastopt HVP:    {speedup:.2f}x  (target >= 3x: {verdict[speedup >= 3]})")
    print(f"torch HVP graph reused / fastopt HVP: {ms['torch HVP, graph reused'] / ms['fastopt HVP']:.2f}x")


if __name__ == "__main__":
    main()
