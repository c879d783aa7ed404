"""team sync against a real PostgreSQL: two machines with an overlapping tree merge exactly once,
a resync changes nothing, deletions and rate-limit snapshots travel, --dry-run shows what
would be sent and sends nothing."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
from team_data import write_session

START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)
SUMS = ("count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
        "sum(cache_write_5m_tokens + cache_write_1h_tokens), round(sum(cost)::numeric, 6)")


def server_sums(dsn: str, where: str = "") -> tuple:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT {SUMS} FROM calls {where}").fetchone()
        assert row is not None
        return tuple(row)


def union_truth(*machines) -> tuple:
    """The sums over the union of the machines' ledgers, each call once (its best copy)."""
    best: dict[tuple, tuple] = {}
    for m in machines:
        store = m.store()
        try:
            for r in store.db.execute("SELECT agent, dedupe_key, rank, input_tokens, output_tokens, "
                                      "cache_read_tokens, cache_write_5m_tokens + cache_write_1h_tokens, cost "
                                      "FROM calls"):
                if r[:2] not in best or r[2] > best[r[:2]][2]:
                    best[r[:2]] = r
        finally:
            store.close()
    rows = list(best.values())
    from decimal import Decimal
    priced = [r[7] for r in rows if r[7] is not None]
    cost = Decimal(str(round(sum(priced), 6))).quantize(Decimal("0.000001")) if priced else None
    return (len(rows), *(sum(r[i] for r in rows) for i in range(3, 7)), cost)


def overlapping_pair(machines):
    """Two machines of one member sharing one session's transcript (a synced home)."""
    a, b = machines("laptop", "alice"), machines("desktop", "alice")
    write_session(a.home, "/home/alice/src/api", "s-a1", START, 40, 1)
    write_session(a.home, "/home/alice/src/api", "s-shared", START + dt.timedelta(days=1), 60, 2)
    write_session(b.home, "/home/alice/src/api", "s-shared", START + dt.timedelta(days=1), 60, 2)
    write_session(b.home, "/home/alice/src/web", "s-b1", START + dt.timedelta(days=2), 30, 3)
    return a, b


def test_two_machines_with_an_overlapping_tree_merge_exactly_once(machines, team_db, capsys):
    a, b = overlapping_pair(machines)
    assert a.run("team", "init", capsys=capsys)[0] == 0
    assert a.run("team", "sync", capsys=capsys)[0] == 0
    code, out, err = b.run("team", "sync", capsys=capsys)
    assert code == 0, err
    assert "pushed 90 calls" in out
    assert server_sums(team_db) == union_truth(a, b)
    assert server_sums(team_db)[0] == 40 + 60 + 30          # the shared session once
    with psycopg.connect(team_db) as conn:
        devices = conn.execute("SELECT count(*), count(DISTINCT member) FROM devices").fetchone()
        assert devices == (2, 1)
        # the quarter-hour sums are exactly the rows'
        truth = conn.execute("SELECT count(*), sum(input_tokens), sum(output_tokens) FROM calls").fetchone()
        for table in ("call_buckets", "call_hours"):
            assert conn.execute(f"SELECT sum(calls), sum(input_tokens), sum(output_tokens) FROM {table}"
                                ).fetchone() == truth


def test_a_resync_changes_nothing_and_new_calls_follow_by_sequence(machines, team_db, capsys):
    a, b = overlapping_pair(machines)
    a.run("team", "init", capsys=capsys)
    a.run("team", "sync", capsys=capsys)
    b.run("team", "sync", capsys=capsys)

    def versions():
        with psycopg.connect(team_db) as conn:
            return (conn.execute("SELECT agent, dedupe_key, xmin::text FROM calls ORDER BY 1, 2").fetchall(),
                    conn.execute("SELECT bucket, member, agent, model, xmin::text FROM call_buckets "
                                 "ORDER BY 1, 2, 3, 4").fetchall())
    before = versions()
    for m in (a, b, a):
        code, out, _ = m.run("team", "sync", capsys=capsys)
        assert code == 0 and out.startswith("pushed 0 calls")
    assert versions() == before                              # not one row written again

    # A call older than every pushed one, ingested late, is still sent (by sequence, not time).
    write_session(a.home, "/home/alice/src/api", "s-late", START - dt.timedelta(days=30), 5, 9)
    code, out, _ = a.run("team", "sync", capsys=capsys)
    assert code == 0 and "pushed 5 calls (5 new" in out
    assert server_sums(team_db) == union_truth(a, b)


