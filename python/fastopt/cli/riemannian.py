"""``fastopt riemannian``: the Riemannian demos (sphere, Stiefel, geodesic vs projection) and their numbers."""
from __future__ import annotations

import functools
import math
import sys
import time
from pathlib import Path

from .args import DefaultsHelpFormatter, positive_int
from .common import call_study, print_files

FILES = {"rayleigh": "rayleigh_sphere.png", "stiefel": "stiefel_eigenspace.png", "paths": "sphere_paths.png",
         "animation": "sphere_paths.gif"}
# --quick: small problems, few frames, low resolution: a smoke test of the whole command in seconds.
QUICK = {"n": 40, "p": 3, "maxiter": 800, "frames": 12, "samples_per_step": 6, "dpi": 50}


def add_command(subparsers) -> None:
    """Declare ``fastopt riemannian`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "riemannian", help="Riemannian optimization demos: eigenvectors on the sphere and on Stiefel, geodesics",
        description="Minimise -x^T A x on the sphere (leading eigenvector of a random symmetric A) and "
                    "-trace(X^T A X) on Stiefel(n, p) (top-p eigenspace) with Riemannian gradient descent, "
                    "conjugate gradients and Adam, and draw gradient descent on the 3-D sphere stepping along "
                    f"geodesics against stepping and projecting. Writes {', '.join(FILES.values())} into --out "
                    "and prints the measured errors (against numpy.linalg.eigh).",
        formatter_class=DefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("riemannian"), help="folder for the figures")
    p.add_argument("--quick", action="store_true",
                   help=f"small problems (n={QUICK['n']}, p={QUICK['p']}), a short animation and low resolution")
    p.add_argument("--n", type=positive_int, default=100, help="size of the random symmetric matrix")
    p.add_argument("--p", type=positive_int, default=4, help="dimension of the eigenspace on Stiefel(n, p)")
    p.add_argument("--maxiter", type=positive_int, default=2000, help="most steps per optimizer")
    p.add_argument("--seed", type=int, default=0, help="seeds the matrix and the starts")
    p.add_argument("--dpi", type=positive_int, default=100, help="resolution of the figures (the animation's: at "
                                                                 "most 70)")
    p.set_defaults(run=functools.partial(run, parser=p))


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _fmt(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else "-"


def run(args, parser) -> int:
    """``fastopt riemannian``: the three studies, their numbers, then where the files are.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The command's parser, which reports bad flags (exit status 2).

    Returns
    -------
    int
        The exit status.
    """
    from ..studies import riemannian as study

    out = args.out
    if out.exists() and not out.is_dir():
        parser.error(f"--out: {str(out)!r} is a file; expected a folder")
    n, p, maxiter, dpi = args.n, args.p, args.maxiter, args.dpi
    frames, samples = 80, 16
    if args.quick:
        n, p, maxiter, frames, samples = QUICK["n"], QUICK["p"], min(maxiter, QUICK["maxiter"]), QUICK["frames"], \
            QUICK["samples_per_step"]
        dpi = min(dpi, QUICK["dpi"])
    if n < 2:
        parser.error(f"--n: expected at least 2, got {n}")
    if p >= n:
        parser.error(f"--p: expected p < n (the gap to the next eigenvalue is measured), got p={p}, n={n}")
    files = []

    started = time.perf_counter()
    _progress(f"[1/3] leading eigenvector: -x^T A x on Sphere({n}), RGD, RCG, RAdam ...")
    _, rayleigh = call_study(parser, study.rayleigh_study, n=n, seed=args.seed, maxiter=maxiter,
                             out=out / FILES["rayleigh"], dpi=dpi)
    files += rayleigh.files
    numbers = rayleigh.numbers
    print(f"Leading eigenvector of a {n}x{n} random symmetric matrix (Sphere({n})): lambda_max = "
          f"{numbers['lambda_max']:.12g} (numpy.linalg.eigh), gap to the next {numbers['gap']:.3g}")
    print(f"  {'method':<28} {'f - f*':>10} {'|grad f|':>9} {'steps':>6} {'f evals':>8} {'rate/step':>9}")
    for label, row in numbers.items():
        if isinstance(row, dict):
            print(f"  {label:<28} {row['error']:>10.2e} {row['grad_norm']:>9.2e} {row['steps']:>6} "
                  f"{row['evaluations']:>8} {_fmt(row['rate']):>9}")

    _progress(f"[2/3] top-{p} eigenspace: -trace(X^T A X) on Stiefel({n}, {p}), RGD, RCG (QR, polar), RAdam ...")
    _, stiefel = call_study(parser, study.stiefel_study, n=n, p=p, seed=args.seed, maxiter=maxiter,
                            out=out / FILES["stiefel"], dpi=dpi)
    files += stiefel.files
    numbers = stiefel.numbers
    print(f"Top-{p} eigenspace (Stiefel({n}, {p})): top eigenvalues "
          f"{', '.join(f'{v:.6g}' for v in numbers['lambda_top'])}, gap {numbers['gap']:.3g}")
    print(f"  {'method':<28} {'f - f*':>10} {'max angle':>10} {'|grad f|':>9} {'steps':>6} {'f evals':>8} "
          f"{'rate/step':>9}")
    for label, row in numbers.items():
        if isinstance(row, dict):
            print(f"  {label:<28} {row['error']:>10.2e} {row['angle']:>10.2e} {row['grad_norm']:>9.2e} "
                  f"{row['steps']:>6} {row['evaluations']:>8} {_fmt(row['rate']):>9}")

    _progress("[3/3] geodesic vs step-then-project on the 3-D sphere: figure and animation ...")
    _, paths = call_study(parser, study.sphere_paths_study, samples_per_step=samples, frames=frames,
                          out=out / FILES["paths"], animate=out / FILES["animation"], dpi=dpi)
    files += paths.files
    print(f"Gradient descent on the 3-D sphere, lr={study.SPHERE_DEMO_LR:g}, "
          f"{len(next(iter(paths.runs.values()))['points']) - 1} steps from the same start:")
    for key, name in (("exp", "exp map (geodesic)"), ("normalize", "step-then-project")):
        row = paths.numbers[key]
        print(f"  {name:<20} first step {row['first_step_angle']:.3f} rad, final distance to the minimiser "
              f"{row['distance']:.2e} rad, f - f* {row['error']:.2e}")
    _progress(f"done in {time.perf_counter() - started:.1f} s")
    print_files(files)
    return 0
