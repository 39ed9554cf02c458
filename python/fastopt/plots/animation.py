"""Animated optimizer paths over a contour map: GIF through Pillow, MP4 through ffmpeg."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import animation as mpl_animation

from .landscape import colored_runs, draw_landscape, draw_minima
from .style import new_figure


def frame_steps(lengths, frames: int) -> np.ndarray:
    """Indices into each path for every frame, shape (frames, runs): an even subsample of the steps.

    Every path is shown from its start to its end; a shorter path reaches its end earlier.  The
    longest path has a distinct step in every frame, so no two frames are alike.

    Parameters
    ----------
    lengths : sequence of int
        The number of points (steps + 1) of each path; not empty, each >= 1.
    frames : int
        The most frames wanted, >= 1.

    Returns
    -------
    numpy.ndarray of int, shape (min(frames, max(lengths)), len(lengths))
        Row ``i``: the index into each path shown in frame ``i``.
    """
    longest = max(lengths)
    count = min(int(frames), longest)
    steps = np.rint(np.linspace(0, longest - 1, count)).astype(int)
    return np.minimum(steps[:, None], np.asarray(lengths)[None, :] - 1)


def animate(function, trajectories, path, frames: int = 60, fps: int = 15, resolution: int = 120,
            dpi: float = 80):
    """Write an animation of the paths moving over ``function`` to ``path`` (.gif or .mp4).

    Parameters
    ----------
    function : TestFunction
        A 2-D test function (``name``, ``value``, ``grid``, ``minima``, ``domain``; see the module docstring).
    trajectories : Trajectory, sequence or mapping
        The runs, as :func:`runs_of` takes them.
    path : path-like
        The file to write, ending in .gif (written through Pillow) or .mp4 (needs ffmpeg on PATH);
        its folder is created if needed.
    frames : int, default 60
        Caps the frame count: the steps are subsampled evenly (:func:`frame_steps`).
    fps : int, default 15
        Frames per second.
    resolution : int, default 120
        Grid points per axis of the contour map.
    dpi : float, default 80
        Dots per inch of the 6 x 5 inch frames.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If ``path`` ends in neither .gif nor .mp4, ``frames`` < 1, or the runs are empty or malformed.
    RuntimeError
        For an .mp4 when ffmpeg is not available.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        writer = mpl_animation.PillowWriter(fps=fps)
    elif suffix == ".mp4":
        if not mpl_animation.writers.is_available("ffmpeg"):
            raise RuntimeError(f"path: writing {str(path)!r} needs ffmpeg on PATH; write a .gif instead")
        writer = mpl_animation.FFMpegWriter(fps=fps)
    else:
        raise ValueError(f"path: {str(path)!r} must end in .gif or .mp4")
    if int(frames) < 1:
        raise ValueError(f"frames: expected a positive frame count, got {frames}")

    colored = colored_runs(trajectories)
    paths = [np.asarray(result.path, dtype=float) for _, result, _ in colored]
    steps = frame_steps([len(p) for p in paths], frames)

    figure = new_figure(6.0, 5.0, dpi)
    ax = figure.add_subplot()
    draw_landscape(ax, function, resolution)
    draw_minima(ax, function)
    trails = [ax.plot([], [], color=color, linewidth=1.6, label=label, gid=f"path:{label}")[0]
              for label, _, color in colored]
    heads = [ax.plot([], [], marker="o", markersize=6, color=color, markeredgecolor="k")[0]
             for _, _, color in colored]
    ax.legend(loc="best", fontsize="small", framealpha=0.85)
    title = ax.set_title("")

    def draw_frame(frame: int):
        for trail, head, points, step in zip(trails, heads, paths, steps[frame]):
            trail.set_data(points[:step + 1, 0], points[:step + 1, 1])
            head.set_data(points[step:step + 1, 0], points[step:step + 1, 1])
        title.set_text(f"{function.name}: step {steps[frame].max()}")
        return [*trails, *heads, title]

    # Lay out once (with the longest title), then freeze the layout: every frame is drawn anew.
    draw_frame(len(steps) - 1)
    figure.canvas.draw()
    figure.set_layout_engine("none")
    path.parent.mkdir(parents=True, exist_ok=True)
    movie = mpl_animation.FuncAnimation(figure, draw_frame, frames=len(steps), blit=True, repeat=False)
    movie.save(path, writer=writer, dpi=dpi)
    return path
