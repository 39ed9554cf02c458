"""``fastopt surface``: loss-surface views (Li et al., 2018) of a ``fastopt train`` run's trained network.

Kinds: ``1d`` (a slice along one filter-normalised random direction), ``2d`` (a grid over two; contour
and 3-D figures), ``interpolate`` (the line from the run's initial weights, or another run's trained
weights, to its trained weights) and ``pca`` (the plane of the training path's top two principal
directions, with the path drawn on it). Losses are the mean test-set cross-entropy, evaluated natively
(:mod:`fastopt.curvature.surface`). Writes ``surface_<kind>.png`` (and ``surface_<kind>_3d.png``) and
``surface_<kind>.json`` with the numbers into ``--out``.
"""
from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..curvature import surface, surface_runs
from ..datasets import DatasetError
from ..runs import load_run, restore_model
from .args import DefaultsHelpFormatter, add_threads_progress_flags, positive_float, positive_int
from .common import print_files, set_threads

KINDS = ("2d", "1d", "interpolate", "pca")
QUICK = {"resolution": 11, "samples": 500}
DESCRIPTION = ("Loss-surface views of a run's trained network: 1d (a slice along a filter-normalised random "
               "direction), 2d (contour and 3-D figures over two), interpolate (from the run's initial weights, "
               "re-drawn from its seed, or --other's trained weights, to its trained weights), pca (the plane of "
               "the training path's top two principal directions, with the path on it; needs the run's epoch "
               "checkpoints in RUN_DIR/checkpoints/: fastopt train --keep-checkpoints). The loss is the mean cross-entropy over the first --samples "
               "test samples. Writes surface_<kind>.png (and _3d.png) and surface_<kind>.json into --out.")


