"""The base of the closure-style optimizers for training loops, as ``torch.optim.LBFGS``: ``LBFGS``,
``BFGS``, ``ConjugateGradient`` and ``Newton`` (in :mod:`.closure_methods`).

::

    opt = fastopt.LBFGS(params, line_search_fn="strong_wolfe")
    def closure():
        loss, grads = model.loss_and_grads()      # or: fill the arrays given as grads= and return loss
        return loss, grads
    for _ in range(10):
        loss = opt.step(closure)

A step makes up to ``max_iter`` iterations of the method, calling ``closure`` for f and g at every
trial point.  The iteration is fastopt's native one (``src/cpp/curvature/descent.hpp``, the same as
``fastopt.minimize``'s): it runs on one flat float64 vector x, the params concatenated; each
evaluation scatters x into the params, calls the closure and gathers the gradient.  float32 params
therefore get float64 state and arithmetic, and the closure sees the iterate rounded to float32.

Torch's semantics, mapped one to one, and where the two differ: see :class:`~.closure_methods.LBFGS`.
"""
from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Mapping

import numpy as np

from .. import _core
from ..optim.validation import check_hyper, check_param, check_value, first_overlap
from .minimize import METHOD_OPTIONS

_NATIVE = _core.curvature
_MAX_ITER, _MAX_EVAL = 1, 5  # native Status codes (OptimizeResult.status)
_LINE_SEARCHES = {None: "none", "strong_wolfe": "strong_wolfe", "armijo": "armijo"}


