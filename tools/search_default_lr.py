"""Search the default learning rates of fastopt.landscape (run once per optimizer; prints the rows).

For every built-in function (2-D, default start) and every registry optimizer, run 1000 native steps
at each learning rate of the grid {1, 3} x 10^k, k = -7..0, and keep the paths that are meaningful
to look at: finite, and inside the plot domain widened by half its size on every side (so the
whole path is in view).  A path's progress is f(start) minus the mean loss of its last 50 steps
(the mean discounts paths that merely oscillate through a low point).  The default is the smallest
learning rate whose progress is at least 99% of the best progress: fast enough to arrive, slow
enough that the path shows how the optimizer gets there.  On the saddles, which are unbounded
below, this picks the smallest rate that runs to the edge of the view.

Each printed row is the ``landscape_lr=`` argument of that optimizer's ``register(...)`` call, in its
module under python/fastopt/optim/:

    python tools/search_default_lr.py                 # every registry name, about 10 seconds
    python tools/search_default_lr.py yogi adam       # only these
"""
import sys

import numpy as np

from fastopt import landscape
from fastopt.optim.registry import REGISTRY

GRID = sorted(m * 10.0**k for k in range(-7, 1) for m in (1, 3))
STEPS = 1000


def in_view(fn, path) -> bool:
    (x0, x1), (y0, y1) = fn.domain
    wx, wy = (x1 - x0) / 2, (y1 - y0) / 2
    return bool(np.all(np.isfinite(path)) and np.all((path[:, 0] >= x0 - wx) & (path[:, 0] <= x1 + wx))
                and np.all((path[:, 1] >= y0 - wy) & (path[:, 1] <= y1 + wy)))


def best_lr(fn, optimizer: str) -> float | None:
    progress = {}
    for lr in GRID:
        t = landscape.trajectory(fn, optimizer, steps=STEPS, lr=lr)
        if in_view(fn, t.path):
            progress[lr] = t.losses[0] - np.mean(t.losses[-50:])
    if not progress:
        return None
    best = max(progress.values())
    return min(lr for lr, p in progress.items() if p >= 0.99 * best)


def main(names) -> None:
    for optimizer in names or REGISTRY:
        row = {name: best_lr(landscape.get(name), optimizer) for name in landscape.functions()}
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
