"""OpenHuman: rewrite-on-save transcripts snapshotted per save, append-only ones booked as growth."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from token_roi.adapters import get_adapter
from token_roi.ingest import ingest
from token_roi.store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "openhuman"
LIVE = "1772442000_orchestrator.jsonl"


def totals(store: Store, where: str = "1") -> dict:
    r = store.db.execute(
        "SELECT COUNT(*), SUM(input_tokens), SUM(cache_read_tokens), SUM(output_tokens), ROUND(SUM(recorded_cost), 6) "
        f"FROM calls WHERE agent = 'openhuman' AND {where}").fetchone()
    return dict(zip(("rows", "input", "cache_read", "output", "recorded"), r))


@pytest.fixture
def workspace(tmp_path) -> Path:
    ws = tmp_path / "user-home" / ".openhuman"
    shutil.copytree(FIXTURES / "workspace", ws)
    return ws


def save(workspace: Path, name: str, mtime: int) -> None:
    """The agent rewrites the whole transcript on each save."""
    dest = workspace / "session_raw" / LIVE
    shutil.copyfile(FIXTURES / "saves" / name, dest)
    os.utime(dest, ns=(mtime, mtime))


def test_append_only_subagent_and_day_folder_transcripts(workspace):
    store = Store()
    ingest(store, agents=["openhuman"], show_progress=False)
    # Append-only: cumulative _meta lines -> growth 3000/150/1000 then 7000/400/3000 (not 3000 + 10000).
    assert totals(store, "session_id = '1772445600_orchestrator'") == {
        "rows": 2, "input": 2000 + 4000, "cache_read": 1000 + 3000, "output": 150 + 400, "recorded": 0.0225}
    models = [r[0] for r in store.db.execute(
        "SELECT model FROM calls WHERE session_id = '1772445600_orchestrator' ORDER BY ts")]
    assert models == ["gpt-5.6-luna", "gpt-5.6-terra"]
    sub = store.db.execute("SELECT input_tokens, cache_read_tokens, output_tokens, is_subagent, project, model, ts "
                           "FROM calls WHERE session_id LIKE '%researcher'").fetchone()
    assert sub == (1200, 600, 90, 1, None, "gpt-5.6-luna", 1772445730000)
    assert totals(store) == {"rows": 4, "input": 6000 + 1200 + 640, "cache_read": 4000 + 600,
                             "output": 550 + 90 + 75, "recorded": round(0.0225 + 0.0011 + 0.0009, 6)}

    # The torn last line of the append-only file is retried, and re-reads book nothing twice.
    with open(workspace / "session_raw" / "1772445600_orchestrator.jsonl", "a") as f:
        f.write('ted]","ts":"2026-03-02T10:09:00Z"}\n')
    assert ingest(store, agents=["openhuman"], show_progress=False).rows == 0
    assert totals(store)["rows"] == 4


def test_rewrite_on_save_books_each_turn_once(workspace):
    store = Store()
    save(workspace, "save1.jsonl", 1_772_442_041_000_000_000)
    ingest(store, agents=["openhuman"], show_progress=False)
    first = totals(store, "session_id = '1772442000_orchestrator'")
    assert first == {"rows": 1, "input": 5200, "cache_read": 0, "output": 310, "recorded": 0.0121}

    save(workspace, "save2.jsonl", 1_772_442_185_000_000_000)       # turn 2: _meta now holds turn 2 only
    ingest(store, agents=["openhuman"], show_progress=False)
    second = totals(store, "session_id = '1772442000_orchestrator'")
    assert second == {"rows": 2, "input": 5200 + 4000, "cache_read": 4800, "output": 310 + 420,
                      "recorded": round(0.0121 + 0.0152, 6)}

    # Saved again (title change): new `updated`, same turn, same counters -> nothing booked.
    save(workspace, "save2_resaved.jsonl", 1_772_442_189_000_000_000)
    ingest(store, agents=["openhuman"], show_progress=False)
    assert totals(store, "session_id = '1772442000_orchestrator'") == second
    # Unchanged: nothing booked (only the append-only file with its torn last line is re-read).
    stats = ingest(store, agents=["openhuman"], show_progress=False)
    assert (stats.rows, stats.sources_read) == (0, 1)


def test_workspace_override_and_per_user_workspaces(tmp_path, monkeypatch):
    home = tmp_path / "user-home"
    user_ws = home / ".openhuman" / "users" / "u_42" / "workspace"
    shutil.copytree(FIXTURES / "workspace", user_ws)
    adapter = get_adapter("openhuman")
    assert adapter.roots() == [user_ws]
    assert sum(1 for _ in adapter.sources()) == 3
    other = tmp_path / "ws"
    (other / "session_raw").mkdir(parents=True)
    monkeypatch.setenv("OPENHUMAN_WORKSPACE", str(other))
    assert adapter.roots() == [other]
    assert list(adapter.sources()) == []


def test_no_openhuman_no_sources():
    adapter = get_adapter("openhuman")
    assert adapter.roots() == [] and list(adapter.sources()) == []
