"""The connection to the team server and its schema, created and upgraded by numbered migrations
(like the local store's): `team_meta.schema_version` says which ones ran. A client refuses a
server whose schema is older (run `team init`) or newer (upgrade token-roi) than its own.

Server tables (PostgreSQL):
- calls: one row per API call, keyed (agent, dedupe_key) with no machine or user in the key, so
  the same call pushed from two machines is one row; counts, times, names and prices only.
- call_buckets: sums per quarter hour, member, agent and model, kept by every push for the rows
  it changed (sync.py), as the local ledger keeps its own; call_hours: the same per hour. The
  period reports read the hours in a zone whose offsets are whole hours, else the quarter hours.
- subscriptions, rate_limit_snapshots: each member's flat-fee plans and limit snapshots.
- devices: each machine's last push (for `team status`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import TeamError
from .config import redact

if TYPE_CHECKING:
    import psycopg

INSTALL_HINT = "pip install 'token-roi[team]' (or: pip install 'psycopg[binary]>=3.1')"
MEMBER_ROLE = "token_roi_member"
LEAD_ROLE = "token_roi_lead"
_LOCK = 0x746F6B65   # pg_advisory_xact_lock class id of token-roi's locks ('toke')


def _psycopg():
    try:
        import psycopg
    except ImportError:
        raise TeamError(f"team mode needs psycopg 3, which is not installed: {INSTALL_HINT}") from None
    return psycopg


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0].strip()


def connect(url: str, *, connect_timeout: int = 10) -> psycopg.Connection:
    """A connection (autocommit off) or a TeamError of one line: unreachable, login refused."""
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(url, connect_timeout=connect_timeout, application_name="token-roi")
    except psycopg.OperationalError as exc:
        raise TeamError(describe_connect_error(url, exc)) from None
    except psycopg.ProgrammingError as exc:       # (a malformed DSN)
        raise TeamError(f"team.url {redact(url)}: not a valid libpq DSN: {first_line(exc)}") from None
    return conn


def describe_connect_error(url: str, exc: BaseException) -> str:
    msg = first_line(exc)
    # libpq's messages: 'connection to server at "h" (addr), port p failed: <reason>'
    reason = msg.split("failed:", 1)[1].strip() if "failed:" in msg else msg
    low = str(exc).lower()
    if "password authentication failed" in low or "authentication failed" in low or \
            "no password supplied" in low or "no pg_hba.conf entry" in low or \
            "does not exist" in low and "role" in low:
        return f"the team server refused the login ({redact(url)}): {reason}"
    if "database" in low and "does not exist" in low:
        return f"the team server has no such database ({redact(url)}): {reason}"
    return f"cannot reach the team server ({redact(url)}): {reason}"


# -- schema -------------------------------------------------------------------------------------

_V1 = """
CREATE TABLE team_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE calls (
    agent text NOT NULL,
    dedupe_key text NOT NULL,
    rank bigint NOT NULL,
    ts bigint NOT NULL,                       -- epoch ms, UTC
    model text,
    input_tokens bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    reasoning_tokens bigint NOT NULL DEFAULT 0,
    cache_read_tokens bigint NOT NULL DEFAULT 0,
    cache_write_5m_tokens bigint NOT NULL DEFAULT 0,
    cache_write_1h_tokens bigint NOT NULL DEFAULT 0,
    cost double precision,                    -- USD as the pushing machine priced it; NULL unpriced
    recorded_cost double precision,
    price_source text,
    price_version text,
    speed text,
    is_sidechain boolean NOT NULL DEFAULT false,
    is_subagent boolean NOT NULL DEFAULT false,
    origin text NOT NULL DEFAULT 'auto',      -- 'auto' agent logs | 'manual' a ledger entry
    session_id text,
    project text,                             -- 'h:' + hash of the path, or the path (project_names plain)
    member text NOT NULL,
    device_id text NOT NULL,
    pushed_at timestamptz NOT NULL DEFAULT now(),
    prev_member text,                         -- the member and time of the copy the last push replaced
    prev_ts bigint,                           -- (whose quarter hours it summed again: see sync.py)
    PRIMARY KEY (agent, dedupe_key)
);
CREATE INDEX calls_member_ts ON calls (member, ts);
CREATE INDEX calls_ts ON calls (ts);
CREATE TABLE call_buckets (
    bucket integer NOT NULL,                  -- ts / 900000: quarter hours since the epoch, UTC
    member text NOT NULL,
    agent text NOT NULL,
    model text,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    reasoning_tokens bigint NOT NULL,
    cache_read_tokens bigint NOT NULL,
    cache_write_5m_tokens bigint NOT NULL,
    cache_write_1h_tokens bigint NOT NULL,
    cost double precision NOT NULL,           -- of the priced calls
    calls bigint NOT NULL,
    unpriced_calls bigint NOT NULL,
    unpriced_tokens bigint NOT NULL,
    first_ts bigint NOT NULL,
    last_ts bigint NOT NULL
);
CREATE INDEX call_buckets_bucket ON call_buckets (bucket, member);
CREATE INDEX call_buckets_member ON call_buckets (member, bucket);
CREATE TABLE call_hours (                     -- call_buckets summed per hour (ts / 3600000)
    hour integer NOT NULL,
    member text NOT NULL,
    agent text NOT NULL,
    model text,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    reasoning_tokens bigint NOT NULL,
    cache_read_tokens bigint NOT NULL,
    cache_write_5m_tokens bigint NOT NULL,
    cache_write_1h_tokens bigint NOT NULL,
    cost double precision NOT NULL,
    calls bigint NOT NULL,
    unpriced_calls bigint NOT NULL,
    unpriced_tokens bigint NOT NULL,
    first_ts bigint NOT NULL,
    last_ts bigint NOT NULL
);
CREATE INDEX call_hours_hour ON call_hours (hour, member);
CREATE INDEX call_hours_member ON call_hours (member, hour);
CREATE TABLE subscriptions (
    member text NOT NULL,
    plan text NOT NULL,
    agent text NOT NULL,
    monthly_fee double precision NOT NULL,
    start_date date NOT NULL,
    end_date date,
    PRIMARY KEY (member, plan, agent, start_date)
);
CREATE TABLE rate_limit_snapshots (
    member text NOT NULL,
    device_id text NOT NULL,
    snap_key text NOT NULL,                   -- a hash of the snapshot's fields: pushed twice, kept once
    agent text NOT NULL,
    "window" text NOT NULL,
    used_percentage double precision,
    resets_at bigint,
    captured_at bigint NOT NULL,
    source text,
    session_id text,
    PRIMARY KEY (member, snap_key)
);
CREATE TABLE devices (
    device_id text PRIMARY KEY,
    member text NOT NULL,
    last_push timestamptz NOT NULL,
    rows_pushed bigint NOT NULL DEFAULT 0
)
"""

# (version, name, SQL): appended, never edited once released.
MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "calls, quarter-hour sums, subscriptions, rate-limit snapshots, devices", _V1),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
TEAM_TABLES = ("calls", "call_buckets", "call_hours", "subscriptions", "rate_limit_snapshots", "devices")


def _statements(script: str) -> list[str]:
    script = re.sub(r"--[^\n]*", "", script)
    return [s.strip() for s in script.split(";") if s.strip()]


def schema_version(conn: psycopg.Connection) -> int | None:
    """The server's schema version, None when it has no token-roi schema."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('team_meta') IS NOT NULL")
        row = cur.fetchone()
        if not row or not row[0]:
            return None
        cur.execute("SELECT value FROM team_meta WHERE key = 'schema_version'")
        got = cur.fetchone()
    return int(got[0]) if got else None


