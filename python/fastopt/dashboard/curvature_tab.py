"""The curvature tab: the exact Hessian's eigenvalues along a landscape path, and a trained run's Hessian
spectrum (top eigenvalues by Lanczos, the density by stochastic Lanczos quadrature), computed in a
background thread because a network's spectrum takes seconds."""
from __future__ import annotations

import threading

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from .. import landscape

SPECTRUM_SAMPLES = (100, 10000)


class CurvatureTab:
    """Widgets and figures (sources ``path-eigenvalues``, ``run-eigenvalues``, ``run-density``).

    Parameters
    ----------
    landscape_tab : LandscapeTab
        Whose paths the eigenvalues follow.
    training_tab : TrainingTab
        Whose finished runs can be measured.
    notify : callable, optional
        ``notify(message)`` for the page's message bar.
    """

    def __init__(self, landscape_tab, training_tab, notify=None):
        self.landscape_tab, self.training_tab = landscape_tab, training_tab
        self.notify = notify or (lambda m: None)
        self.visible = False  # the path's eigenvalues are recomputed only while the tab is shown
        self.path_optimizer = pn.widgets.Select(label="Path of", options=[], css_classes=["curvature-optimizer"])
        self.path_optimizer.param.watch(lambda e: self.draw_path(), "value")
        self.eigen_source = ColumnDataSource({"step": [], "low": [], "high": []}, name="path-eigenvalues")
        self.path_figure = figure(title="Hessian eigenvalues along the path", width=560, height=360,
                                  x_axis_label="step", y_axis_label="eigenvalue", name="path-curvature")
        self.path_figure.line("step", "high", source=self.eigen_source, line_width=2, color="#d62728",
                              legend_label="lambda_max")
        self.path_figure.line("step", "low", source=self.eigen_source, line_width=2, color="#1f77b4",
                              legend_label="lambda_min")
        self.path_note = pn.pane.Markdown("", css_classes=["path-note"])

        self.run = pn.widgets.Select(label="Trained run", options=[], css_classes=["spectrum-run"])
        self.refresh_runs = pn.widgets.Button(label="Refresh the list")
        self.refresh_runs.on_click(lambda e: self._list_runs())
        self.samples = pn.widgets.IntInput(label="Samples", value=1000, start=SPECTRUM_SAMPLES[0],
                                           end=SPECTRUM_SAMPLES[1])
        self.compute = pn.widgets.Button(label="Hessian spectrum", color="primary", css_classes=["spectrum"])
        self.compute.on_click(lambda e: self.start_spectrum())
        self.top_source = ColumnDataSource({"index": [], "value": []}, name="run-eigenvalues")
        self.density_source = ColumnDataSource({"grid": [], "density": []}, name="run-density")
        self.top_figure = figure(title="top Hessian eigenvalues", width=420, height=320, x_axis_label="k",
                                 name="run-top")
        self.top_figure.scatter("index", "value", source=self.top_source, size=10)
        self.density_figure = figure(title="eigenvalue density (SLQ)", width=520, height=320, y_axis_type="log",
                                     x_axis_label="eigenvalue", name="run-density-figure")
        self.density_figure.line("grid", "density", source=self.density_source, line_width=2)
        self.spectrum_note = pn.pane.Markdown("train a run (Training tab) or open a run folder, then measure it",
                                              css_classes=["spectrum-note"])
        self._result = None
        self._poll = None
        self.panel = pn.Column(
            pn.pane.Markdown("### Along a landscape path\nThe exact Hessian of the test function at every point "
                             "of the chosen optimizer's path: where lambda_min < 0 the path crosses a "
                             "non-convex region."),
            pn.Row(pn.Column(self.path_optimizer, self.path_note, width=300), self.path_figure),
            pn.pane.Markdown("### A trained network\nLanczos on exact Hessian-vector products over the first "
                             "samples of the run's training split."),
            pn.Row(pn.Column(self.run, self.refresh_runs, self.samples, self.compute, self.spectrum_note, width=300),
                   self.top_figure, self.density_figure))

    # ------------------------------------------------------------------------------ landscape paths
    def path_changed(self) -> None:
        """The landscape view changed: follow it if the tab is shown."""
        names = [n for n in self.landscape_tab.state.optimizers]
        if list(self.path_optimizer.options) != names:
            self.path_optimizer.options = names
        if self.visible:
            self.draw_path()

    def draw_path(self) -> None:
        """The eigenvalues along the chosen optimizer's current path."""
        from .paths import run_of
        name = self.path_optimizer.value
        state = self.landscape_tab.state
        if name not in state.optimizers:
            self.eigen_source.data = {"step": [], "low": [], "high": []}
            return
        run = run_of(state, name)
        if not len(run.path):
            self.eigen_source.data = {"step": [], "low": [], "high": []}
            self.path_note.object = run.message
            return
        c = landscape.curvature_along(state.function, run.path)
        self.eigen_source.data = {"step": np.arange(len(run.path)), "low": c.eigenvalues[:, 0],
                                  "high": c.eigenvalues[:, -1]}
        share = float(np.mean(c.convex)) if len(c.convex) else 0.0
        self.path_note.object = (f"{name} on {state.function}: {share:.0%} of the points convex; "
                                 f"largest condition number {np.nanmax(c.condition):.3g}")

    def show(self, visible: bool) -> None:
        """The tab was shown (True) or left."""
        self.visible = visible
        if visible:
            self.path_changed()
            self._list_runs()

    # ------------------------------------------------------------------------------ trained runs
    def _list_runs(self) -> None:
        self.run.options = list(self.training_tab.finished_folders())

    def start_spectrum(self) -> None:
        """Measure the chosen run's spectrum in a background thread; the page polls for the result."""
        folders = self.training_tab.finished_folders()
        label = self.run.value
        if label not in folders:
            self.notify("spectrum: choose a finished run first (train one, or open a run folder)")
            return
        samples = int(min(max(self.samples.value or SPECTRUM_SAMPLES[0], SPECTRUM_SAMPLES[0]), SPECTRUM_SAMPLES[1]))
        self.spectrum_note.object = f"measuring {label} on {samples} samples..."
        self._result = None
        thread = threading.Thread(target=self._measure, args=(folders[label], samples, label), daemon=True)
        thread.start()
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None and self._poll is None:
            self._poll = pn.state.add_periodic_callback(self.poll, period=500)
        return thread

    def _measure(self, folder, samples: int, label: str) -> None:
        from ..studies.sharpness import hessian_of_run
        try:
            summary, about = hessian_of_run(folder, samples=samples, k=5, trace_samples=20, runs=1)
            self._result = (label, summary, about)
        except Exception as e:  # noqa: BLE001 - a thread has no caller: the page shows why
            self._result = (label, e, None)

    def poll(self) -> None:
        """Draw the spectrum once the thread has one."""
        if self._result is None:
            return
        label, summary, about = self._result
        self._result = None
        if self._poll is not None:
            self._poll.stop()
            self._poll = None
        if isinstance(summary, Exception):
            self.spectrum_note.object = f"spectrum of {label} failed: {type(summary).__name__}: {summary}"
            return
        values = np.asarray(summary.eigenvalues, dtype=float)
        self.top_source.data = {"index": np.arange(1, len(values) + 1), "value": values}
        d = summary.density
        if d is not None:
            self.density_source.data = {"grid": d.grid, "density": np.maximum(d.density, 1e-12)}
        trace = "" if summary.trace is None else f", trace {summary.trace.value:.4g}"
        self.spectrum_note.object = (f"{label}: lambda_max {values[0]:.4g}{trace}; {about['samples']} samples, "
                                     f"{about['parameters']} parameters, loss {about['loss']:.4f}")
