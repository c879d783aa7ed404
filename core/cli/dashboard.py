"""`token-roi dashboard`: serve the local web dashboard over the ledger (core/dashboard/)."""

from __future__ import annotations

import argparse
import sys
import webbrowser

from ..accounting import ledger
from ..config import load
from ..dashboard.server import Settings, make_server, serving_process, url_of
from ..store import Store
from .accounting import update
from .common import UserError, resolve_timezone
from .config_cmd import add_config_argument, load_or_fail


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--host", action="append", metavar="HOST",
                   help="address to listen on (default 127.0.0.1: this machine only); repeat it to name "
                        "the host names browsers may use besides localhost, e.g. --host 0.0.0.0 --host mybox.lan")
    p.add_argument("--port", type=int, default=None,
                   help="port to listen on (0: any free one; default: the same port for this ledger at "
                        "every launch when it is free, so the browser's cache keeps the page's code, else a free one)")
    p.add_argument("--no-open", action="store_true", help="do not open a browser")
    p.add_argument("-z", "--timezone", metavar="ZONE", help="IANA time zone for days (default: system)")
    add_config_argument(p)
    p.add_argument("--no-ingest", action="store_true",
                   help="show the ledger as it is, without reading new agent logs first")
    p.add_argument("--no-git", action="store_true", help="do not read the projects' git history")
    p.add_argument("--team", action="store_true",
                   help="Overview, Sessions and Models from the team server (team.url), read with your own login")


def run(args: argparse.Namespace) -> int:

    hosts = args.host or ["127.0.0.1"]
    args.host = hosts[0]
    if args.port is not None and not 0 <= args.port <= 65535:
        raise UserError(f"--port {args.port}: expected 0 (a free port) to 65535")
    tz = resolve_timezone(args.timezone) if args.timezone else None
    settings = load_or_fail(args.config)           # a bad settings file stops here, in one line
    if args.team:
        from ..dashboard import api
        from ..team import config as team_config
        from ..team.dashboard import install
        install(api, team_config.from_settings(settings) or team_config.load(args.config))
    if not args.no_ingest:
        store = Store()
        try:
            update(store, ledger.ledger_path(load(args.config)), show_progress=True)
        finally:
            store.close()
    try:
        server = make_server(args.host, args.port, Settings(tz=tz, config=args.config, git=not args.no_git,
                                                               hosts=tuple(hosts)))
    except OSError as exc:
        where = f"{args.host}:{args.port}" if args.port is not None else args.host
        raise UserError(f"cannot listen on {where}: {exc.strerror or exc}", 1) from None
    url = url_of(server)
    print(f"token-roi dashboard: {url}  (Ctrl-C to stop)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"token-roi: warning: listening on {args.host}: other machines can read your ledger",
              file=sys.stderr)
    if not args.no_open:
        webbrowser.open(url)
    serving_process()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
