"""pytest configuration for the benchmarks: collect bench_*.py files and choose a quick subset.

    python -m pytest bench/                      every optimizer x layout x implementation
    python -m pytest bench/ --quick              a small subset that checks the harness end to end
    FASTOPT_BENCH_QUICK=1 python -m pytest bench/   the same, from the environment
    FASTOPT_BENCH_THREADS=1 ...                  thread count for fastopt and torch (default: fastopt's)
"""
import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--quick", action="store_true", default=False,
                     help="benchmark a small subset (also FASTOPT_BENCH_QUICK=1)")


def pytest_collect_file(file_path, parent):
    # The project's pytest config collects test_*.py; benchmark files are named bench_*.py.
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def quick(config) -> bool:
    return config.getoption("--quick") or os.environ.get("FASTOPT_BENCH_QUICK", "") not in ("", "0")


def pytest_configure(config):
    config.addinivalue_line("markers", "full: left out of the quick subset")


def pytest_collection_modifyitems(config, items):
    if quick(config):
        skip = pytest.mark.skip(reason="not in the quick subset (--quick / FASTOPT_BENCH_QUICK)")
        for item in items:
            if item.get_closest_marker("full"):
                item.add_marker(skip)
