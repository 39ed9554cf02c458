"""Property tests (hypothesis): any list of shapes and dtypes, including empty, scalar-like and many tiny tensors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastopt
from optim_cases import CASES, assert_matches_reference

FAST = settings(max_examples=40, deadline=None)

# At least one array: an empty parameter list is refused (as torch refuses one; tests/test_optim_step_features.py).
shapes = st.lists(st.lists(st.integers(0, 6), min_size=0, max_size=3).map(tuple), min_size=1, max_size=60)
dtypes = st.sampled_from([np.float32, np.float64])


def arrays_for(shape_list, dtype_list, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(d) for s, d in zip(shape_list, dtype_list)]


@FAST
@given(st.sampled_from(CASES), shapes.flatmap(lambda s: st.tuples(st.just(s), st.lists(dtypes, min_size=len(s),
                                                                                     max_size=len(s)))),
       st.integers(0, 2**32 - 1))
def test_any_shapes_and_dtypes_match_the_reference(case, layout, seed):
    shape_list, dtype_list = layout
    params0 = arrays_for(shape_list, dtype_list, seed)
    grads = [arrays_for(shape_list, dtype_list, seed + 1 + t) for t in range(6)]
    params = [p.copy() for p in params0]
    opt = case.make(params)
    for g in grads:
        opt.step(g)
    ref = case.reference(params0)
    for g in grads:
        ref.step(g)
    # A step that reduces over the whole group (Prodigy) carries the float32 members' rounding into every member
    group_dtype = np.float32 if case.spans_group and np.float32 in dtype_list else None
    for got, want, shape, dtype in zip(params, ref.params, shape_list, dtype_list):
        assert got.shape == shape and got.dtype == dtype
        assert_matches_reference(case, got, want, group_dtype or dtype)


@FAST
@given(st.sampled_from([c for c in CASES if not c.spans_group]), st.lists(st.integers(0, 40), min_size=1, max_size=30),
       st.integers(0, 2**32 - 1))
def test_one_group_equals_each_tensor_alone(case, sizes, seed):
    """The multi-tensor driver never mixes tensors: a fused group step is bitwise the per-tensor step (but for an
    optimizer whose step reduces over the whole group, Prodigy)."""
    params0 = arrays_for([(n,) for n in sizes], [np.float32] * len(sizes), seed)
    grads = [arrays_for([(n,) for n in sizes], [np.float32] * len(sizes), seed + 1 + t) for t in range(4)]
    fused = [p.copy() for p in params0]
    opt = case.make(fused)
    alone = [[p.copy()] for p in params0]
    opts = [case.make(a) for a in alone]
    for g in grads:
        opt.step(g)
        for o, gi in zip(opts, g):
            o.step([gi])
    for f, (a,) in zip(fused, alone):
        assert f.tobytes() == a.tobytes()


@FAST
@given(st.integers(1, 8), st.integers(1, 8), st.integers(1, 3), st.integers(1, 3), st.booleans())
def test_params_are_accepted_exactly_when_c_contiguous(rows, cols, row_step, col_step, transpose):
    view = np.zeros((rows * row_step, cols * col_step))[::row_step, ::col_step]
    view = view.T if transpose else view
    if view.flags.c_contiguous:
        fastopt.SGD([view], lr=0.1).step([np.ones_like(view)])
        assert np.all(view == -0.1)
    else:
        with pytest.raises(ValueError, match="param '0': must be C-contiguous"):
            fastopt.SGD([view])
