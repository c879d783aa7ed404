"""`token-roi team init | sync | status`: the team store on PostgreSQL (docs/team.md)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    from .config_cmd import add_config_argument
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
    from ..team import config as team_config, server
    from .config_cmd import load_or_fail

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
    from ..store import Store
    from ..team import sync
    from .common import UserError

    if args.batch_size < 1:
        raise UserError(f"--batch-size {args.batch_size}: expected a positive number")
    store = Store()
    try:
        if not args.no_ingest:
            from ..ingest import refresh
            stats = refresh(store, show_progress=not args.quiet)
            for w in stats.warnings:
                print(f"token-roi: warning: {w}", file=sys.stderr)
        if args.dry_run:
            result = sync.dry_run(store, conn, cfg, settings=settings, batch=args.batch_size)
            print(f"dry run: would send {result.calls_sent} calls, {result.deletes_sent} deletions, "
                  f"{result.subscriptions} subscriptions, {result.snapshots_sent} rate-limit snapshots "
                  f"as member {result.member!r}", file=sys.stderr)
            return 0
        from ..progress import Progress
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


def _auto_sync_flag(on: bool) -> None:
    """The Stop hook starts a background sync only while this flag file exists (it cannot read
    the YAML settings itself: see guard/ledger.py)."""
    from ..paths import state_dir
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
    from ..store import Store
    from ..team import server, sync
    from ..team.config import redact

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
            pending = store.db.execute("SELECT COUNT(*) FROM calls WHERE id > ? AND id <= ?",
                                       (pos[sync.FULL_POS], pos[sync.FULL_UPTO])).fetchone()[0] + \
                store.db.execute("SELECT COUNT(*) FROM team_log WHERE seq > ?", (pos[sync.SEQ],)).fetchone()[0]
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
