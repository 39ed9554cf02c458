"""What the benchmarks run: optimizers, parameter layouts, implementations, and how a step is timed.

Shared by the pytest-benchmark file (bench_optim.py) and the report (report.py), so both measure the
same thing.  Every implementation gets its own copy of the params and its own state; the gradients
(read-only for all of them) are one set of arrays, seen by torch through ``torch.from_numpy``.
"""
from __future__ import annotations

import inspect
import math
import statistics
import time
from dataclasses import dataclass

import numpy as np

import fastopt
import numpy_optim

try:
    import torch
except ImportError:  # torch is optional: its columns are then left out
    torch = None


@dataclass(frozen=True)
class Case:
    """One optimizer configuration, built identically by fastopt, NumPy and torch.optim."""

    name: str
    cls: str                   # class name in fastopt, numpy_optim and torch.optim
    hyper: dict
    num_states: int            # state arrays per param: sets the bytes a step must move
    torch_fused: bool = False  # torch has a fused CPU kernel for it

    def bytes_per_param(self, itemsize: int = 4) -> int:
        """Bytes one step must move per parameter: read p, g and each state; write p and each state."""
        return itemsize * (3 + 2 * self.num_states)


# torch's fused CPU kernels (torch.optim's _fused implementations for CPU tensors).
TORCH_FUSED = {"SGD", "Adam", "AdamW", "Adagrad"}


def _case(name: str, entry) -> Case:
    vector = np.zeros(1, np.float32)
    group = entry.cls([vector], **entry.preset).param_groups[0]
    # the layouts are vectors: a slot shaped otherwise (Adafactor's column factor) holds nothing for them
    shape = getattr(entry.cls.spec, "slot_shape", lambda _, p: p.shape)
    states = sum(1 for slot, _ in entry.cls.spec.slots(group) if shape(slot, vector) == vector.shape)
    return Case(name, entry.cls.__name__, dict(entry.preset), states, torch_fused=entry.cls.__name__ in TORCH_FUSED)


# Timed elsewhere: Muon orthogonalises matrices (bench/bench_matrix_optim.py); on these vector layouts it is AdamW.
MATRIX_ONLY = {"muon"}


def __getattr__(name: str):
    """``CASES`` (every registry optimizer with its own kernel; the Lookahead wrappers add a sync every k
    steps to one of these) and ``CASES_BY_NAME``, built on first use from the build being measured, so
    that bench/compare_commits.py can time a build from before the registry with these same helpers."""
    if name not in ("CASES", "CASES_BY_NAME"):
        raise AttributeError(name)
    cases = [_case(n, e) for n, e in fastopt.optim.REGISTRY.items()
             if issubclass(e.cls, fastopt.Optimizer) and n not in MATRIX_ONLY]
    globals().update(CASES=cases, CASES_BY_NAME={case.name: case for case in cases})
    return globals()[name]

# Layout name -> sizes of the param arrays (float32).
LAYOUTS = {
    "1e5": [100_000],
    "1e6": [1_000_000],
    "1e7": [10_000_000],
    "100x1e5": [100_000] * 100,
    "10000x1000": [1000] * 10_000,
}

QUICK_CASES = ["momentum", "adam", "rmsprop", "lion"]
QUICK_LAYOUTS = ["1e5", "1e6"]

# torch_default is what a PyTorch user gets without flags: on CPU, torch.optim picks neither foreach
# nor fused (its _default_to_fused_or_foreach enables foreach only for CUDA-like devices), so it runs
# the single-tensor path, op by op.
IMPLS = ["fastopt", "numpy", "torch_default", "torch_foreach", "torch_fused"]
TORCH_FLAGS = {"torch_default": {}, "torch_foreach": {"foreach": True}, "torch_fused": {"fused": True}}


def _numpy_has(case: Case) -> bool:
    """numpy_optim has the class and takes the case's hyperparameters (its SGD has no Nesterov, say)."""
    cls = getattr(numpy_optim, case.cls, None)
    return cls is not None and set(case.hyper) <= set(inspect.signature(cls).parameters)


