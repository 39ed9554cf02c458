"""bfloat16 params and state against torch's fused Adam/AdamW, which keeps its state in the params' dtype and
computes each step in float32 (torch's foreach and for-loop paths round every intermediate to bfloat16: another
algorithm, not compared)."""
import numpy as np
import pytest

import fastopt

torch = pytest.importorskip("torch")
ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)
STEPS = 30


@pytest.mark.parametrize("name, kwargs", [("Adam", {}), ("AdamW", dict(weight_decay=0.1)),
                                          ("Adam", dict(weight_decay=0.01, amsgrad=True))],
                         ids=["Adam", "AdamW", "Adam-amsgrad-l2"])
def test_bfloat16_params_and_state_follow_torch_fused_adam(name, kwargs):
    rng = np.random.default_rng(0)
    start = rng.standard_normal(5000).astype(np.float32)
    grads = [rng.standard_normal(5000).astype(BF16) for _ in range(STEPS)]
    tensor = torch.from_numpy(start).to(torch.bfloat16).requires_grad_()
    theirs = getattr(torch.optim, name)([tensor], lr=1e-2, fused=True, **kwargs)
    param = start.astype(BF16)
    ours = getattr(fastopt, name)([param], lr=1e-2, state_dtype="bfloat16", **kwargs)
    for g in grads:
        tensor.grad = torch.from_numpy(g.astype(np.float32)).to(torch.bfloat16)
        theirs.step()
        ours.step([g])
    got, want = param.astype(np.float32), tensor.detach().float().numpy()
    # The same float32 arithmetic up to its order of operations: after 30 steps all but a few elements are
    # identical, and those differ by a few spacings of bfloat16 (2^-8 relative each; the Debug build, without
    # fused multiply-adds, left one element of 5,000 four spacings apart).
    assert (got == want).mean() >= 0.99
    np.testing.assert_allclose(got, want, rtol=2.0**-5, atol=1e-6)
    # torch moves the averages by lerp (m + (1-b1)(g-m)), fastopt by b1 m + (1-b1) g: rounded to bfloat16 every
    # step, the two drift apart by a few spacings in a few elements.
    for slot in ("exp_avg", "exp_avg_sq"):
        mine, torchs = ours.state[0][slot][0].astype(np.float32), theirs.state[tensor][slot].float().numpy()
        assert np.isclose(mine, torchs, rtol=2.0**-7, atol=1e-8).mean() >= 0.97  # Debug build (no FMA): 98.3%
        np.testing.assert_allclose(mine, torchs, rtol=2.0**-4, atol=2.0**-6 * np.abs(torchs).max())