def check_schema(conn: psycopg.Connection) -> None:
    """A TeamError unless the server's schema is exactly this client's."""
    psycopg = _psycopg()
    try:
        found = schema_version(conn)
    except psycopg.Error as exc:
        raise TeamError(f"cannot read the team server's schema: {first_line(exc)}") from None
    finally:
        conn.rollback()
    if found is None:
        raise TeamError("the team server has no token-roi schema yet: run `token-roi team init` "
                        "(as the database's owner)")
    if found < SCHEMA_VERSION:
        raise TeamError(f"the team server's schema is version {found}, older than this token-roi's "
                        f"{SCHEMA_VERSION}: run `token-roi team init` to upgrade it")
    if found > SCHEMA_VERSION:
        raise TeamError(f"the team server's schema is version {found}, newer than this token-roi "
                        f"understands ({SCHEMA_VERSION}): upgrade token-roi on this machine")


def migrate(conn: psycopg.Connection) -> list[str]:
    """Create or upgrade the schema (one transaction, under a lock: two inits at once are safe);
    the names of the migrations applied, [] when it was up to date."""
    import secrets
    applied: list[str] = []
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK,))
        found = schema_version(conn) or 0
        if found > SCHEMA_VERSION:
            raise TeamError(f"the team server's schema is version {found}, newer than this token-roi "
                            f"understands ({SCHEMA_VERSION}): upgrade token-roi on this machine")
        for version, name, script in MIGRATIONS:
            if version <= found:
                continue
            for statement in _statements(script):
                cur.execute(statement)
            applied.append(f"{version:03d} {name}")
        if applied:
            cur.execute("INSERT INTO team_meta VALUES ('schema_version', %s) ON CONFLICT (key) "
                        "DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))
            cur.execute("INSERT INTO team_meta VALUES ('server_id', %s), ('project_salt', %s) "
                        "ON CONFLICT (key) DO NOTHING", (secrets.token_hex(8), secrets.token_hex(16)))
    return applied


def setup_roles(conn: psycopg.Connection) -> None:
    """The member and lead roles (NOLOGIN groups: grant them to people's login roles) and
    row-level security: a member reads and writes only rows whose member is its own login name,
    a lead reads every row. The schema's owner (who ran init) is not bound by the policies."""
    statements = []
    for role in (MEMBER_ROLE, LEAD_ROLE):
        statements.append(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
                          f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$")
    statements.append(f"GRANT SELECT ON team_meta TO {MEMBER_ROLE}, {LEAD_ROLE}")
    for table in TEAM_TABLES:
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {MEMBER_ROLE}",
            f"GRANT SELECT ON {table} TO {LEAD_ROLE}",
            f"DROP POLICY IF EXISTS member_own ON {table}",
            f"CREATE POLICY member_own ON {table} FOR ALL TO {MEMBER_ROLE} "
            "USING (member = current_user) WITH CHECK (member = current_user)",
            f"DROP POLICY IF EXISTS lead_reads ON {table}",
            f"CREATE POLICY lead_reads ON {table} FOR SELECT TO {LEAD_ROLE} USING (true)",
        ]
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK,))
        for statement in statements:
            cur.execute(statement)


def meta(conn: psycopg.Connection) -> dict[str, Any]:
    with conn.cursor() as cur:
        cur.execute("SELECT key, value FROM team_meta")
        out: dict[str, Any] = dict(cur.fetchall())
    conn.rollback()
    return out
