"""Loss-surface views of fastopt's MLP (Li et al., 2018, "Visualizing the Loss Landscape of Neural Nets").

Every view evaluates the mean loss (and accuracy) at parameter vectors of one form,

    theta(c) = theta_0 + c_1 d_1 + c_2 d_2,

on the same data, with the network's inference forward (no dropout). The points are evaluated
natively, many per call (``fastopt._core.nn.loss_at_points``: OpenMP over the points, each thread
building its point's parameters in its own buffer); the model's own parameters are never written.

- 1-D slice: ``loss_along`` (theta_0 the model, d_1 a direction, c_1 = alpha).
- 2-D grid: ``loss_grid`` (theta_0 the model, c = (alpha, beta)).
- Linear interpolation: ``interpolate`` (theta(t) = (1 - t) theta_a + t theta_b = theta_a + t (theta_b - theta_a)).
- The plane of a training path: ``trajectory_plane`` (the top two principal directions of the
  checkpoints' theta_i - theta_final), then ``loss_grid`` with them around theta_final.

Directions are filter-normalised (``filter_normalized_direction``) so that views of networks whose
weights differ in scale compare.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _core

BIASES = ("zero", "keep")
PARALLEL = ("auto", "points", "rows")


@dataclass
class SurfaceLine:
    """Loss and accuracy along a line of parameter vectors.

    Parameters
    ----------
    coords : numpy.ndarray, shape (n,)
        The step along the line (alpha of a slice, t of an interpolation).
    loss : numpy.ndarray, shape (n,)
        Mean loss over the samples at each step.
    accuracy : numpy.ndarray, shape (n,)
        Fraction of samples classified correctly at each step.
    samples : int
        How many samples every value averages.
    """

    coords: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    samples: int


@dataclass
class SurfaceGrid:
    """Loss and accuracy on a 2-D grid: ``loss[i, j]`` at ``theta_0 + alphas[i] d_1 + betas[j] d_2``.

    Parameters
    ----------
    alphas : numpy.ndarray, shape (n,)
    betas : numpy.ndarray, shape (m,)
    loss : numpy.ndarray, shape (n, m)
    accuracy : numpy.ndarray, shape (n, m)
    samples : int
        How many samples every value averages.
    """

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    samples: int


@dataclass
class TrajectoryPlane:
    """The plane of a training path: its top two principal directions and the path in their coordinates.

    Parameters
    ----------
    directions : numpy.ndarray, shape (2, P)
        Orthonormal (float64): the top two right singular vectors of the matrix whose rows are
        ``theta_i - theta_final``; each signed so that the first checkpoint's coordinate is >= 0.
    explained : numpy.ndarray, shape (2,)
        Fraction of the path's variance ``sum_i |theta_i - theta_final|^2`` each direction holds.
    path : numpy.ndarray, shape (n, 2)
        Checkpoint i at ``path[i] = directions @ (theta_i - theta_final)``; the final one at the origin.
    final : numpy.ndarray, shape (P,)
        ``theta_final``, the plane's origin.
    """

    directions: np.ndarray
    explained: np.ndarray
    path: np.ndarray
    final: np.ndarray


# ---------------------------------------------------------------------------------------------- checks
def _flat(model, vector, name: str) -> np.ndarray:
    """``vector`` as a finite C-contiguous (P,) array of the model's dtype, copied (callers' arrays never change)."""
    v = np.asarray(vector)
    if v.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected a real array, got dtype {v.dtype}")
    if v.shape != (model.num_params,):
        raise ValueError(f"{name}: expected shape ({model.num_params},) (the model's parameter count), got {v.shape}")
    if not np.isfinite(v).all():
        bad = np.flatnonzero(~np.isfinite(v))
        raise ValueError(f"{name}: {bad.size} entries are not finite (first {v[bad[0]]} at flat index {bad[0]})")
    return np.array(v, dtype=model.dtype, order="C")


def _steps(values, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D sequence of numbers, got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{name}: contains a non-finite value")
    return v


def _data(model, x, y):
    x, y = model._inputs(x), model._labels(y)
    if x.ndim != 2 or x.shape[1] != model.sizes[0]:
        raise ValueError(f"x: expected shape (n, {model.sizes[0]}), got {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("x: empty data (no samples to average the loss over)")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y: expected shape ({x.shape[0]},) to match x's samples, got {y.shape}")
    return x, y


# ---------------------------------------------------------------------------------------------- directions
def filter_normalized_direction(model, seed: int = 0, biases: str = "zero") -> np.ndarray:
    """A random direction in parameter space, filter-normalised as Li et al. (2018) do.

    Every weight matrix ``W`` (out, in) gets a Gaussian matrix ``D`` whose rows (one per output unit,
    the dense layer's filters) are rescaled to the norms of ``W``'s rows:

        D_r <- D_r |W_r| / |D_r|.

    Parameters
    ----------
    model : fastopt.nn.MLP
        Its current parameters set the row norms.
    seed : int
        Seeds the Gaussian draws (``numpy.random.default_rng``), layer by layer.
    biases : str
        ``"zero"``: the direction leaves the biases alone (Li et al.'s default, ``ignore='biasbn'``);
        ``"keep"``: the direction's bias entries are the biases themselves (each bias a one-entry filter,
        as in Li et al.'s code without that option), so ``|d_j| = |b_j|``.

    Returns
    -------
    numpy.ndarray, shape (P,)
        In the model's dtype and flat layout.
    """
    if biases not in BIASES:
        raise ValueError(f"biases: expected one of {', '.join(BIASES)}, got {biases!r}")
    _flat(model, model.flat_params, "model parameters")
    rng = np.random.default_rng(seed)
    direction = np.zeros(model.num_params, dtype=model.dtype)
    views = model._views(direction)
    for i in range(len(model.sizes) - 1):
        weight = model.params[f"{i}.weight"].astype(np.float64)
        draw = rng.standard_normal(weight.shape)
        scale = np.linalg.norm(weight, axis=1) / np.linalg.norm(draw, axis=1)
        views[f"{i}.weight"][...] = draw * scale[:, None]
        if biases == "keep":
            views[f"{i}.bias"][...] = model.params[f"{i}.bias"]
    return direction


# ---------------------------------------------------------------------------------------------- evaluation
def loss_at(model, x, y, directions, coords, base=None, batch_size: int = 256, parallel: str = "auto",
            points_per_call: int = 256, progress: bool = False):
    """Loss and accuracy at ``base + coords[p] @ directions`` for every point p, natively.

    Parameters
    ----------
    model : fastopt.nn.MLP
        Gives the network (layers, activation, label smoothing); its parameters are not changed.
    x : array_like, shape (n, sizes[0])
    y : array_like of int, shape (n,)
    directions : array_like, shape (m, P)
        The directions ``d_k``, finite.
    coords : array_like, shape (N, m)
        Each point's coefficients.
    base : array_like, shape (P,), optional
        ``theta_0`` (default: the model's parameters).
    batch_size : int
        Rows per forward GEMM (bounds each thread's workspace).
    parallel : str
        ``"points"``: OpenMP over the points, each thread on all rows of its own points; ``"rows"``:
        the points one after another, the threads on blocks of rows; ``"auto"``: points when a call
        has at least as many points as threads, else rows. In bench/bench_surface.py (2 cores) the two
        were within 3% at 10,000 samples per point, and over points ahead at 1,000 samples (1.08x) and
        on a loaded machine (46% against 38% of the GEMM peak).
    points_per_call : int
        Points per native call (the progress bar's step).
    progress : bool
        Show a progress bar over the points.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The mean loss and the accuracy, shape (N,).
    """
    x, y = _data(model, x, y)
    base = _flat(model, model.flat_params, "model parameters") if base is None else _flat(model, base, "base")
    directions = np.asarray(directions)
    if directions.ndim != 2:
        raise ValueError(f"directions: expected shape (m, {model.num_params}), got {directions.shape}")
    directions = np.stack([_flat(model, d, f"directions[{k}]") for k, d in enumerate(directions)])
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != len(directions) or coords.shape[0] == 0:
        raise ValueError(f"coords: expected a non-empty (points, {len(directions)}) array, got shape {coords.shape}")
    if not np.isfinite(coords).all():
        raise ValueError("coords: contains a non-finite value")
    if parallel not in PARALLEL:
        raise ValueError(f"parallel: expected one of {', '.join(PARALLEL)}, got {parallel!r}")
    if points_per_call < 1:
        raise ValueError(f"points_per_call: must be >= 1, got {points_per_call}")
    loss = np.empty(len(coords))
    correct = np.empty(len(coords), dtype=np.int64)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(coords), unit="point", desc=f"loss at {len(coords)} points on {len(y)} samples")
    threads = _core.get_num_threads()
    for start in range(0, len(coords), points_per_call):
        block = coords[start:start + points_per_call]
        mode = parallel if parallel != "auto" else "points" if len(block) >= threads else "rows"
        out = _core.nn.loss_at_points(model._net, base, directions, block, x, y, int(batch_size),
                                      model.label_smoothing, model.activation, model.negative_slope, mode)
        loss[start:start + len(block)] = out["loss"]
        correct[start:start + len(block)] = out["correct"]
        if bar is not None:
            bar.update(len(block))
    if bar is not None:
        bar.close()
    return loss, correct / len(y)


def loss_along(model, x, y, direction, alphas, **options) -> SurfaceLine:
    """The 1-D slice ``alpha -> L(theta + alpha d)`` through the model's parameters theta.

    Parameters
    ----------
    model : fastopt.nn.MLP
    x, y : array_like
        The samples and their labels.
    direction : array_like, shape (P,)
        ``d`` (e.g. :func:`filter_normalized_direction`).
    alphas : sequence of float
        The steps.
    **options
        ``batch_size``, ``parallel``, ``points_per_call``, ``progress`` of :func:`loss_at`.

    Returns
    -------
    SurfaceLine
    """
    alphas = _steps(alphas, "alphas")
    loss, accuracy = loss_at(model, x, y, _flat(model, direction, "direction")[None], alphas[:, None], **options)
    return SurfaceLine(alphas, loss, accuracy, len(np.asarray(y)))


def loss_grid(model, x, y, d1, d2, alphas, betas, base=None, **options) -> SurfaceGrid:
    """The 2-D surface ``(alpha, beta) -> L(theta + alpha d1 + beta d2)``.

    Parameters
    ----------
    model : fastopt.nn.MLP
    x, y : array_like
        The samples and their labels.
    d1, d2 : array_like, shape (P,)
        The two directions.
    alphas, betas : sequence of float
        Grid coordinates along ``d1`` and ``d2``.
    base : array_like, shape (P,), optional
        ``theta`` (default: the model's parameters).
    **options
        ``batch_size``, ``parallel``, ``points_per_call``, ``progress`` of :func:`loss_at`.

    Returns
    -------
    SurfaceGrid
        ``loss[i, j]`` at ``(alphas[i], betas[j])``.
    """
    alphas, betas = _steps(alphas, "alphas"), _steps(betas, "betas")
    directions = np.stack([_flat(model, d1, "d1"), _flat(model, d2, "d2")])
    coords = np.stack(np.meshgrid(alphas, betas, indexing="ij"), axis=-1).reshape(-1, 2)
    loss, accuracy = loss_at(model, x, y, directions, coords, base=base, **options)
    shape = (len(alphas), len(betas))
    return SurfaceGrid(alphas, betas, loss.reshape(shape), accuracy.reshape(shape), len(np.asarray(y)))


def interpolation_steps(resolution: int = 51) -> np.ndarray:
    """``resolution`` evenly spaced t from about -0.25 to 1.25 with t = 0 and t = 1 exactly among them.

    With ``k = round((resolution - 1) / 1.5)`` steps of ``1 / k`` between the endpoints, and the rest
    shared out before 0 and after 1, so the curve passes through both models' own losses.

    Parameters
    ----------
    resolution : int
        Number of steps, >= 2.

    Returns
    -------
    numpy.ndarray, shape (resolution,)
    """
    if resolution < 2:
        raise ValueError(f"resolution: need at least 2 steps, got {resolution}")
    inside = max(1, round((resolution - 1) / 1.5))
    before = (resolution - 1 - inside) // 2
    return (np.arange(resolution) - before) / inside


def interpolate(model, x, y, theta_from, theta_to, ts=None, **options) -> SurfaceLine:
    """Linear interpolation ``t -> L((1 - t) theta_from + t theta_to)`` (Goodfellow et al., 2015).

    Parameters
    ----------
    model : fastopt.nn.MLP
        Gives the network; its parameters are not changed.
    x, y : array_like
        The samples and their labels.
    theta_from, theta_to : array_like, shape (P,)
        The endpoints (t = 0 and t = 1): e.g. initial and trained weights, or two minima.
    ts : sequence of float, optional
        The steps (default: :func:`interpolation_steps`, 51 from about -0.25 to 1.25, 0 and 1 among them).
    **options
        ``batch_size``, ``parallel``, ``points_per_call``, ``progress`` of :func:`loss_at`.

    Returns
    -------
    SurfaceLine
        ``coords`` are the ``ts``.
    """
    ts = _steps(interpolation_steps() if ts is None else ts, "ts")
    start = _flat(model, theta_from, "theta_from")
    delta = _flat(model, theta_to, "theta_to") - start
    loss, accuracy = loss_at(model, x, y, delta[None], ts[:, None], base=start, **options)
    return SurfaceLine(ts, loss, accuracy, len(np.asarray(y)))


def trajectory_plane(checkpoints, final=None) -> TrajectoryPlane:
    """The plane of a training path: PCA of the checkpoints' parameter vectors about the final one.

    With ``M`` the matrix whose rows are ``theta_i - theta_final``, ``M = U S V^T``: the directions are the
    first two rows of ``V^T`` and the path is ``M V[:, :2]`` (Li et al., 2018, section 7).

    Parameters
    ----------
    checkpoints : array_like, shape (n, P)
        Flat parameter vectors in training order, finite.
    final : array_like, shape (P,), optional
        The plane's origin (default: the last checkpoint).

    Returns
    -------
    TrajectoryPlane

    Raises
    ------
    ValueError
        Fewer than two checkpoints that differ from ``final`` in independent directions, or
        non-finite entries, or mismatched shapes.
    """
    thetas = np.asarray(checkpoints, dtype=np.float64)
    if thetas.ndim != 2 or thetas.shape[0] < 2 or thetas.shape[1] == 0:
        raise ValueError(f"checkpoints: expected at least two flat parameter vectors (n >= 2, P), got shape "
                         f"{thetas.shape}")
    origin = thetas[-1] if final is None else np.asarray(final, dtype=np.float64)
    if origin.shape != thetas.shape[1:]:
        raise ValueError(f"final: expected shape {thetas.shape[1:]} like the checkpoints, got {origin.shape}")
    if not (np.isfinite(thetas).all() and np.isfinite(origin).all()):
        raise ValueError("checkpoints: contain non-finite parameters (a diverged run)")
    offsets = thetas - origin
    _, singular, vt = np.linalg.svd(offsets, full_matrices=False)
    if len(singular) < 2 or singular[1] <= singular[0] * 1e-12:
        raise ValueError("checkpoints: the path spans fewer than two directions about the final parameters "
                         "(need at least two checkpoints besides the final one, not on one line)")
    directions = vt[:2].copy()
    path = offsets @ directions.T
    signs = np.where(path[0] < 0, -1.0, 1.0)
    directions *= signs[:, None]
    path *= signs
    explained = singular[:2] ** 2 / np.sum(singular ** 2)
    return TrajectoryPlane(directions, explained, path, origin)


__all__ = ["BIASES", "SurfaceLine", "SurfaceGrid", "TrajectoryPlane", "filter_normalized_direction", "loss_at",
           "loss_along", "loss_grid", "interpolation_steps", "interpolate", "trajectory_plane"]
