"""token-roi roi [VIEW]: did the AI work pay off, and where is the waste (see core/value/)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from ..ingest import refresh
from ..reports.query import Filters
from ..reports.table import terminal_width, use_color
from ..store import Store
from ..value import roi
from ..value.markdown import report_markdown
from ..value.rates import RatesError
from ..value.views import all_views, render_terminal
from .common import UserError, add_filter_arguments, filters_from_args, parse_date, print_json
from .config_cmd import add_config_argument, load_or_fail

VIEWS = ("all", "projects", "overlap", "agents", "weeks", "sessions", "human", "variance")


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("view", nargs="?", choices=VIEWS, default="all",
                   help="one view (default all); --json always gives the whole object")
    add_filter_arguments(p)
    add_config_argument(p)
    p.add_argument("--markdown", nargs="?", const="roi-report.md", metavar="FILE",
                   help="write the views as Markdown to FILE (default roi-report.md; '-' for stdout)")
    p.add_argument("--no-ingest", action="store_true",
                   help="report on the ledger as it is, without reading new agent logs first")
    p.add_argument("--no-git", action="store_true", help="do not read the projects' git history")
    p.add_argument("--week", metavar="DATE",
                   help="variance: judge the week holding DATE against the three before it "
                        "(default: the last week with usage, which may still be running)")


def run(args: argparse.Namespace) -> int:


    filters, tz = filters_from_args(args)
    week = parse_date(args.week, "--week") if args.week else None
    cfg = load_or_fail(getattr(args, "config", None))
    store = Store()
    try:
        if not args.no_ingest:
            stats = refresh(store, list(filters.agents) if filters.agents else None,
                            show_progress=not args.json and sys.stderr.isatty())
            for w in stats.warnings:
                print(f"token-roi: warning: {w}", file=sys.stderr)
        try:
            report = roi.build(store, filters, tz, cfg, git=not args.no_git, week=week)
        except RatesError as exc:
            raise UserError(str(exc)) from None
        data = report.as_json()
    finally:
        store.close()
    if args.json:
        print_json(data)
    if not report.sessions:
        print("No sessions match these filters." if filters != Filters() else
              "No sessions in the ledger yet: run an agent (or `token-roi demo`) and try again.",
              file=sys.stderr if args.json else sys.stdout)
    which = None if args.view == "all" else args.view
    if args.markdown:
        text = report_markdown(data, dt.datetime.now(tz), which)
        if args.markdown == "-":
            sys.stdout.write(text)
            return 0
        try:
            with open(args.markdown, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise UserError(f"--markdown {args.markdown}: cannot write: {exc.strerror or exc}", 1) from None
        print(f"token-roi: wrote {args.markdown}", file=sys.stderr)
        return 0
    if args.json or not report.sessions:
        return 0
    width, color = terminal_width(), use_color()
    print("\n\n".join(render_terminal(v, width, color) for v in all_views(data, which)))
    return 0