def test_dry_run_prints_exactly_what_would_be_sent_and_sends_nothing(machines, team_db, capsys):
    a = machines("laptop", "alice")
    write_session(a.home, "/home/alice/src/api", "s-1", START, 7, 4)
    a.run("team", "init", capsys=capsys)
    code, out, err = a.run("team", "sync", "--dry-run", capsys=capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 7 and {r["table"] for r in lines} == {"calls"}
    assert {r["member"] for r in lines} == {"alice"}
    assert all(r["project"] == "/home/alice/src/api" for r in lines)     # project_names: plain here
    assert "would send 7 calls" in err
    assert not any(k in json.dumps(lines) for k in ("content", "text", "gitBranch", "notes"))
    assert server_sums(team_db)[0] == 0
    code, out, _ = a.run("team", "sync", capsys=capsys)
    assert "pushed 7 calls" in out
    with psycopg.connect(team_db) as conn:
        sent = conn.execute("SELECT agent, dedupe_key, input_tokens, output_tokens, cache_read_tokens, model "
                            "FROM calls ORDER BY dedupe_key").fetchall()
    shown = sorted((r["agent"], r["dedupe_key"], r["input_tokens"], r["output_tokens"], r["cache_read_tokens"],
                    r["model"]) for r in lines)
    assert [tuple(r) for r in sent] == shown
    code, out, err = a.run("team", "sync", "--dry-run", capsys=capsys)
    assert out == "" and "would send 0 calls" in err


def test_project_paths_are_hashed_unless_plain_is_asked(machines, team_db, capsys):
    a = machines("laptop", "alice")
    a.config.write_text("team:\n  member: alice\n")                          # project_names: default
    write_session(a.home, "/home/alice/src/secret-project", "s-1", START, 3, 4)
    a.run("team", "init", capsys=capsys)
    a.run("team", "sync", capsys=capsys)
    with psycopg.connect(team_db) as conn:
        projects = {r[0] for r in conn.execute("SELECT DISTINCT project FROM calls")}
    assert len(projects) == 1
    (key,) = projects
    assert key.startswith("h:") and "secret" not in key


def test_deleted_manual_entries_and_rate_limit_snapshots_travel(machines, team_db, capsys):
    a = machines("laptop", "alice")
    write_session(a.home, "/home/alice/src/api", "s-1", START, 3, 4)
    a.run("team", "init", capsys=capsys)
    store = a.store()
    try:
        with store.transaction():
            # Two official figures as the status line's spool leaves them in the ledger (m012).
            store.db.executemany("INSERT INTO rate_limit_snapshots (agent, window, used_percentage, resets_at, "
                                 "captured_at, source, session_id) VALUES (?, ?, ?, ?, ?, ?, ?)", [
                ("claude", "five_hour", 41.5, 1772450000, 1772440000, "statusline", "s-1"),
                ("claude", "seven_day", 12.0, None, 1772440000, "statusline", "s-1")])
    finally:
        store.close()
    code, out, _ = a.run("team", "sync", capsys=capsys)
    assert code == 0 and "2 rate-limit snapshots" in out
    code, out, _ = a.run("team", "sync", capsys=capsys)
    assert "0 rate-limit snapshots" in out
    with psycopg.connect(team_db) as conn:
        assert conn.execute('SELECT "window", used_percentage, resets_at, member FROM rate_limit_snapshots '
                            "ORDER BY 1").fetchall() == [("five_hour", 41.5, 1772450000, "alice"),
                                                          ("seven_day", 12.0, None, "alice")]
    # a call the ledger drops (a manual entry removed from its file, say) is dropped on the server
    store = a.store()
    try:
        with store.transaction():
            store.db.execute("DELETE FROM calls WHERE id = (SELECT MIN(id) FROM calls)")
    finally:
        store.close()
    code, out, _ = a.run("team", "sync", "--no-ingest", capsys=capsys)
    assert code == 0 and "1 deletions" in out
    assert server_sums(team_db) == union_truth(a)
    with psycopg.connect(team_db) as conn:
        assert conn.execute("SELECT sum(calls) FROM call_buckets").fetchone() == (2,)
        assert conn.execute("SELECT sum(calls) FROM call_hours").fetchone() == (2,)


def test_status_shows_the_server_and_what_is_left_to_push(machines, team_db, capsys):
    a = machines("laptop", "alice")
    write_session(a.home, "/home/alice/src/api", "s-1", START, 4, 4)
    a.run("team", "init", capsys=capsys)
    code, out, _ = a.run("team", "status", capsys=capsys)
    assert code == 0 and "never pushed to this server" in out and "schema version 1" in out
    a.run("team", "sync", capsys=capsys)
    write_session(a.home, "/home/alice/src/api", "s-2", START + dt.timedelta(days=1), 3, 5)
    assert a.run("ingest", capsys=capsys)[0] == 0
    code, out, _ = a.run("team", "status", capsys=capsys)
    assert code == 0 and "3 local changes not pushed yet" in out and "visible:  4 calls" in out
    assert "alice" in out and "4 rows" in out


def test_the_progress_bar_counts_changes_on_a_terminal():
    import io

    from token_roi.progress import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True
    stream = Tty()
    bar = Progress(20_000, "Pushing to the team server", delay=0, stream=stream, unit="changes")
    bar.advance(5_000)
    assert "Pushing to the team server [" in stream.getvalue() and " 25% 5,000 changes" in stream.getvalue()
    bar.close()


def test_config_show_never_prints_the_dsn_password(machines, capsys):
    m = machines("laptop", "alice", url="", extra="")
    m.config.write_text("team:\n  url: postgresql://alice:s3cret-pw@db.example.com/tokenroi\n")
    code, out, _ = m.run("config", "show", capsys=capsys)
    assert code == 0 and "s3cret" not in out and "postgresql://alice:***@db.example.com" in out
    from token_roi.team.config import redact
    assert redact("host=db password='s3cret pw' user=alice") == "host=db password=*** user=alice"
    assert redact("postgres://bob:pw@h:5432/d?sslmode=require") == "postgres://bob:***@h:5432/d?sslmode=require"
