"""Riemannian optimizers over one point of a manifold: the shared base, gradient descent and Adam.

Conjugate gradients are in :mod:`.riemannian_cg`, the driver :func:`riemannian_minimize` in
:mod:`.riemannian_minimize`.

The point is a float64 NumPy array updated in place, as fastopt's optimizers update their params::

    sphere = fastopt.Sphere(100)
    x = sphere.random_point(0)
    opt = fastopt.RiemannianAdam(sphere, x, lr=1e-2)
    for _ in range(1000):
        opt.step(-2 * A @ x)          # the Euclidean gradient of f(x) = -x^T A x; x stays on the sphere

Every step turns the Euclidean gradient into the Riemannian one (``manifold.egrad_to_rgrad``),
moves along the tangent space and comes back to the manifold with a retraction; state vectors
(momentum, Adam's first moment, the CG direction) live in the tangent space of the current point
and are carried to the next one by vector transport (projection).  A step validates everything
before it writes anything, so a failed step leaves the point and the state as they were.

References
----------
P.-A. Absil, R. Mahony and R. Sepulchre, *Optimization Algorithms on Matrix Manifolds*, 2008
(Ch. 4: line-search methods; Sec. 8.3: Riemannian conjugate gradients).
N. Boumal, *An Introduction to Optimization on Smooth Manifolds*, 2023 (Ch. 4: Riemannian gradient descent).
G. Becigneul and O.-E. Ganea, "Riemannian Adaptive Optimization Methods", ICLR 2019 (Riemannian Adam),
as implemented by geoopt (``geoopt.optim.RiemannianAdam``).
"""
from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod

import numpy as np

from ..optim.validation import check_betas, check_hyper, check_value
from .manifolds import Manifold, as_real_array

# Names the hyperparameter errors use, as fastopt's optimizers name them.
_LABELS = {"lr": "learning rate", "eps": "epsilon value", "momentum": "momentum value",
           "dampening": "dampening value"}


def _check_manifold(manifold) -> Manifold:
    if not isinstance(manifold, Manifold):
        raise TypeError(f"manifold: expected a fastopt manifold (Sphere, Stiefel), got {type(manifold).__name__}")
    return manifold


def _real(hyper: dict, key: str, requirement: str, ok) -> None:
    """TypeError unless ``hyper[key]`` is a finite real; ValueError naming the value unless ``ok(value)``."""
    value = hyper[key]
    check_value(key, value, "real")
    check_hyper(ok(value), _LABELS.get(key, key), value, requirement)


def _flag(hyper: dict, key: str) -> None:
    check_value(key, hyper[key], "flag")


