"""`token-roi team init | sync | status`: the team store on PostgreSQL (docs/team.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..ingest import refresh
from ..paths import state_dir
from ..progress import Progress
from ..reports import shapes
from ..reports.query import WEEKDAYS, Filters, totals
from ..reports.table import terminal_width, use_color
from ..store import Store
from ..team import config as team_config
from ..team import server, sync
from ..team.config import redact
from ..team.queries import Scope, blocks, period_groups, sessions, spend_lines, team_subscriptions
from ..team.reports import blocks_tables, empty_note, period_json, period_table, session_json, session_table
from .accounting import Context
from .common import UserError, filters_from_args, parse_date, print_json, resolve_timezone
from .config_cmd import add_config_argument, load_or_fail


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="create or upgrade the server schema (idempotent)")
    init.add_argument("--roles", action="store_true",
                      help="also set up the token_roi_member role (row-level security: members read and write "
                           "their own rows) and the token_roi_lead role (reads every row)")
    sync = sub.add_parser("sync", help="push what is new in this ledger to the team server")
    sync.add_argument("--dry-run", action="store_true",
                      help="print what would be sent (one JSON object a line) and send nothing")
    sync.add_argument("--batch-size", type=int, default=5000, metavar="N", help="calls per server transaction")
    sync.add_argument("--quiet", action="store_true", help="no summary line (the hook's background sync)")
    sync.add_argument("--no-ingest", action="store_true", help="push the ledger as it is, without reading new logs")
    sub.add_parser("status", help="the server, its schema, this machine's position and the members' devices")
    for q in (init, sync, sub.choices["status"]):
        add_config_argument(q)


def run(args: argparse.Namespace) -> int:

    settings = load_or_fail(args.config)
    cfg = team_config.from_settings(settings) or team_config.load(args.config)
    conn = server.connect(cfg.url)
    try:
        if args.action == "init":
            applied = server.migrate(conn)
            if args.roles:
                server.setup_roles(conn)
            where = team_config.redact(cfg.url)
            if applied:
                print(f"team schema on {where}: applied {', '.join(applied)} (version {server.SCHEMA_VERSION})")
            else:
                print(f"team schema on {where}: up to date (version {server.SCHEMA_VERSION})")
            if args.roles:
                print(f"roles: {server.MEMBER_ROLE} (row-level security: own rows) and {server.LEAD_ROLE} "
                      "(reads all); grant them to login roles, e.g. "
                      f"CREATE ROLE alice LOGIN IN ROLE {server.MEMBER_ROLE}")
            return 0
        if args.action == "sync":
            server.check_schema(conn)          # (before reading any log: a refused sync touches nothing)
            return _sync(args, settings, cfg, conn)
        return _status(cfg, conn)
    finally:
        conn.close()


def _sync(args: argparse.Namespace, settings: dict, cfg, conn) -> int:

    if args.batch_size < 1:
        raise UserError(f"--batch-size {args.batch_size}: expected a positive number")
    store = Store()
    try:
        if not args.no_ingest:
            stats = refresh(store, show_progress=not args.quiet)
            for w in stats.warnings:
                print(f"token-roi: warning: {w}", file=sys.stderr)
        if args.dry_run:
            result = sync.dry_run(store, conn, cfg, settings=settings, batch=args.batch_size)
            print(f"dry run: would send {result.calls_sent} calls, {result.deletes_sent} deletions, "
                  f"{result.subscriptions} subscriptions, {result.snapshots_sent} rate-limit snapshots "
                  f"as member {result.member!r}", file=sys.stderr)
            return 0
        bar: Progress | None = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if args.quiet:
                return
            if bar is None:
                bar = Progress(total, "Pushing to the team server", unit="changes")
            bar.advance(done - bar.done)

        try:
            result = sync.sync(store, conn, cfg, settings=settings, batch=args.batch_size, progress=progress)
        finally:
            if bar is not None:
                bar.close()
        _auto_sync_flag(cfg.auto_sync)
        if not args.quiet:
            print(f"pushed {result.calls_sent} calls ({result.calls_changed} new or better on the server), "
                  f"{result.deletes_sent} deletions, {result.subscriptions} subscriptions, "
                  f"{result.snapshots_sent} rate-limit snapshots as member {result.member!r} "
                  f"in {result.seconds:.1f} s")
        return 0
    finally:
        store.close()


def open_scope(args: argparse.Namespace):
    """(connection, Scope) for a --team report; TeamError/UserError of one line otherwise."""

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
            return empty_note(not groups, args.json)
        if args.command == "session":
            found = sessions(conn, scope)
            total = totals(list(found))
            if desc:
                found.reverse()
            if args.json:
                print_json(session_json(found, total))
            elif found:
                print(session_table(found, total, scope.tz, breakdown=args.breakdown, width=width, color=color))
            return empty_note(not found, args.json)
        got = blocks(conn, scope, now_ms=now_ms, hours=args.session_length)
        if args.active:
            got = [b for b in got if b.is_active]
        if desc:
            got.reverse()
        if args.json:
            print_json({"blocks": [{**shapes.block_json(b, now_ms), "member": b.member} for b in got]})
        elif got:
            print(blocks_tables(got, scope.tz, now_ms, breakdown=args.breakdown, width=width, color=color))
        return empty_note(not got, args.json)
    finally:
        conn.close()


def _auto_sync_flag(on: bool) -> None:
    """The Stop hook starts a background sync only while this flag file exists (it cannot read
    the YAML settings itself: see guard/ledger.py)."""
    flag = state_dir() / "team-auto-sync"
    try:
        if on:
            flag.parent.mkdir(parents=True, exist_ok=True)
            flag.touch()
        else:
            flag.unlink(missing_ok=True)
    except OSError:
        pass


def _status(cfg, conn) -> int:

    server.check_schema(conn)
    info = server.meta(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM calls")
        row = cur.fetchone()
        calls = row[0] if row else 0
        cur.execute("SELECT device_id, member, last_push, rows_pushed FROM devices ORDER BY member, device_id")
        devices = cur.fetchall()
    conn.rollback()
    store = Store()
    try:
        device = store.get_meta(sync.DEVICE)
        same = store.get_meta(sync.SERVER) == info.get("server_id")
        pending = None
        if same and store.get_meta(sync.LOG_ON):
            pos = {k: int(store.get_meta(k) or 0) for k in (sync.FULL_UPTO, sync.FULL_POS, sync.SEQ)}
            pending = sync.pending_changes(store, pos)
    finally:
        store.close()
    print(f"server:   {redact(cfg.url)} (schema version {info.get('schema_version')}, login {conn.info.user!r})")
    print(f"member:   {cfg.member or conn.info.user}")
    print(f"visible:  {calls} calls")
    if pending is None:
        print(f"this device ({device or 'no id yet'}): never pushed to this server")
    else:
        print(f"this device ({device}): {pending} local changes not pushed yet")
    for d in devices:
        print(f"  {d[1]:<16} {d[0]}  last push {d[2]:%Y-%m-%d %H:%M}  {d[3]} rows")
    return 0


class TeamLines:
    """Stands where an accounting Context has its store: the spend lines come from the team server
    (cli/accounting.py's lines_for asks for them)."""

    def __init__(self, conn, scope):
        self.conn, self.scope = conn, scope

    def team_lines(self, filters, subscriptions) -> list:

        return spend_lines(self.conn, replace(self.scope, filters=filters), subscriptions)


def open_team_context(args: argparse.Namespace):
    """budget / subscriptions --team: an accounting Context whose spend lines and plans are the
    team's (every member's plans, named 'member: plan'), read from the server."""


    cfg = load_or_fail(getattr(args, "config", None))
    tz = resolve_timezone(getattr(args, "timezone", None))
    as_of = getattr(args, "as_of", None)
    today = parse_date(as_of, "--as-of") if as_of else dt.datetime.now(tz).date()
    team = team_config.from_settings(cfg) or team_config.load(getattr(args, "config", None))
    conn = server.connect(team.url)
    server.check_schema(conn)
    salt = server.meta(conn).get("project_salt", "")
    cfg = {**cfg, "subscriptions": team_subscriptions(conn)}
    # TeamLines stands where the store goes: lines_for (cli/accounting.py) asks it for team_lines.
    lines = TeamLines(conn, Scope(Filters(), tz, None, salt))
    return Context(cfg, lines, tz, today, Path())  # type: ignore[arg-type]
