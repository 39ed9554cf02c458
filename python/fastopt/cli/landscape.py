"""``fastopt landscape``: optimizer paths across a 2-D test function and the figures drawn from them."""
from __future__ import annotations

import functools
from pathlib import Path

from .. import landscape, studies
from ..optim import REGISTRY
from .args import (DefaultsHelpFormatter, check_figure_path, check_lrs, float_list, path_optimizer_list,
                   positive_int)
from .common import call_study, print_files
from .rates import add_lr_flag, rates_for

LANDSCAPE_FIGURES = ("paths", "lr-sensitivity", "momentum", "convex", "evaluations")


def add_command(subparsers) -> None:
    """Declare ``fastopt landscape`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "landscape", help="optimizer paths across a test function: contour, loss, surface, animation",
        description="Run optimizers across a 2-D test function from its standard start (learning rates from "
                    "fastopt.landscape.DEFAULT_LR unless --lr) and draw them. --figure paths (default) writes the "
                    "contour map to --out, the loss curves beside it (<out>_loss), the 3-D surface with --surface "
                    "(<out>_surface) and an animation with --animate. --figure lr-sensitivity: one optimizer at "
                    "several learning rates (--lrs). --figure momentum: sgd against momentum and nesterov at sgd's "
                    "learning rate. --figure convex: the optimizers on --convex and on --function side by side. "
                    "--figure evaluations: f - f* against function evaluations. Second-order methods "
                    f"({', '.join(landscape.second_order_methods())}) run beside the first-order optimizers in "
                    "paths, convex and evaluations: to the minimum (gradient 1e-10) or for --steps iterations, "
                    "drawn as a dot at every iterate.",
        formatter_class=DefaultsHelpFormatter)
    names = landscape.functions()
    p.add_argument("--function", choices=names, default="rosenbrock", metavar="NAME",
                   help=f"test function, one of {', '.join(names)} (the non-convex one of --figure convex)")
    p.add_argument("--figure", choices=LANDSCAPE_FIGURES, default="paths", help="which figure to draw")
    p.add_argument("--optimizers", type=path_optimizer_list, metavar="A,B,...",
                   help=f"optimizers: first-order ({','.join(REGISTRY)}) or second-order "
                        f"({','.join(landscape.second_order_methods())}; not with "
                        f"lr-sensitivity or momentum) (default: {','.join(studies.LANDSCAPE_OPTIMIZERS)}; with "
                        f"--figure momentum {','.join(studies.MOMENTUM_OPTIMIZERS)}; with lr-sensitivity one, sgd; "
                        "with evaluations also every second-order method)")
    p.add_argument("--steps", type=positive_int, default=2000,
                   help="steps per optimizer (the most iterations of a second-order method)")
    add_lr_flag(p, "each optimizer's tabulated rate for the function")
    p.add_argument("--lrs", type=float_list, metavar="R1,R2,...",
                   help="learning rates of --figure lr-sensitivity (default: the tabulated rate times "
                        f"{', '.join(f'{f:g}' for f in studies.LR_FACTORS)})")
    p.add_argument("--convex", choices=names, default="quadratic", metavar="NAME",
                   help="the convex function of --figure convex")
    p.add_argument("--noise", type=float, default=0.0, metavar="S",
                   help="standard deviation of Gaussian noise added to every gradient")
    p.add_argument("--seed", type=int, default=0, help="seeds the gradient noise")
    p.add_argument("--out", type=Path, help="figure file, .png or .svg (default: <function>.png, or "
                                            "<function>_<figure>.png for the other figures)")
    p.add_argument("--surface", action="store_true", help="also draw the 3-D surface (--figure paths)")
    p.add_argument("--panels", action="store_true",
                   help="also draw small multiples, one contour panel per optimizer, to <out>_panels (--figure paths)")
    p.add_argument("--animate", type=Path, metavar="PATH", help="also write an animation, .gif or .mp4 "
                                                                "(--figure paths)")
    p.add_argument("--frames", type=positive_int, default=60, help="frames of the animation (--animate)")
    p.add_argument("--dpi", type=positive_int, default=100, help="resolution of the figures (the animation's: at "
                                                                 "most 80)")
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """``fastopt landscape``: one of the landscape studies, then where its files are.

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
    figure = args.figure
    if args.out is None:
        args.out = Path(f"{args.function}.png" if figure == "paths" else f"{args.function}_{figure}.png")
    check_figure_path(parser, "--out", args.out)
    check_figure_path(parser, "--animate", args.animate, (".gif", ".mp4"))
    for flag, given, applies in (("--surface", args.surface, "paths"), ("--animate", args.animate, "paths"),
                                 ("--panels", args.panels, "paths"),
                                 ("--lrs", args.lrs, "lr-sensitivity")):
        if given and figure != applies:
            parser.error(f"{flag} applies to --figure {applies}, not {figure}")
    if not (args.noise >= 0 and args.noise != float("inf")):
        parser.error(f"--noise: expected a finite number >= 0, got {args.noise}")
    if args.animate is not None and args.animate.suffix.lower() == ".mp4":
        from matplotlib import animation
        if not animation.writers.is_available("ffmpeg"):
            parser.error(f"--animate: writing {str(args.animate)!r} needs ffmpeg on PATH; write a .gif instead")
    common = {"steps": args.steps, "out": args.out, "noise": args.noise, "seed": args.seed, "dpi": args.dpi}
    if figure == "lr-sensitivity":
        optimizers = args.optimizers or ["sgd"]
        if len(optimizers) != 1:
            parser.error(f"--figure lr-sensitivity takes one optimizer, got --optimizers {','.join(optimizers)}")
        args.lr = rates_for(args.lr, optimizers)
        check_lrs(parser, args.lr, optimizers)
        lrs = args.lrs if args.lrs is not None else ([args.lr[optimizers[0]]] if args.lr else None)
        _, result = call_study(parser, studies.lr_sensitivity_study, function=args.function,
                               optimizer=optimizers[0], lrs=lrs, **common)
        files = result.files
    elif figure == "momentum":
        optimizers = args.optimizers or list(studies.MOMENTUM_OPTIMIZERS)
        args.lr = rates_for(args.lr, optimizers)
        check_lrs(parser, args.lr, optimizers)
        _, result = call_study(parser, studies.momentum_study, function=args.function, optimizers=optimizers,
                               lrs=args.lr, **common)
        files = result.files
    elif figure == "evaluations":
        if args.lr:
            parser.error("--lr does not apply to --figure evaluations (each optimizer uses its tabulated rate)")
        if args.noise:
            parser.error("--noise does not apply to --figure evaluations (second-order methods need exact gradients)")
        _, result = call_study(parser, studies.evaluations_study, function=args.function, optimizers=args.optimizers,
                               steps=args.steps, out=args.out, dpi=args.dpi)
        _print_runs(result.trajectories)
        files = result.files
    elif figure == "convex":
        if args.lr:
            parser.error("--lr does not apply to --figure convex (each function uses its tabulated rates)")
        _, results = call_study(parser, studies.convex_study, convex=args.convex, nonconvex=args.function,
                                optimizers=args.optimizers or list(studies.LANDSCAPE_OPTIMIZERS), **common)
        files = [args.out]
    else:
        optimizers = args.optimizers or list(studies.LANDSCAPE_OPTIMIZERS)
        args.lr = rates_for(args.lr, optimizers)
        check_lrs(parser, args.lr, optimizers)
        _, result = call_study(parser, studies.landscape_study, function=args.function, optimizers=optimizers,
                               lrs=args.lr, surface=args.surface, animate=args.animate, frames=args.frames,
                               panels=args.panels,
                               **common)
        _print_runs(result.trajectories)
        files = result.files
    print_files(files)
    return 0


def _print_runs(trajectories) -> None:
    """One line per run: a first-order optimizer's rate, a second-order method's iterations and evaluations,
    and the final f."""
    for name, path in trajectories.items():
        if path.second_order:
            print(f"{name:>10}: {len(path.path) - 1} iterations, {path.evaluations[-1]} evaluations, "
                  f"final f {path.losses[-1]:.4g} ({path.message})")
        else:
            print(f"{name:>10}: lr {path.lr:<8g} final f {path.losses[-1]:.4g}")
