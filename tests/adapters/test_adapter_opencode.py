"""OpenCode: rows from step-finish parts (a message's own counters are only its last step),
messages without steps booked whole, the SQLite database read-only, the legacy storage/ tree.

Fixture (tests/fixtures/opencode): opencode.sql builds the database; storage/ is the legacy tree.
By hand:
- msg ...c002 (claude-sonnet-4-5): three steps S1, S2, S3; its own `tokens` are S3's, its cost
  the sum of the three;
- msg ...c004 (gpt-5 via github-copilot, older build): no step parts, cost 0 -> row from the message;
- msg ...c102 in a child session (parent_id set): one step, CH;
- legacy session ses_3e77...: msg ...bLs02 with two steps L1, L2 (in storage/ AND migrated into
  the database with the same ids), msg ...cLs03 only in storage/, no steps (LM).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from ledger_sums import summer, total

from token_roi.adapters import get_adapter, sqlite_ro
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "opencode"
MAIN, CHILD, LEGACY = "ses_4a1f0c2e8ffeQ1mXb7", "ses_4a1f0b11effeR9kLp2", "ses_3e77aa90bffeT0legacy"

# (input, output, reasoning, cache read, cache write 5m, recorded cost)
S1, S2, S3 = (12, 310, 0, 0, 14500, 0.0421), (8, 420, 0, 14500, 900, 0.0188), (6, 150, 0, 15400, 300, 0.0093)
OLD = (3000, 700, 256, 1024, 0, 0.0)
CH = (2000, 90, 40, 500, 0, 0.0031)
L1, L2, LM = (100, 50, 0, 4000, 0, 0.0021), (20, 80, 0, 4100, 0, 0.0019), (500, 60, 0, 0, 2000, 0.0098)

sums = summer("opencode", "input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens",
              "cache_write_5m_tokens", "recorded_cost")


@pytest.fixture
def oc_dir(tmp_path, monkeypatch):
    root = tmp_path / "opencode"
    shutil.copytree(FIXTURE / "storage", root / "storage")
    db = sqlite3.connect(root / "opencode.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript((FIXTURE / "opencode.sql").read_text())
    db.close()
    monkeypatch.setenv("OPENCODE_DATA_DIR", str(root))
    return root


def test_one_row_per_step_with_recorded_cost(oc_dir):
    store = Store()
    stats = ingest(store, agents=["opencode"], show_progress=False)
    assert stats.warnings == [] and stats.bad_lines == 0
    assert sums(store) == (8, total(S1, S2, S3, OLD, CH, L1, L2, LM))
    assert sums(store) == (8, (5646, 1860, 296, 39524, 17700, 0.0871))
    assert sums(store, " AND session_id = ?", (MAIN,)) == (4, total(S1, S2, S3, OLD))
    # Reading the message alone would book only its last step (its tokens are S3's).
    data = json.loads(sqlite3.connect(oc_dir / "opencode.db").execute(
        "SELECT data FROM message WHERE id = 'msg_b5e0f3a1c002AsX2'").fetchone()[0])
    assert data["tokens"]["output"] == S3[1] and round(data["cost"], 4) == total(S1, S2, S3)[5]


def test_subagent_model_cwd_and_zero_cost_kept(oc_dir):
    store = Store()
    ingest(store, agents=["opencode"], show_progress=False)
    child = store.db.execute("SELECT model, is_subagent, project FROM calls WHERE session_id = ?", (CHILD,)).fetchall()
    assert child == [("claude-haiku-4-5", 1, "/home/dev/src/webapp")]
    old = store.db.execute("SELECT model, recorded_cost, dedupe_key FROM calls WHERE model = 'gpt-5'").fetchall()
    assert old == [("gpt-5", 0.0, "msg:msg_b5e0f3a1c004AsX4")]


def test_migrated_session_in_database_and_storage_counted_once(oc_dir):
    store = Store()
    ingest(store, agents=["opencode"], show_progress=False)
    assert sums(store, " AND session_id = ?", (LEGACY,)) == (3, total(L1, L2, LM))


def test_database_is_never_written(oc_dir):
    db_path = oc_dir / "opencode.db"
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    ingest(Store(), agents=["opencode"], show_progress=False)
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_second_ingest_is_a_no_op(oc_dir):
    store = Store()
    ingest(store, agents=["opencode"], show_progress=False)
    again = ingest(store, agents=["opencode"], show_progress=False)
    assert again.sources_read == 0 and again.rows == 0


def test_new_steps_while_opencode_runs_are_added_once(oc_dir):
    store = Store()
    ingest(store, agents=["opencode"], show_progress=False)
    live = sqlite3.connect(oc_dir / "opencode.db")       # OpenCode, still running, in WAL mode
    live.execute("PRAGMA wal_autocheckpoint=0")
    msg = {"role": "assistant", "time": {"created": 1768900200000}, "modelID": "claude-sonnet-4-5",
           "providerID": "anthropic", "path": {"cwd": "/home/dev/src/webapp", "root": "/home/dev/src/webapp"},
           "cost": 0.011, "tokens": {"input": 9, "output": 200, "reasoning": 0, "cache": {"read": 15700, "write": 400}}}
    step = {"type": "step-finish", "reason": "tool-calls", "cost": 0.011, "tokens": msg["tokens"]}
    live.execute("INSERT INTO message VALUES ('msg_b5e0f3a1c005AsX5', ?, 1768900200000, 1768900230000, ?)",
                 (MAIN, json.dumps(msg)))
    live.execute("INSERT INTO part VALUES ('prt_b5e0f3a2d011', 'msg_b5e0f3a1c005AsX5', ?, 1768900230000, "
                 "1768900230000, ?)", (MAIN, json.dumps(step)))
    live.commit()
    ingest(store, agents=["opencode"], show_progress=False)
    new1 = (9, 200, 0, 15700, 400, 0.011)
    assert sums(store, " AND session_id = ?", (MAIN,)) == (5, total(S1, S2, S3, OLD, new1))
    # The next step: a second part, and the message's tokens overwritten with that step's.
    step2 = {"type": "step-finish", "reason": "stop", "cost": 0.006,
             "tokens": {"input": 5, "output": 90, "reasoning": 0, "cache": {"read": 16100, "write": 0}}}
    msg.update(cost=0.017, tokens=step2["tokens"])
    live.execute("INSERT INTO part VALUES ('prt_b5e0f3a2d012', 'msg_b5e0f3a1c005AsX5', ?, 1768900260000, "
                 "1768900260000, ?)", (MAIN, json.dumps(step2)))
    live.execute("UPDATE message SET data = ?, time_updated = 1768900260000 WHERE id = 'msg_b5e0f3a1c005AsX5'",
                 (json.dumps(msg),))
    live.commit()
    ingest(store, agents=["opencode"], show_progress=False)
    new2 = (5, 90, 0, 16100, 0, 0.006)
    assert sums(store, " AND session_id = ?", (MAIN,)) == (6, total(S1, S2, S3, OLD, new1, new2))
    assert ingest(store, agents=["opencode"], show_progress=False).rows == 0
    live.close()


def test_locked_database_is_a_warning_then_read_next_time(oc_dir, monkeypatch):
    monkeypatch.setattr(sqlite_ro, "BUSY_TIMEOUT_MS", 10)
    monkeypatch.setattr(sqlite_ro, "WAIT_S", 0.01)
    monkeypatch.setattr(sqlite_ro, "ATTEMPTS", 2)
    db_path = oc_dir / "opencode.db"
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")          # an exclusive lock blocks readers only here
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE session SET title = title")
    store = Store()
    try:
        stats = ingest(store, agents=["opencode"], show_progress=False)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(stats.warnings) == 1 and str(db_path) in stats.warnings[0] and "locked" in stats.warnings[0]
    assert sums(store, " AND session_id = ?", (MAIN,))[0] == 0
    ingest(store, agents=["opencode"], show_progress=False)
    assert sums(store) == (8, (5646, 1860, 296, 39524, 17700, 0.0871))


def test_legacy_storage_message_rewritten_after_each_step(oc_dir):
    (oc_dir / "opencode.db").unlink()
    store = Store()
    ingest(store, agents=["opencode"], show_progress=False)
    assert sums(store) == (3, total(L1, L2, LM))
    # A message in progress: OpenCode writes each step-finish part, then rewrites the message.
    mid = "msg_a1000000000dLs04"
    msg_path = oc_dir / "storage/message" / LEGACY / f"{mid}.json"
    part_dir = oc_dir / "storage/part" / mid
    part_dir.mkdir()
    steps = [(700, 30, 0, 2000, 0, 0.0012), (40, 120, 0, 2700, 0, 0.0024)]

    def write_step(i):
        s = steps[i]
        usage = {"input": s[0], "output": s[1], "reasoning": 0, "cache": {"read": s[3], "write": 0}}
        (part_dir / f"prt_d{i}.json").write_text(json.dumps({
            "id": f"prt_d{i}", "messageID": mid, "sessionID": LEGACY, "type": "step-finish",
            "cost": s[5], "tokens": usage}))
        msg_path.write_text(json.dumps({
            "id": mid, "sessionID": LEGACY, "role": "assistant", "time": {"created": 1766300000000},
            "modelID": "claude-sonnet-4", "providerID": "anthropic", "path": {"cwd": "/w", "root": "/w"},
            "cost": round(sum(x[5] for x in steps[: i + 1]), 4), "tokens": usage}, indent=2))

    write_step(0)
    ingest(store, agents=["opencode"], show_progress=False)
    assert sums(store) == (4, total(L1, L2, LM, steps[0]))
    write_step(1)
    stats = ingest(store, agents=["opencode"], show_progress=False)
    assert stats.sources_read == 1
    assert sums(store) == (5, total(L1, L2, LM, *steps))
    assert ingest(store, agents=["opencode"], show_progress=False).sources_read == 0


def test_no_data_dir_means_no_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENCODE_DATA_DIR", str(tmp_path / "none"))
    adapter = get_adapter("opencode")
    assert adapter.roots() == [] and list(adapter.sources()) == []
