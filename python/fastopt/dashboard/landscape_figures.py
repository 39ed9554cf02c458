"""The landscape tab's Bokeh figures and the data sources behind them.

Every glyph reads a named ColumnDataSource, so a redraw replaces only its ``data`` (Bokeh sends the new
columns, not a new figure) and a browser test can find each source by name: ``paths``, ``losses``,
``diverged``, ``start``, ``landscape``, ``levels``, ``heat``.
"""
from __future__ import annotations

import contourpy
import numpy as np
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper
from bokeh.palettes import Greys256, Viridis256
from bokeh.plotting import figure

from .. import landscape
from ..optim.registry import REGISTRY
from .paths import HeatMap, Run, loss_scale

RESOLUTION = 160  # grid points per axis of the background image and its level lines
LEVELS = 14
SECOND_ORDER_COLORS = ("#222222", "#555555", "#7f3b08", "#2d004b", "#b35806", "#542788", "#01665e", "#8e0152")


def color_of(name: str) -> str:
    """The optimizer's colour in every fastopt figure; dark tones for the second-order methods."""
    e = REGISTRY.get(name)
    if e is not None:
        return e.color
    methods = landscape.second_order_methods()
    return SECOND_ORDER_COLORS[methods.index(name) % len(SECOND_ORDER_COLORS)] if name in methods else "#000000"


