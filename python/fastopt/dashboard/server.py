"""Serving the dashboard: one Bokeh server (through Panel) on a local address, a fresh page per session."""
from __future__ import annotations

import ipaddress
import socket

import panel as pn

from .app import create_page, report_exception

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_address(host: str, port: int) -> None:
    """Refuse a port outside 0..65535 (0: any free one) or a host that is neither a name nor an IP address."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(f"port: expected 0 to 65535, got {port!r}")
    if not host or any(c.isspace() for c in host):
        raise ValueError(f"host: expected an address such as 127.0.0.1, got {host!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part.replace("-", "").isalnum() for part in host.split(".")):
            raise ValueError(f"host: {host!r} is neither an IP address nor a host name") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now (for tests and ``--port 0``)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve(host: str = "127.0.0.1", port: int = 8050, show: bool = True, threaded: bool = False, initial=None,
          runs_dir=None, data=None, limit: int | None = 10000):
    """Serve the dashboard at http://host:port/ until interrupted (or, ``threaded``, in a background thread).

    Parameters
    ----------
    host : str, default "127.0.0.1"
        The interface to bind: local only unless another address is given.
    port : int, default 8050
        The port (0: a free one).
    show : bool, default True
        Open the page in the default browser.
    threaded : bool, default False
        Return at once with the server running in a thread (``server.stop()`` ends it).
    initial : State, optional
        The view a page without a query opens with.
    runs_dir, data : path-like, optional
        Where the training tab writes runs, and where MNIST is.
    limit : int or None, default 10000
        The training tab's default samples per split.

    Returns
    -------
    The server (a thread with ``stop()`` when ``threaded``).
    """
    check_address(host, port)
    port = free_port(host) if port == 0 else port
    pn.config.exception_handler = report_exception

    def page():  # a plain function: Panel calls it once per session (a functools.partial it would render)
        return create_page(initial, runs_dir, data, limit)

    origins = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    return pn.serve({"/": page}, address=host, port=port, show=show, threaded=threaded, start=True,
                    title="fastopt dashboard", websocket_origin=origins, verbose=False)
