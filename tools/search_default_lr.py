"""Search the default learning rates of fastopt.landscape (run once per optimizer; prints the rows).

For every built-in function (2-D, default start) and every registry optimizer, run 1000 native steps
at each learning rate of the grid {1, 2, 5} x 10^k, k = -7..0.  A rate is a candidate when its path is

- *in view*: finite and inside the plot domain widened by half its size on every side;
- *stable with a margin*: the next rate of the grid (2 to 2.5x larger) is in view too, so the default
  is never on the edge of divergence;
- *calm*: the path does not scribble: over its last quarter its length is at most 20 times the
  distance it covers, and over the whole run at most 3 times (plus 1% of the domain's diagonal each):
  an oscillating path is no picture of the optimizer's way down;
- *visibly moving*: its end is at least 5% of the domain's diagonal away from its start (an
  inert path shows nothing).

A path's progress is the number of orders of magnitude by which the gap f - f* shrank from the start
to the mean loss of its last 50 steps (where f* is known; else f(start) minus that mean): the mean
discounts paths that merely oscillate through a low point, and the logarithm makes following a valley
to its minimum count as much as descending into it.  The default is the smallest candidate rate whose
progress is at least 3 orders of magnitude (the path has arrived), or 90% of the best candidate's when
none gets that far (or f* is unknown): fast enough to arrive, slow enough that the path shows how the
optimizer gets there.  On the saddles, which are unbounded below, this picks the smallest rate that
runs to the edge of the view.  Functions where no rate is a candidate get no default (the optimizer's
own rate applies).  On multimodal functions (Ackley, Rastrigin) stable paths may all stop in the
local minimum next to the start; there the margin, and then the calm, requirement is dropped, in that
order, and the row says so: a path that escapes and oscillates near a lower minimum shows more than one
that does not move.

Each printed row is the ``landscape_lr=`` argument of that optimizer's ``register(...)`` call, in its
module under python/fastopt/optim/:

    python tools/search_default_lr.py                 # every registry name, about 10 seconds
    python tools/search_default_lr.py yogi adam       # only these
"""
import sys

import numpy as np

from fastopt import landscape
from fastopt.optim.registry import REGISTRY

GRID = sorted(m * 10.0**k for k in range(-7, 1) for m in (1, 2, 5))
STEPS = 1000
ENOUGH = 3.0  # orders of magnitude of f - f*: a path that shrinks the gap 1000x has arrived


def in_view(fn, path) -> bool:
    (x0, x1), (y0, y1) = fn.domain
    wx, wy = (x1 - x0) / 2, (y1 - y0) / 2
    return bool(np.all(np.isfinite(path)) and np.all((path[:, 0] >= x0 - wx) & (path[:, 0] <= x1 + wx))
                and np.all((path[:, 1] >= y0 - wy) & (path[:, 1] <= y1 + wy)))


def diagonal(fn) -> float:
    (x0, x1), (y0, y1) = fn.domain
    return float(np.hypot(x1 - x0, y1 - y0))


def length(path) -> float:
    return float(np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1)))


def calm(fn, path) -> bool:
    tail = path[-len(path) // 4:]
    slack = 0.01 * diagonal(fn)
    return (length(tail) <= 20 * float(np.linalg.norm(tail[-1] - tail[0])) + slack
            and length(path) <= 3 * float(np.linalg.norm(path[-1] - path[0])) + slack)


def moves(fn, path) -> bool:
    return float(np.linalg.norm(path[-1] - path[0])) >= 0.05 * diagonal(fn)


def gain(fn, losses) -> float:
    """Orders of magnitude the gap to the minimum shrank (where f* is known), else the loss's drop.

    In orders of magnitude, descending a valley's wall (most of the loss) does not outweigh following the
    valley to its minimum, which is what the figure should show."""
    final = float(np.mean(losses[-50:]))
    if fn.min_value is None:
        return float(losses[0]) - final
    return float(np.log10((losses[0] - fn.min_value) / max(final - fn.min_value, 1e-12)))


def best_lr(fn, optimizer: str) -> tuple[float | None, str]:
    runs = {lr: landscape.trajectory(fn, optimizer, steps=STEPS, lr=lr) for lr in GRID}
    viewed = {lr: in_view(fn, runs[lr].path) for lr in GRID}
    margin = {lr: viewed[larger] for lr, larger in zip(GRID, GRID[1:])}
    # Strictest tier first: a multimodal function (Ackley, Rastrigin) may offer no calm, visibly moving path
    # with a margin; then the margin, then the calm, requirement is dropped (the tier is printed).
    for tier, ok in (("", lambda lr: margin[lr] and calm(fn, runs[lr].path)),
                     ("no margin", lambda lr: calm(fn, runs[lr].path)),
                     ("not calm", lambda lr: True)):
        progress = {lr: gain(fn, runs[lr].losses) for lr in GRID[:-1]
                    if viewed[lr] and moves(fn, runs[lr].path) and ok(lr)}
        if progress:
            enough = min(ENOUGH, 0.9 * max(progress.values())) if fn.min_value is not None else \
                0.9 * max(progress.values())
            return min(lr for lr, p in progress.items() if p >= enough), tier
    return None, "no rate moves visibly and stays in view"


def main(names) -> None:
    for optimizer in names or REGISTRY:
        found = {name: best_lr(landscape.get(name), optimizer) for name in landscape.functions()}
        row = {name: lr for name, (lr, _) in found.items()}
        notes = [f"{name}: {tier}" for name, (_, tier) in found.items() if tier]
        if notes:
            print("# relaxed: " + "; ".join(notes))
        cells = [f'"{k}": {v:g}' for k, v in row.items() if v is not None]
        lines, line = [], "landscape_lr={"
        for cell in cells:
            if len(line) + len(cell) > 100:
                lines.append(line.rstrip())
                line = " " * len("landscape_lr={")
            line += cell + ", "
        print(f"# {optimizer}\n" + "\n".join(lines + [line[:-2] + "}"]))


if __name__ == "__main__":
    main(sys.argv[1:])
