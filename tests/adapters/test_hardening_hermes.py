"""Hermes booked exactly: a session spanning midnight on each of its days (session_daily_usage),
a mid-session model switch priced per model (session_model_usage rows with an empty task), an
older database told apart, an unpriced model's cost null, an absurd counter a bad line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from token_roi.ingest import ingest, refresh
from token_roi.store import Store

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "hermes" / "state.sql"
S3 = "20260302_233000_aa11bb"
S4 = "20260305_140000_cc22dd"


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "user-home" / ".hermes" / "state.db"
    path.parent.mkdir(parents=True)
    con = sqlite3.connect(path)
    con.executescript(FIXTURE.read_text())
    con.commit()
    con.close()
    return path


def sql(path: Path, text: str, *params) -> None:
    con = sqlite3.connect(path)
    con.execute(text, params)
    con.commit()
    con.close()


def session(path: Path, sid: str, model: str, started: float, last: float, counts: tuple, est: float | None) -> None:
    sql(path, "INSERT INTO sessions (id, source, model, started_at, last_activity_at, input_tokens, output_tokens, "
              "cache_read_tokens, cache_write_tokens, reasoning_tokens, estimated_cost_usd, cwd) "
              "VALUES (?, 'cli', ?, ?, ?, ?, ?, ?, ?, ?, ?, '/home/dev/p')", sid, model, started, last, *counts, est)


def day(path: Path, sid: str, d: str, counts: tuple) -> None:
    sql(path, "INSERT OR REPLACE INTO session_daily_usage (session_id, day, input_tokens, output_tokens, "
              "cache_read_tokens, cache_write_tokens, reasoning_tokens) VALUES (?, ?, ?, ?, ?, ?, ?)", sid, d, *counts)


def by_day(store: Store, sid: str) -> dict:
    return {d: (i, o) for d, i, o in store.db.execute(
        "SELECT date(ts / 1000, 'unixepoch'), SUM(input_tokens), SUM(output_tokens + reasoning_tokens) "
        "FROM calls WHERE session_id = ? GROUP BY 1", (sid,))}


def test_a_session_spanning_midnight_is_booked_on_each_day(db):
    # 23:30 to 00:40: 1000 input / 100 output before midnight, 3000 / 300 after
    session(db, S3, "anthropic/claude-sonnet-4-5", 1772494200.0, 1772498400.0, (4000, 400, 0, 0, 0), None)
    day(db, S3, "2026-03-02", (1000, 100, 0, 0, 0))
    day(db, S3, "2026-03-03", (3000, 300, 0, 0, 0))
    store = Store()
    ingest(store, ["hermes"], show_progress=False)
    assert by_day(store, S3) == {"2026-03-02": (1000, 100), "2026-03-03": (3000, 300)}
    # the day before midnight is booked within that day, the day after at the last activity
    ts = dict(store.db.execute("SELECT date(ts / 1000, 'unixepoch'), ts FROM calls WHERE session_id = ?", (S3,)))
    assert ts["2026-03-03"] == 1772498400000 and ts["2026-03-02"] < 1772496000000
    # the session goes on the next day: only the growth, on that day
    sql(db, "UPDATE sessions SET input_tokens = 4500, output_tokens = 450, last_activity_at = 1772541000 "
            "WHERE id = ?", S3)
    day(db, S3, "2026-03-03", (3500, 350, 0, 0, 0))
    ingest(store, ["hermes"], show_progress=False)
    assert by_day(store, S3) == {"2026-03-02": (1000, 100), "2026-03-03": (3500, 350)}
    out = subprocess.run([sys.executable, "-m", "token_roi.cli", "daily", "--json", "-z", "UTC", "--agent", "hermes",
                          "--since", "2026-03-02", "--until", "2026-03-03"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    days = {d["date"]: d["inputTokens"] for d in json.loads(out.stdout)["daily"]}
    assert days["2026-03-03"] == 3500 and days["2026-03-02"] == 1200 + 300 + 90 + 9000 + 1000


def test_a_mid_session_model_switch_is_priced_per_model(db):
    # gpt-5 for 1M input, then /model claude-opus-4-1 for 1M input; sessions keeps the first model
    session(db, S4, "gpt-5", 1772719200.0, 1772722800.0, (2_000_000, 20_000, 0, 0, 0), None)
    day(db, S4, "2026-03-05", (2_000_000, 20_000, 0, 0, 0))
    for model, first, last in (("gpt-5", 1772719200.0, 1772720000.0), ("claude-opus-4-1", 1772720100.0, 1772722800.0)):
        sql(db, "INSERT INTO session_model_usage (session_id, model, billing_provider, task, api_call_count, "
                "input_tokens, output_tokens, first_seen, last_seen) VALUES (?, ?, 'openrouter', '', 5, 1000000, "
                "10000, ?, ?)", S4, model, first, last)
    store = Store()
    refresh(store, ["hermes"], show_progress=False)
    got = dict(store.db.execute("SELECT model, SUM(input_tokens) FROM calls WHERE session_id = ? GROUP BY model",
                                (S4,)))
    assert got == {"gpt-5": 1_000_000, "claude-opus-4-1": 1_000_000}
    costs = dict(store.db.execute("SELECT model, SUM(cost) FROM calls WHERE session_id = ? GROUP BY model", (S4,)))
    from token_roi import pricing
    opus, _ = pricing.price_usage("claude-opus-4-1", input_tokens=1_000_000, output_tokens=10_000, ts_ms=1772722800000)
    gpt5, _ = pricing.price_usage("gpt-5", input_tokens=1_000_000, output_tokens=10_000, ts_ms=1772720000000)
    assert costs["claude-opus-4-1"] == pytest.approx(opus) and costs["gpt-5"] == pytest.approx(gpt5)
    assert opus > 3 * gpt5                # (booked all at gpt-5, the session would cost far less)
    # the opus share is booked at its own last use
    ts = dict(store.db.execute("SELECT model, ts FROM calls WHERE session_id = ?", (S4,)))
    assert ts["claude-opus-4-1"] == 1772722800000 and ts["gpt-5"] == 1772720000000


def test_an_older_database_is_booked_at_last_activity_and_says_so(db):
    sql(db, "DROP TABLE session_daily_usage")
    session(db, S3, "anthropic/claude-sonnet-4-5", 1772494200.0, 1772498400.0, (4000, 400, 0, 0, 0), None)
    store = Store()
    stats = ingest(store, ["hermes"], show_progress=False)
    assert by_day(store, S3) == {"2026-03-03": (4000, 400)}
    warned = [w for w in stats.warnings if "session_daily_usage" in w]
    assert len(warned) == 1 and str(db) in warned[0], stats.warnings
    sql(db, "UPDATE sessions SET input_tokens = 4100 WHERE id = ?", S3)
    assert not [w for w in ingest(store, ["hermes"], show_progress=False).warnings if "session_daily_usage" in w]


def test_an_unpriced_models_breakdown_cost_is_null(db):
    session(db, S3, "mystery/unknown-model-x", 1772494200.0, 1772495400.0, (1000, 10, 0, 0, 0), None)
    day(db, S3, "2026-03-02", (1000, 10, 0, 0, 0))
    out = subprocess.run([sys.executable, "-m", "token_roi.cli", "daily", "--json", "-z", "UTC", "--agent", "hermes"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    (d,) = [d for d in json.loads(out.stdout)["daily"] if d["date"] == "2026-03-02"]
    mystery = next(b for b in d["modelBreakdowns"] if b["modelName"] == "mystery/unknown-model-x")
    assert mystery["cost"] is None and mystery["missingPricing"] is True
    assert all(b["cost"] is not None for b in d["modelBreakdowns"] if b is not mystery)


def test_an_absurd_hermes_counter_is_a_bad_line(db):
    session(db, S3, "anthropic/claude-sonnet-4-5", 1772494200.0, 1772495400.0, (1e30, 10, 0, 0, 0), None)
    store = Store()
    stats = ingest(store, ["hermes"], show_progress=False)
    assert stats.bad_lines == 1 and any(str(db) in w and "out of range" in w for w in stats.warnings)
    assert store.db.execute("SELECT COUNT(*) FROM calls WHERE session_id = ?", (S3,)).fetchone()[0] == 0
    assert store.db.execute("SELECT SUM(input_tokens) FROM calls").fetchone()[0] == 1200 + 300 + 90 + 9000


def test_sessions_booked_whole_by_an_older_version_are_never_counted_twice(db):
    session(db, S3, "anthropic/claude-sonnet-4-5", 1772494200.0, 1772495400.0, (4000, 400, 0, 0, 0), None)
    store = Store()
    ingest(store, ["hermes"], show_progress=False)
    # what an older version left: the same snapshots, no split sessions
    from token_roi.adapters.hermes import ADAPTER
    (key,) = [k for k in store.cursors("hermes")]
    cursor = store.cursors("hermes")[key]
    cursor.state = {"sessions": cursor.state["sessions"], "aux": cursor.state["aux"]}
    cursor.size = -1
    with store.transaction():
        store.put_cursor(cursor)
    sql(db, "UPDATE sessions SET input_tokens = 5000, last_activity_at = 1772541000 WHERE id = ?", S3)
    day(db, S3, "2026-03-02", (4000, 400, 0, 0, 0))
    day(db, S3, "2026-03-03", (1000, 0, 0, 0, 0))
    ingest(store, ["hermes"], show_progress=False)
    assert store.db.execute("SELECT SUM(input_tokens) FROM calls WHERE session_id = ?", (S3,)).fetchone()[0] == 5000
    assert ADAPTER.name == "hermes"
