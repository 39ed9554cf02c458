"""One browser session's page: the tabs, the message bar, the URL kept in step with the view, the export.

The URL's query is read once, when the session opens (``pn.state.session_args``), and rewritten with
``history.replaceState`` after every redraw (a hidden widget's value carries it to the browser; replace,
not push, so a slider drag leaves one history entry).
"""
from __future__ import annotations

import io
import weakref
from urllib.parse import urlencode

import panel as pn

from .curvature_tab import CurvatureTab
from .export import config_json, figure_png
from .landscape_tab import LandscapeTab
from .state import State, default_state, parse, to_query
from .training_tab import TrainingTab

# The message bar of each open page, so that the exception handler (one per server) writes into the page
# whose callback failed.
_MESSAGE_BARS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class MessageBar:
    """The line at the top of the page telling what was clamped, refused or failed."""

    def __init__(self):
        self.pane = pn.pane.Alert("", alert_type="warning", visible=False, css_classes=["messages"],
                                  sizing_mode="stretch_width")

    def show(self, messages) -> None:
        """Show ``messages`` (a str or a list of str); an empty list hides the bar."""
        messages = [messages] if isinstance(messages, str) else list(messages)
        self.pane.object = "  \n".join(messages)
        self.pane.visible = bool(messages)


def report_exception(exception: Exception) -> None:
    """Panel's exception handler: the failing callback's page shows the error; the server carries on."""
    bar = _MESSAGE_BARS.get(pn.state.curdoc) if pn.state.curdoc is not None else None
    if bar is not None:
        bar.show(f"error: {type(exception).__name__}: {exception}")


class DashboardApp:
    """The whole page of one session.

    Parameters
    ----------
    query : dict, optional
        The URL query (str -> str or list of bytes); it wins over ``initial``.
    initial : State, optional
        The view to open when the URL has no query (``fastopt dashboard --config``).
    runs_dir : path-like, optional
        Where the training tab writes its run folders.
    data : path-like, optional
        Where MNIST is (default: ``FASTOPT_DATA``).
    limit : int or None, default 10000
        The training tab's default samples per split.
    """

    def __init__(self, query: dict | None = None, initial: State | None = None, runs_dir=None, data=None,
                 limit: int | None = 10000):
        self.messages = MessageBar()
        if query:
            state, notes = parse(query)
        else:
            state, notes = (initial or default_state()), []
        self.url = pn.widgets.TextInput(value=urlencode(to_query(state)), visible=False, css_classes=["url-state"])
        self.url.jscallback(value="window.history.replaceState(null, '', '?' + source.value)")
        self.landscape = LandscapeTab(state, notify=self.messages.show)
        self.messages.show(notes)
        self.png = pn.widgets.FileDownload(callback=self._png, filename=f"{state.function}.png", label="Export PNG",
                                           color="success", css_classes=["export-png"], embed=False)
        self.json = pn.widgets.FileDownload(callback=self._json, filename=f"{state.function}.json",
                                            label="Export JSON", color="success",
                                            css_classes=["export-json"], embed=False)
        self.training = TrainingTab(runs_dir=runs_dir, data=data, limit=limit, notify=self.messages.show)
        self.curvature = CurvatureTab(self.landscape, self.training, notify=self.messages.show)
        self.landscape.on_change = self._state_changed  # from here on every redraw rewrites the URL
        sidebar = pn.Column(self.landscape.function, self.landscape.optimizers, self.landscape.steps,
                            self.landscape.noise, self.landscape.seed, pn.pane.Markdown("**Per optimizer**"),
                            self.landscape.controls, pn.Row(self.png, self.json), width=380)
        figures = pn.Column(pn.Row(pn.pane.Bokeh(self.landscape.figures.contour),
                                   pn.pane.Bokeh(self.landscape.figures.loss)),
                            self.landscape.status,
                            pn.Row(pn.Column(self.landscape.heat_choice, self.landscape.heat_button),
                                   pn.pane.Bokeh(self.landscape.figures.heat_figure)))
        self.tabs = pn.Tabs(("Landscape", pn.Row(sidebar, figures)), ("Training", self.training.panel),
                            ("Curvature", self.curvature.panel), dynamic=False, css_classes=["tabs"])
        self.tabs.param.watch(lambda e: self.curvature.show(e.new == 2), "active")
        self.panel = pn.Column(pn.pane.Markdown("## fastopt dashboard"), self.messages.pane, self.tabs, self.url,
                               sizing_mode="stretch_width")

    def _state_changed(self, state: State) -> None:
        self.url.value = urlencode(to_query(state))
        self.png.filename, self.json.filename = f"{state.function}.png", f"{state.function}.json"
        self.curvature.path_changed()

    def _png(self):
        return io.BytesIO(figure_png(self.landscape.state))

    def _json(self):
        return io.StringIO(config_json(self.landscape.state))


def create_page(initial: State | None = None, runs_dir=None, data=None, limit: int | None = 10000):
    """The page of a new browser session (what :mod:`.server` serves): the URL's query, else ``initial``."""
    app = DashboardApp(dict(pn.state.session_args or {}), initial, runs_dir, data, limit)
    if pn.state.curdoc is not None:
        _MESSAGE_BARS[pn.state.curdoc] = app.messages
        # The URL the page opened with may have been clamped: once it has loaded, show the view's own query
        # (the widget starts empty so that setting it is a change the browser's callback sees).
        query, app.url.value = app.url.value, ""
        pn.state.onload(lambda: setattr(app.url, "value", query))
    return app.panel
