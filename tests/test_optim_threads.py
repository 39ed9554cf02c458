"""One thread and two threads give bit-identical results: each element's arithmetic does not depend on the split."""
import numpy as np
import pytest

import fastopt
from optim_cases import ONE_PER_OPTIMIZER, problem

SHAPES = ((40000,), (17,), (16385,), (0,), (3, 3))  # 56k elements in total: the driver runs its parallel path


def run(case, dtype, threads):
    fastopt.set_num_threads(threads)
    assert fastopt.get_num_threads() == threads
    params0, grads = problem(SHAPES, dtype, steps=8)
    params = [p.copy() for p in params0]
    opt = case.make(params)
    for g in grads:
        opt.step(g)
    return params


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER, ids=lambda c: c.id)
def test_one_and_two_threads_agree_bitwise(case, dtype, num_threads):
    one, two = run(case, dtype, 1), run(case, dtype, 2)
    for a, b in zip(one, two):
        assert a.tobytes() == b.tobytes()
