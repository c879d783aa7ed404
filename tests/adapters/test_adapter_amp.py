"""Amp threads: a thread file rewritten as it grows is booked once per message; credits are not
recorded as USD.

Fixture tests/fixtures/amp/threads, by hand (input, output, cache read, cache write):
- T-5c3b...: M1 (12, 450, 0, 14800) and M3 (8, 220, 14800, 600), claude-sonnet-4-5, cwd with a space;
- T-0e1d...: M5 (2000, 100, 0, 0) on claude-haiku-4-5, then a cancelled answer without usage.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ledger_sums import summer, total

from token_roi.adapters import get_adapter
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURE = Path(__file__).parents[1] / "fixtures" / "amp"
T1, T2 = "T-5c3b9a2e-8f41-4d6a-9b0c-7e2f1a4d8c61", "T-0e1d2c3b-4a59-4687-b9a8-c7d6e5f40312"
M1, M3, M5 = (12, 450, 0, 14800), (8, 220, 14800, 600), (2000, 100, 0, 0)

sums = summer("amp", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens")


@pytest.fixture
def amp_dir(tmp_path, monkeypatch):
    root = tmp_path / "amp"
    shutil.copytree(FIXTURE, root)
    monkeypatch.setenv("AMP_DATA_DIR", str(root))
    return root


def test_one_row_per_assistant_message(amp_dir):
    store = Store()
    stats = ingest(store, agents=["amp"], show_progress=False)
    assert stats.bad_lines == 0 and stats.sources_read == 2
    assert sums(store) == (3, total(M1, M3, M5))
    assert sums(store) == (3, (2020, 770, 14800, 15400))
    rows = store.db.execute("SELECT session_id, model, project, recorded_cost FROM calls ORDER BY ts").fetchall()
    assert rows == [(T1, "claude-sonnet-4-5-20250929", "/home/dev/src/reports app", None),
                    (T1, "claude-sonnet-4-5-20250929", "/home/dev/src/reports app", None),
                    (T2, "claude-haiku-4-5-20251001", "/home/dev/src/cli", None)]


def test_thread_rewritten_as_it_grows_counts_each_message_once(amp_dir):
    path = amp_dir / "threads" / f"{T1}.json"
    final = path.read_text()
    thread = json.loads(final)
    # Earlier on disk: the second answer still streaming (40 output tokens so far).
    early = json.loads(final)
    early["messages"][3]["state"] = {"type": "streaming"}
    early["messages"][3]["usage"]["outputTokens"] = 40
    path.write_text(json.dumps(early, indent=2))
    store = Store()
    ingest(store, agents=["amp"], show_progress=False)
    assert sums(store, " AND session_id = ?", (T1,)) == (2, total(M1, (8, 40, 14800, 600)))
    path.write_text(final)                                   # the finished rewrite
    ingest(store, agents=["amp"], show_progress=False)
    assert sums(store, " AND session_id = ?", (T1,)) == (2, total(M1, M3))
    # The thread goes on: a third answer is appended and the whole file rewritten again.
    thread["messages"].append({"role": "user", "messageId": 4, "content": [{"type": "text", "text": "do it"}]})
    thread["messages"].append({"role": "assistant", "messageId": 5, "state": {"type": "complete"}, "content": [],
                               "usage": {"model": "claude-sonnet-4-5-20250929", "inputTokens": 5, "outputTokens": 900,
                                         "cacheCreationInputTokens": 1200, "cacheReadInputTokens": 15400,
                                         "timestamp": "2026-01-24T13:01:02.000Z", "credits": 0.2}})
    path.write_text(json.dumps(thread, indent=2))
    ingest(store, agents=["amp"], show_progress=False)
    assert sums(store, " AND session_id = ?", (T1,)) == (3, total(M1, M3, (5, 900, 15400, 1200)))
    again = ingest(store, agents=["amp"], show_progress=False)
    assert again.sources_read == 0 and again.rows == 0


def test_half_written_thread_is_retried(amp_dir):
    path = amp_dir / "threads" / f"{T2}.json"
    full = path.read_text()
    path.write_text(full[:200])
    store = Store()
    stats = ingest(store, agents=["amp"], show_progress=False)
    assert stats.bad_lines == 1 and sums(store, " AND session_id = ?", (T2,))[0] == 0
    path.write_text(full)
    ingest(store, agents=["amp"], show_progress=False)
    assert sums(store, " AND session_id = ?", (T2,)) == (1, M5)


def test_default_location_is_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.delenv("AMP_DATA_DIR", raising=False)
    assert get_adapter("amp").roots() == []
    threads = Path(tmp_path / "user-home" / ".local/share/amp/threads")
    threads.mkdir(parents=True)
    assert get_adapter("amp").roots() == [threads]
