"""The ledger: one SQLite file owning the schema (see migrations.py), the per-call rows and the
incremental-read cursors. Rows stay when an agent deletes its own logs."""

from __future__ import annotations

import json
import marshal
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from .. import paths
from ..cursor import Cursor  # defined apart (and re-exported here): hooks read without sqlite3
from ..errors import TokenRoiError
from ..rows import UsageRow
from ..safe_io import tighten
from .migrations import BUCKET_TRIGGERS, MIGRATIONS, SOURCE_MARK_TRIGGER_NAMES, TEAM_LOG_TRIGGERS


class ManualEntry(Protocol):
    """A manual ledger entry as a row (adapters/entries.Entry): the columns only they have."""
    row: UsageRow
    category: str
    feature: str | None
    notes: str | None


class StoreError(TokenRoiError):
    """A one-line, user-facing problem with the ledger file (locked, unreadable, corrupt)."""


CALL_COLUMNS = (
    "agent", "dedupe_key", "ts", "session_id", "project", "model",
    "input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens",
    "cache_write_5m_tokens", "cache_write_1h_tokens", "is_sidechain", "is_subagent",
    "git_branch", "rank", "recorded_cost", "speed",
)
# Columns a better copy of the same call replaces; pricing is reset so the new counters get priced.
_REPLACED = [c for c in CALL_COLUMNS if c not in ("agent", "dedupe_key")]
_UPSERT = (
    f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}, ingested_at) "
    f"VALUES ({', '.join('?' * len(CALL_COLUMNS))}, ?) "
    "ON CONFLICT (agent, dedupe_key) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _REPLACED)
    + ", cost = NULL, price_source = NULL, price_version = NULL "
    # ... or the same copy read again with a speed the row lacks (ledgers from before m004_speed)
    "WHERE excluded.rank > calls.rank OR (excluded.rank = calls.rank AND excluded.speed IS NOT calls.speed)"
)


def row_values(row: UsageRow, now: int) -> tuple:
    """A row as the upsert's parameters (CALL_COLUMNS, then ingested_at)."""
    return (
        row.agent, row.dedupe_key, row.ts, row.session_id, row.project, row.model,
        row.input_tokens, row.output_tokens, row.reasoning_tokens, row.cache_read_tokens,
        row.cache_write_5m_tokens, row.cache_write_1h_tokens, int(row.is_sidechain),
        int(row.is_subagent), row.git_branch, row.rank, row.recorded_cost, row.speed, now,
    )


