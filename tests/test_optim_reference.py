"""Every optimizer configuration against the NumPy float64 reference, in float32 and float64, at every size."""
import numpy as np
import pytest

import fastopt
import reference
from fastopt.optim.matrix_spec import MatrixSpec
from optim_cases import (CASE_IDS, CASES, ONE_PER_OPTIMIZER, SIZES, TOL, Case, assert_matches_reference, run_fastopt,
                         run_reference)

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_matches_reference(case, dtype, size):
    shapes = ((size,),)
    got, want = run_fastopt(case, shapes, dtype), run_reference(case, shapes, dtype)
    assert got[0].dtype == dtype
    assert_matches_reference(case, got[0], want[0], dtype)


# One group mixing every size, a 2-D and a 3-D array and many tiny tensors: chunks of several tensors share work.
MANY_SHAPES = tuple((n,) for n in SIZES) + ((3, 5), (2, 3, 4)) + ((3,),) * 40


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("case", ONE_PER_OPTIMIZER, ids=lambda c: c.id)
def test_many_tensors_in_one_group_match_reference(case, dtype):
    got, want = run_fastopt(case, MANY_SHAPES, dtype, steps=12), run_reference(case, MANY_SHAPES, dtype, steps=12)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        assert_matches_reference(case, g, w, dtype)


@pytest.mark.parametrize("name", sorted(reference.RULES))
def test_defaults_are_pytorchs(name):
    opt = getattr(fastopt, name)([np.zeros(3)])
    _, defaults = reference.RULES[name]
    group = opt.param_groups[0]
    assert {k: group[k] for k in defaults} == defaults


def test_ranger_defaults_and_reference_agree():
    opt = fastopt.Ranger([np.zeros(3)])
    assert (opt.k, opt.alpha) == (6, 0.5)
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (1e-3, (0.95, 0.999), 1e-5, 0.0)
    shapes = ((7,),)
    np.testing.assert_allclose(run_fastopt(Case("Ranger"), shapes, np.float64)[0],
                               run_reference(Case("Ranger"), shapes, np.float64)[0], **TOL[np.float64])


def test_registry_covers_every_optimizer():
    names = {c.name for c in CASES}
    assert names == set(fastopt.optim.CLASSES) - {"Lookahead"}  # Lookahead: the cases with lookahead=...
    assert names == set(reference.RULES) | set(reference.WRAPPED)
    assert any(c.lookahead is not None for c in CASES)
    assert len(set(CASE_IDS)) == len(CASES)


def test_every_native_kernel_has_a_python_class_and_the_other_way_round():
    classes = [getattr(fastopt, n) for n in fastopt.optim.CLASSES]
    matrix = {cls.spec.name for cls in classes if isinstance(cls.spec, MatrixSpec)}  # their own native calls
    specs = {cls.spec.name for cls in classes if cls.spec is not None} - matrix
    assert specs == set(fastopt._core.optim.names()) and matrix == {"muon", "adafactor"}
    for name in fastopt.optim.CLASSES:
        cls = getattr(fastopt, name)
        if issubclass(cls, fastopt.Optimizer):  # its hyperparameters are exactly its spec's
            assert set(cls([np.zeros(1)]).defaults) == set(cls.spec.hyperparameters), name


def test_every_registry_entry_is_complete():
    for name, e in fastopt.optim.REGISTRY.items():
        # the curvature optimizers that train networks (takes_model) live in fastopt.curvature
        assert e.cls.__name__ in (fastopt.curvature.__all__ if e.takes_model else fastopt.optim.CLASSES), name
        assert (e.mnist_lr is None or e.mnist_lr > 0) and e.color.startswith("#"), name
        assert set(e.landscape_lr) <= set(fastopt.landscape.functions()), name
        assert all(lr > 0 for lr in e.landscape_lr.values()), name
