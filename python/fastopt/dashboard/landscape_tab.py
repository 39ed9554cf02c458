"""The landscape tab: a function, optimizers with a log-scale learning-rate slider each (and momentum or
beta sliders where they apply), noise, steps and seed; the paths redrawn while a slider is dragged.

The sliders watch ``value``, not ``value_throttled``: a native run of 1,000 steps takes well under a
millisecond and only the moved optimizer's run is recomputed (:mod:`.paths` caches the others), so the
redraw can follow the drag.  Steps, noise and seed are cheap too; the heat map (300 runs) is computed
only when asked for.
"""
from __future__ import annotations

import math
from dataclasses import replace

import panel as pn
from bokeh.events import Tap
from bokeh.models import CustomJSTickFormatter

from .. import landscape
from .landscape_figures import LandscapeFigures
from .paths import heat_map, runs_of
from .state import (BETA2_RANGE, LR_RANGE, MAX_OPTIMIZERS, MOMENTUM_RANGE, NOISE_RANGE, STEPS_RANGE, State,
                    default_settings, default_state, heat_axis, optimizer_names)

LOG_LR = CustomJSTickFormatter(code="return Math.pow(10, tick).toPrecision(2)")


class OptimizerControls:
    """One optimizer's sliders: log10 of its learning rate, a default-rate button, momentum / betas.

    Each widget has the CSS class ``<kind>-<name>`` (``lr-adam``, ``default-adam``, ``momentum-sgd``) so
    a browser test can find it.
    """

    def __init__(self, name: str, tab: "LandscapeTab"):
        self.name, self.tab = name, tab
        s = tab.state.settings_of(name)
        self.widgets = {}
        if s.lr is None:
            self.panel = pn.pane.Markdown(f"**{name}**: a second-order method (its line search or trust region "
                                          "chooses every step)", css_classes=[f"second-{name}"])
            return
        self.widgets["lr"] = pn.widgets.FloatSlider(
            label=f"{name} learning rate", start=math.log10(LR_RANGE[0]), end=math.log10(LR_RANGE[1]), step=0.02,
            value=math.log10(s.lr), format=LOG_LR, css_classes=[f"lr-{name}"], sizing_mode="stretch_width")
        for key, bounds, step in (("momentum", MOMENTUM_RANGE, 0.001), ("beta1", MOMENTUM_RANGE, 0.001),
                                  ("beta2", BETA2_RANGE, 0.0001)):
            if getattr(s, key) is not None:
                self.widgets[key] = pn.widgets.FloatSlider(
                    label=f"{name} {key}", start=bounds[0], end=bounds[1], step=step, value=getattr(s, key),
                    format="0.0000" if key == "beta2" else "0.000", css_classes=[f"{key}-{name}"],
                    sizing_mode="stretch_width")
        for key, widget in self.widgets.items():
            widget.param.watch(lambda event, key=key: self._moved(key, event.new), "value")
        self.default = pn.widgets.Button(label="default rate", css_classes=[f"default-{name}"], width=110)
        self.default.on_click(lambda event: self.reset())
        self.panel = pn.Column(pn.Row(self.widgets["lr"], self.default),
                               *[w for k, w in self.widgets.items() if k != "lr"], sizing_mode="stretch_width")

    def _moved(self, key: str, value: float) -> None:
        if self.tab.syncing:
            return
        self.tab.update(self.tab.state.with_settings(self.name, **{key: 10.0 ** value if key == "lr" else value}))

    def reset(self) -> None:
        """Back to the tabulated rate on this function (and the preset momentum and betas)."""
        state = self.tab.state
        self.tab.apply(replace(state, settings={**state.settings,
                                                self.name: default_settings(state.function, self.name)}))

    def show(self, state: State) -> None:
        """Move the sliders to ``state``'s values (without calling back)."""
        s = state.settings_of(self.name)
        for key, widget in self.widgets.items():
            value = getattr(s, key)
            widget.value = math.log10(value) if key == "lr" else value