def add_command(subparsers) -> None:
    """Declare ``fastopt surface`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "surface", help="loss-surface views of a trained run (slices, grids, interpolation, PCA plane)",
        description=DESCRIPTION, formatter_class=DefaultsHelpFormatter)
    p.add_argument("folder", type=Path, metavar="RUN_DIR", help="run folder of fastopt train (config.json, "
                                                                "checkpoint.npz)")
    p.add_argument("--kind", choices=KINDS, default="2d", help="which view")
    p.add_argument("--resolution", type=positive_int, default=51, help="points per axis")
    p.add_argument("--samples", type=positive_int, default=10000, help="test samples the loss averages (the first N)")
    p.add_argument("--range", dest="extent", type=positive_float, default=1.0,
                   help="1d/2d: steps from -RANGE to RANGE along each filter-normalised direction")
    p.add_argument("--biases", choices=surface.BIASES, default="zero",
                   help="1d/2d: the directions' bias entries (zero, or the biases themselves as Li et al.)")
    p.add_argument("--seed", type=int, default=0, help="1d/2d: seeds the random directions (the second: seed + 1)")
    p.add_argument("--other", type=Path, metavar="RUN_DIR2",
                   help="interpolate: from this run's trained weights instead of the initial ones (two minima)")
    p.add_argument("--out", type=Path, default=Path("surface"), help="output folder")
    p.add_argument("--data", metavar="PATH", help="folder holding the dataset's IDX files (default: the run's)")
    p.add_argument("--quick", action="store_true",
                   help=f"a smoke run: at most {QUICK['resolution']} points per axis and {QUICK['samples']} samples")
    add_threads_progress_flags(p)
    p.set_defaults(run=functools.partial(run, parser=p))


def _axis(low: float, high: float, resolution: int) -> np.ndarray:
    return np.linspace(low, high, resolution)


def _line_view(args, model, x, y, progress):
    direction = surface.filter_normalized_direction(model, args.seed, args.biases)
    line = surface.loss_along(model, x, y, direction, _axis(-args.extent, args.extent, args.resolution),
                              progress=progress)
    from ..plots.loss_surface import loss_line
    figure = args.out / "surface_1d.png"
    loss_line(line, "step alpha along a filter-normalised random direction d (theta + alpha d)",
              title=f"1-D slice through the trained weights ({line.samples} test samples)",
              marks={"trained": 0.0}, save=figure)
    return line, [figure], {"direction": f"filter-normalised Gaussian, seed {args.seed}, biases {args.biases}"}


def _grid_view(args, model, x, y, progress):
    d1 = surface.filter_normalized_direction(model, args.seed, args.biases)
    d2 = surface.filter_normalized_direction(model, args.seed + 1, args.biases)
    axis = _axis(-args.extent, args.extent, args.resolution)
    grid = surface.loss_grid(model, x, y, d1, d2, axis, axis, progress=progress)
    from ..plots.loss_surface import loss_contour, loss_surface_3d
    figures = [args.out / "surface_2d.png", args.out / "surface_2d_3d.png"]
    loss_contour(grid, title=f"loss around the trained weights ({grid.samples} test samples)", save=figures[0])
    loss_surface_3d(grid, save=figures[1])
    return grid, figures, {"directions": f"filter-normalised Gaussian, seeds {args.seed} and {args.seed + 1}, "
                                         f"biases {args.biases}"}


def _interpolate_view(args, config, model, x, y, progress):
    if args.other is not None:
        other, _, _ = restore_model(args.other, args.data)
        if other.sizes != model.sizes:
            raise ValueError(f"--other: its network {other.sizes} differs from the run's {model.sizes}")
        start, source = other.flat_params, f"trained weights of {args.other}"
    else:
        start = surface_runs.initial_params(config)
        source = f"initial weights, re-drawn from the run's seed {config['seed']} (fastopt train does not save them; " \
                 f"the initialisation depends on the seed alone, so they are the run's own)"
    if progress:
        print(f"interpolating from the {source}")
    line = surface.interpolate(model, x, y, start, model.flat_params,
                               surface.interpolation_steps(args.resolution), progress=progress)
    from ..plots.loss_surface import loss_line
    figure = args.out / "surface_interpolate.png"
    begin = "other run" if args.other is not None else "initial"
    loss_line(line, f"t in (1 - t) theta_{begin} + t theta_trained",
              title=f"linear interpolation ({line.samples} test samples)", marks={begin: 0.0, "trained": 1.0},
              save=figure)
    return line, [figure], {"from": source, "to": "the run's trained weights (checkpoint.npz)"}


def _pca_view(args, config, model, x, y, progress):
    checkpoints, files = surface_runs.path_checkpoints(args.folder, model)
    path = np.vstack([surface_runs.initial_params(config)[None], checkpoints])
    plane = surface.trajectory_plane(path, final=model.flat_params)
    margin = 0.2 * np.ptp(plane.path, axis=0) + 1e-12
    low, high = plane.path.min(axis=0) - margin, plane.path.max(axis=0) + margin
    grid = surface.loss_grid(model, x, y, plane.directions[0], plane.directions[1],
                             _axis(low[0], high[0], args.resolution), _axis(low[1], high[1], args.resolution),
                             progress=progress)
    from ..plots.loss_surface import loss_contour, loss_surface_3d
    labels = tuple(f"PC{k + 1} ({100 * e:.1f}% of the path's variance)" for k, e in enumerate(plane.explained))
    figures = [args.out / "surface_pca.png", args.out / "surface_pca_3d.png"]
    loss_contour(grid, path=plane.path, labels=labels,
                 title=f"training path on its PCA plane ({grid.samples} test samples)", save=figures[0])
    loss_surface_3d(grid, labels=("PC1", "PC2"), save=figures[1])
    extra = {"checkpoints": ["initial weights (re-drawn from the seed)"] + [str(f) for f in files],
             "explained_variance": plane.explained.tolist(), "path": plane.path.tolist()}
    return grid, figures, extra


def _numbers(view) -> dict:
    if isinstance(view, surface.SurfaceGrid):
        return {"alphas": view.alphas.tolist(), "betas": view.betas.tolist(), "loss": view.loss.tolist(),
                "accuracy": view.accuracy.tolist(), "samples": view.samples}
    return {"coords": view.coords.tolist(), "loss": view.loss.tolist(), "accuracy": view.accuracy.tolist(),
            "samples": view.samples}


def run(args, parser) -> int:
    """``fastopt surface``: evaluate the chosen view on the run's test samples and draw it.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The command's parser: a folder that is not a run, or a view it cannot give, exits with status 2.

    Returns
    -------
    int
        The exit status (1: the dataset is missing or corrupt).
    """
    if args.quick:
        args.resolution = min(args.resolution, QUICK["resolution"])
        args.samples = min(args.samples, QUICK["samples"])
    if args.resolution < 2:
        parser.error(f"--resolution: need at least 2 points per axis, got {args.resolution}")
    set_threads(args)
    try:
        config, _ = load_run(args.folder)
        model, test, _ = restore_model(args.folder, args.data)
        x, y = test.x[:args.samples], test.y[:args.samples]
        if args.progress:
            print(f"{args.kind} view of {args.folder} ({model.sizes}) on {len(y)} test samples, "
                  f"resolution {args.resolution}")
        started = time.perf_counter()
        if args.kind == "1d":
            view, figures, about = _line_view(args, model, x, y, args.progress)
        elif args.kind == "2d":
            view, figures, about = _grid_view(args, model, x, y, args.progress)
        elif args.kind == "interpolate":
            view, figures, about = _interpolate_view(args, config, model, x, y, args.progress)
        else:
            view, figures, about = _pca_view(args, config, model, x, y, args.progress)
        seconds = time.perf_counter() - started
    except DatasetError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    numbers = args.out / f"surface_{args.kind}.json"
    numbers.write_text(json.dumps({"run": str(args.folder), "kind": args.kind, "seconds": seconds, **about,
                                   **_numbers(view)}, indent=1))
    if args.progress:
        print(f"{args.kind}: {seconds:.1f} s; lowest loss {np.nanmin(view.loss):.4g}")
    print_files([*figures, numbers])
    return 0
