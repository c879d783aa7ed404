"""Copilot CLI session store: cache reads and writes taken out of input, rows read from the WAL
of a store Copilot still holds open, read-only, incremental by rowid.

Fixture tests/fixtures/copilot/session-store.sql, by hand (uncached input, cache read, cache
write, output without reasoning, reasoning):
- E1 18500 in = 1200 + 0 read + 17300 write; E2 19300 in = 350 + 17300 + 1650 (claude-sonnet-4.5);
- E3 a subagent call (parent_tool_call_id), claude-haiku-4.5, no cache;
- E4 gpt-5: 24000 in = 4000 + 20000 read; output 1500 of which 1024 reasoning;
- E5 an aborted call with no tokens (no row).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from ledger_sums import summer, total

from token_roi.adapters import get_adapter
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "copilot" / "session-store.sql"
A, B = "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a01", "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c02"
E1, E2, E3, E4 = (1200, 0, 17300, 420, 0), (350, 17300, 1650, 610, 0), (9000, 0, 0, 300, 0), (4000, 20000, 0, 476, 1024)

sums = summer("copilot", "input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "output_tokens",
              "reasoning_tokens")


@pytest.fixture
def live_store(tmp_path, monkeypatch):
    """The store as Copilot leaves it while running: WAL mode, rows not yet checkpointed."""
    home = tmp_path / "copilot"
    home.mkdir()
    db = sqlite3.connect(home / "session-store.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.executescript(FIXTURE.read_text())
    monkeypatch.setenv("COPILOT_HOME", str(home))
    yield db
    db.close()


def test_cache_taken_out_of_input_exact_sums(live_store):
    store = Store()
    stats = ingest(store, agents=["copilot"], show_progress=False)
    assert stats.warnings == [] and stats.bad_lines == 0
    assert sums(store) == (4, total(E1, E2, E3, E4))
    assert sums(store) == (4, (14550, 37300, 18950, 1806, 1024))
    # The whole prompt is kept exactly once: Copilot's input = our uncached + cache read + write.
    # Taking Copilot's input_tokens as the uncached figure would count 56250 cached tokens twice.
    raw_input = live_store.execute("SELECT sum(input_tokens) FROM assistant_usage_events").fetchone()[0]
    assert raw_input == 70800 == sum(sums(store)[1][:3])


def test_session_cwd_branch_model_and_subagent(live_store):
    store = Store()
    ingest(store, agents=["copilot"], show_progress=False)
    rows = store.db.execute(
        "SELECT dedupe_key, model, project, git_branch, is_subagent FROM calls ORDER BY ts").fetchall()
    assert rows == [
        (f"{A}:1", "claude-sonnet-4.5", "/home/dev/src/api", "main", 0),
        (f"{A}:2", "claude-sonnet-4.5", "/home/dev/src/api", "main", 0),
        (f"{A}:3", "claude-haiku-4.5", "/home/dev/src/api", "main", 1),
        (f"{B}:4", "gpt-5", "/home/dev/src/web", "feat/x", 0),
    ]
    assert store.db.execute("SELECT count(*) FROM calls WHERE recorded_cost IS NOT NULL").fetchone() == (0,)


def test_new_calls_read_incrementally_and_once(live_store):
    store = Store()
    ingest(store, agents=["copilot"], show_progress=False)
    assert ingest(store, agents=["copilot"], show_progress=False).sources_read == 0
    live_store.execute(
        "INSERT INTO assistant_usage_events (session_id, turn_index, model, copilot_usage_model, input_tokens, "
        "output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, created_at) VALUES "
        "(?, 1, 'gpt-5', 'gpt-5', 26000, 300, 24000, 0, 128, '2026-01-22T14:13:02.000Z')", (B,))
    stats = ingest(store, agents=["copilot"], show_progress=False)
    assert stats.rows == 1
    assert sums(store, " AND session_id = ?", (B,)) == (2, total(E4, (2000, 24000, 0, 172, 128)))
    assert ingest(store, agents=["copilot"], show_progress=False).rows == 0


def test_store_file_is_not_modified(live_store):
    path = Path(get_adapter("copilot").roots()[0]) / "session-store.db"
    live_store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    ingest(Store(), agents=["copilot"], show_progress=False)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_no_store_no_source(tmp_path, monkeypatch):
    monkeypatch.setenv("COPILOT_HOME", str(tmp_path / "nope"))
    adapter = get_adapter("copilot")
    assert adapter.roots() == [] and list(adapter.sources()) == []
