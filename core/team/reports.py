"""`daily | weekly | monthly | session | blocks --team [--member NAME]`: the usage reports over
the team server, in the local reports' JSON shapes and tables with a `member` field and column.
The server is read with the person's own login: under row-level security a member sees their
own rows, a lead everyone's."""

from __future__ import annotations

import argparse
import sys
import time

from ..reports import shapes, text
from ..reports.query import Group, totals
from ..reports.table import Column, Row, render, terminal_width, use_color
from .queries import MemberBlock, MemberGroup, MemberSession, Scope, blocks, period_groups, sessions


def open_scope(args: argparse.Namespace):
    """(connection, Scope) for a --team report; TeamError/UserError of one line otherwise."""
    from ..cli.common import filters_from_args
    from ..cli.config_cmd import load_or_fail
    from . import config as team_config, server

    filters, tz = filters_from_args(args)
    settings = load_or_fail(getattr(args, "config", None))
    cfg = team_config.from_settings(settings) or team_config.load(getattr(args, "config", None))
    conn = server.connect(cfg.url)
    try:
        server.check_schema(conn)
        salt = server.meta(conn).get("project_salt", "")
    except BaseException:
        conn.close()
        raise
    return conn, Scope(filters, tz, args.member, salt)


def run_report(args: argparse.Namespace, *, now_ms: int | None = None) -> int:
    from ..cli.common import UserError, print_json
    from ..reports.query import WEEKDAYS

    if args.command == "blocks" and not (0 < args.session_length <= 24 * 7
                                         and (args.session_length * 4).is_integer()):
        raise UserError(f"--session-length {args.session_length:g}: expected hours in quarter hours "
                        "between 0.25 and 168 (e.g. 5)")
    conn, scope = open_scope(args)
    width, color = terminal_width(), use_color()
    desc = args.order == "desc"
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    try:
        if args.command in shapes.PERIOD_KEY:
            week_start = WEEKDAYS.index(getattr(args, "start_of_week", "monday"))
            groups = period_groups(conn, args.command, scope, week_start=week_start)
            total = totals(list(groups))
            if desc:
                groups.reverse()
            if args.json:
                print_json(period_json(args.command, groups, total))
            elif groups:
                print(period_table(args.command, groups, total, breakdown=args.breakdown, width=width, color=color))
            return _empty(not groups, args.json)
        if args.command == "session":
            found = sessions(conn, scope)
            total = totals(list(found))
            if desc:
                found.reverse()
            if args.json:
                print_json(session_json(found, total))
            elif found:
                print(session_table(found, total, scope.tz, breakdown=args.breakdown, width=width, color=color))
            return _empty(not found, args.json)
        got = blocks(conn, scope, now_ms=now_ms, hours=args.session_length)
        if args.active:
            got = [b for b in got if b.is_active]
        if desc:
            got.reverse()
        if args.json:
            print_json({"blocks": [{**shapes.block_json(b, now_ms), "member": b.member} for b in got]})
        elif got:
            print(blocks_tables(got, scope.tz, now_ms, breakdown=args.breakdown, width=width, color=color))
        return _empty(not got, args.json)
    finally:
        conn.close()


def _empty(empty: bool, as_json: bool) -> int:
    if empty:
        print("No team usage matches these filters (pushed with `token-roi team sync`).",
              file=sys.stderr if as_json else sys.stdout)
    return 0


def members_of(rows) -> list[str]:
    return sorted({r.member for r in rows})


def period_json(period: str, groups: list[MemberGroup], total: Group) -> dict:
    key = shapes.PERIOD_KEY[period]
    return {period: [{key: g.key, "member": g.member, **shapes.usage_row(g)} for g in groups],
            "totals": {**shapes.totals_row(total), "members": members_of(groups)}}


def session_json(found: list[MemberSession], total: Group) -> dict:
    out = shapes.session_json(found, total)
    for row, s in zip(out["sessions"], found):
        row["member"] = s.member
    out["totals"]["members"] = members_of(found)
    return out


def period_table(period: str, groups: list[MemberGroup], total: Group, *, breakdown: bool, width: int,
                 color: bool) -> str:
    cols = [Column(text.PERIOD_TITLE[period], "left"), Column("Member", "left"),
            Column("Agents", "left", drop=6, optional=True), *text._usage_columns()]
    rows: list[Row] = []
    for g in groups:
        rows.append(Row([g.key, g.member, ", ".join(g.agents), *text._usage_values(g, text._models_text(g))],
                        "warn" if g.unpriced_calls else ""))
        if breakdown:
            rows.extend(text._breakdown_rows(g, 3))
    foot = Row(["Total", f"{len(members_of(groups))} members", "", *text._usage_values(total, "")], "bold")
    return text._finish(render(cols, rows, totals=foot, width=width, color=color), total)


def session_table(found: list[MemberSession], total: Group, tz, *, breakdown: bool, width: int, color: bool) -> str:
    cols = [Column("Member", "left"), Column("Project", "left", shrink=True, min_width=12),
            Column("Session", "left", drop=2), Column("Agent", "left", drop=6, optional=True),
            *text._usage_columns(), Column("Last Activity", "left", drop=1)]
    rows: list[Row] = []
    for s in found:
        rows.append(Row([s.member, text._short_project(s.project), s.session_id[:8], s.agent,
                         *text._usage_values(s, text._models_text(s)), text.local_time(s.last_ts, tz)],
                        "warn" if s.unpriced_calls else ""))
        if breakdown:
            rows.extend(Row([*r.values, ""], r.style) for r in text._breakdown_rows(s, 4))
    foot = Row(["Total", "", "", "", *text._usage_values(total, ""), ""], "bold")
    return text._finish(render(cols, rows, totals=foot, width=width, color=color), total)


def blocks_tables(found: list[MemberBlock], tz, now_ms: int, *, breakdown: bool, width: int, color: bool) -> str:
    """One blocks table per member (each member's windows are their own), under its name."""
    out = []
    for member in members_of(found):
        mine = [b for b in found if b.member == member]
        out.append(f"Member: {member}\n" + text.blocks_table(mine, tz, now_ms, breakdown=breakdown, width=width,
                                                             color=color))
    return "\n\n".join(out)
