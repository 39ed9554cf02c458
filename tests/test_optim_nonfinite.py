"""NaN and Inf in grads follow IEEE arithmetic, exactly as the NumPy reference does: no crash, NaN propagates."""
import numpy as np
import pytest

from optim_cases import CASE_IDS, CASES, TOL, problem


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_nan_and_inf_grads_follow_the_reference(case, dtype):
    params0, clean = problem(((33,),), dtype, steps=12)
    grads = [[g.copy() for g in step] for step in clean]
    grads[2][0][3] = np.nan
    grads[4][0][7] = np.inf
    grads[5][0][8] = -np.inf
    grads[6][0][7] = 1.0  # a finite grad after an infinite one, where a max() might forget the NaN
    params = [p.copy() for p in params0]
    opt = case.make(params)
    for g in grads:
        opt.step(g)
    ref = case.reference(params0)
    with np.errstate(all="ignore"):
        for g in grads:
            ref.step(g)
    got, want = params[0], ref.params[0]
    assert np.isnan(got[3])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert finite.sum() >= 30  # the other elements are untouched by their neighbours' NaN
    np.testing.assert_allclose(got[finite], want[finite], **TOL[dtype])
