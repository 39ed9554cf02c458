"""``fastopt dashboard``: the interactive optimizer playground in the browser (needs ``fastopt[dashboard]``)."""
from __future__ import annotations

import functools
from pathlib import Path

from .args import DefaultsHelpFormatter, positive_int


def add_command(subparsers) -> None:
    """Declare ``fastopt dashboard`` and its flags.

    Parameters
    ----------
    subparsers
        The ``fastopt`` parser's subparsers.
    """
    p = subparsers.add_parser(
        "dashboard", help="interactive optimizer playground in the browser (landscape, training, curvature)",
        description="Serve the dashboard at http://HOST:PORT/ (Panel/Bokeh; install fastopt[dashboard]). The "
                    "landscape tab redraws optimizer paths while sliders move, the training tab trains the MNIST "
                    "MLP in the background, the curvature tab shows Hessian eigenvalues. The whole landscape view "
                    "is in the URL; Export JSON writes a configuration that --config opens. Binds 127.0.0.1 only "
                    "unless --host names another interface.",
        formatter_class=DefaultsHelpFormatter)
    p.add_argument("--port", type=int, default=8050, help="TCP port (0: any free one)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 exposes it to the network)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.add_argument("--config", type=Path, metavar="JSON", help="open the view of an exported configuration")
    p.add_argument("--runs-dir", type=Path, metavar="PATH",
                   help="where the training tab writes its run folders (default: a new temporary folder)")
    p.add_argument("--data", metavar="PATH", help="folder holding MNIST (searched before $FASTOPT_DATA)")
    p.add_argument("--limit", type=positive_int, metavar="N", default=10000,
                   help="the training tab's default samples per split")
    p.set_defaults(run=functools.partial(run, parser=p))


def run(args, parser) -> int:
    """``fastopt dashboard``: serve until interrupted.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed flags.
    parser : argparse.ArgumentParser
        The command's parser, which reports bad flags (exit status 2).

    Returns
    -------
    int
        The exit status (1 when Panel is missing).
    """
    from ..dashboard import require_panel
    try:
        require_panel()
    except ImportError as e:
        print(f"fastopt dashboard: {e}")
        return 1
    from ..dashboard.server import check_address, serve
    from ..dashboard.state import from_config
    try:
        check_address(args.host, args.port)
    except ValueError as e:
        parser.error(f"--{str(e).split(':')[0]}: {e}")
    initial = None
    if args.config is not None:
        try:
            initial, messages = from_config(args.config.read_text())
        except (OSError, ValueError) as e:
            parser.error(f"--config: {e}")
        for message in messages:
            print(f"--config: {message}")
    print(f"fastopt dashboard: http://{args.host}:{args.port}/ (Ctrl-C stops it)")
    try:
        serve(args.host, args.port, show=not args.no_browser, initial=initial, runs_dir=args.runs_dir,
              data=args.data, limit=args.limit)
    except KeyboardInterrupt:
        pass
    return 0
