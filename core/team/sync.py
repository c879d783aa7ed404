"""`team sync`: push what changed in the local ledger since the last push, exactly once.

What is new is found by the ledger's change sequence (team_log, store migration m011), never by
time: every insert, update and delete of a call appends an entry with a growing `seq`, so a
late-ingested old call is still sent. The first push to a server (or to a new one: the
server's id is remembered) sends every call by id up to the ledger's last one at that moment,
then the log from that moment on.

Each batch is one server transaction: COPY into a temporary staging table, one upsert keyed by
(agent, dedupe_key) only -- the same call pushed from two machines is one row; a better copy
(higher rank) replaces it; an equal copy changes nothing -- then the quarter-hour sums of the
touched (quarter hour, member) pairs are summed again from the rows. The local position moves
only after the server committed: a push killed at any point resends at most one batch, which
changes nothing. Concurrent pushes of one member are serialised per batch by an advisory lock
(the sums of a member's quarter hours are only summed again under its lock); pushes of
different members run side by side.

Only counts, times, model and agent names, prices, session ids and the project key leave the
machine: never prompts, code, branch names or notes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import TeamError
from .config import TeamConfig, hashed_project
from .server import _LOCK, check_schema, first_line, meta

if TYPE_CHECKING:
    import psycopg

    from ..store import Store

BATCH = 5000
# What one call sends, in the server's `calls` column order (device_id and member are added).
LOCAL_COLUMNS = ("agent", "dedupe_key", "rank", "ts", "model", "input_tokens", "output_tokens",
                 "reasoning_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
                 "cost", "recorded_cost", "price_source", "price_version", "speed", "is_sidechain",
                 "is_subagent", "origin", "session_id", "project")
SENT_COLUMNS = (*LOCAL_COLUMNS, "member", "device_id")
_SELECT = f"SELECT id, {', '.join(LOCAL_COLUMNS)} FROM calls"
# Columns compared to decide whether an equal-rank copy changes anything.
_VALUES = [c for c in LOCAL_COLUMNS if c not in ("agent", "dedupe_key", "rank")]
SNAPSHOT_COLUMNS = ("agent", "window", "used_percentage", "resets_at", "captured_at", "source", "session_id")

# meta keys of the local ledger
LOG_ON = "team.log"           # present: the m011 triggers write team_log
DEVICE = "team.device"
SERVER = "team.server"        # the server id the positions below refer to
FULL_UPTO = "team.full_upto"  # the first push sends calls by id up to this one...
FULL_POS = "team.full_pos"    # ... and has sent them up to this one
SEQ = "team.seq"              # team_log entries up to this seq are on the server
SNAP_POS = "team.snap_pos"    # rate_limit_snapshots rowids up to this one are on the server


def _better(new: str, old: str) -> str:
    """SQL: the copy `new` replaces the row `old` (a higher rank; or the same rank from the same
    member with some value changed, e.g. priced since -- but never a priced row by an unpriced copy)."""
    differs = " OR ".join(f"{new}.{c} IS DISTINCT FROM {old}.{c}" for c in _VALUES)
    return (f"({new}.rank > {old}.rank OR ({new}.rank = {old}.rank AND {new}.member = {old}.member "
            f"AND ({new}.price_version IS NOT NULL OR {old}.price_version IS NULL) AND ({differs})))")


_UPSERT = (
    f"INSERT INTO calls AS c ({', '.join(SENT_COLUMNS)}) "
    f"SELECT DISTINCT ON (agent, dedupe_key) {', '.join(SENT_COLUMNS)} FROM team_stage "
    "ORDER BY agent, dedupe_key, rank DESC "
    "ON CONFLICT (agent, dedupe_key) DO UPDATE SET "
    + ", ".join(f"{col} = excluded.{col}" for col in SENT_COLUMNS if col not in ("agent", "dedupe_key"))
    + ", pushed_at = now(), prev_member = c.member, prev_ts = c.ts WHERE " + _better("excluded", "c")
    # the quarter hours (and members) the statement changed: each row's, and for a replaced copy
    # the one it held before (read in the same statement, so a copy another push committed a
    # moment ago is seen as it was replaced, not as it was when this batch began)
    + " RETURNING (c.ts / 900000)::int, c.member, (c.prev_ts / 900000)::int, c.prev_member")
_SUMS = ("SUM(input_tokens), SUM(output_tokens), SUM(reasoning_tokens), SUM(cache_read_tokens), "
         "SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), COALESCE(SUM(cost), 0), COUNT(*), "
         "COUNT(*) FILTER (WHERE cost IS NULL), COALESCE(SUM(input_tokens + output_tokens + reasoning_tokens "
         "+ cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens) FILTER (WHERE cost IS NULL), 0), "
         "MIN(ts), MAX(ts)")
_TOUCHED = "SELECT * FROM unnest(%s::int[], %s::text[]) AS t(bucket, member)"
_RESUM = (
    f"DELETE FROM call_buckets b USING ({_TOUCHED}) t WHERE b.bucket = t.bucket AND b.member = t.member",
    f"INSERT INTO call_buckets SELECT (c.ts / 900000)::int, c.member, c.agent, c.model, {_SUMS} "
    f"FROM ({_TOUCHED}) t JOIN calls c ON c.member = t.member AND c.ts >= t.bucket::bigint * 900000 "
    "AND c.ts < (t.bucket::bigint + 1) * 900000 GROUP BY 1, 2, 3, 4",
)
# ... then the hours holding them, from their four quarter hours (call_hours: what a report in a
# zone whose offsets are whole hours reads, a quarter of the rows).
_HOUR_SUMS = ("SUM(input_tokens), SUM(output_tokens), SUM(reasoning_tokens), SUM(cache_read_tokens), "
              "SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(cost), SUM(calls), SUM(unpriced_calls), "
              "SUM(unpriced_tokens), MIN(first_ts), MAX(last_ts)")
_TOUCHED_HOURS = "SELECT DISTINCT hour, member FROM unnest(%s::int[], %s::text[]) AS t(hour, member)"
_RESUM_HOURS = (
    f"DELETE FROM call_hours h USING ({_TOUCHED_HOURS}) t WHERE h.hour = t.hour AND h.member = t.member",
    f"INSERT INTO call_hours SELECT t.hour, b.member, b.agent, b.model, {_HOUR_SUMS} "
    f"FROM ({_TOUCHED_HOURS}) t JOIN call_buckets b ON b.member = t.member AND b.bucket >= t.hour * 4 "
    "AND b.bucket < t.hour * 4 + 4 GROUP BY 1, 2, 3, 4",
)


@dataclass
class Batch:
    rows: list[tuple]                     # SENT_COLUMNS
    deletes: list[tuple[str, str]]        # (agent, dedupe_key) of calls deleted here
    positions: dict[str, int]             # the local meta positions once this batch is on the server
    entries: int                          # log entries or calls this batch consumed (for progress)


@dataclass
class SyncResult:
    calls_sent: int = 0
    calls_changed: int = 0                # inserted or replaced on the server
    deletes_sent: int = 0
    subscriptions: int = 0
    snapshots_sent: int = 0
    batches: int = 0
    seconds: float = 0.0
    member: str = ""
    warnings: list[str] = field(default_factory=list)


def device_id(store: Store) -> str:
    got = store.get_meta(DEVICE)
    if got:
        return got
    new = secrets.token_hex(8)
    with store.transaction():
        store.set_meta(DEVICE, new)
    return store.get_meta(DEVICE) or new


class Pusher:
    """One sync: the local positions, the batches, the server writes."""

    def __init__(self, store: Store, conn: psycopg.Connection, cfg: TeamConfig, *,
                 settings: dict | None = None, batch: int = BATCH):
        self.store, self.conn, self.cfg, self.batch_size = store, conn, cfg, max(1, batch)
        self.settings = settings or {}
        check_schema(conn)
        server = meta(conn)
        self.server_id = server["server_id"]
        self.salt = server.get("project_salt", "")
        self.member = cfg.member or conn.info.user
        self.device = device_id(store)
        self._projects: dict[str | None, str | None] = {None: None}

    # -- local side ------------------------------------------------------------------------------
    def positions(self, *, persist: bool) -> dict[str, int]:
        """Where the pushes to this server stand. A server not pushed to before starts a full
        pass (switching the change log on in the same transaction, so nothing falls between);
        a dry run computes that start without writing it."""
        db = self.store.db
        keys = (FULL_UPTO, FULL_POS, SEQ, SNAP_POS)
        if self.store.get_meta(SERVER) == self.server_id and self.store.get_meta(LOG_ON):
            return {k: int(self.store.get_meta(k) or 0) for k in keys}
        with self.store.transaction():
            upto = db.execute("SELECT COALESCE(MAX(id), 0) FROM calls").fetchone()[0]
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM team_log").fetchone()[0]
            start = {FULL_UPTO: upto, FULL_POS: 0, SEQ: seq, SNAP_POS: 0}
            if persist:
                self.store.set_meta(LOG_ON, "1")
                self.store.set_meta(SERVER, self.server_id)
                for k, v in start.items():
                    self.store.set_meta(k, str(v))
                db.execute("DELETE FROM team_log WHERE seq <= ?", (seq,))
        return start

    def pending(self, pos: dict[str, int]) -> int:
        return pending_changes(self.store, pos)

    def project_key(self, path: str | None) -> str | None:
        got = self._projects.get(path, "")
        if got == "":
            if self.cfg.project_names == "plain" or path is None:
                got = path                  # (no project stays none: hashing "None" named one)
            else:
                got = hashed_project(self.salt, path)
            self._projects[path] = got
        return got

    def _sent(self, r: tuple) -> tuple:
        values = list(r[1:])
        values[16] = bool(values[16])            # is_sidechain, is_subagent: booleans on the server
        values[17] = bool(values[17])
        values[20] = self.project_key(values[20])
        return (*values, self.member, self.device)

    def batches(self, pos: dict[str, int]) -> Iterator[Batch]:
        """The batches still to send from `pos` on, each read in one local read transaction."""
        db = self.store.db
        pos = dict(pos)
        while True:
            db.execute("BEGIN")
            try:
                if pos[FULL_POS] < pos[FULL_UPTO]:
                    rows = db.execute(f"{_SELECT} WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
                                      (pos[FULL_POS], pos[FULL_UPTO], self.batch_size)).fetchall()
                    nxt = dict(pos, **{FULL_POS: rows[-1][0] if rows else pos[FULL_UPTO]})
                    batch = Batch([self._sent(r) for r in rows], [], nxt, len(rows))
                else:
                    entries = db.execute("SELECT seq, call_id, agent, dedupe_key FROM team_log WHERE seq > ? "
                                         "ORDER BY seq LIMIT ?", (pos[SEQ], self.batch_size)).fetchall()
                    if not entries:
                        return
                    ids = sorted({e[1] for e in entries if e[2] is None})
                    rows = db.execute(f"{_SELECT} WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                                      (json.dumps(ids),)).fetchall() if ids else []
                    present = {(r[1], r[2]) for r in rows}
                    gone = {(e[2], e[3]) for e in entries if e[2] is not None} - present
                    if gone:   # (deleted, then added again since: the upsert carries it)
                        again = db.execute("SELECT agent, dedupe_key FROM calls WHERE (agent, dedupe_key) IN "
                                           "(SELECT value ->> 0, value ->> 1 FROM json_each(?))",
                                           (json.dumps(sorted(gone)),)).fetchall()
                        gone -= {tuple(k) for k in again}
                    batch = Batch([self._sent(r) for r in rows], sorted(gone), dict(pos, **{SEQ: entries[-1][0]}),
                                  len(entries))
            finally:
                db.execute("COMMIT")
            pos = batch.positions
            yield batch

    def settle(self, positions: dict[str, int]) -> None:
        """The batch is on the server: move the local positions, trim the log behind them."""
        with self.store.transaction():
            for k, v in positions.items():
                self.store.set_meta(k, str(v))
            self.store.db.execute("DELETE FROM team_log WHERE seq <= ?", (positions[SEQ],))

    # -- server side -----------------------------------------------------------------------------
    def push(self, batch: Batch) -> int:
        """One batch in one server transaction (retried on a deadlock or serialization failure);
        returns how many calls it inserted or replaced."""
        import psycopg
        from psycopg import errors
        for attempt in range(5):
            try:
                with self.conn.transaction():
                    return self._push(batch)
            except (errors.DeadlockDetected, errors.SerializationFailure):
                time.sleep(0.05 * (attempt + 1))
            except errors.InsufficientPrivilege as exc:
                raise TeamError(self._refused(exc)) from None
            except psycopg.OperationalError as exc:
                raise TeamError(f"lost the team server mid-push: {first_line(exc)} (what was pushed is "
                                "kept; the next `token-roi team sync` resumes)") from None
            except psycopg.Error as exc:
                raise TeamError(f"the team server refused the push: {first_line(exc)}") from None
        raise TeamError("the team server kept aborting the push (deadlocks); try again")

    def _refused(self, exc: BaseException) -> str:
        login = self.conn.info.user
        if "row-level security" in str(exc) and self.member != login:
            return (f"the team server refused rows of member {self.member!r} from login {login!r}: "
                    "under row-level security a member writes only their own rows (leave team.member "
                    "empty or set it to the login name)")
        if "row-level security" in str(exc):
            return (f"the team server refused to replace calls another member pushed first with this "
                    f"machine's better copies (login {login!r}): under row-level security they stay theirs; "
                    "a lead or the schema's owner can move them")
        return f"the team server refused the push for login {login!r}: {first_line(exc)}"

    def _lock(self, cur: psycopg.Cursor, members: list[str]) -> None:
        for m in sorted(set(members)):
            cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK, m))

    def _push(self, batch: Batch) -> int:
        with self.conn.cursor() as cur:
            self._lock(cur, [self.member])
            # Every statement below touches a batch's few thousand keys or quarter hours of a table
            # of millions: a nested loop over an index each time. The planner, not knowing the
            # staging table's or the arrays' sizes, would hash-join them with a scan of the whole
            # table (a push of 1M calls: from seconds a batch to milliseconds).
            cur.execute("SET LOCAL enable_hashjoin = off")
            cur.execute("SET LOCAL enable_mergejoin = off")
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS team_stage ON COMMIT DELETE ROWS AS "
                        f"SELECT {', '.join(SENT_COLUMNS)} FROM calls WITH NO DATA")
            touched: set[tuple[int, str]] = set()
            changed = 0
            if batch.rows:
                with cur.copy(f"COPY team_stage ({', '.join(SENT_COLUMNS)}) FROM STDIN") as copy:
                    for row in batch.rows:
                        copy.write_row(row)
                cur.execute(_UPSERT)
                got = cur.fetchall()
                changed = len(got)
                touched.update((r[0], r[1]) for r in got)
                replaced = {(r[2], r[3]) for r in got if r[3] is not None}   # (updated rows: their old place)
                touched.update(replaced)
                others = [m for _, m in replaced if m != self.member]
                if others:
                    # A better copy took calls from another member: their quarter hours change too,
                    # summed under their lock (taken now; a deadlock with their own push is retried).
                    self._lock(cur, others)
            if batch.deletes:
                cur.execute("DELETE FROM calls c USING unnest(%s::text[], %s::text[]) AS d(agent, dedupe_key) "
                            "WHERE c.agent = d.agent AND c.dedupe_key = d.dedupe_key AND c.member = %s "
                            "RETURNING (c.ts / 900000)::int, c.member",
                            ([a for a, _ in batch.deletes], [k for _, k in batch.deletes], self.member))
                touched.update(cur.fetchall())
            if touched:
                pairs = sorted(touched)
                args = ([b for b, _ in pairs], [m for _, m in pairs])
                for sql in _RESUM:
                    cur.execute(sql, args)
                hours = ([b // 4 for b, _ in pairs], args[1])
                for sql in _RESUM_HOURS:
                    cur.execute(sql, hours)
            cur.execute("INSERT INTO devices VALUES (%s, %s, now(), %s) ON CONFLICT (device_id) DO UPDATE "
                        "SET member = excluded.member, last_push = now(), "
                        "rows_pushed = devices.rows_pushed + excluded.rows_pushed",
                        (self.device, self.member, changed))
        return changed

    # -- subscriptions and rate-limit snapshots --------------------------------------------------
    def subscription_rows(self) -> list[tuple]:
        from ..accounting.subscriptions import from_config
        return [(self.member, s.plan, s.agent, s.monthly_fee, s.start, s.end) for s in from_config(self.settings)]

    def push_subscriptions(self, rows: list[tuple]) -> None:
        """A member's plans on the server are exactly those of this machine's config."""
        import psycopg
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                self._lock(cur, [self.member])
                cur.execute("DELETE FROM subscriptions WHERE member = %s", (self.member,))
                if rows:
                    cur.executemany("INSERT INTO subscriptions VALUES (%s, %s, %s, %s, %s, %s) "
                                    "ON CONFLICT DO NOTHING", rows)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise TeamError(self._refused(exc)) from None
        except psycopg.Error as exc:
            raise TeamError(f"the team server refused the subscriptions: {first_line(exc)}") from None

    def snapshot_batches(self, pos: int) -> Iterator[tuple[list[tuple], int]]:
        """(rows, last rowid) of the ledger's rate_limit_snapshots after rowid `pos`, when the
        table exists (added by the limits work: its rows are appended, never changed)."""
        db = self.store.db
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rate_limit_snapshots'"
                          ).fetchone():
            return
        cols = ", ".join(f'"{c}"' for c in SNAPSHOT_COLUMNS)
        while True:
            try:
                got = db.execute(f"SELECT rowid, {cols} FROM rate_limit_snapshots WHERE rowid > ? ORDER BY rowid "
                                 "LIMIT ?", (pos, self.batch_size)).fetchall()
            except sqlite3.OperationalError as exc:
                raise TeamError(f"{self.store.path_str}: rate_limit_snapshots: {exc}") from None
            if not got:
                return
            rows = []
            for r in got:
                key = hashlib.sha256(json.dumps([self.device, *r[1:]]).encode()).hexdigest()[:32]
                rows.append((self.member, self.device, key, *r[1:]))
            pos = got[-1][0]
            yield rows, pos

    def push_snapshots(self, rows: list[tuple]) -> None:
        import psycopg
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.executemany("INSERT INTO rate_limit_snapshots (member, device_id, snap_key, agent, \"window\", "
                                "used_percentage, resets_at, captured_at, source, session_id) VALUES "
                                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise TeamError(self._refused(exc)) from None
        except psycopg.Error as exc:
            raise TeamError(f"the team server refused the rate-limit snapshots: {first_line(exc)}") from None


def sync(store: Store, conn: psycopg.Connection, cfg: TeamConfig, *, settings: dict | None = None,
         batch: int = BATCH, progress: Callable[[int, int], None] | None = None) -> SyncResult:
    """Push everything new; `progress(done, total)` after each batch."""
    started = time.monotonic()
    pusher = Pusher(store, conn, cfg, settings=settings, batch=batch)
    result = SyncResult(member=pusher.member)
    pos = pusher.positions(persist=True)
    total = pusher.pending(pos)
    done = 0
    for b in pusher.batches(pos):
        result.calls_changed += pusher.push(b)
        pusher.settle(b.positions)
        result.calls_sent += len(b.rows)
        result.deletes_sent += len(b.deletes)
        result.batches += 1
        done += b.entries
        if progress:
            progress(done, total)
    subs = pusher.subscription_rows()
    pusher.push_subscriptions(subs)
    result.subscriptions = len(subs)
    for rows, last in pusher.snapshot_batches(int(store.get_meta(SNAP_POS) or 0)):
        pusher.push_snapshots(rows)
        with store.transaction():
            store.set_meta(SNAP_POS, str(last))
        result.snapshots_sent += len(rows)
    result.seconds = time.monotonic() - started
    return result


def dry_run(store: Store, conn: psycopg.Connection, cfg: TeamConfig, *, settings: dict | None = None,
            out: Any = None, batch: int = BATCH) -> SyncResult:
    """Print, one JSON object a line, exactly what `sync` would send now; change nothing."""
    out = out or sys.stdout
    pusher = Pusher(store, conn, cfg, settings=settings, batch=batch)
    result = SyncResult(member=pusher.member)
    pos = pusher.positions(persist=False)
    for b in pusher.batches(pos):
        for row in b.rows:
            out.write(json.dumps({"table": "calls", **dict(zip(SENT_COLUMNS, row))}) + "\n")
        for agent, key in b.deletes:
            out.write(json.dumps({"table": "calls", "delete": {"agent": agent, "dedupe_key": key}}) + "\n")
        result.calls_sent += len(b.rows)
        result.deletes_sent += len(b.deletes)
        result.batches += 1
    subs = pusher.subscription_rows()
    for s in subs:
        out.write(json.dumps({"table": "subscriptions", "member": s[0], "plan": s[1], "agent": s[2],
                              "monthly_fee": s[3], "start_date": s[4].isoformat(),
                              "end_date": s[5].isoformat() if s[5] else None}) + "\n")
    result.subscriptions = len(subs)
    snap_pos = pos[SNAP_POS] if store.get_meta(SERVER) != pusher.server_id else int(store.get_meta(SNAP_POS) or 0)
    for rows, _ in pusher.snapshot_batches(snap_pos):
        for r in rows:
            out.write(json.dumps({"table": "rate_limit_snapshots", "member": r[0], "device_id": r[1],
                                  "snap_key": r[2], **dict(zip(SNAPSHOT_COLUMNS, r[3:]))}) + "\n")
        result.snapshots_sent += len(rows)
    return result


def pending_changes(store: Store, pos: dict[str, int]) -> int:
    """How many calls this device has still to push from positions `pos` (FULL_POS, FULL_UPTO,
    SEQ): those of a first full push not yet sent, and those the change log names since SEQ. A
    call inserted then priced (ingest prices last) is logged twice and counts once."""
    db = store.db
    full = db.execute("SELECT COUNT(*) FROM calls WHERE id > ? AND id <= ?",
                      (pos[FULL_POS], pos[FULL_UPTO])).fetchone()[0]
    log = db.execute("SELECT COUNT(DISTINCT call_id) FROM team_log WHERE seq > ?", (pos[SEQ],)).fetchone()[0]
    return int(full + log)
