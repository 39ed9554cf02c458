"""The export of the landscape view: its figure as PNG (drawn by :mod:`fastopt.plots`, the figure
``fastopt landscape`` draws) and its configuration as JSON (``fastopt dashboard --config`` opens it)."""
from __future__ import annotations

import io
import json

from .. import landscape
from .paths import runs_of
from .state import State, to_config


def figure_png(state: State, dpi: int = 100) -> bytes:
    """The contour of ``state``'s function with every run's path, as PNG bytes (diverged runs end where
    they left the plot; runs that could not be made are left out).

    Raises
    ------
    ValueError
        If no run has a path to draw.
    """
    from ..plots import contour  # matplotlib: only when a figure is asked for
    import matplotlib.pyplot as plt

    runs = {name: run for name, run in runs_of(state).items() if len(run.path)}
    if not runs:
        raise ValueError("export: no run has a path to draw")
    figure = contour(landscape.get(state.function), runs, dpi=dpi)
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=dpi)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def config_json(state: State) -> str:
    """The JSON configuration of ``state`` (:func:`fastopt.dashboard.state.to_config`), indented."""
    return json.dumps(to_config(state), indent=1)
