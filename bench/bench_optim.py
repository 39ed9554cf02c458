"""pytest-benchmark: every optimizer, fastopt against careful NumPy and torch.optim (default, foreach, fused).

Each benchmark times one optimizer step; tests are grouped by optimizer and layout, so
``pytest bench/bench_optim.py --benchmark-group-by=group`` shows the implementations side by side.
For the one-table summary with ratios and bandwidth, run ``python bench/report.py``.
"""
import os

import pytest

import fastopt
import workloads
from workloads import CASES, CASES_BY_NAME, IMPLS, LAYOUTS, QUICK_CASES, QUICK_LAYOUTS

THREADS = int(os.environ.get("FASTOPT_BENCH_THREADS", "0")) or fastopt.get_num_threads()


def _params():
    for case in CASES:
        for layout in LAYOUTS:
            for impl in IMPLS:
                full = case.name not in QUICK_CASES or layout not in QUICK_LAYOUTS
                yield pytest.param(case.name, layout, impl, id=f"{case.name}-{layout}-{impl}",
                                   marks=[pytest.mark.full] if full else [])


@pytest.fixture(scope="module", autouse=True)
def threads():
    workloads.set_threads(THREADS)


@pytest.mark.parametrize("name", [case.name for case in CASES])
def test_implementations_agree(name):
    """The timed implementations compute the same update (so the timings compare like with like)."""
    workloads.check_agreement(CASES_BY_NAME[name])


@pytest.mark.parametrize("name, layout, impl", list(_params()))
def test_step(benchmark, name, layout, impl):
    case = CASES_BY_NAME[name]
    if impl not in workloads.available_impls(case):
        pytest.skip(f"{impl} is not available for {name} here")
    step = workloads.Workload(LAYOUTS[layout]).stepper(case, impl)
    step()  # first step: lazy state allocation and first touch of the pages
    benchmark.group = f"{name} {layout}"
    benchmark.extra_info.update(layout=layout, impl=impl, threads=THREADS,
                                bytes_per_step=case.bytes_per_param() * sum(LAYOUTS[layout]))
    benchmark.pedantic(step, warmup_rounds=1, rounds=10 if sum(LAYOUTS[layout]) >= 10**7 else 30, iterations=1)
