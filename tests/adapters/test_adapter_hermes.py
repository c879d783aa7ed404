"""Hermes: running totals per session booked as deltas, auxiliary rows, profiles, recorded costs."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from token_roi.adapters import get_adapter
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "hermes" / "state.sql"
S1 = "20260302_090000_a1b2c3"
S2 = "20260302_100000_d4e5f6"


def make_db(path: Path, journal: str = "wal") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA journal_mode={journal}")
    db.executescript(FIXTURE.read_text())
    db.commit()
    db.close()
    return path


def run(sql: str, path: Path, *params) -> None:
    db = sqlite3.connect(path)
    db.execute(sql, params)
    db.commit()
    db.close()


def totals(store: Store, where: str = "1") -> dict:
    r = store.db.execute(
        "SELECT COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(reasoning_tokens), SUM(cache_read_tokens), "
        f"SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), ROUND(SUM(recorded_cost), 6) FROM calls "
        f"WHERE agent = 'hermes' AND {where}").fetchone()
    names = ("rows", "input", "output", "reasoning", "cache_read", "cache_write_5m", "cache_write_1h", "recorded")
    return dict(zip(names, r))


@pytest.fixture
def hermes_home(tmp_path):
    return tmp_path / "user-home" / ".hermes"


def test_first_read_books_sessions_plus_auxiliary_rows_only(hermes_home):
    make_db(hermes_home / "state.db")
    store = Store()
    ingest(store, agents=["hermes"], show_progress=False)
    # sessions: 1200+300 input; aux (task != ''): 90 + 9000. The task='' rows are NOT added again.
    assert totals(store) == {
        "rows": 4, "input": 1200 + 300 + 90 + 9000,
        "output": (800 - 150) + (120 - 40) + 12 + 700,   # reasoning is inside Hermes's output
        "reasoning": 150 + 40, "cache_read": 40000, "cache_write_5m": 5000, "cache_write_1h": 0,
        # actual where set (0.2990, subscription 0.0), else estimated (0.00002, 0.00177)
        "recorded": round(0.2990 + 0.0 + 0.00002 + 0.00177, 6),
    }
    s1 = store.db.execute(
        "SELECT model, project, git_branch, ts, recorded_cost FROM calls "
        "WHERE session_id = ? AND model LIKE 'anthropic/%'",
        (S1,)).fetchone()
    assert s1 == ("anthropic/claude-sonnet-4-5", "/home/dev/projects/shop", "main", 1772442600250, 0.299)
    # A subscription's recorded 0 stays 0 (our own price will show the menu price).
    assert store.db.execute("SELECT recorded_cost FROM calls WHERE session_id = ?", (S2,)).fetchone() == (0.0,)
    aux_models = {r[0] for r in store.db.execute("SELECT model FROM calls WHERE input_tokens IN (90, 9000)")}
    assert aux_models == {"google/gemini-2.5-flash"}


def test_growing_totals_book_only_the_growth(hermes_home):
    db = make_db(hermes_home / "state.db")
    store = Store()
    ingest(store, agents=["hermes"], show_progress=False)
    before = totals(store)

    # Nothing changed: nothing booked (the first re-read may look again: our own read-only open
    # created the empty -wal file), then nothing even read.
    assert ingest(store, agents=["hermes"], show_progress=False).rows == 0
    stats = ingest(store, agents=["hermes"], show_progress=False)
    assert stats.rows == 0 and stats.sources_read == 0
    assert totals(store) == before

    # Two more calls in session 1 (running totals grow) and one more compression call.
    run("UPDATE sessions SET input_tokens = 1700, output_tokens = 1100, cache_read_tokens = 90000, "
        "cache_write_tokens = 5200, reasoning_tokens = 250, actual_cost_usd = 0.4990, "
        "last_activity_at = 1772443200.0 WHERE id = ?", db, S1)
    run("UPDATE session_model_usage SET input_tokens = 17000, output_tokens = 1400, estimated_cost_usd = 0.00345, "
        "last_seen = 1772443100.0 WHERE task = 'compression'", db)
    ingest(store, agents=["hermes"], show_progress=False)
    after = totals(store)
    # The ledger now holds exactly the current totals (a naive re-sum would hold old + new).
    assert after == {
        "rows": 6, "input": 1700 + 300 + 90 + 17000, "output": (1100 - 250) + (120 - 40) + 12 + 1400,
        "reasoning": 250 + 40, "cache_read": 90000, "cache_write_5m": 5200, "cache_write_1h": 0,
        "recorded": round(0.4990 + 0.0 + 0.00002 + 0.00345, 6),
    }
    delta = store.db.execute(
        "SELECT input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, ts, ROUND(recorded_cost, 6) "
        "FROM calls WHERE session_id = ? AND model LIKE 'anthropic/%' ORDER BY ts DESC LIMIT 1", (S1,)).fetchone()
    assert delta == (500, 200, 100, 50000, 1772443200000, 0.2)

    # Re-reading the same totals again (e.g. an unrelated write elsewhere in the file) books nothing.
    run("INSERT INTO messages (session_id, role, content, timestamp) VALUES (?, 'user', 'x', 1.0)", db, S2)
    ingest(store, agents=["hermes"], show_progress=False)
    assert totals(store) == after


def test_profiles_are_read_and_named(hermes_home):
    make_db(hermes_home / "state.db")
    work = make_db(hermes_home / "profiles" / "work" / "state.db")
    run("DELETE FROM session_model_usage", work)
    run(f"DELETE FROM sessions WHERE id != '{S2}'", work)
    adapter = get_adapter("hermes")
    assert [s.meta["profile"] for s in adapter.sources()] == ["default", "work"]
    store = Store()
    ingest(store, agents=["hermes"], show_progress=False)
    # S2 exists in both profiles (same id, different databases): both are real usage.
    assert totals(store, f"session_id = '{S2}'")["input"] == 600
    keys = [r[0] for r in store.db.execute("SELECT dedupe_key FROM calls WHERE session_id = ?", (S2,))]
    assert sorted(k.split("/")[0] for k in keys) == ["default", "work"]


def test_hermes_home_env_and_default_are_one_source_when_the_same(hermes_home, monkeypatch):
    make_db(hermes_home / "state.db")
    monkeypatch.setenv("HERMES_HOME", str(hermes_home))
    assert len(list(get_adapter("hermes").sources())) == 1
    store = Store()
    ingest(store, agents=["hermes"], show_progress=False)
    assert totals(store)["rows"] == 4


def test_hermes_home_override_elsewhere(tmp_path, monkeypatch):
    other = make_db(tmp_path / "elsewhere" / "state.db")
    monkeypatch.setenv("HERMES_HOME", str(other.parent))
    adapter = get_adapter("hermes")
    assert adapter.roots() == [other.parent]
    store = Store()
    ingest(store, agents=["hermes"], show_progress=False)
    assert totals(store)["input"] == 1200 + 300 + 90 + 9000


def test_database_is_never_written(hermes_home):
    db = make_db(hermes_home / "state.db", journal="delete")
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    mtime = db.stat().st_mtime_ns
    ingest(Store(), agents=["hermes"], show_progress=False)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    assert db.stat().st_mtime_ns == mtime


def test_older_schema_without_session_model_usage(hermes_home):
    db = make_db(hermes_home / "state.db")
    run("DROP TABLE session_model_usage", db)
    store = Store()
    ingest(store, agents=["hermes"], show_progress=False)
    assert totals(store)["input"] == 1500


def test_no_hermes_no_sources():
    adapter = get_adapter("hermes")
    assert adapter.roots() == [] and list(adapter.sources()) == []


def test_empty_state_db_is_detected_but_books_nothing(hermes_home):
    hermes_home.mkdir(parents=True)
    sqlite3.connect(hermes_home / "state.db").close()
    store = Store()
    stats = ingest(store, agents=["hermes"], show_progress=False)
    assert stats.warnings == [] and totals(store)["rows"] == 0
    assert get_adapter("hermes").roots() == [hermes_home]


def test_system_prompts_are_never_read(hermes_home, monkeypatch):
    from token_roi.adapters import sqlite_ro
    make_db(hermes_home / "state.db")
    queries = []
    real = sqlite_ro.query
    monkeypatch.setattr(sqlite_ro, "query", lambda path, sql, *a, **k: queries.append(sql) or real(path, sql, *a, **k))
    ingest(Store(), agents=["hermes"], show_progress=False)
    assert queries and not any("*" in q or "system_prompt" in q or "messages" in q for q in queries)


def test_a_counter_going_down_books_nothing_negative(hermes_home):
    db = make_db(hermes_home / "state.db")
    store = Store()
    ingest(store, agents=["hermes"], show_progress=False)
    before = totals(store, f"session_id = '{S2}'")
    run("UPDATE sessions SET input_tokens = 100, output_tokens = 170 WHERE id = ?", db, S2)
    ingest(store, agents=["hermes"], show_progress=False)
    after = totals(store, f"session_id = '{S2}'")
    assert after["input"] == before["input"] and after["output"] == before["output"] + 50
    assert store.db.execute("SELECT MIN(input_tokens), MIN(output_tokens) FROM calls").fetchone() >= (0, 0)


def test_hermes_home_pointing_at_a_profile(hermes_home, monkeypatch):
    # `hermes -p work` runs with HERMES_HOME=~/.hermes/profiles/work: still every home once.
    make_db(hermes_home / "state.db")
    make_db(hermes_home / "profiles" / "work" / "state.db")
    monkeypatch.setenv("HERMES_HOME", str(hermes_home / "profiles" / "work"))
    assert sorted(s.meta["profile"] for s in get_adapter("hermes").sources()) == ["default", "work"]
    store = Store()
    ingest(store, agents=["hermes"], show_progress=False)
    assert totals(store)["rows"] == 8
