"""token-roi daily | weekly | monthly | session | blocks: ingest what is new, then report."""

from __future__ import annotations

import argparse
import sys
import time

from .. import adapters
from ..ingest import refresh
from ..reports import query
from ..reports.blocks import usage_blocks
from ..reports.query import WEEKDAYS, Filters, has_calls
from ..reports.shapes import blocks_json, period_json, session_json
from ..reports.table import terminal_width, use_color
from ..reports.text import blocks_table, period_table, session_table
from ..store import Store
from .common import UserError, add_filter_arguments, filters_from_args, print_json

PERIODS = ("daily", "weekly", "monthly")


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    add_filter_arguments(p)
    p.add_argument("--team", action="store_true",
                   help="report over the team server (team.url), a row per member")
    p.add_argument("--member", metavar="NAME", help="only this member's rows on the team server (implies --team)")
    p.add_argument("--config", metavar="PATH", help="settings file, for --team (default: $TOKEN_ROI_CONFIG)")
    p.add_argument("-b", "--breakdown", action="store_true", help="per-model rows under each line")
    p.add_argument("-o", "--order", choices=("asc", "desc"), default="asc",
                   help="oldest (asc, default) or newest first")
    if name == "weekly":
        p.add_argument("-w", "--start-of-week", choices=WEEKDAYS, default="monday",
                       help="first day of a week (default monday, ISO; ccusage's default is sunday)")
    if name == "blocks":
        p.add_argument("-a", "--active", action="store_true", help="only the active block, with its projection")
        p.add_argument("-n", "--session-length", type=float, default=5.0, metavar="HOURS",
                       help="block length in hours (default 5)")


def run(args: argparse.Namespace, *, now_ms: int | None = None) -> int:
    if getattr(args, "team", False) or getattr(args, "member", None):
        return _team_report(args, now_ms)         # the same report over the team server

    filters, tz = filters_from_args(args)
    if args.command == "blocks" and not (0 < args.session_length <= 24 * 7
                                         and (args.session_length * 4).is_integer()):
        raise UserError(f"--session-length {args.session_length:g}: expected hours in quarter hours "
                        "between 0.25 and 168 (e.g. 5)")
    store = Store()
    try:
        stats = refresh(store, list(filters.agents) if filters.agents else None)   # progress: stderr, TTY only
        for w in stats.warnings:
            print(f"token-roi: warning: {w}", file=sys.stderr)
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        width, color = terminal_width(), use_color()
        desc = args.order == "desc"

        if args.command in PERIODS:
            week_start = query.WEEKDAYS.index(getattr(args, "start_of_week", "monday"))
            groups = query.usage_by_period(store, args.command, filters, tz, week_start=week_start)
            total = query.totals(groups)
            if desc:
                groups.reverse()
            if args.json:
                print_json(period_json(args.command, groups, total))
            if not groups:
                return _nothing(store, filters, args.json)
            if not args.json:
                print(period_table(args.command, groups, total, breakdown=args.breakdown, width=width,
                                   color=color, show_agents=len(total.agents) > 1))
            return 0

        if args.command == "session":
            sessions = query.usage_by_session(store, filters, tz)
            total = query.totals(sessions)
            if desc:
                sessions.reverse()
            if args.json:
                print_json(session_json(sessions, total))
            if not sessions:
                return _nothing(store, filters, args.json)
            if not args.json:
                print(session_table(sessions, total, tz, breakdown=args.breakdown, width=width, color=color,
                                    show_agents=len(total.agents) > 1))
            return 0

        blocks = usage_blocks(store, filters, tz, now_ms=now_ms, hours=args.session_length)
        if args.active:
            blocks = [b for b in blocks if b.is_active]
        if desc:
            blocks.reverse()
        if args.json:
            print_json(blocks_json(blocks, now_ms))
        if not blocks:
            if args.active and query.has_calls(store, filters, tz):
                print("No active block: no usage in the last " f"{args.session_length:g} hours.",
                      file=sys.stderr if args.json else sys.stdout)
                return 0
            return _nothing(store, filters, args.json)
        if not args.json:
            print(blocks_table(blocks, tz, now_ms, breakdown=args.breakdown, width=width, color=color))
        return 0
    finally:
        store.close()


def _team_report(args: argparse.Namespace, now_ms: int | None) -> int:
    from .team_cmd import run_report
    return run_report(args, now_ms=now_ms)


def _nothing(store, filters, as_json: bool) -> int:
    """One plain line saying why the report is empty (stderr under --json, keeping stdout JSON)."""
    if has_calls(store, Filters(agents=filters.agents)):
        msg = "No usage matches these filters."
    else:
        msg = no_data_message(filters.agents)
    print(msg, file=sys.stderr if as_json else sys.stdout)
    return 0


def no_data_message(agents: tuple[str, ...] | None = None) -> str:
    found: list[str] = []
    missing: list[str] = []
    for adapter in adapters.available(list(agents) if agents else None):
        try:
            roots = adapter.roots()
        except OSError:
            roots = []
        if roots:
            found.extend(str(r) for r in roots)
        else:
            title = adapter.title or adapter.name
            hint = _DEFAULT_PLACES.get(adapter.name)
            missing.append(f"{title} ({hint})" if hint else title)
    where = []
    if found:
        where.append("searched " + ", ".join(found))
    if missing:
        where.append("no log folder found for " + ", ".join(missing))
    return ("No agent usage found (" + "; ".join(where or ["no agent readers available"]) + "). "
            "Run `token-roi demo` to see the reports on sample data.")


# Where each agent keeps its logs when nothing overrides it, for the "no data" message.
_DEFAULT_PLACES = {
    "claude": "~/.claude/projects, ~/.config/claude/projects or $CLAUDE_CONFIG_DIR",
}
