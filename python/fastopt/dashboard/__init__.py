"""``fastopt dashboard``: an interactive optimizer playground in the browser (Panel/Bokeh).

Install the extra: ``pip install "fastopt[dashboard]"``.  ``import fastopt`` never imports this package;
:mod:`.state`, :mod:`.paths` and :mod:`.trainer` need no Panel, the tabs, the page and the server do.

    from fastopt.dashboard.server import serve
    serve(port=8050)                     # http://127.0.0.1:8050/
"""


def require_panel():
    """Import Panel, or raise ImportError naming the extra to install."""
    try:
        import panel
    except ImportError as e:
        raise ImportError("fastopt dashboard needs Panel and Bokeh: pip install \"fastopt[dashboard]\"") from e
    return panel


__all__ = ["require_panel"]
