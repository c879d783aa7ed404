"""The whole schema history, oldest first. Each migration is a small function applied once, in
order, and recorded in `_migrations`; changing the schema means appending a new function,
never editing an applied one."""

from __future__ import annotations

import sqlite3


def _run(db: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT the surrounding transaction, so run statements one by one
    # (keep semicolons out of SQL comments).
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def m001_initial(db: sqlite3.Connection) -> None:
    _run(
        db,
        """
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            agent TEXT NOT NULL,
            dedupe_key TEXT NOT NULL,
            ts INTEGER NOT NULL,                 -- epoch ms, UTC
            session_id TEXT,
            project TEXT,
            model TEXT,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            reasoning_tokens INTEGER NOT NULL DEFAULT 0,
            cache_read_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_5m_tokens INTEGER NOT NULL DEFAULT 0,
            cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
            is_sidechain INTEGER NOT NULL DEFAULT 0,
            is_subagent INTEGER NOT NULL DEFAULT 0,
            git_branch TEXT,
            rank INTEGER NOT NULL DEFAULT 0,     -- which copy of a call we kept (rows.UsageRow.rank)
            recorded_cost REAL,                  -- USD the agent recorded itself
            cost REAL,                           -- our price in USD, NULL while unpriced
            price_source TEXT,                   -- 'genai-prices' | 'override' | 'unpriced', NULL = not yet priced
            price_version TEXT,                  -- fingerprint of the price table that set `cost`
            ingested_at INTEGER NOT NULL,
            UNIQUE (agent, dedupe_key)
        );
        CREATE INDEX calls_ts ON calls (ts);
        CREATE INDEX calls_session ON calls (agent, session_id);
        CREATE INDEX calls_price_version ON calls (price_version);

        -- Where each source file's incremental read stopped, and what it looked like then.
        CREATE TABLE sources (
            agent TEXT NOT NULL,
            path TEXT NOT NULL,
            offset INTEGER NOT NULL DEFAULT 0,   -- bytes consumed (always at a line boundary)
            size INTEGER NOT NULL DEFAULT 0,
            mtime_ns INTEGER NOT NULL DEFAULT 0,
            inode INTEGER,
            fingerprint TEXT,                    -- hash of sampled bytes before `offset`
            state TEXT,                          -- adapter-specific JSON carried between reads
            bad_lines INTEGER NOT NULL DEFAULT 0,
            rows_seen INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (agent, path)
        );

        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        """
    )


def m002_accounting(db: sqlite3.Connection) -> None:
    """Manual ledger entries (`token-roi log`) live in `calls` beside automatic usage, so every
    report includes them; features and categories for cost accounting."""
    _run(
        db,
        """
        ALTER TABLE calls ADD COLUMN origin TEXT NOT NULL DEFAULT 'auto';  -- 'auto' agent logs, 'manual' a ledger entry
        ALTER TABLE calls ADD COLUMN category TEXT;      -- ship-flow, agent-session, research, ad-hoc, ...
        ALTER TABLE calls ADD COLUMN feature TEXT;       -- feature/ticket id given on the entry
        ALTER TABLE calls ADD COLUMN ledger_file TEXT;   -- the entries file a manual row came from
        ALTER TABLE calls ADD COLUMN notes TEXT;         -- the entry's own note (typed by a person)
        CREATE INDEX calls_manual ON calls (ledger_file) WHERE origin = 'manual';

        -- A session's feature and category, from `token-roi tag`, TOKEN_ROI_FEATURE seen by a hook,
        -- or a branch name. source 'tag' (explicit) is never overwritten by 'env'.
        CREATE TABLE session_tags (
            agent TEXT NOT NULL,
            session_id TEXT NOT NULL,
            feature TEXT,
            category TEXT,
            source TEXT NOT NULL,                -- 'tag' | 'env'
            tagged_at INTEGER NOT NULL,          -- epoch ms
            PRIMARY KEY (agent, session_id)
        )
        """
    )


def m003_value(db: sqlite3.Connection) -> None:
    """Value accounting (core/value/): each session's signals (counts only, never content), the
    category a person set by hand, and the human-equivalent value the model estimated itself."""
    _run(
        db,
        """
        CREATE TABLE session_signals (
            agent TEXT NOT NULL,
            session_id TEXT NOT NULL,
            source TEXT NOT NULL,                -- 'guard' | 'transcript' | 'none'
            tool_calls TEXT,                     -- JSON {tool name: calls}
            tool_failures INTEGER NOT NULL DEFAULT 0,
            failures_by_tool TEXT,               -- JSON {tool name: failed calls}
            loop_attempts_max INTEGER NOT NULL DEFAULT 0,
            loop_attempts_total INTEGER NOT NULL DEFAULT 0,
            fast_tier_fired INTEGER NOT NULL DEFAULT 0,
            tests_passed INTEGER NOT NULL DEFAULT 0,
            tests_failed INTEGER NOT NULL DEFAULT 0,
            bugs_fixed INTEGER NOT NULL DEFAULT 0,
            edits INTEGER NOT NULL DEFAULT 0,    -- calls of editing tools (Edit, Write, ...)
            reads INTEGER NOT NULL DEFAULT 0,    -- calls of reading tools (Read, Grep, ...)
            first_ts INTEGER,                    -- epoch ms of first / last activity
            last_ts INTEGER,
            abandoned INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (agent, session_id)
        );

        -- `token-roi categorize SESSION VA|NVA|BVA --why ...`: a person's verdict beats the rules.
        CREATE TABLE session_categories (
            agent TEXT NOT NULL,
            session_id TEXT NOT NULL,
            category TEXT NOT NULL,              -- 'VA' | 'NVA' | 'BVA'
            reason TEXT NOT NULL,
            set_at INTEGER NOT NULL,
            PRIMARY KEY (agent, session_id)
        );

        -- `token-roi value set SESSION ...`: the model's own estimate of the human-equivalent work.
        CREATE TABLE session_values (
            agent TEXT NOT NULL,
            session_id TEXT NOT NULL,
            role TEXT NOT NULL,
            hours_low REAL NOT NULL, hours_mid REAL NOT NULL, hours_high REAL NOT NULL,
            rate_low REAL NOT NULL, rate_mid REAL NOT NULL, rate_high REAL NOT NULL,
            quality TEXT NOT NULL,               -- rates.QUALITY key
            set_at INTEGER NOT NULL,
            PRIMARY KEY (agent, session_id)
        )
        """
    )


def m004_speed(db: sqlite3.Connection) -> None:
    """The call's speed mode ('fast' bills at a multiple of the standard rate; NULL = standard).
    Rows read before this migration lack it, so Claude transcripts are read again from the start
    (their cursors forget the file): the store fills the speed in on the same copy of each call."""
    _run(
        db,
        """
        ALTER TABLE calls ADD COLUMN speed TEXT;    -- 'fast', or NULL for standard (a mode name, never content)
        UPDATE sources SET size = -1, fingerprint = NULL WHERE agent = 'claude'
        """
    )


def m005_day_sums(db: sqlite3.Connection) -> None:
    """A covering index for per-day sums by agent and model (the dashboard's overview): each
    (agent, model, local day) is one range of it, summed without reading the table or sorting.
    About 65 MB per million calls; a new call adds one entry, and pricing it moves that entry."""
    _run(
        db,
        """
        CREATE INDEX calls_day_sums ON calls (agent, model, ts, input_tokens, output_tokens, reasoning_tokens,
            cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cost)
        """
    )


BUCKET_MS = 15 * 60 * 1000   # every UTC offset in use is a whole number of quarter hours


def m006_call_buckets(db: sqlite3.Connection) -> None:
    """Per quarter hour, agent and model, the sums every period report adds up (call_buckets),
    so a report over a big ledger reads thousands of rows, not millions: a local day is a whole
    number of quarter hours in any zone. Triggers on `calls` only note which quarter hours
    changed (call_buckets_dirty); store.refresh_buckets sums those again from `calls` before a
    report reads them, so the sums are always exactly those of the rows."""
    _run(
        db,
        """
        CREATE TABLE call_buckets (
            bucket INTEGER NOT NULL,             -- ts / 900000 (quarter hours since the epoch, UTC)
            agent TEXT NOT NULL,
            model TEXT,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_write_5m_tokens INTEGER NOT NULL,
            cache_write_1h_tokens INTEGER NOT NULL,
            cost REAL NOT NULL,                  -- of the priced calls
            calls INTEGER NOT NULL,
            unpriced_calls INTEGER NOT NULL,
            unpriced_tokens INTEGER NOT NULL,
            first_ts INTEGER NOT NULL,
            last_ts INTEGER NOT NULL
        );
        CREATE INDEX call_buckets_bucket ON call_buckets (bucket, agent);
        CREATE TABLE call_buckets_dirty (bucket INTEGER PRIMARY KEY);
        INSERT INTO call_buckets_dirty SELECT DISTINCT ts / 900000 FROM calls
        """,
    )
    for sql in BUCKET_TRIGGERS.values():
        db.execute(sql)


_SUMMED = ("ts, agent, model, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, "
           "cache_write_5m_tokens, cache_write_1h_tokens, cost")
# (not INSERT OR IGNORE: the statement that fires a trigger imposes its own conflict policy on it)
_MARK = ("INSERT INTO call_buckets_dirty SELECT {0}.ts / 900000 "
         "WHERE NOT EXISTS (SELECT 1 FROM call_buckets_dirty WHERE bucket = {0}.ts / 900000)")
BUCKET_TRIGGERS = {
    "calls_bucket_insert": f"CREATE TRIGGER calls_bucket_insert AFTER INSERT ON calls BEGIN {_MARK.format('NEW')}; END",
    "calls_bucket_delete": f"CREATE TRIGGER calls_bucket_delete AFTER DELETE ON calls BEGIN {_MARK.format('OLD')}; END",
    "calls_bucket_update": f"CREATE TRIGGER calls_bucket_update AFTER UPDATE OF {_SUMMED} ON calls BEGIN "
                           f"{_MARK.format('OLD')}; {_MARK.format('NEW')}; END",
}


def m007_unpriced_index(db: sqlite3.Connection) -> None:
    """Pricing looks only for rows not priced yet (price_version NULL): a partial index holds
    just those, where the full one on price_version held every row and moved each one it priced."""
    _run(
        db,
        """
        DROP INDEX calls_price_version;
        CREATE INDEX calls_unpriced ON calls (model) WHERE price_version IS NULL
        """,
    )


def m008_no_day_sums_index(db: sqlite3.Connection) -> None:
    """Reports sum days from call_buckets (m006); the covering index of m005 served the same
    sums the slow way and cost every insert and every pricing a move in a 10-column index."""
    _run(db, "DROP INDEX IF EXISTS calls_day_sums")


def m009_source_marks(db: sqlite3.Connection) -> None:
    """A random mark per agent, new whenever any of its cursors is written or removed (triggers,
    so no writer can forget): a warm run's tree snapshot (tree_snapshot.py) is valid only for the
    cursors it was taken from. Random, not a counter, so a ledger restored from a backup or made
    anew never matches a snapshot of another state."""
    _run(
        db,
        """
        CREATE TABLE source_marks (agent TEXT PRIMARY KEY, mark BLOB NOT NULL);
        INSERT INTO source_marks SELECT agent, randomblob(8) FROM (SELECT DISTINCT agent FROM sources)
        """,
    )
    for sql in SOURCE_MARK_TRIGGERS:
        db.execute(sql)


# (no OR REPLACE: the statement that fires a trigger imposes its own conflict policy on it)
_NEW_MARK = ("UPDATE source_marks SET mark = randomblob(8) WHERE agent = {0}.agent; "
             "INSERT INTO source_marks SELECT {0}.agent, randomblob(8) "
             "WHERE NOT EXISTS (SELECT 1 FROM source_marks WHERE agent = {0}.agent)")
SOURCE_MARK_TRIGGERS = (
    f"CREATE TRIGGER sources_mark_insert AFTER INSERT ON sources BEGIN {_NEW_MARK.format('NEW')}; END",
    f"CREATE TRIGGER sources_mark_delete AFTER DELETE ON sources BEGIN {_NEW_MARK.format('OLD')}; END",
    f"CREATE TRIGGER sources_mark_update AFTER UPDATE ON sources BEGIN "
    f"{_NEW_MARK.format('OLD')}; {_NEW_MARK.format('NEW')}; END",
)


SOURCE_MARK_TRIGGER_NAMES = ("sources_mark_insert", "sources_mark_delete", "sources_mark_update")


def m010_sums_cache(db: sqlite3.Connection) -> None:
    """Answers of queries over call_buckets, kept under the sums' mark (meta `sums_mark`, renewed
    by Store.refresh_buckets whenever it writes): a warm report reads its rows back instead of
    grouping thousands of quarter hours again (see Store.summed)."""
    _run(
        db,
        """
        CREATE TABLE sums_cache (key TEXT PRIMARY KEY, mark TEXT NOT NULL, rows BLOB NOT NULL);
        INSERT OR REPLACE INTO meta VALUES ('sums_mark', hex(randomblob(8)))
        """,
    )


def m011_team_log(db: sqlite3.Connection) -> None:
    """The local change sequence the team sync pushes by (core/team/sync.py): every insert,
    update and delete of a call appends one entry to team_log, whose `seq` only grows. The
    triggers write only once a team sync has switched the log on (meta key `team.log`), so a
    ledger with no team pays one lookup per written row and keeps no log."""
    _run(
        db,
        """
        CREATE TABLE team_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused, even after the log is trimmed
            call_id INTEGER NOT NULL,                -- calls.id
            agent TEXT,                              -- agent and key of a deleted call, else NULL
            dedupe_key TEXT
        )
        """,
    )
    for sql in TEAM_LOG_TRIGGERS.values():
        db.execute(sql)


_TEAM_LOG_ON = "WHEN EXISTS (SELECT 1 FROM meta WHERE key = 'team.log')"
TEAM_LOG_TRIGGERS = {
    "team_log_insert": f"CREATE TRIGGER team_log_insert AFTER INSERT ON calls {_TEAM_LOG_ON} BEGIN "
                         "INSERT INTO team_log (call_id) VALUES (NEW.id); END",
    "team_log_update": f"CREATE TRIGGER team_log_update AFTER UPDATE ON calls {_TEAM_LOG_ON} BEGIN "
                         "INSERT INTO team_log (call_id) VALUES (NEW.id); END",
    "team_log_delete": f"CREATE TRIGGER team_log_delete AFTER DELETE ON calls {_TEAM_LOG_ON} BEGIN "
                         "INSERT INTO team_log (call_id, agent, dedupe_key) "
                         "VALUES (OLD.id, OLD.agent, OLD.dedupe_key); END",
}


def m012_rate_limits(db: sqlite3.Connection) -> None:
    """Official plan-limit figures (Claude Code's status line, Codex rollouts, any later source):
    one row per change of a window's figure, append-only (core/limits/snapshots.py). Percentages
    and times only."""
    _run(
        db,
        """
        CREATE TABLE rate_limit_snapshots (
            id INTEGER PRIMARY KEY,
            agent TEXT NOT NULL,                 -- 'claude' | 'codex' | ...
            window TEXT NOT NULL,                -- 'five_hour' | 'seven_day' (or '<n>m' for others)
            used_percentage REAL NOT NULL,       -- 0-100
            resets_at INTEGER,                   -- Unix s, NULL when not reported
            captured_at INTEGER NOT NULL,        -- Unix s: when this figure was first seen
            source TEXT NOT NULL,                -- 'statusline' | 'codex' | ...
            session_id TEXT,                     -- the session that reported it
            window_minutes INTEGER,              -- the window's length when the source says it
            UNIQUE (agent, window, source, captured_at, used_percentage)
        );
        CREATE INDEX rate_limit_snapshots_latest ON rate_limit_snapshots (agent, window, captured_at)
        """,
    )


def m013_hardening(db: sqlite3.Connection) -> None:
    """A random `ledger_id` in meta. Rows a reader now refuses (a counter above rows.MAX_TOKENS,
    10^10 tokens a call, or below 0: an absurd value in a log, stored by an older version) are
    dropped: two of them could make every sum overflow. The bucket triggers mark their quarter
    hours to be summed again."""
    bound = 10_000_000_000
    counters = ("input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens",
                "cache_write_5m_tokens", "cache_write_1h_tokens")
    db.execute("DELETE FROM calls WHERE " + " OR ".join(f"{c} NOT BETWEEN 0 AND {bound}" for c in counters))
    # Who this ledger is (store/health.py): a ledger made anew at the same path has another id,
    # so a lost ledger rebuilt from what logs remain is told apart from the one that was there.
    db.execute("INSERT OR IGNORE INTO meta VALUES ('ledger_id', lower(hex(randomblob(8))))")


MIGRATIONS = [
    m001_initial,
    m002_accounting,
    m003_value,
    m004_speed,
    m005_day_sums,
    m006_call_buckets,
    m007_unpriced_index,
    m008_no_day_sums_index,
    m009_source_marks,
    m010_sums_cache,
    m011_team_log,
    m012_rate_limits,
    m013_hardening,
]