def evaluate(fun_and_egrad, manifold: Manifold, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Call ``fun_and_egrad(x)`` on a copy of ``x`` and check what it returns.

    Parameters
    ----------
    fun_and_egrad : callable
        ``f, egrad = fun_and_egrad(x)``: the value (a finite real) and the Euclidean gradient (an array
        of the manifold's shape) of the function at ``x``.
    manifold : Manifold
        Gives the shape.
    x : numpy.ndarray
        The point.

    Returns
    -------
    (float, numpy.ndarray)
        The value and the gradient as float64.

    Raises
    ------
    TypeError
        If the function does not return a pair, or the value is not a real number.
    ValueError
        If the value is not finite, or the gradient has the wrong shape or non-finite entries.
    """
    out = fun_and_egrad(np.array(x, copy=True))
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"fun_and_egrad: expected it to return a pair (f, egrad), got {type(out).__name__}")
    f, egrad = out
    f = np.asarray(f)
    if f.shape != () or f.dtype.kind not in "biuf":
        raise TypeError(f"fun_and_egrad: expected f to be a real number, got {type(out[0]).__name__} {out[0]!r}")
    f = float(f)
    if not math.isfinite(f):
        raise ValueError(f"fun_and_egrad: returned a non-finite value f = {f}")
    return f, as_real_array(egrad, "egrad (returned by fun_and_egrad)", manifold.shape)


class RiemannianOptimizer(ABC):
    """What the Riemannian optimizers share: the point, hyperparameters, state, ``state_dict``.

    Attributes
    ----------
    manifold : Manifold
        The manifold the point lives on.
    x : numpy.ndarray
        The point, updated in place by every step.
    retraction : str
        The retraction's name (one of ``manifold.retractions``).
    hyperparameters : dict
        Name -> value; may be changed between steps (checked again at every step).
    state : dict
        Name -> array or float: the optimizer's memory (empty before the first step).
    steps : int
        Steps taken.
    """

    # state name -> "point" (an array of the manifold's shape) or "scalar" (a float)
    _state_kinds: dict = {}

    def __init__(self, manifold, x, retraction, hyperparameters: dict):
        self.manifold = _check_manifold(manifold)
        self._check_hyperparameters(dict(hyperparameters))
        self.x = manifold.check_point(x, "x", writeable=True)
        self.retraction = manifold.check_retraction(retraction, "retraction")
        self.hyperparameters = dict(hyperparameters)
        self.state: dict = {}
        self.steps = 0

    def __repr__(self) -> str:
        hyper = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({self.manifold!r}, retraction={self.retraction!r}, {hyper})"

    @abstractmethod
    def _check_hyperparameters(self, hyper: dict) -> None:
        """Raise TypeError/ValueError naming the first bad value of ``hyper`` (before any write)."""

    def _point(self) -> np.ndarray:
        """The current point as a float64 copy, after checking it is still on the manifold."""
        self.manifold.check_point(self.x, "x", writeable=True)
        return np.array(self.x, copy=True)

    def _begin_step(self) -> np.ndarray:
        """What every step checks before it computes anything: the hyperparameters (they may have been changed
        since the last step) and the point; returns the point as a copy (:meth:`_point`)."""
        self._check_hyperparameters(self.hyperparameters)
        return self._point()

    def _commit(self, x_new: np.ndarray, state: dict) -> None:
        """Write the new point and state: the only place a step modifies anything."""
        self.x[...] = x_new
        self.state = state
        self.steps += 1

    # --------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """The optimizer's hyperparameters, step count and state (copies), enough to resume.

        Returns
        -------
        dict
            ``{"optimizer": class name, "manifold": repr, "retraction": str, "hyperparameters": dict,
            "steps": int, "state": dict}``.  The point itself is not included: save ``x`` beside it.
        """
        return {"optimizer": type(self).__name__, "manifold": repr(self.manifold), "retraction": self.retraction,
                "hyperparameters": dict(self.hyperparameters), "steps": self.steps,
                "state": {k: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
                          for k, v in self.state.items()}}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned; everything is checked before anything changes.

        Parameters
        ----------
        state_dict : dict
            From :meth:`state_dict` of the same optimizer class on the same manifold.

        Raises
        ------
        TypeError
            If it is not a dict, or a value has the wrong type.
        ValueError
            If it belongs to another optimizer or manifold, a key is missing or unknown, or a state
            array has the wrong shape or non-finite entries.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict: expected a dict, got {type(state_dict).__name__}")
        expected = {"optimizer", "manifold", "retraction", "hyperparameters", "steps", "state"}
        if set(state_dict) != expected:
            raise ValueError(f"state_dict: expected the keys {sorted(expected)}, got {sorted(state_dict)}")
        if state_dict["optimizer"] != type(self).__name__:
            raise ValueError(f"state_dict: saved by {state_dict['optimizer']}, not {type(self).__name__}")
        if state_dict["manifold"] != repr(self.manifold):
            raise ValueError(f"state_dict: saved on {state_dict['manifold']}, not {self.manifold!r}")
        retraction = state_dict["retraction"]
        if not (isinstance(retraction, str) and retraction in self.manifold.retractions):
            raise ValueError(f"state_dict: unknown retraction {retraction!r} for {self.manifold!r}")
        hyper = state_dict["hyperparameters"]
        if not isinstance(hyper, dict) or set(hyper) != set(self.hyperparameters):
            raise ValueError(f"state_dict: expected the hyperparameters {sorted(self.hyperparameters)}, got "
                             f"{sorted(hyper) if isinstance(hyper, dict) else type(hyper).__name__}")
        self._check_hyperparameters(dict(hyper))
        steps = state_dict["steps"]
        if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"state_dict: steps must be an integer >= 0, got {steps!r}")
        saved = state_dict["state"]
        if not isinstance(saved, dict):
            raise TypeError(f"state_dict: state must be a dict, got {type(saved).__name__}")
        unknown = set(saved) - set(self._state_kinds)
        if unknown:
            raise ValueError(f"state_dict: unknown state {sorted(unknown)} for {type(self).__name__}; expected "
                             f"some of {sorted(self._state_kinds)}")
        state = {}
        for key, value in saved.items():
            if self._state_kinds[key] == "point":
                state[key] = np.array(as_real_array(value, f"state_dict: state[{key!r}]", self.manifold.shape))
            else:
                state[key] = float(as_real_array(value, f"state_dict: state[{key!r}]", ()))
        self._check_state(state)
        self.retraction = retraction
        self.hyperparameters = dict(hyper)
        self.steps = int(steps)
        self.state = state

    def _check_state(self, state: dict) -> None:
        """Checks of a loaded state beyond shapes (subclasses)."""


class _GradientStepOptimizer(RiemannianOptimizer, ABC):
    """The optimizers that step from the Euclidean gradient at the current point (RGD, RAdam)."""

    def step(self, egrad) -> float:
        """One step from the Euclidean gradient ``egrad`` at the current point.

        Parameters
        ----------
        egrad : array_like
            The Euclidean gradient, of the manifold's shape, finite.

        Returns
        -------
        float
            The norm of the Riemannian gradient at the point before the step.

        Raises
        ------
        TypeError, ValueError
            Naming ``egrad``, ``x`` (changed off the manifold since the last step) or a hyperparameter;
            nothing is modified then.
        """
        x = self._begin_step()
        return self._update(x, self.manifold.check_tangent(x, egrad, "egrad"))

    @abstractmethod
    def _update(self, x: np.ndarray, egrad: np.ndarray) -> float:
        """The method's step from the checked point and Euclidean gradient, committed by :meth:`_commit`;
        returns the Riemannian gradient's norm at ``x``."""


class RiemannianSGD(_GradientStepOptimizer):
    """Riemannian gradient descent, with optional (Nesterov) momentum carried by vector transport.

    With ``g_k = grad f(x_k) = P_{x_k}(egrad)`` (the Riemannian gradient) and ``R`` the retraction:

    - without momentum: ``x_{k+1} = R_{x_k}(-lr g_k)`` (Absil et al. 2008, Alg. 1; Boumal 2023, Alg. 4.1);
    - with momentum ``mu``: ``b_k = mu T(b_{k-1}) + (1 - dampening) g_k`` (``b_1 = g_1``), the step is
      ``-lr b_k`` (``-lr (g_k + mu b_k)`` with ``nesterov=True``), and the buffer is carried to the new
      point: ``T(b_k) = P_{x_{k+1}}(b_k)``.  These are torch.optim.SGD's equations on the tangent spaces,
      as in geoopt's RiemannianSGD (whose first buffer is the unprojected gradient; here it is ``g_1``).

    Parameters
    ----------
    manifold : Manifold
        :class:`~fastopt.curvature.Sphere` or :class:`~fastopt.curvature.Stiefel`.
    x : numpy.ndarray
        A float64 point of the manifold, updated in place.
    lr : float
        The learning rate, > 0.
    momentum : float, default 0
        In [0, 1).
    dampening : float, default 0
        In [0, 1].
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    retraction : str, optional
        One of ``manifold.retractions`` (default: the first: ``"normalize"`` on the sphere, ``"qr"`` on
        Stiefel; ``"exp"`` on the sphere follows geodesics).
    """

    _state_kinds = {"momentum_buffer": "point"}

    def __init__(self, manifold, x, lr, momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
                 retraction: str | None = None):
        super().__init__(manifold, x, retraction, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                                   "nesterov": nesterov})

    def _check_hyperparameters(self, hyper):
        _real(hyper, "lr", "must be > 0", lambda v: v > 0)
        _real(hyper, "momentum", "must be in [0, 1)", lambda v: 0 <= v < 1)
        _real(hyper, "dampening", "must be in [0, 1]", lambda v: 0 <= v <= 1)
        _flag(hyper, "nesterov")
        if hyper["nesterov"] and (hyper["momentum"] <= 0 or hyper["dampening"] != 0):
            raise ValueError(f"Invalid nesterov: True (needs momentum > 0 and dampening == 0, got momentum="
                             f"{hyper['momentum']!r}, dampening={hyper['dampening']!r})")

    def _update(self, x, egrad) -> float:
        hyper, m = self.hyperparameters, self.manifold
        g = m.egrad_to_rgrad(x, egrad)
        lr, mu = float(hyper["lr"]), float(hyper["momentum"])
        state = {}
        direction = g
        if mu > 0:
            buf = self.state.get("momentum_buffer")
            buf = g.copy() if buf is None else mu * buf + (1.0 - float(hyper["dampening"])) * g
            direction = g + mu * buf if hyper["nesterov"] else buf
        y = m.retract(x, -lr * direction, self.retraction)
        if mu > 0:
            state["momentum_buffer"] = m.transport(x, y, buf)
        self._commit(y, state)
        return m.norm(x, g)


class RiemannianAdam(_GradientStepOptimizer):
    """Riemannian Adam as geoopt implements it (Becigneul & Ganea 2019).

    With ``g_k = P_{x_k}(egrad)`` and ``t = k``:

    - ``x_k`` is first put back on the manifold (``proj_point``, a no-op up to rounding), as geoopt does;
    - ``m_k = beta1 T(m_{k-1}) + (1 - beta1) g_k``  (a tangent vector, transported by projection),
    - ``v_k = beta2 v_{k-1} + (1 - beta2) <g_k, g_k>_x``  (one scalar per point: the squared norm summed
      over all the manifold's coordinates, geoopt's ``component_inner``, not an elementwise square;
      an elementwise scale would not be invariant under rotations of the tangent space),
    - with ``amsgrad``: ``vmax_k = max(vmax_{k-1}, v_k)`` replaces ``v_k`` below,
    - ``d_k = (m_k / (1 - beta1^t)) / (sqrt(v_k / (1 - beta2^t)) + eps)``,
    - ``x_{k+1} = R_{x_k}(-lr d_k)`` and ``m_k`` is carried to ``x_{k+1}``: ``T(m_k) = P_{x_{k+1}}(m_k)``.

    Parameters
    ----------
    manifold : Manifold
        :class:`~fastopt.curvature.Sphere` or :class:`~fastopt.curvature.Stiefel`.
    x : numpy.ndarray
        A float64 point of the manifold, updated in place.
    lr : float, default 1e-3
        The learning rate, > 0.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moments, each in [0, 1).
    eps : float, default 1e-8
        Added to the denominator, >= 0.
    amsgrad : bool, default False
        Use the running maximum of the second moment.
    retraction : str, optional
        One of ``manifold.retractions`` (default: the first).
    """

    _state_kinds = {"exp_avg": "point", "exp_avg_sq": "scalar", "max_exp_avg_sq": "scalar"}

    def __init__(self, manifold, x, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, amsgrad: bool = False,
                 retraction: str | None = None):
        super().__init__(manifold, x, retraction, {"lr": lr, "betas": betas, "eps": eps, "amsgrad": amsgrad})

    def _check_hyperparameters(self, hyper):
        _real(hyper, "lr", "must be > 0", lambda v: v > 0)
        check_value("betas", hyper["betas"], "pair")
        check_betas(hyper["betas"])
        _real(hyper, "eps", "must be >= 0", lambda v: v >= 0)
        _flag(hyper, "amsgrad")

    def _check_state(self, state):
        for key in ("exp_avg_sq", "max_exp_avg_sq"):
            if key in state and state[key] < 0:
                raise ValueError(f"state_dict: state[{key!r}] must be >= 0, got {state[key]!r}")

    def _update(self, x, egrad) -> float:
        hyper, m = self.hyperparameters, self.manifold
        x = m.proj_point(x)
        g = m.egrad_to_rgrad(x, egrad)
        beta1, beta2 = (float(b) for b in hyper["betas"])
        t = self.steps + 1
        exp_avg = beta1 * self.state.get("exp_avg", np.zeros(m.shape)) + (1.0 - beta1) * g
        exp_avg_sq = beta2 * self.state.get("exp_avg_sq", 0.0) + (1.0 - beta2) * m.inner(x, g, g)
        state = {"exp_avg_sq": exp_avg_sq}
        second = exp_avg_sq
        if hyper["amsgrad"]:
            second = state["max_exp_avg_sq"] = max(self.state.get("max_exp_avg_sq", 0.0), exp_avg_sq)
        bias1, bias2 = 1.0 - beta1 ** t, 1.0 - beta2 ** t
        denom = math.sqrt(second / bias2) + float(hyper["eps"])
        if denom == 0.0:  # a zero gradient so far and eps = 0: no step, as 0 / 0 would be
            direction = np.zeros(m.shape)
        else:
            direction = (exp_avg / bias1) / denom
        y = m.retract(x, -float(hyper["lr"]) * direction, self.retraction)
        state["exp_avg"] = m.transport(x, y, exp_avg)
        self._commit(y, state)
        return m.norm(x, g)


__all__ = ["RiemannianOptimizer", "RiemannianSGD", "RiemannianAdam", "evaluate"]
