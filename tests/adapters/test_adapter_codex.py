"""Codex CLI rollouts: cumulative totals booked as deltas, re-emissions and parent replays skipped.

The fixture (tests/fixtures/codex) holds, by hand:
- session ...4c01 (gpt-5-codex, then gpt-5 from its second turn_context): five real turns,
  L1..L5, each re-emitted 1-3 times; resumed the next day with totals started over (L4, L5);
- subagent ...c702 spawned with thread_spawn: replays ...4c01's history at the spawn, then two
  turns of its own continuing the parent's totals (C1, C2);
- fork ...1e03 (forked_from_id): replays the parent's history, then two turns whose totals start
  from zero (F1, F2);
- archived_sessions/: a copy of ...4c01 (must be ignored) and session ...0604 (one turn, A1).
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

FIXTURE = Path(__file__).parents[1] / "fixtures" / "codex"
MAIN = "0199c3a1-5e2b-7c40-9a11-3f0d2b7e4c01"
CHILD = "0199c3a8-0c17-7b22-8e5d-91ab44f0c702"
FORK = "0199c3f0-77aa-7d10-b3c2-0e6f5a9d1e03"
ARCHIVED = "0199be2c-1d4f-7a09-a6b8-c2d3e4f50604"
MAIN_REL = f"sessions/2026/01/15/rollout-2026-01-15T09-00-00-{MAIN}.jsonl"

# (uncached input, cache read, output without reasoning, reasoning) per turn, from the fixture.
L1, L2, L3, L4, L5 = (12000, 0, 500, 300), (4000, 11000, 700, 500), (6000, 14000, 600, 0), \
    (9000, 9000, 300, 100), (4000, 17000, 700, 200)
C1, C2 = (3000, 6000, 300, 100), (2000, 5000, 300, 0)
F1, F2 = (5000, 0, 100, 0), (2000, 4000, 100, 50)
A1 = (6000, 2000, 500, 0)


sums = summer("codex", "input_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens")


@pytest.fixture
def codex_home(tmp_path, monkeypatch):
    home = tmp_path / "codex"
    shutil.copytree(FIXTURE, home)
    monkeypatch.setenv("CODEX_HOME", str(home))
    return home


def naive_last_usage_sum(home: Path) -> int:
    """What a reader that sums every token_count's last_token_usage would book (input)."""
    n = 0
    for path in (home / "sessions").rglob("*.jsonl"):
        for line in path.read_text().splitlines():
            obj = json.loads(line)
            info = obj["payload"].get("info") if obj["type"] == "event_msg" else None
            if info:
                n += info["last_token_usage"]["input_tokens"]
    return n


def test_books_each_turn_once_with_counters_apart(codex_home):
    store = Store()
    stats = ingest(store, agents=["codex"], show_progress=False)
    assert stats.bad_lines == 0 and stats.warnings == []
    assert sums(store) == (10, total(L1, L2, L3, L4, L5, C1, C2, F1, F2, A1))
    assert sums(store) == (10, (53000, 68000, 4100, 1250))
    assert sums(store, " AND session_id = ?", (MAIN,)) == (5, total(L1, L2, L3, L4, L5))
    # The naive sum books every re-emission and every replayed parent line again.
    true_input = 53000 + 68000 - A1[0] - A1[1]         # whole input, cache included, live files
    assert naive_last_usage_sum(codex_home) > 1.3 * true_input


def test_model_comes_from_the_latest_turn_context(codex_home):
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    models = [r[0] for r in store.db.execute(
        "SELECT model FROM calls WHERE session_id = ? ORDER BY ts", (MAIN,))]
    assert models == ["gpt-5-codex", "gpt-5-codex", "gpt-5", "gpt-5", "gpt-5"]
    row = store.db.execute("SELECT project, git_branch FROM calls WHERE session_id = ?", (MAIN,)).fetchone()
    assert row == ("/home/dev/src/billing-api", "feat/invoices")


def test_resume_with_lower_totals_books_last_usage_on_the_new_day(codex_home):
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    # 2026-01-15T23:59:41Z (L4) and 2026-01-16T00:10:12Z (L5): the reset is not lost or doubled.
    day2 = sums(store, " AND ts >= ?", (1768521600000,))
    assert day2 == (1, L5)
    late = sums(store, " AND session_id = ? AND ts >= ?", (MAIN, 1768521000000))
    assert late == (2, total(L4, L5))


def test_subagent_and_fork_replays_of_the_parent_are_not_booked(codex_home):
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    assert sums(store, " AND session_id = ?", (CHILD,)) == (2, total(C1, C2))
    assert sums(store, " AND session_id = ?", (FORK,)) == (2, total(F1, F2))
    flags = dict(store.db.execute("SELECT session_id, max(is_subagent) FROM calls GROUP BY session_id"))
    assert flags[CHILD] == 1 and flags[FORK] == 0 and flags[MAIN] == 0


def test_archived_copy_of_a_live_file_is_read_once(codex_home):
    sources = [s.path for s in get_adapter("codex").sources()]
    assert len(sources) == 4
    assert not any("archived_sessions" in str(p) and MAIN in p.name for p in sources)
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    assert sums(store, " AND session_id = ?", (ARCHIVED,)) == (1, A1)


