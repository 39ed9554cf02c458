"""NaN and Inf in grads follow IEEE arithmetic, exactly as the NumPy reference does: no crash, NaN propagates."""
import numpy as np
import pytest

import fastopt
from optim_cases import CASE_IDS, CASES, assert_matches_reference, problem

# Optimizers whose step reduces over a tensor or group before it moves any element.
COUPLED = {"LAMB", "LARS", "Prodigy"}


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
    if case.name in COUPLED or case.kwargs.get("cautious"):
        # A per-tensor (or group) reduction couples the elements: a NaN makes LAMB's and LARS's norms NaN, and
        # Prodigy's estimate; an infinite moment changes the cautious count (fastopt masks by m * g as the authors'
        # code, the reference by the normalised update, which is NaN there).  The NaN pattern above is the check.
        return
    finite = np.isfinite(want)
    assert finite.sum() >= 30  # the other elements are untouched by their neighbours' NaN
    assert_matches_reference(case, got[finite], want[finite], dtype)


@pytest.mark.parametrize("make, slot", [(lambda p: fastopt.Adamax(p), "exp_inf"),
                                        (lambda p: fastopt.Adam(p, amsgrad=True), "max_exp_avg_sq")],
                         ids=["adamax", "amsgrad"])
def test_running_maxima_keep_a_nan(make, slot):
    """max(NaN, x) is NaN, as np.maximum and torch.maximum have it: a NaN in the state is not forgotten."""
    params = [np.zeros(3)]
    opt = make(params)
    opt.step([np.array([1.0, np.nan, 1.0])])
    for _ in range(3):
        opt.step([np.ones(3)])
    state = opt.state[0][slot][0]
    assert np.isnan(state[1]) and np.all(np.isfinite(state[[0, 2]]))
