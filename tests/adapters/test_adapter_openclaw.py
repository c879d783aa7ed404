"""OpenClaw: JSONL, archives and the SQLite copy of the same events count each call once."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from token_roi.adapters import get_adapter
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "openclaw"
A = "5f0e1c2a-7b3d-4e8f-9a10-2b3c4d5e6f70"
B = "0fca86c2-49d4-4985-b7ea-2ea80fa8556b"

# Hand-checked from the fixture: calls a0000004, a0000006, a000000a (session A) and b0000001 (B).
JSONL_TOTALS = {"rows": 4, "input": 12 + 8 + 900 + 2000, "output": 340 + 120 + 50 + 150,
                "cache_read": 15000 + 17200, "cache_write": 2200 + 400 + 1800,
                "recorded": round(0.018105 + 0.00846 + 0.0012 + 0.015, 6)}
# The SQLite store adds one call it alone holds (a000000b); its import bookkeeping row is skipped.
ALL_TOTALS = {"rows": 5, "input": JSONL_TOTALS["input"] + 1500, "output": JSONL_TOTALS["output"] + 75,
              "cache_read": JSONL_TOTALS["cache_read"], "cache_write": JSONL_TOTALS["cache_write"],
              "recorded": round(JSONL_TOTALS["recorded"] + 0.00195, 6)}


def totals(store: Store) -> dict:
    r = store.db.execute(
        "SELECT COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), "
        "SUM(cache_write_5m_tokens + cache_write_1h_tokens), ROUND(SUM(recorded_cost), 6) "
        "FROM calls WHERE agent = 'openclaw'").fetchone()
    return dict(zip(("rows", "input", "output", "cache_read", "cache_write", "recorded"), r))


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "user-home" / ".openclaw"
    shutil.copytree(FIXTURES / "agents", root / "agents")
    return root


def good_lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        try:
            json.loads(line)
        except ValueError:
            continue
        out.append(line)
    return out


def make_agent_db(root: Path, agent: str = "main") -> Path:
    """The newer builds' per-agent store, holding the imported copy of the live session plus
    events written after the import (event_json has the JSONL line's shape)."""
    path = root / "agents" / agent / "agent" / "openclaw-agent.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=wal")
    db.execute("CREATE TABLE transcript_events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, "
               "event_json TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (session_id, seq))")
    lines = good_lines(root / "agents" / agent / "sessions" / f"{A}.jsonl")
    lines += good_lines(FIXTURES / "sqlite_only_events.jsonl")
    db.executemany("INSERT INTO transcript_events VALUES (?, ?, ?, ?)",
                   [(A, i, line, 1772355600000 + i) for i, line in enumerate(lines, 1)])
    db.commit()
    db.close()
    return path


def test_jsonl_live_and_archives_count_each_call_once(root):
    store = Store()
    stats = ingest(store, agents=["openclaw"], show_progress=False)
    # The reset archive repeats calls of the live file: still 4 calls, not 6.
    assert totals(store) == JSONL_TOTALS
    assert stats.bad_lines == 1            # the torn line in the live file
    rows = {r[0]: r[1:] for r in store.db.execute(
        "SELECT dedupe_key, session_id, model, project FROM calls WHERE agent = 'openclaw'")}
    assert rows["a0000006:1772355614800:8:120"] == (A, "claude-sonnet-4-5", "/home/dev/projects/shop")
    assert rows["a000000a:1772355904000:900:50"] == (A, "gpt-5.6-luna", "/home/dev/projects/shop")
    assert rows["b0000001:1772310580000:2000:150"] == (B, "claude-haiku-4-5", "/home/dev")
    assert not any("delivery-mirror" == r[1] for r in rows.values())


def test_sqlite_copy_of_the_same_events_is_not_counted_twice(root):
    make_agent_db(root)
    store = Store()
    ingest(store, agents=["openclaw"], show_progress=False)
    assert totals(store) == ALL_TOTALS
    # The call only the database holds takes its model from the database's model_change.
    assert store.db.execute("SELECT model, project FROM calls WHERE dedupe_key LIKE 'a000000b:%'").fetchone() == (
        "gpt-5.6-luna", "/home/dev/projects/shop")