class LandscapeFigures:
    """The contour with the paths, the loss against step, and the heat map, with their sources."""

    def __init__(self):
        self.landscape = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []}, name="landscape")
        self.levels = ColumnDataSource({"xs": [], "ys": []}, name="levels")
        self.paths = ColumnDataSource({"xs": [], "ys": [], "color": [], "name": []}, name="paths")
        self.losses = ColumnDataSource({"xs": [], "ys": [], "color": [], "name": []}, name="losses")
        self.diverged = ColumnDataSource({"x": [], "y": [], "color": [], "name": [], "step": []}, name="diverged")
        self.start = ColumnDataSource({"x": [], "y": []}, name="start")
        self.heat = ColumnDataSource({"x": [], "y": [], "lr": [], "momentum": [], "final": [], "width": [],
                                      "height": []}, name="heat")

        self.contour = figure(title="", width=560, height=480, tools="pan,wheel_zoom,box_zoom,reset,tap,save",
                              name="contour", match_aspect=False, toolbar_location="above",
                              css_classes=["contour-figure"])
        self.contour.image("image", x="x", y="y", dw="dw", dh="dh", source=self.landscape,
                           color_mapper=LinearColorMapper(palette=Greys256[40:], nan_color="white"))
        self.contour.multi_line("xs", "ys", source=self.levels, line_color="#ffffff", line_alpha=0.6, line_width=1)
        paths = self.contour.multi_line("xs", "ys", source=self.paths, line_color="color", line_width=2.5,
                                        legend_field="name")
        self.contour.scatter("x", "y", source=self.start, size=11, marker="circle", fill_color="white",
                             line_color="black", line_width=2)
        self.contour.scatter("x", "y", source=self.diverged, size=22, marker="x", line_color="color",
                             line_width=4, name="diverged-marker")
        self.contour.add_tools(HoverTool(renderers=[paths], tooltips=[("optimizer", "@name")]))
        self.contour.legend.location = "top_left"
        self.contour.legend.background_fill_alpha = 0.7
        self.contour.xaxis.axis_label, self.contour.yaxis.axis_label = "x", "y"

        self.loss = figure(title="loss against step", width=460, height=480, tools="pan,wheel_zoom,box_zoom,reset,save",
                           name="loss", toolbar_location="above")
        self.loss.multi_line("xs", "ys", source=self.losses, line_color="color", line_width=2)
        self.loss.xaxis.axis_label = "step"

        self.heat_mapper = LinearColorMapper(palette=Viridis256, nan_color="#d9d9d9")
        self.heat_figure = figure(title="heat map", width=460, height=360, tools="tap,hover,save", name="heat-map",
                                  tooltips=[("lr", "@lr{0.000e}"), ("momentum", "@momentum{0.00}"),
                                            ("final", "@final")], toolbar_location="above")
        self.heat_figure.rect("x", "y", width="width", height="height", source=self.heat, line_color=None,
                              fill_color={"field": "final", "transform": self.heat_mapper})
        self.heat_figure.add_layout(ColorBar(color_mapper=self.heat_mapper, width=10), "right")
        self.heat_figure.xaxis.axis_label = "log10 learning rate (click a cell to use it)"

    def draw_function(self, function: str) -> None:
        """The background of ``function``: log-scaled values as an image, level lines, the fixed ranges."""
        fn = landscape.get(function)
        (x0, x1), (y0, y1) = fn.domain
        X, Y = np.meshgrid(np.linspace(x0, x1, RESOLUTION), np.linspace(y0, y1, RESOLUTION))
        Z = fn.grid(X, Y)
        shade = np.log1p(Z - np.nanmin(Z))  # log-scaled: the valleys of rosenbrock and beale stay visible
        self.landscape.data = {"image": [shade], "x": [x0], "y": [y0], "dw": [x1 - x0], "dh": [y1 - y0]}
        generator = contourpy.contour_generator(X, Y, shade)
        xs, ys = [], []
        for level in np.quantile(shade, np.linspace(0.02, 0.95, LEVELS)):
            for line in generator.lines(level):
                xs.append(line[:, 0])
                ys.append(line[:, 1])
        self.levels.data = {"xs": xs, "ys": ys}
        self.contour.x_range.start, self.contour.x_range.end = x0, x1
        self.contour.y_range.start, self.contour.y_range.end = y0, y1
        self.contour.title.text = f"{function}: click to set the start"
        self.loss.yaxis.axis_label = loss_scale(function)[1]

    def draw_runs(self, function: str, runs: dict[str, Run], start) -> None:
        """The paths, loss curves, divergence markers and start point of ``runs``."""
        transform, _ = loss_scale(function)
        fn = landscape.get(function)
        (x0, x1), (y0, y1) = fn.domain
        shown = {name: run for name, run in runs.items() if len(run.path)}
        colors = [color_of(name) for name in shown]
        self.paths.data = {"xs": [r.path[:, 0] for r in shown.values()], "ys": [r.path[:, 1] for r in shown.values()],
                           "color": colors, "name": list(shown)}
        self.losses.data = {"xs": [np.arange(len(r.losses)) for r in shown.values()],
                            "ys": [transform(r.losses) for r in shown.values()], "color": colors, "name": list(shown)}
        gone = {name: r for name, r in shown.items() if r.diverged_at is not None}
        # The marker sits where the run left the plot: its last drawn point, pulled inside the plotted rectangle.
        last = [r.path[-1] if len(r.path) else np.array(start, dtype=float) for r in gone.values()]
        self.diverged.data = {"x": [float(np.clip(p[0], x0, x1)) for p in last],
                              "y": [float(np.clip(p[1], y0, y1)) for p in last],
                              "color": [color_of(n) for n in gone], "name": list(gone),
                              "step": [r.diverged_at for r in gone.values()]}
        self.start.data = {"x": [float(start[0])], "y": [float(start[1])]}

    def draw_heat(self, heat: HeatMap | None, note: str = "") -> None:
        """The heat map's cells (empty for None) and its title."""
        if heat is None:
            self.heat.data = {k: [] for k in self.heat.data}
            self.heat_figure.title.text = note or "heat map: choose an optimizer with momentum or beta1"
            return
        log_lrs = np.log10(heat.lrs)
        X, Y = np.meshgrid(log_lrs, heat.momenta)
        LR, _ = np.meshgrid(heat.lrs, heat.momenta)
        dx = float(log_lrs[1] - log_lrs[0]) if len(log_lrs) > 1 else 1.0
        dy = float(heat.momenta[1] - heat.momenta[0]) if len(heat.momenta) > 1 else 1.0
        finite = heat.final[np.isfinite(heat.final)]
        if len(finite):
            self.heat_mapper.low, self.heat_mapper.high = float(finite.min()), float(finite.max())
        self.heat.data = {"x": X.ravel(), "y": Y.ravel(), "lr": LR.ravel(), "momentum": Y.ravel(),
                          "final": heat.final.ravel(), "width": np.full(X.size, dx), "height": np.full(X.size, dy)}
        self.heat_figure.yaxis.axis_label = heat.axis
        suffix = f" ({note})" if note else ""
        self.heat_figure.title.text = f"{heat.name}: final {heat.label}, grey: diverged{suffix}"
