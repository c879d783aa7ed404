"""Gemini CLI chat recordings: last record per (sessionId, message id) wins, cached input inside
`input`, thoughts as reasoning, legacy whole-file JSON sessions.

Fixture (tests/fixtures/gemini, copied to <home>/.gemini), by hand:
- session 3f2a1b9c (JSONL): g1 appended three times (no tokens, then tokens twice), g2 appended
  twice with the LAST copy smaller (output 500 then 420), g3 rewound by the user, g4, then a
  `$set.messages` rewrite repeating g1, g2, g4;
- subagent a81c0d52 under chats/<parent>/: one response on gemini-2.5-flash;
- legacy session 7c1d2e3f (`session-*.json`): one answered response, one still without tokens.
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

FIXTURE = Path(__file__).parents[1] / "fixtures" / "gemini"
MAIN = "3f2a1b9c-6d4e-4f81-9a27-5c0b8e1d2f34"
SUB = "a81c0d52-3b6f-4e90-8d17-2f4a6c9e0b75"
LEGACY = "7c1d2e3f-0a9b-4c8d-b7e6-f5a4b3c2d1e0"
H1 = "9d3c8a4f0b7e2d61c5a9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3"
H2 = "1f2e3d4c5b6a79880716253443526170819a8b7c6d5e4f30a1b2c3d4e5f60718"

# (uncached input incl. tool prompt, cache read, output, reasoning) per response.
G1 = (12000 - 8000, 8000, 300, 150)
G2 = (15000 - 11000 + 200, 11000, 420, 0)      # the last copy; the first said output 500
G3 = (16000, 0, 100, 60)                        # rewound, but billed
G4 = (16100 - 14000, 14000, 250, 40)
S1 = (3000 - 1000, 1000, 200, 100)
LG = (9000 - 4000, 4000, 700, 300)

sums = summer("gemini", "input_tokens", "cache_read_tokens", "output_tokens", "reasoning_tokens")


@pytest.fixture
def gemini_home(tmp_path, monkeypatch):
    home = tmp_path / "g"
    shutil.copytree(FIXTURE, home / ".gemini")
    monkeypatch.setenv("GEMINI_CLI_HOME", str(home))
    return home / ".gemini"


def main_file(gemini_home):
    return gemini_home / "tmp" / H1 / "chats" / f"session-2026-01-20T10-15-{MAIN[:8]}.jsonl"


def test_exact_sums_one_row_per_message(gemini_home):
    store = Store()
    stats = ingest(store, agents=["gemini"], show_progress=False)
    assert stats.bad_lines == 0 and stats.sources_read == 3
    assert sums(store) == (6, total(G1, G2, G3, G4, S1, LG))
    assert sums(store) == (6, (33300, 38000, 1970, 650))
    assert sums(store, " AND session_id = ?", (MAIN,)) == (4, total(G1, G2, G3, G4))
    # Summing every record would count g1 three times, g2 three times and g4 twice.
    records = [json.loads(l) for l in main_file(gemini_home).read_text().splitlines()]
    flat = records + [m for r in records for m in (r.get("$set") or {}).get("messages", [])]
    naive_output = sum((m.get("tokens") or {}).get("output", 0) for m in flat if m.get("type") == "gemini")
    assert naive_output > 2 * total(G1, G2, G3, G4)[2]


def test_the_last_copy_wins_even_when_smaller(gemini_home):
    store = Store()
    ingest(store, agents=["gemini"], show_progress=False)
    out = store.db.execute("SELECT output_tokens FROM calls WHERE dedupe_key = ?",
                           (f"{MAIN}:b1e7c2a0-0004",)).fetchone()
    assert out == (420,)


def test_smaller_later_copy_replaces_across_incremental_reads(gemini_home):
    path = main_file(gemini_home)
    full = path.read_bytes()
    lines = full.splitlines(keepends=True)
    first_g2 = next(i for i, l in enumerate(lines) if b'"output":500' in l)
    path.write_bytes(b"".join(lines[: first_g2 + 1]))
    store = Store()
    ingest(store, agents=["gemini"], show_progress=False)
    assert sums(store, " AND session_id = ?", (MAIN,)) == (2, total(G1, (4200, 11000, 500, 0)))
    path.write_bytes(full)
    ingest(store, agents=["gemini"], show_progress=False)
    assert sums(store, " AND session_id = ?", (MAIN,)) == (4, total(G1, G2, G3, G4))
    again = ingest(store, agents=["gemini"], show_progress=False)
    assert again.sources_read == 0 and again.rows == 0
    assert sums(store) == (6, (33300, 38000, 1970, 650))


def test_rewound_messages_stay_booked_and_models_and_subagents_kept(gemini_home):
    store = Store()
    ingest(store, agents=["gemini"], show_progress=False)
    assert store.db.execute("SELECT count(*) FROM calls WHERE dedupe_key = ?",
                            (f"{MAIN}:b1e7c2a0-0006",)).fetchone() == (1,)
    sub = store.db.execute("SELECT model, is_subagent, input_tokens, cache_read_tokens, output_tokens, "
                           "reasoning_tokens FROM calls WHERE session_id = ?", (SUB,)).fetchall()
    assert sub == [("gemini-2.5-flash", 1, *S1)]
    assert store.db.execute("SELECT DISTINCT project FROM calls").fetchall() == [(None,)]


def test_legacy_json_session_reread_when_rewritten(gemini_home):
    store = Store()
    ingest(store, agents=["gemini"], show_progress=False)
    assert sums(store, " AND session_id = ?", (LEGACY,)) == (1, LG)
    path = gemini_home / "tmp" / H2 / "chats" / f"session-2025-09-10T08-30-{LEGACY[:8]}.json"
    doc = json.loads(path.read_text())
    doc["messages"][3]["tokens"] = {"input": 9500, "output": 40, "cached": 9000, "thoughts": 0, "tool": 0,
                                    "total": 9540}
    doc["lastUpdated"] = "2025-09-10T08:41:03.000Z"
    path.write_text(json.dumps(doc, indent=2))          # Gemini rewrites the whole file
    stats = ingest(store, agents=["gemini"], show_progress=False)
    assert stats.sources_read == 1
    assert sums(store, " AND session_id = ?", (LEGACY,)) == (2, total(LG, (500, 9000, 40, 0)))


def test_half_written_legacy_file_is_retried(gemini_home):
    path = gemini_home / "tmp" / H2 / "chats" / f"session-2025-09-10T08-30-{LEGACY[:8]}.json"
    full = path.read_text()
    path.write_text(full[: len(full) // 2])
    store = Store()
    stats = ingest(store, agents=["gemini"], show_progress=False)
    assert stats.bad_lines == 1
    assert sums(store, " AND session_id = ?", (LEGACY,)) == (0, (0, 0, 0, 0))
    path.write_text(full)
    ingest(store, agents=["gemini"], show_progress=False)
    assert sums(store, " AND session_id = ?", (LEGACY,)) == (1, LG)


def test_bad_token_values_are_counted_not_booked(gemini_home):
    path = main_file(gemini_home)
    with path.open("a") as f:
        f.write('{"id":"x1","timestamp":"2026-01-20T10:19:00Z","type":"gemini","model":"gemini-2.5-pro",'
                '"tokens":{"input":-5,"output":1,"cached":0,"total":1}}\n{"id":"x2","type":"gem\n')
    store = Store()
    stats = ingest(store, agents=["gemini"], show_progress=False)
    assert stats.bad_lines == 2
    assert sums(store) == (6, (33300, 38000, 1970, 650))


def test_roots_follow_gemini_cli_home(tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path / "nothing"))
    assert get_adapter("gemini").roots() == []
    monkeypatch.delenv("GEMINI_CLI_HOME")
    (Path.home() / ".gemini" / "tmp").mkdir(parents=True)
    assert get_adapter("gemini").roots() == [Path.home() / ".gemini" / "tmp"]
