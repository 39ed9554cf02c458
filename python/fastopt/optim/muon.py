"""Muon: momentum orthogonalised by a Newton-Schulz iteration, for the matrices of a network."""
from __future__ import annotations

import numbers

from .. import _core
from .base import Optimizer
from .matrix_spec import MatrixSpec
from .registry import register
from .validation import check_betas, check_hyper

__all__ = ["Muon"]

ADJUST_LR_FNS = ("original", "match_rms_adamw")


def _muon_step(params, grads, slots, names, group, step, grad_scale, grad_limit, check_only):
    _core.matrix_optim.muon_step(
        params, grads, slots["momentum_buffer"], slots["exp_avg_sq"], names, step, lr=group["lr"],
        weight_decay=group["weight_decay"], momentum=group["momentum"], nesterov=bool(group["nesterov"]),
        ns_coefficients=tuple(group["ns_coefficients"]), eps=group["eps"], ns_steps=int(group["ns_steps"]),
        match_rms_adamw=group["adjust_lr_fn"] == "match_rms_adamw", adamw_lr=group["adamw_lr"],
        adamw_betas=tuple(group["adamw_betas"]), adamw_eps=group["adamw_eps"],
        adamw_weight_decay=group["adamw_weight_decay"], grad_scale=-grad_scale if group["maximize"] else grad_scale,
        grad_limit=grad_limit,
        check_only=check_only)