def test_incremental_reads_count_nothing_twice(root):
    db_path = make_agent_db(root)
    store = Store()
    ingest(store, agents=["openclaw"], show_progress=False)
    assert ingest(store, agents=["openclaw"], show_progress=False).rows == 0
    assert totals(store) == ALL_TOTALS

    # A new call is written to both the live JSONL and the database.
    event = {"type": "message", "id": "a000000d", "parentId": "a000000b", "timestamp": "2026-03-01T09:07:00.000Z",
             "message": {"role": "assistant", "content": [], "api": "openai-responses", "provider": "openai",
                         "usage": {"input": 400, "output": 30, "cacheRead": 1200, "cacheWrite": 0, "totalTokens": 1630,
                                   "cost": {"total": 0.00082}}, "stopReason": "stop", "timestamp": 1772356020000}}
    line = json.dumps(event)
    with open(root / "agents" / "main" / "sessions" / f"{A}.jsonl", "a") as f:
        f.write(line + "\n")
    db = sqlite3.connect(db_path)
    top = db.execute("SELECT MAX(seq) FROM transcript_events").fetchone()[0]
    db.execute("INSERT INTO transcript_events VALUES (?, ?, ?, ?)", (A, top + 1, line, 1772356020000))
    db.commit()
    db.close()

    ingest(store, agents=["openclaw"], show_progress=False)
    assert totals(store) == {**ALL_TOTALS, "rows": 6, "input": ALL_TOTALS["input"] + 400,
                             "output": ALL_TOTALS["output"] + 30, "cache_read": ALL_TOTALS["cache_read"] + 1200,
                             "recorded": round(ALL_TOTALS["recorded"] + 0.00082, 6)}
    model = store.db.execute("SELECT model FROM calls WHERE dedupe_key LIKE 'a000000d:%'").fetchone()
    assert model == ("gpt-5.6-luna",)
    assert ingest(store, agents=["openclaw"], show_progress=False).rows == 0


def test_profiles_legacy_roots_and_override(tmp_path, monkeypatch):
    home = tmp_path / "user-home"
    b_file = next((FIXTURES / "agents" / "main" / "sessions").glob(f"{B}.jsonl.deleted.*"))
    for root in (".openclaw-work", ".clawdbot"):
        (home / root / "agents" / "ops" / "sessions").mkdir(parents=True)
    shutil.copy(b_file, home / ".openclaw-work" / "agents" / "ops" / "sessions" / f"{B}.jsonl")
    legacy = home / ".clawdbot" / "agents" / "ops" / "sessions" / "legacy-1.jsonl"
    legacy.write_text(json.dumps({"type": "message", "id": "c1", "timestamp": "2025-11-02T10:00:00Z", "message": {
        "role": "assistant", "provider": "anthropic", "model": "claude-opus-4-1", "api": "anthropic-messages",
        "usage": {"input": 5, "output": 7, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 12}}}) + "\n")
    adapter = get_adapter("openclaw")
    assert [p.name for p in adapter.roots()] == [".openclaw-work", ".clawdbot"]
    store = Store()
    ingest(store, agents=["openclaw"], show_progress=False)
    assert totals(store)["input"] == 2000 + 5
    assert store.db.execute("SELECT ts, recorded_cost FROM calls WHERE dedupe_key LIKE 'c1:%'").fetchone() == (
        1762077600000, None)

    override = tmp_path / "state"
    (override / "agents").mkdir(parents=True)
    monkeypatch.setenv("OPENCLAW_STATE_DIR", str(override))
    assert adapter.roots()[0] == override


def test_no_openclaw_no_sources():
    adapter = get_adapter("openclaw")
    assert adapter.roots() == [] and list(adapter.sources()) == []
