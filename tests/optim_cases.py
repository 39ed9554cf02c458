"""The optimizer configurations under test, and the random problems they run on.

Every entry of ``CASES`` builds the same optimizer twice: with fastopt over the arrays under test and with the
NumPy float64 reference of tests/reference.py.  The optimizers are fastopt's (``fastopt.optim.CLASSES``), each with
the option combinations ``reference.VARIANTS`` lists for it; weight decay and maximize are crossed with every variant
(both on together) and, on the plain variant, each alone (maximize alone where the optimizer has no weight decay).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

import fastopt
import reference

TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}


def assert_matches_reference(case, got, want, dtype) -> None:
    """``got`` equals the float64 reference ``want`` to the dtype's tolerance.

    Lion steps by sign(c): in float32 a c within rounding of zero can take the other sign than in the
    float64 reference, moving that element by about 2*lr.  So for float32 Lion a handful of elements
    (at most 0.1%) may differ; every other element must still match.  (The cautious mask of the other
    optimizers also flips with the sign of m, but there the update it keeps or drops is near zero.)
    Prodigy in float32 is checked to 1e-3 (see below).
    """
    if case.name == "Prodigy" and dtype == np.float32:
        # d is a ratio of group-wide sums of float32 products that grows by orders of magnitude from d0, so float32
        # rounding in the sums (float64 accumulators, float32 terms) moves every later step by ~1e-5 relative
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
        return
    if case.name == "Lion" and dtype == np.float32:
        off = ~np.isclose(got, want, **TOL[dtype])
        assert off.sum() <= max(1, off.size // 1000), f"{off.sum()} of {off.size} elements differ"
        return
    np.testing.assert_allclose(got, want, **TOL[dtype])
SIZES = (0, 1, 15, 16, 17, 32785)  # 32785 = 2 * 16384 + 17: three chunks of the driver (odd tail), run in parallel
STEPS = 50


@dataclass(frozen=True)
class Case:
    """One optimizer configuration: ``name`` is the fastopt class (and reference rule); ``lookahead`` wraps it."""

    name: str
    kwargs: dict = field(default_factory=dict)
    lookahead: dict | None = None

    @property
    def id(self) -> str:
        args = ",".join(f"{k}={v}" for k, v in self.kwargs.items())
        wrap = "" if self.lookahead is None else f"Lookahead({','.join(f'{k}={v}' for k, v in self.lookahead.items())})-"
        return f"{wrap}{self.name}({args})"

    def make(self, params):
        opt = getattr(fastopt, self.name)(params, **self.kwargs)
        return opt if self.lookahead is None else fastopt.Lookahead(opt, **self.lookahead)

    def reference(self, params):
        if self.name in reference.WRAPPED:
            return reference.WRAPPED[self.name](params, **self.kwargs)
        ref = reference.Reference(self.name, params, **self.kwargs)
        return ref if self.lookahead is None else reference.ReferenceLookahead(ref, **self.lookahead)


def _cases():
    cases = []
    for name, (base, wd, variants) in reference.VARIANTS.items():
        for i, variant in enumerate(variants):
            if wd is None:
                extras = [{}, dict(maximize=True)] if i == 0 else [{}]
            else:
                extras = [{}, dict(weight_decay=wd, maximize=True)]
                if i == 0:
                    extras += [dict(weight_decay=wd), dict(maximize=True)]
            cases += [Case(name, {**base, **variant, **extra}) for extra in extras]
    cases += [Case("Adam", dict(lr=0.01), lookahead={}),
              Case("Adam", dict(lr=0.01, weight_decay=0.1, maximize=True), lookahead=dict(k=3, alpha=0.8)),
              Case("SGD", dict(lr=0.05, momentum=0.9), lookahead=dict(k=1, alpha=0.2)),
              Case("Lion", dict(lr=1e-3), lookahead=dict(k=7, alpha=1.0))]
    return cases


CASES = _cases()
CASE_IDS = [c.id for c in CASES]
# The first case of each optimizer, and each Lookahead: enough where the shared driver, not the rule, is under test.
ONE_PER_OPTIMIZER = [c for i, c in enumerate(CASES) if c.lookahead is not None or
                     all(d.name != c.name or d.lookahead is not None for d in CASES[:i])]


@lru_cache(maxsize=None)
def problem(shapes: tuple, dtype, steps: int = STEPS, seed: int = 0):
    """Initial params and a gradient sequence (standard normal) for tensors of the given shapes, read-only."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    for a in params + [g for step in grads for g in step]:
        a.flags.writeable = False
    return params, grads


def run_fastopt(case: Case, shapes: tuple, dtype, steps: int = STEPS, seed: int = 0):
    """Params after ``steps`` fastopt steps of ``case`` on ``problem(shapes, ...)``."""
    params0, grads = problem(shapes, dtype, steps, seed)
    params = [p.copy() for p in params0]
    opt = case.make(params)
    for g in grads:
        opt.step(g)
    return params


def run_reference(case: Case, shapes: tuple, dtype, steps: int = STEPS, seed: int = 0):
    """The same trajectory with the float64 reference (from the same, possibly float32, starting point)."""
    params0, grads = problem(shapes, dtype, steps, seed)
    ref = case.reference(params0)
    for g in grads:
        ref.step(g)
    return ref.params