class Muon(Optimizer):
    r"""Muon (Jordan et al., 2024, "Muon: An optimizer for hidden layers in neural networks"; Liu et al., 2025,
    "Muon is Scalable for LLM Training" for ``match_rms_adamw``), torch 2.13's ``torch.optim.Muon`` for matrices
    and AdamW for the other params.

    For a matrix :math:`\theta` (rows :math:`A`, columns :math:`B`) with gradient :math:`g_t`:

    .. math::
        M_t &= \mathrm{lerp}(M_{t-1}, g_t, 1-\mu) = \mu M_{t-1} + (1-\mu) g_t, \qquad
        U_t = \begin{cases}\mathrm{lerp}(g_t, M_t, \mu) & \text{nesterov} \\ M_t & \text{else}\end{cases} \\
        X_0 &= U_t / \max(\lVert U_t\rVert_F, \epsilon), \qquad
        X_{k+1} = a X_k + (b\,X_k X_k^\top + c\,(X_k X_k^\top)^2) X_k \quad (k < \text{ns_steps}) \\
        \theta_t &= \theta_{t-1}(1 - \gamma\lambda) - \gamma' X_{\text{ns_steps}}, \qquad
        \gamma' = \gamma\sqrt{\max(1, A/B)} \ (\text{"original"}) \text{ or } 0.2\,\gamma\sqrt{\max(A, B)}
        \ (\text{"match_rms_adamw"})

    The iteration (on :math:`X^\top` for a tall matrix) takes the singular values of :math:`U_t` towards 1: an
    approximate polar factor :math:`U V^\top` of :math:`U_t = U S V^\top`.  It runs natively in the param's
    precision through BLAS GEMMs (torch casts to bfloat16, a GPU choice); one call covers every matrix of the
    group, the large ones with the threads sharing each GEMM's rows, the small ones one per thread.  A param of
    more than two dimensions is orthogonalised as the matrix ``(shape[0], rest)`` (Keller Jordan's practice for
    convolution filters; torch refuses it).

    **Vectors** (biases, norms' gains; torch's Muon refuses them): an AdamW step with their own hyperparameters,
    as Keller Jordan's ``MuonWithAuxAdam`` does with a second param group:
    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta(1 - \gamma_a\lambda_a) - \gamma_a \hat m / (\sqrt{\hat v} + \epsilon_a)`
    (torch's AdamW, bias-corrected by the group's step count; m is kept in ``momentum_buffer``, v in
    ``exp_avg_sq``, which is empty for matrices).

    Parameters
    ----------
    params : list, dict or list of param groups
        The arrays to optimize, updated in place (see :class:`~fastopt.optim.Optimizer`).
    lr : float
        Learning rate of the matrices :math:`\gamma` (torch's 1e-3; Keller Jordan's runs use 0.02).
    weight_decay : float
        Decoupled weight decay :math:`\lambda` of the matrices (torch's 0.1).
    momentum : float
        Momentum :math:`\mu` (0.95).
    nesterov : bool
        Orthogonalise the Nesterov look-ahead :math:`\mathrm{lerp}(g, M, \mu)` rather than :math:`M`.
    ns_coefficients : tuple of float
        The quintic's coefficients (a, b, c), torch's (3.4445, -4.775, 2.0315).
    eps : float
        Floor of the Frobenius norm that normalises the iteration's start (1e-7).
    ns_steps : int
        Newton-Schulz iterations (5; fewer than 100).
    adjust_lr_fn : str or None
        "original" (or None) or "match_rms_adamw": how the matrix's shape scales its learning rate.
    adamw_lr : float
        Learning rate of the AdamW step of the params that are not matrices.
    adamw_betas : tuple of float
        (beta1, beta2) of that AdamW step (Keller Jordan's 0.9, 0.95).
    adamw_eps : float
        Epsilon of that AdamW step (Keller Jordan's 1e-10).
    adamw_weight_decay : float
        Decoupled weight decay of that AdamW step (0).
    maximize : bool
        Ascend the gradient instead of descending it (fastopt's; torch's Muon has no such option).
    """

    spec = MatrixSpec("muon", {"lr": "real", "weight_decay": "real", "momentum": "real", "nesterov": "flag",
                               "ns_coefficients": "triple", "eps": "real", "ns_steps": "real", "adjust_lr_fn": "custom",
                               "adamw_lr": "real", "adamw_betas": "pair", "adamw_eps": "real",
                               "adamw_weight_decay": "real", "maximize": "flag"},
                      {"momentum_buffer": lambda p: p.shape,
                       "exp_avg_sq": lambda p: p.shape if p.ndim < 2 else (0,)}, _muon_step)

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn="original",
                 adamw_lr=1e-3, adamw_betas=(0.9, 0.95), adamw_eps=1e-10, adamw_weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                                      adjust_lr_fn=adjust_lr_fn, adamw_lr=adamw_lr, adamw_betas=adamw_betas,
                                      adamw_eps=adamw_eps, adamw_weight_decay=adamw_weight_decay, maximize=maximize))

    def _check(self, group: dict) -> None:
        if group["adjust_lr_fn"] is None:  # torch's None is "original"
            group["adjust_lr_fn"] = "original"
        fn = group["adjust_lr_fn"]
        check_hyper(isinstance(fn, str) and fn in ADJUST_LR_FNS, "adjust_lr_fn", fn,
                    f"expected one of {', '.join(map(repr, ADJUST_LR_FNS))} or None")
        steps = group["ns_steps"]
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
            raise TypeError(f"ns_steps: expected an int, got {type(steps).__name__} {steps!r}")
        check_hyper(0 <= steps < 100, "ns_steps", steps, "must be in [0, 100)")
        check_hyper(group["momentum"] < 1.0, "momentum value", group["momentum"], "must be in [0, 1)")
        for key in ("adamw_lr", "adamw_eps", "adamw_weight_decay"):
            check_hyper(group[key] >= 0.0, key, group[key], "must be >= 0")
        check_betas(group["adamw_betas"])

    def kernel_calls(self):
        """None: a Muon step is one native call of its own (``fastopt._core.matrix_optim``), not elementwise
        kernel calls, so loops outside Python run it through :meth:`step`."""
        return None


# Registry.  MNIST rate: 0.02 (Keller Jordan's) for the matrices, AdamW at 1e-3 for the biases; see
# docs/sections/muon.md.  Landscape points are vectors: the AdamW fallback moves them.
register("muon", Muon, mnist_lr=0.02, color="#fd8d3c")
