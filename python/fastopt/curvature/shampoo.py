r"""Shampoo: Kronecker-factored full-matrix AdaGrad per weight matrix (Gupta, Koren & Singer, 2018), as
Meta's distributed Shampoo practises it (Anil et al., 2020; Shi et al., 2023).

The matrix work is native (``src/cpp/curvature/shampoo_blocks.hpp``, ``matrix_root.hpp``, bound in
``fastopt._core.shampoo``); this module holds the state (NumPy arrays, so the state_dict is just them),
the schedule and the elementwise grafting.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import _core
from ..optim.registry import register
from ..optim.validation import check_hyper
from .capture import LayerCapture
from .matrix_blocks import LayerBlocks
from .model_optimizer import ModelOptimizer, check_choice, check_int, check_real

__all__ = ["Shampoo"]

ROOT_METHODS = ("eigen", "newton")
GRAFTINGS = ("adam", "sgd", "none")
# The coupled Newton iteration's stopping rule (max |M - I|, in double) and its cap.
NEWTON_TOLERANCE = 1e-10
NEWTON_MAX_ITERATIONS = 100
ROOT = 4  # a matrix has two sides: the exponent is -1/(2 * 2)


def check_betas(betas, name: str, high_inclusive: bool) -> None:
    """ValueError naming ``name`` unless betas is a pair: the first in [0, 1), the second in [0, 1]
    (``high_inclusive``) or [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid {name}: {betas!r} (must be a pair of numbers)")
    check_real(betas[0], f"beta at index 0 of {name}", 0.0, 1.0, high_open=True)
    check_real(betas[1], f"beta at index 1 of {name}", 0.0, 1.0, high_open=not high_inclusive)


class Shampoo(ModelOptimizer):
    r"""Shampoo (Gupta, Koren & Singer, 2018, "Shampoo: Preconditioned Stochastic Tensor Optimization"),
    with the practice of Meta's distributed Shampoo (Anil, Gupta, Koren, Regan & Singer, 2020, "Scalable
    Second Order Optimization for Deep Learning"; Shi et al., 2023, "A Distributed Data-Parallel PyTorch
    Implementation of the Distributed Shampoo Optimizer"): grafting, blocking, root choices.

    Each dense layer's gradient :math:`G = [\nabla W, \nabla b]` (out x (in + 1): the bias is the
    appended column, :mod:`fastopt.curvature.matrix_blocks`), cut into blocks of sides at most
    ``max_preconditioner_dim``, keeps per block, at step :math:`t`:

    .. math::
        L \leftarrow \beta_2 L + (1-\beta_2)\, G G^\top, \quad R \leftarrow \beta_2 R + (1-\beta_2)\, G^\top G
        \quad (\beta_2 = 1:\ L \mathrel{+}= G G^\top,\ R \mathrel{+}= G^\top G)

    .. math::
        m \leftarrow \beta_1 m + (1-\beta_1) G, \qquad \hat m = m / (1-\beta_1^t)

    From step :math:`t_0` (``start_preconditioning_step``) the inverse roots
    :math:`\hat L^{-1/4} = (L/c + \epsilon I)^{-1/4}` (and :math:`\hat R^{-1/4}`; :math:`c = 1-\beta_2^t`
    for :math:`\beta_2 < 1`, else 1) are recomputed every ``precondition_frequency`` steps (at
    :math:`t_0, t_0 + f, \dots`; ``root_method``: symmetric eigen-decomposition or the coupled Newton
    iteration, in double, :file:`src/cpp/curvature/matrix_root.hpp`; where the iteration diverges or
    stalls, as it does when float32 rounding leaves an eigenvalue negative under a tiny epsilon, that root
    falls back to the eigen-decomposition) and the block's direction is

    .. math::
        P = \hat L^{-1/4}\, \hat m\, \hat R^{-1/4}, \qquad
        D = P\, \frac{\lVert D_g \rVert_F}{\lVert P \rVert_F + 10^{-16}}

    grafted to the norm of the grafted method's direction :math:`D_g` on that block (``grafting``:
    Adam, :math:`D_g = \hat m / (\sqrt{v / (1-\beta_g^t)} + \epsilon_g)` with
    :math:`v \leftarrow \beta_g v + (1-\beta_g) G^2`; SGD, :math:`D_g = \hat m`; ``none``: :math:`D = P`).
    Before :math:`t_0` the direction is :math:`D_g` itself (:math:`\hat m` without grafting), so Shampoo
    is then exactly its grafted method. Then SGD with momentum :math:`\mu` and weight decay :math:`w`
    (fastopt's native SGD kernel, decoupled from the preconditioner as Meta's default):

    .. math::
        b \leftarrow \mu b + (D + w\theta), \qquad \theta \leftarrow \theta - \eta b

    A step whose gradient holds a NaN or an infinity is skipped, nothing changed
    (:mod:`fastopt.curvature.model_optimizer`); a root whose statistics are not finite, or whose
    computation fails, keeps the previous root (identity before the first) with a ``RuntimeWarning``.

    Parameters
    ----------
    model : fastopt.nn.MLP
        The network (float32 or float64); its ``flat_params`` are updated in place.
    lr : float
        Learning rate :math:`\eta`.
    betas : tuple of float
        :math:`(\beta_1, \beta_2)`: the gradient's running average (0: none) and the statistics' (1: sums,
        AdaGrad's; below 1 exponential averages).
    epsilon : float
        Added to the statistics' diagonal before the roots, > 0.
    momentum : float
        Heavy-ball momentum :math:`\mu` of the SGD after the preconditioner, in [0, 1].
    weight_decay : float
        Decoupled weight decay :math:`w` added to the direction.
    max_preconditioner_dim : int
        The longest side of a block: longer sides are split into blocks of this size, each preconditioned
        on its own.
    precondition_frequency : int
        Steps between two recomputations of the inverse roots.
    start_preconditioning_step : int
        The first step preconditioned (-1: ``precondition_frequency``, as Meta's default); before it,
        the grafted method's step.
    root_method : str
        ``eigen`` (LAPACK syevd) or ``newton`` (coupled Newton iteration) for the inverse 4th roots.
    grafting : str
        ``adam``, ``sgd`` or ``none``: whose step norm each block's direction takes.
    grafting_beta2 : float
        Running-average weight of Adam grafting's second moment, in [0, 1).
    grafting_epsilon : float
        Adam grafting's epsilon, > 0.
    use_bias_correction : bool
        Bias-correct the gradient's average, Adam grafting's second moment and (when beta2 < 1) the statistics.
    """

    def __init__(self, model, lr=1e-2, betas=(0.9, 1.0), epsilon=1e-12, momentum=0.0, weight_decay=0.0,
                 max_preconditioner_dim=1024, precondition_frequency=1, start_preconditioning_step=-1,
                 root_method="eigen", grafting="adam", grafting_beta2=0.999, grafting_epsilon=1e-8,
                 use_bias_correction=True):
        super().__init__(model, dict(
            lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, epsilon=epsilon, momentum=momentum,
            weight_decay=weight_decay, max_preconditioner_dim=max_preconditioner_dim,
            precondition_frequency=precondition_frequency, start_preconditioning_step=start_preconditioning_step,
            root_method=root_method, grafting=grafting, grafting_beta2=grafting_beta2,
            grafting_epsilon=grafting_epsilon, use_bias_correction=use_bias_correction))
        self.capture = LayerCapture(model, layers=False)  # Shampoo needs only the gradient
        self._blocks = LayerBlocks(self._layers, max_preconditioner_dim)
        self.root_updates = 0
        self.root_reports: list = []  # (ok, iterations, residual, fell_back) per root of the last recomputation
        self.state = self._allocate(self.param_groups[0])

    # ------------------------------------------------------------------ settings
    def _check(self, g: dict) -> None:
        check_betas(g["betas"], "betas", high_inclusive=True)
        check_real(g["epsilon"], "epsilon", 0.0, low_open=True)
        check_int(g["max_preconditioner_dim"], "max_preconditioner_dim", 1)
        check_int(g["precondition_frequency"], "precondition_frequency", 1)
        start = g["start_preconditioning_step"]
        check_hyper(start == -1 or (isinstance(start, numbers.Integral) and not isinstance(start, bool) and start >= 1),
                    "start_preconditioning_step", start, "must be -1 or an integer >= 1")
        check_choice(g["root_method"], "root_method", ROOT_METHODS)
        check_choice(g["grafting"], "grafting", GRAFTINGS)
        check_real(g["grafting_beta2"], "grafting_beta2", 0.0, 1.0, high_open=True)
        check_real(g["grafting_epsilon"], "grafting_epsilon", 0.0, low_open=True)
        check_choice(g["use_bias_correction"], "use_bias_correction", (False, True))
        if hasattr(self, "_blocks") and g["max_preconditioner_dim"] != self.param_groups[0]["max_preconditioner_dim"]:
            raise ValueError("max_preconditioner_dim: fixed when the optimizer is built (it sets the blocks)")

    def _allocate(self, group: dict) -> dict:
        """The state arrays, one per block: statistics (zero), roots (identity), moments (zero)."""
        dtype, shapes = self.model.dtype, LayerBlocks(self._layers, group["max_preconditioner_dim"]).shapes
        return {"L": [np.zeros((m, m), dtype) for m, _ in shapes], "R": [np.zeros((n, n), dtype) for _, n in shapes],
                "L_root": [np.eye(m, dtype=dtype) for m, _ in shapes],
                "R_root": [np.eye(n, dtype=dtype) for _, n in shapes],
                "exp_avg": [np.zeros(s, dtype) for s in shapes], "graft_sq": [np.zeros(s, dtype) for s in shapes]}

    def _start(self, group: dict) -> int:
        start = group["start_preconditioning_step"]
        return group["precondition_frequency"] if start == -1 else start

    # ------------------------------------------------------------------ the step
    def _needs_capture(self, t: int) -> bool:
        return False

    def _direction(self, grad: np.ndarray, t: int):
        group = self.param_groups[0]
        grads = self._blocks.gather(grad)
        self.accumulate(grads)
        filtered = self._filtered(grads, t)
        graft = self._graft(grads, filtered, t)
        start = self._start(group)
        if t < start:
            out = graft if graft is not None else filtered
        else:
            if (t - start) % group["precondition_frequency"] == 0:
                self.compute_roots(t)
            out = self.precondition(filtered)
            if graft is not None:
                for d, g in zip(out, graft):
                    d *= d.dtype.type(np.linalg.norm(g) / (np.linalg.norm(d) + 1e-16))
        return self._blocks.scatter(out, self._direction_buffer)

    def accumulate(self, grads: list) -> None:
        """The statistics L, R of every block take in the gradient blocks (native SYRK)."""
        beta2 = float(self.param_groups[0]["betas"][1])
        alpha, beta = (1.0, 1.0) if beta2 == 1.0 else (1.0 - beta2, beta2)
        _core.shampoo.update_statistics(grads, self.state["L"], self.state["R"], alpha, beta)

    def _filtered(self, grads: list, t: int) -> list:
        """m <- beta1 m + (1 - beta1) G, and the bias-corrected m-hat (new arrays)."""
        group = self.param_groups[0]
        beta1 = float(group["betas"][0])
        correction = 1.0 - beta1 ** t if group["use_bias_correction"] else 1.0
        out = []
        for m, g in zip(self.state["exp_avg"], grads):
            m *= m.dtype.type(beta1)
            m += m.dtype.type(1.0 - beta1) * g
            out.append(m / m.dtype.type(correction))
        return out

    def _graft(self, grads: list, filtered: list, t: int):
        """The grafted method's direction per block (None without grafting)."""
        group = self.param_groups[0]
        if group["grafting"] == "none":
            return None
        if group["grafting"] == "sgd":
            return filtered
        beta, eps = float(group["grafting_beta2"]), float(group["grafting_epsilon"])
        correction = 1.0 - beta ** t if group["use_bias_correction"] else 1.0
        out = []
        for v, g, m in zip(self.state["graft_sq"], grads, filtered):
            v *= v.dtype.type(beta)
            v += v.dtype.type(1.0 - beta) * (g * g)
            out.append(m / (np.sqrt(v / v.dtype.type(correction)) + v.dtype.type(eps)))
        return out

    def compute_roots(self, t: int) -> None:
        """The inverse 4th roots of every block's (bias-corrected) statistics, natively; a failed root
        keeps the previous one (with a RuntimeWarning)."""
        group = self.param_groups[0]
        beta2 = float(group["betas"][1])
        correction = 1.0 - beta2 ** t if group["use_bias_correction"] and beta2 < 1.0 else 1.0
        stats = self.state["L"] + self.state["R"]
        if correction != 1.0:
            stats = [s / s.dtype.type(correction) for s in stats]
        roots = [np.empty_like(s) for s in stats]
        self.root_reports = _core.shampoo.inverse_roots(stats, roots, ROOT, float(group["epsilon"]),
                                                        group["root_method"], NEWTON_MAX_ITERATIONS, NEWTON_TOLERANCE)
        old = self.state["L_root"] + self.state["R_root"]
        failed = [i for i, report in enumerate(self.root_reports) if not report[0]]
        if failed:
            warnings.warn(f"Shampoo: step {t}: {len(failed)} inverse root(s) could not be computed (statistics not "
                          "finite, or the decomposition failed); the previous roots are kept", RuntimeWarning,
                          stacklevel=4)
        roots = [old[i] if i in failed else r for i, r in enumerate(roots)]
        count = len(self.state["L"])
        self.state["L_root"], self.state["R_root"] = roots[:count], roots[count:]
        self.root_updates += 1

    def precondition(self, blocks: list) -> list:
        """L^-1/4 X R^-1/4 for every block X (native, two GEMMs a block)."""
        out = [np.empty_like(b) for b in blocks]
        _core.shampoo.sandwich(self.state["L_root"], blocks, self.state["R_root"], out, False, False)
        return out

    # ------------------------------------------------------------------ checkpoints
    def _arrays(self) -> dict:
        return self.state

    def _arrays_for(self, group: dict) -> dict:
        return self._allocate(group)

    def _counters(self) -> dict:
        return {"root_updates": self.root_updates}

    def _restore(self, group: dict, arrays: dict, counters: dict) -> None:
        super()._restore(group, arrays, counters)
        self.state = arrays
        self.root_updates = counters["root_updates"]


register("shampoo", Shampoo, takes_model=True, mnist_lr=1e-3, color="#5254a3", preset={"precondition_frequency": 10})