def test_archiving_a_file_already_ingested_counts_nothing_twice(codex_home):
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    before = sums(store)
    (codex_home / MAIN_REL).unlink()                   # Codex moved it: only the archived copy is left
    stats = ingest(store, agents=["codex"], show_progress=False)
    assert stats.sources_read == 1                      # the archived copy is read...
    assert sums(store) == before                        # ...and its rows are the same calls


def test_second_ingest_changes_nothing(codex_home):
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    again = ingest(store, agents=["codex"], show_progress=False)
    assert again.rows == 0 and again.sources_read == 0
    assert sums(store) == (10, (53000, 68000, 4100, 1250))


def test_incremental_appends_carry_model_and_baseline_across_reads(codex_home):
    path = codex_home / MAIN_REL
    full = path.read_bytes()
    lines = full.splitlines(keepends=True)
    cut = next(i for i, l in enumerate(lines) if b'"model":"gpt-5"' in l) + 1   # just after the switch
    path.write_bytes(b"".join(lines[:cut]) + lines[cut][:40])                   # plus half a line
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    assert sums(store, " AND session_id = ?", (MAIN,)) == (2, total(L1, L2))
    path.write_bytes(full)                                                      # the rest arrives
    stats = ingest(store, agents=["codex"], show_progress=False)
    assert stats.sources_read == 1
    assert sums(store, " AND session_id = ?", (MAIN,)) == (5, total(L1, L2, L3, L4, L5))
    model = store.db.execute("SELECT model FROM calls WHERE session_id = ? AND input_tokens = 6000 "
                             "AND cache_read_tokens = 14000", (MAIN,)).fetchone()[0]
    assert model == "gpt-5"                            # came from the state saved in the cursor
    assert sums(store) == (10, (53000, 68000, 4100, 1250))


def test_incremental_read_inside_a_replay_burst(codex_home):
    path = codex_home / f"sessions/2026/01/15/rollout-2026-01-15T09-05-00-{CHILD}.jsonl"
    full = path.read_bytes()
    lines = full.splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:4]))              # stopped in the middle of the replay
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    assert sums(store, " AND session_id = ?", (CHILD,)) == (0, (0, 0, 0, 0))
    path.write_bytes(full)
    ingest(store, agents=["codex"], show_progress=False)
    assert sums(store, " AND session_id = ?", (CHILD,)) == (2, total(C1, C2))


def test_rewritten_file_is_reread_without_double_counting(codex_home):
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    path = codex_home / MAIN_REL
    path.write_bytes(b"\n" + path.read_bytes())       # same content shifted: fingerprint differs
    stats = ingest(store, agents=["codex"], show_progress=False)
    assert stats.sources_read == 1
    assert sums(store) == (10, (53000, 68000, 4100, 1250))


def test_damaged_lines_are_counted_and_skipped(codex_home):
    path = codex_home / MAIN_REL
    text = path.read_text().splitlines()
    text.insert(3, '{"timestamp":"2026-01-15T09:00:07.000Z","type":"event_msg",'
                   '"payload":{"type":"token_count","info":{"tot')
    text.insert(5, "garbage")
    path.write_text("\n".join(text) + "\n")
    store = Store()
    stats = ingest(store, agents=["codex"], show_progress=False)
    assert stats.bad_lines == 2
    assert sums(store, " AND session_id = ?", (MAIN,)) == (5, total(L1, L2, L3, L4, L5))


def test_no_codex_home_means_no_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "absent"))
    adapter = get_adapter("codex")
    assert adapter.roots() == [] and list(adapter.sources()) == []


def test_first_event_of_a_file_books_its_own_call_not_the_carried_total(tmp_path, monkeypatch):
    home = tmp_path / "codex"
    day = home / "sessions/2026/02/01"
    day.mkdir(parents=True)
    sid = "0199d000-0000-7000-8000-0000000000aa"

    def u(i, c, o, r):
        return {"input_tokens": i, "cached_input_tokens": c, "output_tokens": o, "reasoning_output_tokens": r,
                "total_tokens": i + o}

    lines = [
        {"timestamp": "2026-02-01T08:00:00.000Z", "type": "session_meta",
         "payload": {"id": sid, "cwd": "/w", "source": "cli"}},
        {"timestamp": "2026-02-01T08:00:00.100Z", "type": "turn_context", "payload": {"cwd": "/w", "model": "gpt-5"}},
        # The session's earlier usage (90000 input) is in a file we never saw; this call used 7000.
        {"timestamp": "2026-02-01T08:00:09.000Z", "type": "event_msg", "payload": {"type": "token_count", "info": {
            "total_token_usage": u(97000, 60000, 3000, 800), "last_token_usage": u(7000, 5000, 200, 50)}}},
        {"timestamp": "2026-02-01T08:00:19.000Z", "type": "event_msg", "payload": {"type": "token_count", "info": {
            "total_token_usage": u(105000, 66000, 3300, 900), "last_token_usage": u(8000, 6000, 300, 100)}}},
    ]
    (day / f"rollout-2026-02-01T08-00-00-{sid}.jsonl").write_text(
        "\n".join(json.dumps(l, separators=(",", ":")) for l in lines) + "\n")
    monkeypatch.setenv("CODEX_HOME", str(home))
    store = Store()
    ingest(store, agents=["codex"], show_progress=False)
    assert sums(store) == (2, total((2000, 5000, 150, 50), (2000, 6000, 200, 100)))