def available_impls(case: Case) -> list[str]:
    """The implementations that exist for a case on this machine."""
    impls = ["fastopt"] + (["numpy"] if _numpy_has(case) else [])
    if torch is not None and hasattr(torch.optim, case.cls):
        impls += ["torch_default", "torch_foreach"]
        if case.torch_fused:
            impls.append("torch_fused")
    return impls


def set_threads(threads: int) -> None:
    """Give fastopt and torch the same number of threads (NumPy's ufuncs are single-threaded)."""
    fastopt.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)


class Workload:
    """Params (one copy per implementation) and gradients for one layout: one set shared by fastopt and
    NumPy, which only read them, and one per torch implementation, as torch.optim may write into p.grad
    (its foreach SGD with Nesterov momentum adds the momentum to the gradients in place)."""

    def __init__(self, sizes: list[int], seed: int = 0):
        rng = np.random.default_rng(seed)
        self.start = [rng.standard_normal(n, dtype=np.float32) for n in sizes]
        self.grads = [rng.standard_normal(n, dtype=np.float32) for n in sizes]
        self.params: dict[str, list[np.ndarray]] = {}
        self.grad_copies: list[list[np.ndarray]] = []

    def new_grads(self, rng: np.random.Generator) -> None:
        """Refill the gradients in place (every implementation sees the change)."""
        for g in self.grads:
            g[...] = rng.standard_normal(g.size, dtype=np.float32)
        for copy in self.grad_copies:
            for c, g in zip(copy, self.grads):
                c[...] = g

    def stepper(self, case: Case, impl: str):
        """A zero-argument callable making one optimizer step of ``impl`` on its own copy of the params."""
        params = [p.copy() for p in self.start]
        self.params[impl] = params
        if impl == "fastopt":
            opt = getattr(fastopt, case.cls)(params, **case.hyper)
            grads = self.grads
            return lambda: opt.step(grads)
        if impl == "numpy":
            opt = getattr(numpy_optim, case.cls)(params, **case.hyper)
            grads = self.grads
            return lambda: opt.step(grads)
        tensors = [torch.from_numpy(p).requires_grad_() for p in params]
        self.grad_copies.append([g.copy() for g in self.grads])
        for t, g in zip(tensors, self.grad_copies[-1]):
            t.grad = torch.from_numpy(g)
        opt = getattr(torch.optim, case.cls)(tensors, **case.hyper, **TORCH_FLAGS[impl])
        return opt.step


def check_agreement(case: Case, steps: int = 10, seed: int = 1) -> None:
    """Raise AssertionError unless every implementation computes the same params as fastopt.

    Run before timing so that a table never compares implementations doing different work.
    """
    workload = Workload([1000, 17, 40_000], seed)
    impls = available_impls(case)
    steppers = {impl: workload.stepper(case, impl) for impl in impls}
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        workload.new_grads(rng)
        for step in steppers.values():
            step()
    reference = workload.params["fastopt"]
    moved = max(float(np.max(np.abs(p - s))) for p, s in zip(reference, workload.start))
    for impl in impls[1:]:
        worst = max(float(np.max(np.abs(p - r))) for p, r in zip(workload.params[impl], reference))
        if not (moved > 0 and worst <= 1e-3 * moved):
            raise AssertionError(f"{case.name}: {impl} differs from fastopt by {worst:.3g} (params moved {moved:.3g})")


def time_steps(steppers: dict, repeats: int, min_sample_s: float = 2e-3) -> dict[str, float]:
    """Median seconds per step of each stepper.

    Each stepper first makes two warm-up steps (state allocation, first touch of pages), which also
    size a batch so that one timed sample lasts at least ``min_sample_s``.  Samples are taken in
    rounds that visit every implementation in turn, so a burst of load elsewhere on the machine
    hits all of them rather than one.
    """
    batch = {}
    for impl, step in steppers.items():
        step()
        start = time.perf_counter()
        step()
        batch[impl] = max(1, math.ceil(min_sample_s / max(time.perf_counter() - start, 1e-9)))
    samples = {impl: [] for impl in steppers}
    for _ in range(repeats):
        for impl, step in steppers.items():
            start = time.perf_counter()
            for _ in range(batch[impl]):
                step()
            samples[impl].append((time.perf_counter() - start) / batch[impl])
    return {impl: statistics.median(s) for impl, s in samples.items()}
