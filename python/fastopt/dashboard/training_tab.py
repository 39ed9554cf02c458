"""The training tab: start MNIST trainings in the background, watch their loss and accuracy grow, stop
them, compare them with each other and with opened run folders of ``fastopt train`` / ``compare``."""
from __future__ import annotations

import tempfile

import panel as pn
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from ..optim.registry import REGISTRY
from .landscape_figures import color_of
from .trainer import MAX_EPOCHS, open_runs, start_job

POLL_MS = 500


class TrainingTab:
    """Widgets, the two figures (``train-loss``/``test-loss`` and ``test-accuracy`` sources) and the jobs.

    Parameters
    ----------
    runs_dir : path-like, optional
        Where new runs are written (default: a fresh temporary folder).
    data : path-like, optional
        Where MNIST is.
    limit : int or None, default 10000
        The default samples per split.
    notify : callable, optional
        ``notify(message)`` for the page's message bar.
    """

    def __init__(self, runs_dir=None, data=None, limit: int | None = 10000, notify=None):
        self.runs_dir = runs_dir or tempfile.mkdtemp(prefix="fastopt-dashboard-")
        self.data, self.notify = data, notify or (lambda m: None)
        self.jobs: dict[str, object] = {}
        self.optimizer = pn.widgets.Select(label="Optimizer", options=list(REGISTRY), value="adam",
                                           css_classes=["train-optimizer"])
        self.lr = pn.widgets.FloatInput(label="Learning rate (empty: the optimizer's default)", value=None,
                                        start=1e-8, end=10.0, css_classes=["train-lr"])
        self.epochs = pn.widgets.IntInput(label="Epochs", value=10, start=1, end=MAX_EPOCHS, css_classes=["epochs"])
        self.batch_size = pn.widgets.IntInput(label="Batch size", value=128, start=1, end=60000)
        self.limit = pn.widgets.IntInput(label="Samples per split (--limit; empty: all)", value=limit, start=1,
                                         end=60000, css_classes=["limit"])
        self.hidden = pn.widgets.TextInput(label="Hidden widths", value="128")
        self.start = pn.widgets.Button(label="Train", color="primary", css_classes=["train"])
        self.stop = pn.widgets.Button(label="Stop all", color="danger", css_classes=["stop"])
        self.folder = pn.widgets.TextInput(label="Open a run folder (fastopt train / compare --out)",
                                           placeholder="path/to/run", css_classes=["open-folder"])
        self.open = pn.widgets.Button(label="Open", css_classes=["open"])
        self.shown = pn.widgets.MultiChoice(label="Compare runs", options=[], value=[], css_classes=["shown-runs"])
        self.table = pn.pane.Markdown("no run yet", css_classes=["runs-table"], sizing_mode="stretch_width")
        self.start.on_click(lambda e: self.train())
        self.stop.on_click(lambda e: self.stop_all())
        self.open.on_click(lambda e: self.open_folder(self.folder.value))
        self.shown.param.watch(lambda e: self.refresh(), "value")

        self.loss_source = ColumnDataSource({"xs": [], "ys": [], "color": [], "name": [], "dash": []},
                                            name="train-curves")
        self.accuracy_source = ColumnDataSource({"xs": [], "ys": [], "color": [], "name": []}, name="accuracy-curves")
        self.loss_figure = figure(title="loss (solid: train, dashed: test)", width=520, height=360,
                                  x_axis_label="epoch", y_axis_type="log", name="training-loss")
        self.loss_figure.multi_line("xs", "ys", source=self.loss_source, line_color="color", line_dash="dash",
                                    line_width=2)
        self.accuracy_figure = figure(title="test accuracy", width=520, height=360, x_axis_label="epoch",
                                      name="training-accuracy")
        self.accuracy_figure.multi_line("xs", "ys", source=self.accuracy_source, line_color="color", line_width=2,
                                        legend_field="name")
        self.accuracy_figure.legend.location = "bottom_right"
        controls = pn.Column(self.optimizer, self.lr, self.epochs, self.batch_size, self.limit, self.hidden,
                             pn.Row(self.start, self.stop), self.folder, self.open, width=380)
        self.panel = pn.Row(controls, pn.Column(self.shown, pn.Row(pn.pane.Bokeh(self.loss_figure),
                                                                  pn.pane.Bokeh(self.accuracy_figure)), self.table))
        self._poll = None

    def _label(self, optimizer: str) -> str:
        n = 1
        while f"{optimizer}-{n}" in self.jobs:
            n += 1
        return f"{optimizer}-{n}"

    def _add(self, job) -> None:
        self.jobs[job.label] = job
        self.shown.options = list(self.jobs)
        self.shown.value = [*self.shown.value, job.label]

    def train(self):
        """Start a training with the widgets' settings; returns the job (None if refused)."""
        try:
            hidden = tuple(int(h) for h in self.hidden.value.replace(" ", "").split(",") if h)
        except ValueError:
            self.notify(f"hidden: expected widths such as 128 or 256,128, got {self.hidden.value!r}")
            return None
        try:
            job = start_job(self._label(self.optimizer.value), self.optimizer.value, self.runs_dir, lr=self.lr.value,
                            epochs=int(self.epochs.value or 1), batch_size=int(self.batch_size.value or 128),
                            limit=self.limit.value, hidden=hidden, data=self.data)
        except ValueError as e:
            self.notify(f"training refused: {e}")
            return None
        self._add(job)
        self._start_polling()
        return job

    def stop_all(self) -> None:
        """Stop every running training after its current epoch."""
        for job in self.jobs.values():
            job.stop()
        self.refresh()

    def open_folder(self, folder) -> None:
        """Add the saved runs in ``folder`` to the comparison."""
        if not folder:
            self.notify("open: type a run folder's path first")
            return
        try:
            jobs = open_runs(folder)
        except (OSError, ValueError) as e:
            self.notify(f"open: {e}")
            return
        for job in jobs:
            if job.label in self.jobs:
                job.label = self._label(job.label)
            self._add(job)
        self.refresh()

    def _start_polling(self) -> None:
        if self._poll is None and pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            self._poll = pn.state.add_periodic_callback(self.refresh, period=POLL_MS)

    def refresh(self) -> None:
        """Redraw the curves and the table from the jobs' records (the poll calls it while a job runs)."""
        shown = [self.jobs[label] for label in self.shown.value if label in self.jobs]
        xs, ys, colors, names, dashes = [], [], [], [], []
        acc_xs, acc_ys, acc_colors = [], [], []
        for job in shown:
            epochs = [r["epoch"] for r in job.records]
            color = color_of(job.optimizer)
            for key, dash in (("train_loss", "solid"), ("test_loss", "dashed")):
                xs.append(epochs)
                ys.append([r[key] for r in job.records])
                colors.append(color)
                names.append(job.label)
                dashes.append(dash)
            acc_xs.append(epochs)
            acc_ys.append([r["test_accuracy"] for r in job.records])
            acc_colors.append(color)
        self.loss_source.data = {"xs": xs, "ys": ys, "color": colors, "name": names, "dash": dashes}
        self.accuracy_source.data = {"xs": acc_xs, "ys": acc_ys, "color": acc_colors, "name": [j.label for j in shown]}
        rows = ["| run | optimizer | lr | epochs | test accuracy | status |", "|---|---|---|---|---|---|"]
        for job in self.jobs.values():
            last = job.records[-1] if job.records else {}
            acc = last.get("test_accuracy")
            rows.append(f"| {job.label} | {job.optimizer} | {'default' if job.lr is None else f'{job.lr:g}'} | "
                        f"{len(job.records)} | {'' if acc is None else f'{acc:.4f}'} | {job.status} |")
        self.table.object = "\n".join(rows) if self.jobs else "no run yet"
        if self._poll is not None and not any(j.status in ("running", "stopping") for j in self.jobs.values()):
            self._poll.stop()
            self._poll = None

    def finished_folders(self) -> dict:
        """label -> run folder of every job that has a model checkpoint (the curvature tab's choices)."""
        return {label: job.folder for label, job in self.jobs.items()
                if job.folder is not None and (job.folder / "checkpoint.npz").is_file()
                and job.status not in ("running", "stopping")}
