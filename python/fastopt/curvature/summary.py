"""One call for what people ask of a trained network's Hessian (PyHessian's three numbers): its top
eigenvalues, its trace and its eigenvalue density, each from matvecs of one operator, with the
products and seconds each part took.

    op = fastopt.curvature.hessian(model, x_train[:10000], y_train[:10000])
    summary = fastopt.curvature.spectrum_summary(op, k=5, trace_samples=100, lanczos_steps=100)
    summary.eigenvalues, summary.trace.value, summary.density.grid, summary.density.density
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .density import SpectralDensity, spectral_density
from .operator_input import as_operator, positive_count
from .spectrum import EigenResult, _tolerance, top_eigenvalues
from .trace import TraceEstimate, trace


@dataclass
class SpectrumSummary:
    """The top eigenvalues, trace and density of one symmetric operator.

    Attributes
    ----------
    top : EigenResult
        The k largest eigenvalues (``top.values``, largest first) and their residuals.
    bottom : EigenResult or None
        The most negative eigenvalue, when asked for (``smallest=True``).
    trace : TraceEstimate or None
        Hutchinson's (or Hutch++'s) estimate and its standard error; None when ``trace_samples=0``.
    density : SpectralDensity or None
        The SLQ density; None when ``runs=0``.
    dim : int
        The operator's dimension (parameters of the network).
    seconds : dict
        Wall seconds of each part ("top", "bottom", "trace", "density").
    """

    top: EigenResult
    bottom: EigenResult | None
    trace: TraceEstimate | None
    density: SpectralDensity | None
    dim: int
    seconds: dict = field(default_factory=dict)

    @property
    def eigenvalues(self):
        """The k largest eigenvalues, largest first (``top.values``)."""
        return self.top.values

    def to_dict(self) -> dict:
        """The numbers as plain Python values (for JSON), the density's curve included.

        Returns
        -------
        dict
        """
        out = {"dim": self.dim, "top_eigenvalues": self.top.values.tolist(),
               "top_residuals": self.top.residuals.tolist(), "top_matvecs": self.top.matvecs,
               "top_converged": bool(self.top.converged), "seconds": dict(self.seconds)}
        if self.bottom is not None:
            lam_min = float(self.bottom.values[0])
            out.update(lambda_min=lam_min, lambda_min_converged=bool(self.bottom.converged),
                       ratio_min_max=abs(lam_min / float(self.top.values[0])) if self.top.values[0] else None)
        if self.trace is not None:
            out.update(trace=self.trace.value, trace_stderr=self.trace.stderr, trace_samples=self.trace.samples,
                       trace_method=self.trace.method)
        if self.density is not None:
            d = self.density
            out["density"] = {"lanczos_steps": d.lanczos_steps, "runs": d.runs, "sigma": d.sigma,
                              "slq_trace": d.trace(), "grid": d.grid.tolist(), "density": d.density.tolist(),
                              "nodes": d.nodes.tolist(), "weights": d.weights.tolist()}
        return out


class _Ticking:
    """An operator that advances a progress bar at every product."""

    def __init__(self, op, bar):
        self._op, self._bar, self.shape, self.dtype = op, bar, (op.n, op.n), op.dtype

    def matvec(self, v):
        out = self._op.matvec(v)
        self._bar.update(1)
        return out


def spectrum_summary(op, k: int = 5, tol: float = 1e-3, trace_samples: int = 100, trace_method: str = "hutchinson",
                     lanczos_steps: int | None = None, runs: int = 1, smallest: bool = False, seed=0,
                     progress: bool = False) -> SpectrumSummary:
    """Top eigenvalues (Lanczos), trace (Hutchinson) and eigenvalue density (stochastic Lanczos
    quadrature) of a symmetric operator, such as :func:`fastopt.curvature.hessian` of a trained network.

    Parameters
    ----------
    op : operator or numpy.ndarray
        Anything with ``matvec`` and ``shape`` (n, n), or a dense symmetric matrix.
    k : int, default 5
        Top eigenvalues wanted.
    tol : float, default 1e-3
        Relative residual tolerance of the eigenvalues (:func:`~fastopt.curvature.top_eigenvalues`).
    trace_samples : int, default 100
        Probes of the trace estimate; 0 skips it.
    trace_method : {"hutchinson", "hutch++"}
    lanczos_steps : int, optional
        Lanczos steps of each SLQ run (at most n); default min(100, n).
    runs : int, default 1
        SLQ start vectors (each costs ``lanczos_steps`` products); 0 skips the density.
    smallest : bool, default False
        Also the most negative eigenvalue, and |lambda_min / lambda_max| (Li et al. 2018).
    seed : int, default 0
        Seeds every random vector (the parts use seed, seed + 1, seed + 2).
    progress : bool, default False
        A progress bar counting the products.

    Returns
    -------
    SpectrumSummary

    Raises
    ------
    ValueError
        If a count is out of range or the operator misbehaves (as the parts raise).
    """
    checked = as_operator(op)
    n = checked.n
    k = positive_count(k, "k")
    trace_samples = positive_count(trace_samples, "trace_samples", at_least=0)
    runs = positive_count(runs, "runs", at_least=0)
    lanczos_steps = min(100, n) if lanczos_steps is None else positive_count(lanczos_steps, "lanczos_steps")
    _tolerance(tol)  # every argument is checked before the first product
    if runs and lanczos_steps > n:
        raise ValueError(f"lanczos_steps: at most the dimension {n}, got {lanczos_steps}")
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(unit="matvec", desc=f"spectrum of a {n}-parameter operator")
        op = _Ticking(checked, bar)
    seconds = {}

    def timed(name, call):
        if bar is not None:
            bar.set_postfix_str(name)
        started = time.perf_counter()
        out = call()
        seconds[name] = time.perf_counter() - started
        return out

    try:
        top = timed("top", lambda: top_eigenvalues(op, k=k, tol=tol, seed=seed))
        bottom = timed("bottom", lambda: top_eigenvalues(op, k=1, which="smallest", tol=tol, seed=seed)) \
            if smallest else None
        estimate = timed("trace", lambda: trace(op, trace_method, trace_samples, seed=seed + 1)) \
            if trace_samples else None
        density = timed("density", lambda: spectral_density(op, lanczos_steps, runs, seed=seed + 2)) if runs else None
    finally:
        if bar is not None:
            bar.close()
    return SpectrumSummary(top, bottom, estimate, density, n, seconds)