# A manual ledger entry's row (see adapters/entries): its priced facts unchanged, it keeps the
# price the row already has.
_SAME_PRICED_FACTS = " AND ".join(f"calls.{c} IS excluded.{c}" for c in (
    "model", "ts", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens", "recorded_cost"))
_UPSERT_MANUAL = (
    "INSERT INTO calls (agent, dedupe_key, ts, session_id, project, model, input_tokens, output_tokens, "
    "reasoning_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, is_sidechain, "
    "is_subagent, rank, recorded_cost, ingested_at, origin, category, feature, ledger_file, notes) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 0, 0, 0, ?, ?, 'manual', ?, ?, ?, ?) "
    "ON CONFLICT (agent, dedupe_key) DO UPDATE SET ts = excluded.ts, session_id = excluded.session_id, "
    "project = excluded.project, model = excluded.model, input_tokens = excluded.input_tokens, "
    "output_tokens = excluded.output_tokens, cache_read_tokens = excluded.cache_read_tokens, "
    "cache_write_5m_tokens = excluded.cache_write_5m_tokens, recorded_cost = excluded.recorded_cost, "
    "origin = 'manual', category = excluded.category, feature = excluded.feature, "
    "ledger_file = excluded.ledger_file, notes = excluded.notes, "
    f"cost = CASE WHEN {_SAME_PRICED_FACTS} THEN calls.cost END, "
    f"price_source = CASE WHEN {_SAME_PRICED_FACTS} THEN calls.price_source END, "
    f"price_version = CASE WHEN {_SAME_PRICED_FACTS} THEN calls.price_version END"
)


def private_files(path: str) -> None:
    """The ledger and its write-ahead log private to the user: a new ledger is created 0600 (SQLite
    gives its -wal and -shm files the ledger's mode) in a folder created 0700; an existing one,
    its -wal and -shm, and our own folder (named token-roi) are tightened to that."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for ours in (folder, paths.state_dir_str()):
        if os.path.basename(os.path.abspath(ours)) == "token-roi":
            tighten(ours, 0o700)
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600))
    except OSError:
        pass                     # (sqlite3 says what is wrong, in its words)
    for name in (path, path + "-wal", path + "-shm"):
        tighten(name)


class Store:
    BUSY_TIMEOUT_MS = 10_000     # how long a statement waits for another process's write lock
    PAGE_SIZE = 16384            # of a new ledger
    CHECKPOINT_BYTES = 4 << 20   # of log between checkpoints
    def __init__(self, path: Path | str | None = None, *, readonly: bool = False):
        # (a str: pathlib costs every report ~4 ms of imports; `path` gives the Path when asked)
        self.path_str = os.fspath(path) if path else paths.db_path_str()
        self.readonly = readonly
        self._away: list = []        # what the bulk load under way dropped, to create again
        try:
            if readonly:
                self.db = sqlite3.connect(f"file:{self.path_str}?mode=ro", uri=True,
                                          timeout=self.BUSY_TIMEOUT_MS / 1000)
            else:
                private_files(self.path_str)
                self.db = sqlite3.connect(self.path_str, timeout=self.BUSY_TIMEOUT_MS / 1000, isolation_level=None)
                # A new ledger gets 16 KB pages (a no-op on a ledger that has any: its pages stay
                # as they are). A first ingest of 1 GB of logs then writes its rows with ~8% less
                # CPU and its log is copied into the ledger in ~0.1 s instead of ~0.15 s.
                self.db.execute(f"PRAGMA page_size={self.PAGE_SIZE}")
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                page = self.db.execute("PRAGMA page_size").fetchone()[0]
                if page != 4096:
                    # the log copied into the ledger every ~4 MB, as with SQLite's 1,000 pages of 4 KB
                    self.db.execute(f"PRAGMA wal_autocheckpoint={max(1, self.CHECKPOINT_BYTES // page)}")
                # A first ingest upserts tens of thousands of rows keyed on random message ids; a
                # 64 MB page cache (filled only as used) cut its SQLite CPU by ~15% on 1 GB of logs.
                self.db.execute("PRAGMA cache_size=-65536")
            self.db.execute(f"PRAGMA busy_timeout={self.BUSY_TIMEOUT_MS}")
            if not readonly:
                self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path_str}: cannot open the ledger: {exc}") from None
        except OSError as exc:
            raise StoreError(f"{self.path_str}: cannot create the ledger: {exc.strerror}") from None

    @property
    def path(self) -> Path:
        return Path(self.path_str)

    # -- schema ---------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at INTEGER)")
        done = {r[0] for r in self.db.execute("SELECT name FROM _migrations")}
        applied = []
        for migration in MIGRATIONS:
            if migration.__name__ in done:
                continue
            with self.transaction():
                # Re-check under the write lock: another process may have just applied it.
                if self.db.execute("SELECT 1 FROM _migrations WHERE name = ?", (migration.__name__,)).fetchone():
                    continue
                migration(self.db)
                self.db.execute("INSERT INTO _migrations VALUES (?, ?)", (migration.__name__, int(time.time())))
            applied.append(migration.__name__)
        return applied

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT: rows and the cursor that produced them land together.
        Inside another transaction (see bulk_load) it joins that one: the outer one commits."""
        if self.db.in_transaction:
            yield self.db
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path_str}: {exc} (another token-roi may be writing; try again)") from None
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # Indexes and triggers a first ingest drops and builds again after loading (see bulk_load);
    # the unique key stays, since the upsert needs it.
    BULK_INDEXES = ("calls_ts", "calls_session", "calls_unpriced", *BUCKET_TRIGGERS)
    # ... and on `sources`, the triggers that renew an agent's source mark at every cursor written
    # (~12 µs each: two statements of a trigger program per row); the marks of every agent with
    # cursors are renewed once before the load commits instead (see _dropped).
    BULK_SOURCE_TRIGGERS = SOURCE_MARK_TRIGGER_NAMES

    @contextmanager
    def bulk_load(self) -> Iterator[sqlite3.Connection]:
        """One transaction for a load that at least doubles `calls` (a first ingest): the
        secondary indexes are dropped inside it and built again, sorted, before it commits, which
        costs far less than keeping them up to date row by row (and pricing every new row moves
        it in two of them). Other readers never see the table without them (they read the last
        commit); a crash rolls it all back, to be read again.

        It commits with every quarter hour of `calls` marked dirty (a state every reader knows
        how to handle: see refresh_buckets); the sums are then taken in a second transaction and
        the log copied into the ledger, so the next writer finds nothing left to copy. A crash
        between the two transactions leaves the rows and the dirty marks, summed by the next writer."""
        db = self.db
        names = self.BULK_INDEXES + self.BULK_SOURCE_TRIGGERS
        if db.in_transaction:                      # (inside another one: its commit, its sums)
            with self.transaction(), self._dropped(names + self._idle_team_log_triggers()):
                yield db
            return
        with self.transaction(), self._dropped(names + self._idle_team_log_triggers(), sum_after=False):
            yield db
        try:
            self.refresh_buckets(everything=True)
        except StoreError:
            pass                     # (another writer holds the ledger: the marks stay for the next one)
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            pass                     # (the next commit's own checkpoint does it)

    def _idle_team_log_triggers(self) -> tuple[str, ...]:
        """The team change log's triggers (m011) while no team sync has switched the log on:
        then each written row costs them a lookup and nothing else (~0.2 s of CPU on a first
        ingest of 1 GB), so a bulk load drops them with the indexes. Asked inside the load's
        transaction: a sync switching the log on (in its own transaction) comes before or after."""
        if self.db.execute("SELECT 1 FROM meta WHERE key = 'team.log'").fetchone() is not None:
            return ()
        return tuple(TEAM_LOG_TRIGGERS)

    def restore_early(self, names: tuple[str, ...]) -> None:
        """Create again now those of `names` that the bulk load under way dropped (the unpriced
        index, say, for the last pricing inside it: it finds the few rows left without a scan)."""
        for entry in [e for e in self._away if e[1] in names]:
            self.db.execute(entry[2])
            self._away.remove(entry)

    def has_calls(self) -> bool:
        return self.db.execute("SELECT 1 FROM calls LIMIT 1").fetchone() is not None

    @contextmanager
    def bucket_triggers_off(self) -> Iterator[sqlite3.Connection]:
        """For a write that touches most rows (pricing all of them again after a price change):
        the triggers that note changed quarter hours are dropped inside the transaction (three
        lookups a row: ~5 s on a million calls), and every quarter hour is summed once after."""
        with self.transaction() as db, self._dropped(tuple(BUCKET_TRIGGERS)):
            yield db

    @contextmanager
    def _dropped(self, names: tuple[str, ...], sum_after: bool = True) -> Iterator[None]:
        """Drop those of `names` (indexes and triggers on calls, source mark triggers on
        sources) that exist, inside the current transaction; create them again after, then sum
        every quarter hour again (the triggers were away), from the indexes just built (or,
        not `sum_after`, mark every quarter hour of `calls` dirty), and renew every agent's
        source mark (what the mark triggers would have done)."""
        db = self.db
        saved = db.execute(
            "SELECT type, name, sql, tbl_name FROM sqlite_master WHERE type IN ('index', 'trigger') "
            f"AND tbl_name IN ('calls', 'sources') AND name IN ({', '.join('?' * len(names))})", names).fetchall()
        for kind, name, _, _ in saved:
            db.execute(f"DROP {kind.upper()} {name}")
        if not saved:
            yield
            return                                # (an outer _dropped owns them)
        outer, self._away = self._away, saved
        try:
            yield
        finally:
            self._away = outer
        for _, _, sql, _ in saved:
            db.execute(sql)
        if any(table == "sources" for _, _, _, table in saved):
            # (any agent that has or had cursors: a mark renewed without need costs a walk at most)
            db.execute("INSERT OR REPLACE INTO source_marks SELECT agent, randomblob(8) FROM "
                       "(SELECT agent FROM sources UNION SELECT agent FROM source_marks)")
        if any(table == "calls" for _, _, _, table in saved):
            if sum_after:
                self.refresh_buckets(everything=True)
            else:
                db.execute("INSERT OR IGNORE INTO call_buckets_dirty SELECT DISTINCT ts / 900000 FROM calls")

    _BUCKET_SUMS = (
        "SELECT ts / 900000 AS b, agent, model, SUM(input_tokens), SUM(output_tokens), SUM(reasoning_tokens), "
        "SUM(cache_read_tokens), SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), TOTAL(cost), COUNT(*), "
        "SUM(cost IS NULL), SUM(CASE WHEN cost IS NULL THEN input_tokens + output_tokens + reasoning_tokens "
        "+ cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens ELSE 0 END), MIN(ts), MAX(ts) FROM calls")

    def refresh_buckets(self, *, everything: bool = False) -> bool:
        """Sum again the quarter hours of call_buckets whose calls changed (call_buckets_dirty, kept
        by triggers), or all of them. False when they cannot be brought up to date here (a
        read-only ledger): then readers must sum `calls` themselves."""
        db = self.db
        if not everything and db.execute("SELECT 1 FROM call_buckets_dirty LIMIT 1").fetchone() is None:
            return True
        if self.readonly:
            return False
        with self.transaction():
            dirty = [r[0] for r in db.execute("SELECT bucket FROM call_buckets_dirty ORDER BY bucket")]
            runs: list[list[int]] = []
            for b in dirty:
                if runs and runs[-1][1] + 1 == b:
                    runs[-1][1] = b
                else:
                    runs.append([b, b])
            db.execute("UPDATE meta SET value = hex(randomblob(8)) WHERE key = 'sums_mark'")   # (see summed)
            if everything or len(runs) > 256:
                db.execute("DELETE FROM call_buckets")
                db.execute(f"INSERT INTO call_buckets {self._BUCKET_SUMS} GROUP BY agent, model, b")
                db.execute("DELETE FROM call_buckets_dirty")
                return True
            for a, b in runs:
                db.execute("DELETE FROM call_buckets WHERE bucket BETWEEN ? AND ?", (a, b))
                db.execute(f"INSERT INTO call_buckets {self._BUCKET_SUMS} INDEXED BY calls_ts "
                           "WHERE ts >= ? AND ts < ? GROUP BY agent, model, b", (a * 900000, (b + 1) * 900000))
                db.execute("DELETE FROM call_buckets_dirty WHERE bucket BETWEEN ? AND ?", (a, b))
        return True

    def summed(self, sql: str, params: list | tuple) -> list[tuple]:
        """`sql`'s rows, for a query that reads call_buckets and nothing else: kept in sums_cache
        under the sums' mark, so asking again before any quarter hour is summed anew reads
        them back (a warm daily report over a month: ~15 ms of grouping -> ~0.1 ms). The mark
        and the rows are read in one transaction, and kept only if the mark still holds."""
        db = self.db
        if db.in_transaction or self.readonly:
            return db.execute(sql, params).fetchall()
        key = f"{sql}\x00{params!r}"
        db.execute("BEGIN")
        try:
            got = db.execute("SELECT c.rows, m.value FROM meta m LEFT JOIN sums_cache c ON c.key = ? "
                             "AND c.mark = m.value WHERE m.key = 'sums_mark'", (key,)).fetchone()
            if got is not None and got[0] is not None:
                return marshal.loads(got[0])
            rows = db.execute(sql, params).fetchall()
        finally:
            db.execute("COMMIT")
        if got is None:
            return rows
        mark = got[1]
        db.execute("PRAGMA busy_timeout=0")      # never wait for a writer just to keep an answer
        try:
            with self.transaction():
                db.execute("DELETE FROM sums_cache WHERE mark != ?", (mark,))
                db.execute("INSERT OR REPLACE INTO sums_cache SELECT ?, value, ? FROM meta "
                           "WHERE key = 'sums_mark' AND value = ?", (key, marshal.dumps(rows), mark))
        except (StoreError, sqlite3.OperationalError):
            pass                # (busy, read-only file): answered all the same, kept next time
        finally:
            db.execute(f"PRAGMA busy_timeout={self.BUSY_TIMEOUT_MS}")
        return rows

    def count_calls(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        self.db.close()

    # -- rows -----------------------------------------------------------------------------------
    def upsert_calls(self, rows: Iterable[UsageRow] | list[tuple]) -> int:
        """Insert calls; a call already present is replaced only by a better copy (higher rank).
        `rows` are UsageRows, or a list of row_values tuples (what ingest's workers send).
        Returns how many rows were inserted or replaced. Call inside transaction()."""
        # (rowcount, not total_changes: the rows the triggers touch are not calls)
        now = int(time.time() * 1000)
        values = (r if isinstance(r, tuple) else row_values(r, now) for r in rows)
        return max(self.db.executemany(_UPSERT, values).rowcount, 0)

    def upsert_values(self, values: Iterable[tuple]) -> int:
        """upsert_calls for row_values tuples from any iterable (ingest chains a batch's sources
        into one executemany); returns how many rows were inserted or replaced."""
        return max(self.db.executemany(_UPSERT, values).rowcount, 0)

    def mirror_entries(self, ledger_file: str, entries: Iterable[ManualEntry]) -> tuple[int, int]:
        """Make the manual rows of `ledger_file` exactly `entries` (see adapters/entries): each
        written, the rows of entries no longer in the file removed. (written, removed); call
        inside transaction()."""
        now = int(time.time() * 1000)
        values = [(e.row.agent, e.row.dedupe_key, e.row.ts, e.row.session_id, e.row.project, e.row.model,
                   e.row.input_tokens, e.row.output_tokens, e.row.cache_read_tokens, e.row.cache_write_5m_tokens,
                   e.row.recorded_cost, now, e.category, e.feature, ledger_file, e.notes) for e in entries]
        keep = {(v[0], v[1]) for v in values}
        existing = self.db.execute("SELECT id, agent, dedupe_key FROM calls WHERE origin = 'manual' "
                                   "AND ledger_file = ?", (ledger_file,)).fetchall()
        gone = [(r[0],) for r in existing if (r[1], r[2]) not in keep]
        self.db.executemany("DELETE FROM calls WHERE id = ?", gone)
        self.db.executemany(_UPSERT_MANUAL, values)
        return len(values), len(gone)

    # -- cursors --------------------------------------------------------------------------------
    def get_cursor(self, agent: str, path: str) -> Cursor | None:
        r = self.db.execute(
            "SELECT offset, size, mtime_ns, inode, fingerprint, state, bad_lines, rows_seen "
            "FROM sources WHERE agent = ? AND path = ?", (agent, path)).fetchone()
        if r is None:
            return None
        return Cursor(agent, path, r[0], r[1], r[2], r[3], r[4], json.loads(r[5]) if r[5] else {}, r[6], r[7])

    def cursors(self, agent: str | None = None) -> dict[tuple[str, str], Cursor]:
        sql = "SELECT agent, path, offset, size, mtime_ns, inode, fingerprint, state, bad_lines, rows_seen FROM sources"
        args: tuple = ()
        if agent:
            sql += " WHERE agent = ?"
            args = (agent,)
        out = {}
        for r in self.db.execute(sql, args):
            state = json.loads(r[7]) if r[7] else {}
            out[(r[0], r[1])] = Cursor(r[0], r[1], r[2], r[3], r[4], r[5], r[6], state, r[8], r[9])
        return out

    def cursor_stats(self) -> dict[tuple[str, str], tuple[int, int, int | None]]:
        """(agent, path) -> (size, mtime_ns, inode) of every cursor: what a warm run compares each
        file's stat with, without decoding thousands of full cursors."""
        return {(r[0], r[1]): (r[2], r[3], r[4])
                for r in self.db.execute("SELECT agent, path, size, mtime_ns, inode FROM sources")}

    def source_marks(self) -> dict[str, bytes]:
        """agent -> a random mark renewed whenever any of its cursors changes (m009)."""
        return dict(self.db.execute("SELECT agent, mark FROM source_marks"))

    def cursor_stats_marked(self) -> tuple[dict, dict[str, bytes]]:
        """cursor_stats() and source_marks() of the same moment: one read transaction."""
        if self.db.in_transaction:
            return self.cursor_stats(), self.source_marks()
        self.db.execute("BEGIN")
        try:
            return self.cursor_stats(), self.source_marks()
        finally:
            self.db.execute("COMMIT")

    _PUT_CURSOR = (
        "INSERT INTO sources (agent, path, offset, size, mtime_ns, inode, fingerprint, state, bad_lines, rows_seen, "
        "updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent, path) DO UPDATE SET "
        "offset = excluded.offset, size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, "
        "fingerprint = excluded.fingerprint, state = excluded.state, bad_lines = excluded.bad_lines, "
        "rows_seen = excluded.rows_seen, updated_at = excluded.updated_at")

    def put_cursor(self, c: Cursor) -> None:
        self.put_cursors((c,))

    def put_cursors(self, cursors: Iterable[Cursor]) -> None:
        """Write cursors (one executemany: ingest writes a batch's hundreds at once)."""
        now, dumps = int(time.time() * 1000), json.dumps
        self.db.executemany(self._PUT_CURSOR, [
            (c.agent, c.path, c.offset, c.size, c.mtime_ns, c.inode, c.fingerprint,
             dumps(c.state) if c.state else None, c.bad_lines, c.rows_seen, now) for c in cursors])

    # -- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        r = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return r[0] if r else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        (key, value))