def is_integer(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def check_integer(key: str, value, minimum: int) -> None:
    check_hyper(is_integer(value) and value >= minimum, key, value, f"must be an integer >= {minimum}")


def _loss_value(loss) -> float:
    try:  # .item() first: a NumPy scalar or array, or a torch tensor (float() of one that requires grad warns)
        return float(loss.item() if hasattr(loss, "item") else loss)
    except (TypeError, ValueError):
        raise TypeError(f"closure: the loss must be a real number (or a one-element array/tensor), got "
                        f"{type(loss).__name__}") from None


class ClosureOptimizer:
    """Base class of the closure-style optimizers: params as one flat float64 vector, the step loop,
    validation, ``state_dict``.

    A subclass names its native method (``method = "lbfgs"``), the hyperparameters that shape the
    native state (``structural``), and may extend :meth:`_check_group`, :meth:`_settings`,
    :meth:`_state_sizes` and :meth:`_check_state`.  A method that needs Hessians (Newton) returns a
    callable ``H(x) -> (n, n)`` of the flat float64 x from :meth:`_hessian`; it may evaluate the
    user's function at x after ``self._scatter(x)``.

    Parameters
    ----------
    params : list of numpy.ndarray, or a list holding one param-group dict
        The arrays to optimize: float32 or float64, any shapes, C-contiguous, writeable, no two
        sharing memory; updated in place.  One param group only (as torch's LBFGS).
    defaults : dict
        Every hyperparameter of the optimizer with its value.
    grads : list of numpy.ndarray, optional
        Arrays shaped like the params that the closure fills with the gradient when it returns only
        the loss.

    Attributes
    ----------
    status, message : int, str
        How the last step ended: the codes of ``fastopt.OptimizeResult.status`` (0 gradient below
        tolerance_grad, 1 max_iter reached, 2 line search failed, 3 NaN/Inf met, 4 change below
        tolerance_change, 5 max_eval reached); None before the first step.
    n_iter, func_evals : int
        Iterations and closure calls over all steps (torch's ``state["n_iter"]``, ``["func_evals"]``).
    """

    method: str = ""
    structural: tuple = ()

    def __init__(self, params, defaults: dict, grads=None):
        if isinstance(params, np.ndarray):
            raise TypeError("params: expected a list of arrays, got a single numpy.ndarray (wrap it in a list)")
        params = list(params)
        group = dict(defaults)
        if params and all(isinstance(p, Mapping) for p in params):
            if len(params) != 1:
                raise ValueError(f"params: {type(self).__name__} takes one param group (per-parameter options are "
                                 f"not supported), got {len(params)}")
            unknown = set(params[0]) - set(defaults) - {"params"}
            if unknown:
                raise ValueError(f"param group has unknown hyperparameters {sorted(unknown)}; "
                                 f"{type(self).__name__} takes {sorted(defaults)}")
            group.update(params[0])
            params = list(group["params"])
        if not params:
            raise ValueError("params: empty list")
        names = [str(i) for i in range(len(params))]
        for name, p in zip(names, params):
            check_param(name, p)
        named = [(f"param '{name}'", p) for name, p in zip(names, params)]
        if grads is not None:
            grads = self._check_grad_arrays(grads, params)
            named += [(f"grads[{i}]", g) for i, g in enumerate(grads)]
        clash = first_overlap(named)
        if clash:
            raise ValueError(f"{clash[1]}: shares memory with {clash[0]} (each param and grad must be its own array)")
        self._offsets = np.cumsum([0] + [p.size for p in params])
        if self._offsets[-1] == 0:
            raise ValueError("params: the arrays hold no elements")
        group["params"], group["names"] = params, names
        self._check_group(group)
        self.defaults = {k: group[k] for k in defaults}
        self.param_groups = [group]
        self._grads = grads
        self._state = _NATIVE.DescentState(self._settings(group))
        self._backup = _NATIVE.DescentState(self._settings(group))  # the state at the start of a step
        self._built_with = {k: group[k] for k in self.structural}
        self.status, self.message = None, ""
        self.n_iter = self.func_evals = 0
        self._lock = threading.RLock()
        self._stepping = False

    # ------------------------------------------------------------------ validation
    @staticmethod
    def _check_grad_arrays(grads, params) -> list:
        if isinstance(grads, np.ndarray):
            raise TypeError("grads: expected a list of arrays, got a single numpy.ndarray (wrap it in a list)")
        grads = list(grads)
        if len(grads) != len(params):
            raise ValueError(f"grads: expected a list of {len(params)} arrays shaped like the params, got {len(grads)}")
        for i, (g, p) in enumerate(zip(grads, params)):
            if not isinstance(g, np.ndarray) or g.dtype not in (np.float32, np.float64):
                raise TypeError(f"grads[{i}]: expected a float32 or float64 numpy.ndarray, got "
                                f"{getattr(g, 'dtype', type(g).__name__)}")
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}]: shape {g.shape} differs from param '{i}''s {p.shape}")
        return grads

    def _check_group(self, group: dict) -> None:
        """The hyperparameters: ValueError (TypeError for a wrong type) naming the bad one."""
        check_value("lr", group["lr"], "real")
        check_hyper(group["lr"] >= 0, "learning rate", group["lr"], "must be >= 0")
        check_integer("max_iter", group["max_iter"], 1)
        check_integer("max_eval", group["max_eval"], 1)
        for key in ("tolerance_grad", "tolerance_change"):
            check_value(key, group[key], "real")
            check_hyper(group[key] >= 0, key, group[key], "must be >= 0")
        ls = group["line_search_fn"]
        check_hyper(isinstance(ls, (str, type(None))) and ls in _LINE_SEARCHES, "line_search_fn", ls,
                    "expected None, 'strong_wolfe' or 'armijo'")

    def _settings(self, group: dict):
        """The native Settings of one iteration (the step loop drives max_iter and max_eval)."""
        s = _NATIVE.Settings()
        s.method = self.method
        s.max_iter, s.max_eval, s.ftol = 1, 0, 0.0
        s.lr = float(group["lr"])
        s.gtol = float(group["tolerance_grad"])
        s.xtol = s.tolerance_change = float(group["tolerance_change"])
        s.line_search = _LINE_SEARCHES[group["line_search_fn"]]
        s.c1, s.c2 = METHOD_OPTIONS[self.method]["c1"], METHOD_OPTIONS[self.method]["c2"]
        return s

    # ------------------------------------------------------------------ flat vector <-> params
    def _gather_params(self) -> np.ndarray:
        return np.concatenate([p.reshape(-1) for p in self.param_groups[0]["params"]]).astype(np.float64, copy=False)

    def _scatter(self, x: np.ndarray) -> None:
        for p, a, b in zip(self.param_groups[0]["params"], self._offsets[:-1], self._offsets[1:]):
            np.copyto(p.reshape(-1), x[a:b], casting="same_kind")

    def _evaluate(self, closure, g_out: np.ndarray) -> float:
        """One closure call at the params as they are: returns f, writes the flat gradient to g_out."""
        out = closure()
        if isinstance(out, tuple):
            if len(out) != 2:
                raise TypeError(f"closure: expected it to return the loss or (loss, grads), got a tuple of {len(out)}")
            loss, grads = out
        elif self._grads is None:
            raise TypeError("closure: returned only the loss, but no grads= arrays were given to the optimizer; "
                            "return (loss, grads) or pass grads= to the constructor")
        else:
            loss, grads = out, self._grads
        value = _loss_value(loss)
        params = self.param_groups[0]["params"]
        if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
            got = f"{len(grads)} arrays" if isinstance(grads, (list, tuple)) else type(grads).__name__
            raise ValueError(f"closure: grads must be a list of {len(params)} arrays shaped like the params, got {got}")
        for i, (grad, p, a, b) in enumerate(zip(grads, params, self._offsets[:-1], self._offsets[1:])):
            grad = np.asarray(grad)
            if grad.dtype.kind not in "fiu":
                raise TypeError(f"closure: grads[{i}] has dtype {grad.dtype}, expected real numbers")
            if grad.shape != p.shape:
                raise ValueError(f"closure: grads[{i}] has shape {grad.shape}, expected {p.shape} like param '{i}'")
            g_out[a:b] = grad.reshape(-1)
        self.func_evals += 1
        return value

    def _hessian(self):
        """The Hessian callable ``H(x)`` the native method reads (None: the method needs none)."""
        return None

    # ------------------------------------------------------------------ stepping
    def step(self, closure) -> float:
        """Up to ``max_iter`` iterations of the method from the params as they are.

        Parameters
        ----------
        closure : callable
            ``closure() -> loss`` after filling the ``grads=`` arrays, or ``closure() -> (loss, grads)``
            with grads a list of arrays shaped like the params: f and its gradient at the params' current
            values.

        Returns
        -------
        float
            The loss of the first closure call (at the params as the step found them), as torch returns.

        If the closure raises, the params and the optimizer's state are left as they were before the
        step and the exception propagates.  For that the optimizer keeps a second copy of its state,
        refreshed at every step (a memory copy of the L-BFGS history or the BFGS matrix: 2 m n or n^2
        doubles held twice).
        """
        with self._lock:
            if self._stepping:
                raise RuntimeError("step: called from inside its own closure")
            self._stepping = True
            try:
                return self._step(closure)
            finally:
                self._stepping = False

    def _step(self, closure) -> float:
        group = self.param_groups[0]
        self._check_group(group)
        for key, value in self._built_with.items():
            check_hyper(group[key] == value, key, group[key],
                        f"the optimizer's state was built for {value!r}; make a new optimizer to change it")
        settings = self._settings(group)
        x = self._gather_params()
        x0 = x.copy()
        g = np.empty_like(x)
        counters = (self.n_iter, self.func_evals)
        first_loss = f = self._evaluate(closure, g)
        self._backup.assign(self._state)
        grad_buffer = np.empty_like(x)

        def value_grad(trial):
            self._scatter(trial)
            return self._evaluate(closure, grad_buffer), grad_buffer

        try:
            status, message, evals = _MAX_ITER, "", 1
            for iteration in range(1, group["max_iter"] + 1):
                settings.max_ls = group["max_eval"] - evals  # torch's line-search budget: what is left
                f, status, message, nit, nfev = self._state.run(value_grad, x, f, g, settings, self._hessian())
                evals += nfev
                self.n_iter += nit
                if status != _MAX_ITER:
                    break
                if iteration < group["max_iter"] and evals >= group["max_eval"]:
                    status, message = _MAX_EVAL, f"stopped: max_eval = {group['max_eval']} closure calls reached"
                    break
        except BaseException:
            self._state.assign(self._backup)
            self._scatter(x0)
            self.n_iter, self.func_evals = counters
            raise
        self._scatter(x)
        self.status, self.message = status, message
        return first_loss

    # ------------------------------------------------------------------ checkpoints
    def _state_sizes(self, n: int, group: dict) -> dict:
        """Native state array -> its size once filled (it may also be empty: not filled yet)."""
        return {"d": n}

    def _check_state(self, arrays: dict, scalars: dict, n: int, group: dict) -> list:
        """What is inconsistent in a saved native state (messages), beyond names and sizes."""
        return [f"scalar '{k}' must be an integer >= 0" for k in ("n_iter", "func_evals")
                if not (scalars[k] >= 0 and scalars[k] == int(scalars[k]))]

    def state_dict(self) -> dict:
        """A deep copy of the optimizer's hyperparameters and state, safe to pickle or ``np.savez``.

        Returns
        -------
        dict
            ``{"optimizer": class name, "param_groups": [hyperparameters, names, shapes, dtypes],
            "state": [{"method", "n_iter", "func_evals", "status", "message", "arrays", "scalars"}]}``
            where arrays and scalars are the native method's state (``DescentState.export()``).
        """
        with self._lock:
            group = self.param_groups[0]
            hyper = {k: group[k] for k in self.defaults}
            hyper.update(names=list(group["names"]), shapes=[p.shape for p in group["params"]],
                         dtypes=[p.dtype.str for p in group["params"]])
            arrays, scalars = self._state.export()
            state = {"method": self.method, "n_iter": self.n_iter, "func_evals": self.func_evals,
                     "status": self.status, "message": self.message, "arrays": arrays, "scalars": scalars}
            return {"optimizer": type(self).__name__, "param_groups": [hyper], "state": [state]}

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore a state_dict of the same class over the same parameter layout; continuing then gives
        bit-for-bit the iterates the saved optimizer would have made.

        Parameters
        ----------
        state_dict : dict
            As :meth:`state_dict` returns it.  Everything is checked before anything changes (ValueError
            naming what does not fit); the arrays are copied.
        """
        kind = state_dict.get("optimizer")
        if kind != type(self).__name__:
            raise ValueError(f"state_dict: made by optimizer {kind!r}, cannot load into {type(self).__name__}")
        groups, states = state_dict["param_groups"], state_dict["state"]
        if len(groups) != 1 or len(states) != 1:
            raise ValueError(f"state_dict: has {len(groups)} param groups, {type(self).__name__} has one")
        saved, st = groups[0], states[0]
        with self._lock:
            if self._stepping:
                raise RuntimeError("load_state_dict: called from inside a step's closure")
            group = self.param_groups[0]
            layout = ([p.shape for p in group["params"]], [p.dtype.str for p in group["params"]])
            if (list(saved["names"]), (list(map(tuple, saved["shapes"])), list(saved["dtypes"]))) != \
                    (group["names"], layout):
                raise ValueError("state_dict: another parameter layout (names, shapes or dtypes differ)")
            if st.get("method") != self.method:
                raise ValueError(f"state_dict: holds the state of method {st.get('method')!r}, not {self.method!r}")
            new_group = {**group, **{k: saved[k] for k in self.defaults}}
            self._check_group(new_group)
            state, backup = (_NATIVE.DescentState(self._settings(new_group)) for _ in range(2))
            arrays, scalars = self._checked_state(st, state, new_group)
            for k in ("n_iter", "func_evals"):
                check_integer(f"state_dict {k}", st.get(k), 0)
            state.load(arrays, scalars)
            group.update({k: new_group[k] for k in self.defaults})
            self._state, self._backup, self._built_with = state, backup, {k: group[k] for k in self.structural}
            self.n_iter, self.func_evals = st["n_iter"], st["func_evals"]
            self.status, self.message = st["status"], st["message"]

    def _checked_state(self, st: Mapping, fresh, group: dict) -> tuple[dict, dict]:
        """The saved native arrays and scalars, checked against the names of ``fresh`` (a new native state
        of the same settings), the sizes of :meth:`_state_sizes` and :meth:`_check_state`."""
        names_arrays, names_scalars = (set(d) for d in fresh.export())
        arrays, scalars = dict(st["arrays"]), dict(st["scalars"])
        if set(arrays) != names_arrays or set(scalars) != names_scalars:
            raise ValueError(f"state_dict: the native state holds arrays {sorted(arrays)} and scalars "
                             f"{sorted(scalars)}; {self.method} keeps arrays {sorted(names_arrays)} and scalars "
                             f"{sorted(names_scalars)}")
        n = int(self._offsets[-1])
        problems = []
        sizes = self._state_sizes(n, group)
        for name in names_arrays:
            full, a = sizes[name], np.asarray(arrays[name])
            if a.dtype.kind != "f" or a.ndim != 1 or a.size not in (0, full):
                problems.append(f"array '{name}' must be 1-D float with 0 or {full} entries, got {a.dtype} {a.shape}")
            arrays[name] = np.array(a, dtype=np.float64)
        for name, v in scalars.items():
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) or \
                    not (math.isfinite(v) or (name == "decrease" and math.isnan(v))):
                problems.append(f"scalar '{name}' must be a finite real number, got {v!r}")
        if not problems:
            problems = self._check_state(arrays, scalars, n, group)
        if problems:
            raise ValueError("state_dict: " + "; ".join(problems))
        return arrays, scalars

    def __repr__(self) -> str:
        group = self.param_groups[0]
        lines = [f"{type(self).__name__} ({len(group['params'])} arrays, {int(self._offsets[-1])} elements)"]
        return "\n".join(lines + [f"    {k}: {group[k]!r}" for k in self.defaults])


__all__ = ["ClosureOptimizer"]