class LandscapeTab:
    """The tab's widgets and figures, and the one :meth:`update` every change goes through.

    Parameters
    ----------
    state : State
        The view to open with.
    on_change : callable, optional
        ``on_change(state)`` after every redraw (the app writes the URL from it).
    notify : callable, optional
        ``notify(message)`` for what the page should tell the user.
    """

    def __init__(self, state: State, on_change=None, notify=None):
        self.state, self.on_change, self.notify = state, on_change or (lambda s: None), notify or (lambda m: None)
        self.syncing = False  # True while widgets are being moved to a state: their callbacks must not fire
        self.figures = LandscapeFigures()
        self.function = pn.widgets.Select(label="Function", options=landscape.functions(), value=state.function,
                                          css_classes=["function"])
        self.optimizers = pn.widgets.MultiChoice(label="Optimizers", options=optimizer_names(),
                                                 value=list(state.optimizers), max_items=MAX_OPTIMIZERS,
                                                 css_classes=["optimizers"])
        self.steps = pn.widgets.IntSlider(label="Steps", start=STEPS_RANGE[0], end=5000, step=10, value=state.steps,
                                          css_classes=["steps"])
        self.noise = pn.widgets.FloatSlider(label="Gradient noise (std)", start=NOISE_RANGE[0], end=2.0, step=0.01,
                                            value=state.noise, css_classes=["noise"])
        self.seed = pn.widgets.IntInput(label="Seed", start=0, end=2**31 - 1, value=state.seed, css_classes=["seed"])
        self.heat_choice = pn.widgets.Select(label="Heat map of", options=[], css_classes=["heat-choice"])
        self.heat_button = pn.widgets.Button(label="Compute heat map", color="primary", css_classes=["heat"])
        self.status = pn.pane.Markdown("", css_classes=["landscape-status"], sizing_mode="stretch_width")
        self.controls = pn.Column(sizing_mode="stretch_width")
        self._controls: dict[str, OptimizerControls] = {}

        self.function.param.watch(lambda e: self._guarded(self._function_changed, e.new), "value")
        self.optimizers.param.watch(lambda e: self._guarded(self._optimizers_changed, e.new), "value")
        self.steps.param.watch(lambda e: self._guarded(lambda v: self.update(replace(self.state, steps=int(v))),
                                                       e.new), "value")
        self.noise.param.watch(lambda e: self._guarded(lambda v: self.update(replace(self.state, noise=float(v))),
                                                       e.new), "value")
        self.seed.param.watch(lambda e: self._guarded(lambda v: self.update(replace(self.state, seed=int(v))),
                                                      e.new), "value")
        self.heat_choice.param.watch(lambda e: self._guarded(lambda v: self.update(replace(self.state, heat=v)),
                                                             e.new), "value")
        self.heat_button.on_click(lambda e: self.compute_heat())
        self.figures.contour.on_event(Tap, lambda e: self.set_start(e.x, e.y))
        self.figures.heat_figure.on_event(Tap, lambda e: self.pick_heat_cell(e.x, e.y))

        self.load(state)

    def _guarded(self, callback, value) -> None:
        if not self.syncing:
            callback(value)

    # ------------------------------------------------------------------------------------- changes
    def update(self, state: State) -> None:
        """Make ``state`` the view: recompute the runs it changed, redraw, report divergence, call on_change."""
        try:
            runs = runs_of(state)
        except (TypeError, ValueError) as e:  # a value no control offers (a hand-made state): keep the old view
            self.notify(f"refused: {e}")
            return
        self.state = state
        self.figures.draw_runs(state.function, runs, state.start)
        notes = [f"{name} diverged at step {r.diverged_at}" for name, r in runs.items() if r.diverged_at is not None]
        notes += [f"{name}: {r.message}" for name, r in runs.items() if r.message and not len(r.path)]
        self.status.object = "  \n".join(notes) if notes else "no run diverged"
        self.on_change(state)

    def show(self, state: State) -> None:
        """Move every widget to ``state`` (no callbacks fire) and rebuild the optimizer controls."""
        self.syncing = True
        try:
            self.function.value = state.function
            self.optimizers.value = list(state.optimizers)
            self.steps.end = max(self.steps.end, state.steps)  # a link may ask for more steps than the slider shows
            self.steps.value = state.steps
            self.noise.end = max(self.noise.end, state.noise)
            self.noise.value = state.noise
            self.seed.value = state.seed
            self.state = state
            self._rebuild_controls()
            heat_names = [n for n in state.optimizers if heat_axis(state.settings_of(n)) and
                          state.settings_of(n).lr is not None]
            self.heat_choice.options = heat_names
            self.heat_choice.value = state.heat if state.heat in heat_names else (heat_names[0] if heat_names
                                                                                  else None)
        finally:
            self.syncing = False

    def apply(self, state: State) -> None:
        """Move the widgets to ``state`` and redraw (a change that did not come from the widgets)."""
        self.show(state)
        self.update(state)

    def _rebuild_controls(self) -> None:
        for name in self.state.optimizers:
            if name not in self._controls:
                self._controls[name] = OptimizerControls(name, self)
            self._controls[name].show(self.state)
        self.controls.objects = [self._controls[n].panel for n in self.state.optimizers]

    def _function_changed(self, function: str) -> None:
        state = default_state(function, self.state.optimizers)
        state = replace(state, noise=self.state.noise, seed=self.state.seed, steps=self.state.steps)
        self.figures.draw_function(function)
        self.figures.draw_heat(None, "press Compute heat map")
        self.show(state)
        self.update(state)

    def _optimizers_changed(self, names) -> None:
        names = tuple(n for n in names if n in optimizer_names())
        settings = {n: self.state.settings_of(n) for n in names}
        heat = self.state.heat if self.state.heat in names else None
        state = replace(self.state, optimizers=names, settings=settings, heat=heat)
        self.show(state)
        self.update(replace(self.state, heat=self.heat_choice.value))

    def set_start(self, x: float, y: float) -> None:
        """Start every run at (x, y), pulled inside the function's domain."""
        (x0, x1), (y0, y1) = landscape.get(self.state.function).domain
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            self.notify("start: the click gave no finite point; ignored")
            return
        self.update(replace(self.state, start=(min(max(float(x), x0), x1), min(max(float(y), y0), y1))))

    def load(self, state: State) -> None:
        """Open ``state`` (from a link or a configuration file): widgets, background and runs."""
        self.figures.draw_function(state.function)
        self.figures.draw_heat(None, "press Compute heat map")
        self.show(state)
        self.update(state)

    # ------------------------------------------------------------------------------------- heat map
    def compute_heat(self) -> None:
        """The (lr, momentum) heat map of the chosen optimizer around its current rate."""
        name = self.heat_choice.value
        if not name:
            self.figures.draw_heat(None)
            return
        try:
            self.figures.draw_heat(heat_map(self.state, name))
        except ValueError as e:
            self.figures.draw_heat(None, str(e))

    def pick_heat_cell(self, x: float, y: float) -> None:
        """Use the clicked cell's learning rate (x is its log10) and momentum for the heat map's optimizer."""
        name = self.heat_choice.value
        if not name or x is None or y is None:
            return
        axis = heat_axis(self.state.settings_of(name))
        lr = min(max(10.0 ** float(x), LR_RANGE[0]), LR_RANGE[1])
        value = min(max(float(y), MOMENTUM_RANGE[0]), MOMENTUM_RANGE[1])
        self.apply(self.state.with_settings(name, lr=lr, **{axis: value}))
